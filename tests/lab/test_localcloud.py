"""The local-cloud runtime: start, reuse, stop only what was started, status, `python -m lab`."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.config import settings
from lab.localcloud import EmulatorError, LocalCloud, local_cloud, status
from lab.localcloud.base import RunningService, pid_alive, port_open
from lab.localcloud.registry import SERVICES, services_for


@pytest.fixture
def other_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A second, empty LAB_STATE_DIR: nothing is running there yet."""
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "state"))
    settings.cache_clear()
    yield tmp_path / "state"
    settings.cache_clear()  # monkeypatch restores the session's dir; settings re-read it


def test_reuses_a_running_emulator_and_leaves_it_running(aws_cloud: LocalCloud) -> None:
    running = aws_cloud.services["moto"]
    with local_cloud("aws") as again:
        assert again.owned == []
        assert again.services["moto"].port == running.port
        assert os.environ["AWS_ENDPOINT_URL"].endswith(f":{running.port}")
    assert pid_alive(running.pid) and port_open(running.port)


def test_starts_and_stops_only_what_it_started(other_state: Path) -> None:
    with local_cloud("aws") as cloud:
        state = cloud.services["moto"]
        assert cloud.owned == ["moto"]
        assert state.env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{state.port}"
        assert "FAKE" in state.env["AWS_ACCESS_KEY_ID"]
        assert (other_state / "run" / "moto.json").exists()
        assert [r for r in status() if r["service"] == "moto"][0]["running"] is True
    assert not pid_alive(state.pid)
    assert not (other_state / "run" / "moto.json").exists()
    assert [r for r in status() if r["service"] == "moto"][0]["running"] is False


def test_stops_its_emulator_after_a_restart_on_the_same_port(other_state: Path) -> None:
    from tests.faults.restart import kill, start_again

    with local_cloud("aws") as cloud:
        first = cloud.services["moto"]
        again = start_again(kill("moto"))  # a fault drill: new process, same port, new pid
        assert again.port == first.port and again.pid != first.pid and pid_alive(again.pid)
    assert not pid_alive(again.pid), "the restarted emulator outlived the session that owned it"
    assert not (other_state / "run" / "moto.json").exists()


def test_a_stale_state_file_is_not_trusted(other_state: Path) -> None:
    stale = RunningService(name="moto", pid=2**22 + 12345, port=1, env={}, started_at=0.0, log="")
    stale.save(other_state / "run" / "moto.json")
    assert SERVICES["moto"].running() is None


def test_real_mode_starts_nothing(other_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_AWS_MODE", "real")
    settings.cache_clear()
    with local_cloud("aws") as cloud:
        assert cloud.services == {} and cloud.owned == []


def test_unknown_names_are_clear_errors() -> None:
    with pytest.raises(EmulatorError, match="unknown service"):
        LocalCloud(["nosuch"])
    with pytest.raises(ValueError, match="unknown cloud"):
        services_for("oracle")


def lab(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAB_STATE_DIR": str(state)}
    return subprocess.run([sys.executable, "-m", "lab", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_python_m_lab_up_status_down(tmp_path: Path) -> None:
    state = tmp_path / "cli-state"
    up = lab(state, "up", "aws")
    assert up.returncode == 0, up.stderr
    assert "moto" in up.stdout and "up" in up.stdout and "127.0.0.1:" in up.stdout
    port = int(up.stdout.split("127.0.0.1:")[1].split()[0])
    try:
        assert port_open(port)
        st = lab(state, "status")
        assert st.returncode == 0 and any(line.startswith("moto") and " up " in line for line in st.stdout.splitlines())
        env = lab(state, "env")
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in env.stdout
    finally:
        down = lab(state, "down", "aws")
    assert down.returncode == 0 and "stopped: moto" in down.stdout
    assert not port_open(port)
    assert "nothing was running" in lab(state, "down", "aws").stdout
    bad = lab(state, "up", "nosuch")
    assert bad.returncode == 1 and "unknown service" in bad.stderr and "Traceback" not in bad.stderr
