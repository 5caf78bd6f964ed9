"""One emulator process: how to start it, how to know it is ready, what the SDKs need."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lab.config import settings

LOOPBACK = "127.0.0.1"


class EmulatorError(RuntimeError):
    """An emulator could not be started, found or stopped."""


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ready(url: str, timeout: float = 1.0, context: object | None = None, require_ok: bool = False) -> bool:
    """True when a GET on a loopback URL answers with any HTTP status (the server is up);
    with ``require_ok``, only a 200 counts (servers that answer errors while still starting)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        raise ValueError("health checks only target the loopback emulators")
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # nosec B310 - loopback http(s) only, checked above
            return not require_ok or resp.status == 200
    except urllib.error.HTTPError:
        return not require_ok
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (and is not a zombie we can reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


@dataclass
class RunningService:
    """What the state file records about one running emulator."""

    name: str
    pid: int
    port: int
    env: dict[str, str]
    started_at: float
    log: str
    extra_ports: dict[str, int] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        # 0600: the client env holds the emulators' secrets (identity header, SAS key)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RunningService | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


class Emulator(ABC):
    """Base class of every emulator the lab can run.

    Subclasses say how to launch the process on a given port, how to tell it is
    ready, and which environment variables point the real SDK at it.
    """

    #: short unique name, e.g. "moto"
    name: str
    #: the cloud it stands in for: "aws", "azure" or "gcp"
    cloud: str
    #: what it emulates, for ``status`` output
    description: str = ""

    def prepare(self) -> None:
        """One-time set-up before start (certificates, data folders). Idempotent."""

    def extra_ports(self) -> dict[str, int]:
        """Additional ports the process needs besides the main one."""
        return {}

    @abstractmethod
    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        """The argv that starts the emulator bound to 127.0.0.1:port."""

    @abstractmethod
    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        """Environment variables that point the cloud's SDK at this emulator."""

    def process_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        """Extra environment for the emulator process itself."""
        return {}

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        """True when the emulator answers. Default: its port accepts connections."""
        return port_open(port) and all(port_open(p) for p in extra_ports.values())

    # -- lifecycle -----------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return settings().run_dir / f"{self.name}.json"

    def running(self) -> RunningService | None:
        """The recorded instance if its process is alive and it answers; else None."""
        state = RunningService.load(self.state_file)
        if state is None:
            return None
        if not pid_alive(state.pid) or not self.is_ready(state.port, state.extra_ports):
            return None
        return state

    def start(self) -> RunningService:
        """Start the emulator on free ports and wait until it answers."""
        self.prepare()
        port = free_port()
        extra = self.extra_ports()
        run_dir = settings().run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        log_path = run_dir / f"{self.name}.log"
        env = {**os.environ, **self.process_env(port, extra)}
        with open(log_path, "ab") as log:
            try:
                proc = subprocess.Popen(  # noqa: S603 - argv built by the lab, no shell
                    self.command(port, extra),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            except FileNotFoundError as exc:
                raise EmulatorError(f"{self.name}: cannot start ({exc}). Run `make setup` first.") from exc
        deadline = time.monotonic() + settings().emulator_start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EmulatorError(
                    f"{self.name} exited with code {proc.returncode} while starting; see {log_path}"
                )
            if self.is_ready(port, extra):
                state = RunningService(
                    name=self.name,
                    pid=proc.pid,
                    port=port,
                    env=self.client_env(port, extra),
                    started_at=time.time(),
                    log=str(log_path),
                    extra_ports=extra,
                )
                state.save(self.state_file)
                return state
            time.sleep(0.2)
        _terminate(proc.pid)
        raise EmulatorError(f"{self.name} did not answer within the start timeout; see {log_path}")

    def stop(self, state: RunningService | None = None) -> bool:
        """Stop the recorded instance (or the given one). True if something was stopped."""
        state = state or RunningService.load(self.state_file)
        if state is None:
            return False
        stopped = _terminate(state.pid)
        try:
            self.state_file.unlink()
        except FileNotFoundError:
            pass
        return stopped


def _terminate(pid: int, grace_s: float = 5.0) -> bool:
    """SIGTERM the process group of pid, then SIGKILL after a grace period."""
    if not pid_alive(pid):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
    return not pid_alive(pid)
