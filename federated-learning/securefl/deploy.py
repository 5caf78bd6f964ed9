"""Run the app as a real Flower deployment on 127.0.0.1: SuperLink + one SuperNode per client.

What it shows (and checks) that the simulation cannot:

* **TLS** on the SuperLink's Fleet/Control/Runtime HTTP API with a certificate from the
  lab CA (``lab.tls``); SuperNodes and the ``flwr`` CLI verify it against that CA.
* **SuperNode authentication**: the SuperLink runs with ``--enable-supernode-auth``;
  each node's EC P-384 public key (OpenSSH format) is registered with
  ``flwr supernode register`` before the node starts with its private key. A node
  whose key is not registered is refused at activation (Flower 1.42: HTTP 412,
  ApiError 2004 "No SuperNode found with the given public key"; the node exits with
  code 305) and never appears online in ``flwr supernode ls``.
* ``flwr run`` submits the same app (``federated-learning/``) with the same run-config
  keys as ``run.py``; the ServerApp writes ``fl_run.json`` and checks itself (model
  changed, every round aggregated every node).

Flower's CLI is the interface (there is no stable Python API for a SuperLink), so the
processes are driven through their commands. Each one runs in its own session; the
SuperLink and SuperNodes spawn detached helpers (``flower-superexec`` starts in a new
session), so ``stop`` collects the whole process tree from ``ps`` *before* signalling
(an orphaned helper would lose its parent link) and stops every process it found.
Written here because no maintained library manages Flower deployments.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab.cli import LabError
from lab.localcloud.base import free_port, port_open
from lab.tls import ensure_ca, server_cert
from securefl.config import APP_DIR, FLConfig
from securefl.outputs import REPORT_NAME

CONNECTION = "lab-deployment"
REFUSED_MARKERS = ("Failed to activate SuperNode", "Exit Code: 305")


@dataclass(frozen=True)
class NodeKey:
    """A SuperNode's authentication key pair (EC P-384; private key OpenSSH PEM, 0600)."""

    private: Path
    public: Path


def make_node_key(path: Path) -> NodeKey:
    """Generate an EC P-384 key pair at ``path`` / ``path.pub`` (the format Flower expects)."""
    key = ec.generate_private_key(ec.SECP384R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.touch(mode=0o600)
    tmp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                      serialization.NoEncryption()))
    tmp.replace(path)
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                  serialization.PublicFormat.OpenSSH) + b"\n")
    return NodeKey(path, pub)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a TOML basic string


def run_config_arg(overrides: Mapping[str, Any]) -> str:
    """``flwr run --run-config`` text for these overrides (TOML values)."""
    return " ".join(f"{key}={_toml_value(value)}" for key, value in overrides.items())


