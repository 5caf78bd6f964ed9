"""Kill an emulator process and start it again on the same port: a real service restart.

``lab.localcloud`` starts emulators on fresh free ports; a restart test needs the
same port, because clients (connection strings, endpoint variables) keep the old
address, as a client of a real service keeps its DNS name. The helper reuses the
emulator's own argv, environment and readiness check from the registry, and
records the new pid in the state file so the session still stops it at the end.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace

from lab.localcloud.base import RunningService, _terminate
from lab.localcloud.registry import SERVICES


def kill(name: str) -> RunningService:
    """Stop the running emulator ``name`` hard (SIGTERM, then SIGKILL); returns what it was."""
    emulator = SERVICES[name]
    state = emulator.running()
    if state is None:
        raise RuntimeError(f"{name} is not running")
    _terminate(state.pid, grace_s=2.0)
    return state


def start_again(state: RunningService, timeout_s: float = 30.0) -> RunningService:
    """Start emulator ``state.name`` on its old port(s) and wait until it answers."""
    emulator = SERVICES[state.name]
    env = {**os.environ, **emulator.process_env(state.port, state.extra_ports)}
    with open(state.log, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - the emulator's own argv from the registry
            emulator.command(state.port, state.extra_ports), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{state.name} exited with {proc.returncode} on restart; see {state.log}")
        if emulator.is_ready(state.port, state.extra_ports):
            new = replace(state, pid=proc.pid, started_at=time.time())
            new.save(emulator.state_file)
            return new
        time.sleep(0.1)
    raise RuntimeError(f"{state.name} did not answer within {timeout_s} s of its restart")
