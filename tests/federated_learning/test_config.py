"""Configuration validation: bad settings stop before training, with a clear message."""
from __future__ import annotations

import subprocess
import sys

import pytest

from lab.cli import LabError
from lab.paths import REPO_ROOT
from securefl.config import load_config, parse_overrides


def test_defaults_are_the_secure_setting() -> None:
    cfg = load_config()
    assert cfg.secagg and cfg.dp and cfg.num_clients == 10 and cfg.num_server_rounds == 10
    assert cfg.num_shares % 2 == 1 and cfg.clipping_range >= cfg.clipping_norm
    # issue #15: noise on the client (record-level DP-SGD) for a budget of 8, weak privacy not allowed
    assert cfg.record_dp and cfg.target_epsilon == 8.0 and not cfg.allow_weak_privacy
    assert (cfg.model, cfg.optimizer, cfg.local_epochs, cfg.batch_size) == ("linear", "sgd", 1, 32)


@pytest.mark.parametrize(("override", "message"), [
    ("num-shares=4", "must be odd"),
    ("num-shares=5 reconstruction-threshold=2", "reconstruction-threshold"),
    ("num-shares=5 reconstruction-threshold=6", "reconstruction-threshold"),
    ("dp-level=client clipping-range=1.0 clipping-norm=4.0", "clipping-range"),
    ("mode=robust", "needs secagg=false"),
    ("num-clients=3 num-shares=5", "exceeds num-clients"),
    ("dp-level=client noise-multiplier=0", "noise-multiplier > 0"),
    ("target-epsilon=0 record-noise-multiplier=0", "target-epsilon > 0"),
    ("secagg=false attack=sign-flip attackers=0", "attackers"),
    ("drop-client=10", "drop-client"),
    ("partition=random", "partition"),
])
def test_invalid_settings_are_refused(override: str, message: str) -> None:
    with pytest.raises(LabError, match=message):
        load_config(parse_overrides(override))


@pytest.mark.parametrize(("text", "message"), [
    ("bogus=1", "unknown setting"), ("num-shares", "not key=value"), ("num-shares=five", "integer"),
    ("secagg=maybe", "true/false"), ("noise-multiplier=x", "number"),
])
def test_override_syntax(text: str, message: str) -> None:
    with pytest.raises(LabError, match=message):
        parse_overrides(text)


def test_overrides_are_typed() -> None:
    cfg = load_config(parse_overrides("secagg=false mode=robust robust-method=krum noise-multiplier=0.3"))
    assert cfg.secagg is False and cfg.robust_method == "krum" and cfg.noise_multiplier == 0.3


def test_script_exits_nonzero_before_training_on_bad_setting() -> None:
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "federated-learning" / "run.py"), "--config",
                           "num-shares=4"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "must be odd" in proc.stderr and "Traceback" not in proc.stderr