def _descendants(roots: list[int]) -> list[int]:
    """Every process below ``roots`` (children first found via ``ps``, POSIX)."""
    try:
        out = subprocess.run(["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True,
                             check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            children.setdefault(int(parts[1]), []).append(int(parts[0]))
    found: list[int] = []
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.killpg(pid, sig)  # each started process leads its own session/group
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Deployment:
    """The processes of one local deployment; ``stop()`` ends all of them (also on failure)."""

    workdir: Path
    ca: Path
    port: int
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def spawn(self, name: str, argv: list[str]) -> Process:
        log = self.workdir / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as fh:
            popen = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir,
                                     start_new_session=True)
        proc = Process(name, popen, log)
        self.processes.append(proc)
        return proc

    def flwr(self, *args: str, timeout: float = 60) -> dict[str, Any]:
        """Run ``flwr ARGS --format json`` against this deployment; return its JSON (raise if it failed)."""
        argv = [_bin("flwr"), *args, "--format", "json"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, env=self.env, cwd=self.workdir,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LabError(f"`flwr {args[0]}` did not answer within {timeout:.0f} s") from None
        start = done.stdout.find("{")
        try:
            result: dict[str, Any] = json.loads(done.stdout[start:]) if start >= 0 else {}
        except ValueError:
            result = {}
        if not result.get("success"):
            why = result.get("error-message") or (done.stderr or done.stdout).strip()[-400:]
            raise LabError(f"`flwr {' '.join(args[:2])}` failed: {why}")
        return result

    def node_status(self) -> dict[str, str]:
        """node id -> status ('registered', 'online', 'offline', ...) as the SuperLink reports it."""
        nodes = self.flwr("supernode", "ls", CONNECTION)["nodes"]
        return {str(n["node-id"]): str(n["status"]) for n in nodes}

    def stop(self, grace_s: float = 8.0) -> None:
        """Stop every process this deployment started, and everything they started."""
        roots = [p.popen.pid for p in self.processes]
        tree = roots + _descendants(roots)
        self.stopped = tree
        _signal_all(tree, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.processes:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        _signal_all([pid for pid in tree if alive(pid)], signal.SIGKILL)
        for proc in self.processes:
            try:
                proc.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # a killed grandchild can take a moment to be torn down (seen in CI): report "stopped"
        # only once every process of the tree is really gone, or after 10 s at most
        deadline = time.monotonic() + 10.0
        while [pid for pid in tree if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)


def alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of ours counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _bin(name: str) -> str:
    """A Flower command from this interpreter's environment (the venv), else from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise LabError(f"`{name}` not found: install the project's requirements (flwr 1.42)")
    return found


def _env(flwr_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # superexec is found by name
    env["FLWR_HOME"] = str(flwr_home)
    env["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] = "1"
    return env


def _wait_for(check: Any, timeout: float, what: str, procs: list[Process]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.popen.poll() is not None:
                raise LabError(f"{proc.name} exited (code {proc.popen.returncode}) while {what}:\n{proc.tail()}")
        if check():
            return
        time.sleep(0.5)
    raise LabError(f"timed out after {timeout:.0f} s {what}")


@contextmanager
def superlink(workdir: Path, start_timeout: float = 60.0) -> Iterator[Deployment]:
    """A SuperLink with TLS (lab CA) and SuperNode authentication; everything is stopped on exit."""
    ca = ensure_ca()
    cert, key = server_cert("flower-superlink", ("127.0.0.1", "localhost"))
    flwr_home = workdir / "flwr-home"
    flwr_home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (flwr_home / "config.toml").write_text(
        f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
        f'address = "127.0.0.1:{port}"\nroot-certificates = {json.dumps(str(ca))}\n')
    dep = Deployment(workdir, ca, port, _env(flwr_home))
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` of the script still runs the clean-up below
    try:
        link = dep.spawn("superlink", [
            _bin("flower-superlink"), "--ssl-ca-certfile", str(ca), "--ssl-certfile", str(cert),
            "--ssl-keyfile", str(key), "--enable-supernode-auth", "--host", "127.0.0.1", "--port", str(port),
            "--disable-runtime-dependency-installation", "--database", str(workdir / "superlink.db")])
        _wait_for(lambda: port_open(port) and "Starting Flower SuperExec" in link.log.read_text(errors="replace"),
                  start_timeout, "starting the SuperLink", [link])
        yield dep
    finally:
        dep.stop()
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def start_supernode(dep: Deployment, index: int, key: NodeKey, num_nodes: int, name: str = "") -> Process:
    """One SuperNode for partition ``index``, authenticating with ``key``; its own Runtime API port."""
    return dep.spawn(name or f"supernode-{index}", [
        _bin("flower-supernode"), "--root-certificates", str(dep.ca), "--superlink", dep.address,
        "--auth-supernode-private-key", str(key.private),
        "--node-config", f"partition-id={index} num-partitions={num_nodes}",
        "--port", str(free_port()), "--max-retries", "3"])


def register(dep: Deployment, keys: list[NodeKey]) -> list[str]:
    """``flwr supernode register`` every public key (in parallel: each CLI call costs seconds); node ids."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        answers = list(pool.map(lambda k: dep.flwr("supernode", "register", str(k.public), CONNECTION), keys))
    return [str(a["node-id"]) for a in answers]


def refused(proc: Process, timeout: float = 40.0) -> bool:
    """True once a SuperNode has exited after the SuperLink refused to activate it."""
    try:
        proc.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    log = proc.log.read_text(errors="replace")
    return proc.popen.returncode != 0 and any(m in log for m in REFUSED_MARKERS)


def wait_online(dep: Deployment, node_ids: list[str], nodes: list[Process], timeout: float = 90.0) -> dict[str, str]:
    """Wait until the SuperLink lists every registered node as online; return the node table."""
    seen: dict[str, str] = {}

    def all_online() -> bool:
        seen.clear()
        seen.update(dep.node_status())
        return all(seen.get(n) == "online" for n in node_ids)

    _wait_for(all_online, timeout, "waiting for the SuperNodes to come online", [*dep.processes[:1], *nodes])
    return dict(seen)


def submit(dep: Deployment, overrides: Mapping[str, Any], app_dir: Path = APP_DIR) -> str:
    """``flwr run`` the app against the deployment; return the run id."""
    return str(dep.flwr("run", str(app_dir), CONNECTION, "--run-config", run_config_arg(overrides))["run-id"])


def wait_run(dep: Deployment, run_id: str, timeout: float, progress: Any | None = None) -> str:
    """Poll ``flwr ls`` until the run finishes; return its final status (e.g. 'finished:completed')."""
    deadline = time.monotonic() + timeout
    status = "unknown"
    while time.monotonic() < deadline:
        for proc in dep.processes:
            if not proc.name.startswith("rogue") and proc.popen.poll() is not None:
                raise LabError(f"{proc.name} died during the run (code {proc.popen.returncode}):\n{proc.tail()}")
        runs = dep.flwr("ls", CONNECTION, "--run-id", run_id)["runs"]
        status = str(runs[0]["status"]) if runs else "missing"
        if progress is not None:
            progress(status, float(runs[0].get("elapsed", 0.0)) if runs else 0.0)
        if status.startswith("finished"):
            return status
        time.sleep(3)
    raise LabError(f"run {run_id} did not finish within {timeout:.0f} s (last status: {status})")


@dataclass(frozen=True)
class DeployResult:
    summary: dict[str, Any]
    run_id: str
    status: str
    node_ids: list[str]
    rogue_refused: bool | None
    seconds: float
    pids: list[int]

    @property
    def ok(self) -> bool:
        return bool(self.summary.get("ok")) and self.status == "finished:completed" and self.rogue_refused is not False


def deploy(cfg: FLConfig, workdir: Path, rogue: bool = False, run_timeout: float | None = None,
           progress: Any | None = None) -> DeployResult:
    """Start everything, run the app once, check it, stop everything (also on failure or Ctrl-C)."""
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    keys = [make_node_key(workdir / "keys" / f"supernode-{i}") for i in range(cfg.num_clients)]
    out = Path(cfg.out_dir).resolve()
    with superlink(workdir) as dep:
        node_ids = register(dep, keys)
        nodes = [start_supernode(dep, i, k, cfg.num_clients) for i, k in enumerate(keys)]
        rogue_proc = (start_supernode(dep, 0, make_node_key(workdir / "keys" / "rogue"), cfg.num_clients,
                                      name="rogue-supernode") if rogue else None)  # its key is never registered
        table = wait_online(dep, node_ids, nodes)
        if sorted(table) != sorted(node_ids):
            raise LabError(f"the SuperLink lists nodes {sorted(table)}, but only {sorted(node_ids)} were registered")
        rogue_refused = refused(rogue_proc) if rogue_proc is not None else None
        report = out / REPORT_NAME
        report.unlink(missing_ok=True)
        run_id = submit(dep, {**cfg.run_config(), "out-dir": str(out)})
        timeout = run_timeout or 90.0 + 120.0 * cfg.num_server_rounds
        status = wait_run(dep, run_id, timeout, progress)
        if not report.is_file():
            raise LabError(f"run {run_id} ended ({status}) without writing {report}:\n{dep.processes[0].tail()}")
        summary = json.loads(report.read_text())
    return DeployResult(summary, run_id, status, node_ids, rogue_refused, time.perf_counter() - started, dep.stopped)


def deployment_config(nodes: int, rounds: int | None, overrides: Mapping[str, Any], out_dir: Path) -> FLConfig:
    """The run config for ``nodes`` SuperNodes: one client per node; SecAgg+ shares fitted to the node count.

    Unless set explicitly, ``num-shares`` becomes the largest odd count <= nodes (an even
    count crashes SecAgg+) and the threshold a strict majority of it.
    """
    from securefl.config import load_config

    merged: dict[str, Any] = {**overrides, "num-clients": nodes, "out-dir": str(out_dir.resolve())}
    if rounds is not None:
        merged["num-server-rounds"] = rounds
    if "num-shares" not in overrides:
        shares = nodes if nodes % 2 else nodes - 1
        merged["num-shares"] = max(3, shares)
        merged.setdefault("reconstruction-threshold", max(3, shares) // 2 + 1)
    if int(merged.get("drop-client", -1)) >= 0:
        raise LabError("drop-client is a simulation setting; in a deployment stop a SuperNode instead")
    cfg = load_config(merged)
    from securefl.run import check_privacy, check_sources

    check_privacy(cfg, check_sources(cfg, None))  # too weak a privacy budget is refused here as in a simulation
    return cfg
