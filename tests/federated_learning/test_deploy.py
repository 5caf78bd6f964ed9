"""Deployment mode: SuperLink + SuperNodes on 127.0.0.1 with TLS (lab CA) and SuperNode authentication.

The slow test runs one real deployment (3 nodes, 1 plain round with client-level DP, ~2 min
on 2 cores) with an extra node whose key was never registered, and asserts on what Flower
1.42 observably does with it: the SuperLink answers its activation with ApiError 2004
(HTTP 412), the node exits with code 305, and it never appears in `flwr supernode ls`.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab.cli import LabError
from securefl.config import APP_DIR
from securefl.deploy import DeployResult, alive, deploy, deployment_config, make_node_key, run_config_arg

SCRIPT = APP_DIR / "deploy.py"


def test_node_key_is_p384_openssh_and_private(tmp_path: Path) -> None:
    key = make_node_key(tmp_path / "node")
    private = serialization.load_ssh_private_key(key.private.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp384r1"
    assert key.public.read_text().startswith("ecdsa-sha2-nistp384 ")
    assert key.private.stat().st_mode & 0o077 == 0


def test_run_config_is_toml() -> None:
    assert run_config_arg({"secagg": False, "num-clients": 3, "delta": 1e-5, "out-dir": 'a b"c'}) == \
        'secagg=false num-clients=3 delta=1e-05 out-dir="a b\\"c"'


@pytest.mark.parametrize(("nodes", "shares", "threshold"), [(3, 3, 2), (4, 3, 2), (6, 5, 3)])
def test_shares_fit_the_node_count(tmp_path: Path, nodes: int, shares: int, threshold: int) -> None:
    cfg = deployment_config(nodes, 1, {}, tmp_path)
    assert (cfg.num_clients, cfg.num_shares, cfg.reconstruction_threshold) == (nodes, shares, threshold)
    assert Path(cfg.out_dir).is_absolute()


def test_bad_deployment_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="drop-client"):
        deployment_config(3, 1, {"drop-client": 1}, tmp_path)
    with pytest.raises(LabError, match="num-shares"):
        deployment_config(3, 1, {"num-shares": 4}, tmp_path)


def test_script_help_and_bad_argument() -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--rogue" in ok.stdout and "--nodes" in ok.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "--config", "nonsense=1"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 1 and "unknown setting 'nonsense'" in bad.stderr


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[DeployResult, Path]:
    work = tmp_path_factory.mktemp("deploy")
    cfg = deployment_config(3, 1, {"secagg": False, "local-epochs": 2}, work / "out")
    return deploy(cfg, work, rogue=True), work


@pytest.mark.slow
def test_deployment_completes_with_tls_and_node_auth(deployment: tuple[DeployResult, Path]) -> None:
    result, work = deployment
    s = result.summary
    assert result.ok and result.status == "finished:completed", (result.status, s["problems"])
    assert s["clients_per_round"] == [3] and len(set(result.node_ids)) == 3
    assert s["final_accuracy"] > s["initial_accuracy"] + 0.2
    link_log = (work / "logs" / "superlink.log").read_text()
    assert "Uvicorn running on https://127.0.0.1" in link_log  # TLS on the one Fleet/Control/Runtime port
    assert all(f"Activated node_id={n}" in link_log for n in result.node_ids)
    assert s["model"] and Path(s["model"]["path"]).is_file()


@pytest.mark.slow
def test_unregistered_node_is_refused(deployment: tuple[DeployResult, Path]) -> None:
    result, work = deployment
    assert result.rogue_refused is True
    rogue_log = (work / "logs" / "rogue-supernode.log").read_text()
    assert "Exit Code: 305" in rogue_log and "Failed to activate SuperNode" in rogue_log
    link_log = (work / "logs" / "superlink.log").read_text()
    assert "ApiError:2004" in link_log and "No SuperNode found with the given public key" in link_log
    assert link_log.count("Activated node_id=") == 3


@pytest.mark.slow
def test_every_process_is_stopped(deployment: tuple[DeployResult, Path]) -> None:
    result, _ = deployment
    assert len(result.pids) >= 4  # superlink + 3 supernodes, plus their helpers
    assert not [pid for pid in result.pids if alive(pid)]


def test_deployment_refuses_weak_privacy_before_starting(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="allow-weak-privacy"):
        deployment_config(3, 1, {"dp-level": "client", "noise-multiplier": 0.05}, tmp_path)
    assert deployment_config(3, 1, {"dp-level": "client", "noise-multiplier": 0.05,
                                    "allow-weak-privacy": True}, tmp_path).allow_weak_privacy
