"""Grade a student's copy of the lab: run each Week 5-6 deliverable for real and score it.

    python -m course.grade                      # this checkout
    python -m course.grade --repo ../student-a --json grade.json
    python -m course.grade --quick              # the deliverables that need no emulator or training
    python -m course.grade --only envelope aws  # some deliverables

Every check runs the *copy's* code with this venv's interpreter: scripts by path with the
copy as working directory, ``PYTHONPATH`` pointing at the copy (and at a shim folder that maps
``poisoning_detection`` to its ``poisoning-detection/``), and a fresh ``LAB_STATE_DIR`` so the
copy gets its own keys, certificates and emulators. Environment variables that point SDKs at
running emulators are removed first, so nothing reaches this checkout's local cloud.

Each deliverable scores three levels: *present* (its files exist: 10 %), *runs* (its command
exits 0 on a small input: +30 %), *verified* (the command proved what it claims, checked
here from its output — the ``--json`` summary's ``verified``, a refused tampered envelope,
flags that hit the poison, a passing test run: +60 %). Exit status: 0 when every graded
deliverable is verified, 1 otherwise.

Why our own harness: the checks are the course's rubric; pytest would hide the partial
scores (present / runs / verified) that an instructor needs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess  # nosec B404 - runs the graded copy's own scripts with this interpreter
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab.cli import LabError, atomic_write, output_file, parser, run_main
from lab.paths import REPO_ROOT

PRESENT, RUNS, VERIFIED = 0.1, 0.3, 0.6
#: Variables that would point the copy's SDKs at emulators this checkout started.
STRIPPED_PREFIXES = ("LAB_", "AWS_", "AZURE_", "IDENTITY_", "MSI_")
STRIPPED = ("PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST", "PYTHONPATH")


@dataclass
class Outcome:
    """What a check found. ``detail`` is one line an instructor reads."""

    runs: bool = False
    verified: bool = False
    detail: str = ""


@dataclass
class Score:
    key: str
    title: str
    week: int
    max_points: int
    present: bool = False
    runs: bool = False
    verified: bool = False
    points: float = 0.0
    seconds: float = 0.0
    detail: str = ""


class Runner:
    """Runs commands in the graded copy, isolated from this checkout's state."""

    def __init__(self, repo: Path, work: Path) -> None:
        self.repo, self.work = repo, work
        shim = work / "pythonpath"
        shim.mkdir(parents=True, exist_ok=True)
        link = shim / "poisoning_detection"
        if not link.exists():
            link.symlink_to(repo / "poisoning-detection", target_is_directory=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(STRIPPED_PREFIXES) and k not in STRIPPED}
        env.update({"PYTHONPATH": os.pathsep.join([str(shim), str(repo), str(repo / "federated-learning")]),
                    "LAB_STATE_DIR": str(work / "state"), "PYTHONDONTWRITEBYTECODE": "1",
                    "MPLBACKEND": "Agg"})
        self.env = env

    def run(self, args: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` in the copy; a timeout counts as a failed run (exit code 124)."""
        try:
            return subprocess.run([sys.executable, *args], cwd=self.repo, env=self.env, text=True,  # nosec B603 - argv is this interpreter + our fixed script paths, no shell
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {timeout:.0f} s")

    def pytest(self, *targets: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run(["-m", "pytest", *targets, "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider"],
                        timeout)


def last_json(text: str) -> dict[str, Any] | None:
    """The last line of stdout that is a JSON object (scripts print their summary last)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            return value if isinstance(value, dict) else None
    return None


def why(proc: subprocess.CompletedProcess[str]) -> str:
    """The last meaningful line of a failed command's output."""
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    return f"exit {proc.returncode}: {lines[-1][:160] if lines else 'no output'}"


# -- the checks ---------------------------------------------------------------------------


def check_records(r: Runner) -> Outcome:
    """Generate signed + hostile records with the copy; verify them here with this checkout's contract."""
    from ingestion.records import RecordError, TrustStore, parse_record

    out = r.work / "records.jsonl"
    proc = r.run(["data/generate.py", "--silo", "aws", "--records", "20", "--with-invalid", "10", "--enroll",
                  "--out", str(out)])
    if proc.returncode != 0 or not out.is_file():
        return Outcome(detail=why(proc))
    trust = TrustStore.from_dir(r.work / "state")  # the copy's own sealed trust store
    good = bad = 0
    for line in out.read_bytes().split(b"\n"):
        if not line:
            continue
        try:
            trust.verify(parse_record(line))
            good += 1
        except RecordError:
            bad += 1
    tests = r.pytest("tests/ingestion/test_records.py")
    ok = good >= 20 and bad >= 9 and tests.returncode == 0  # the duplicate-id fault verifies on its own
    return Outcome(True, ok, f"{good} valid signed, {bad} rejected by the contract; "
                             f"record tests {'pass' if tests.returncode == 0 else why(tests)}")


def _envelope(r: Runner, *args: str) -> subprocess.CompletedProcess[str]:
    return r.run(["-m", "encryption", *args], timeout=120)


CTX = ["--context", "silo=aws", "--context", "dataset=grade", "--context", "batch=b0001"]


def check_envelope(r: Runner) -> Outcome:
    """Round trip, then a tampered envelope and a wrong context must be refused with nothing written."""
    d = r.work / "envelope"
    d.mkdir(exist_ok=True)
    key, plain, sealed = d / "kek.json", d / "plain.bin", d / "plain.bin.env"
    plain.write_bytes(os.urandom(4096))
    steps = [_envelope(r, "keygen", "--out", str(key)),
             _envelope(r, "encrypt", "--key-file", str(key), *CTX, "--in", str(plain), "--out", str(sealed)),
             _envelope(r, "decrypt", "--key-file", str(key), *CTX, "--in", str(sealed), "--out", str(d / "back"))]
    for proc in steps:
        if proc.returncode != 0:
            return Outcome(detail=why(proc))
    if (d / "back").read_bytes() != plain.read_bytes():
        return Outcome(True, False, "decrypt returned different bytes")
    tampered = d / "tampered.env"
    blob = bytearray(sealed.read_bytes())
    blob[-40] ^= 0x01  # a body byte
    tampered.write_bytes(bytes(blob))
    refused = _envelope(r, "decrypt", "--key-file", str(key), *CTX, "--in", str(tampered), "--out", str(d / "t.out"))
    wrong = ["--context", "silo=aws", "--context", "dataset=other", "--context", "batch=b0001"]
    mismatch = _envelope(r, "decrypt", "--key-file", str(key), *wrong, "--in", str(sealed), "--out", str(d / "c.out"))
    tamper_ok = refused.returncode != 0 and not (d / "t.out").exists()
    context_ok = mismatch.returncode != 0 and not (d / "c.out").exists()
    return Outcome(True, tamper_ok and context_ok,
                   f"round trip ok; tampered body {'refused' if tamper_ok else 'ACCEPTED or output written'}; "
                   f"wrong context {'refused' if context_ok else 'ACCEPTED or output written'}")


def check_rotation(r: Runner) -> Outcome:
    """Seal under v1, rotate, re-wrap the folder: headers move to v2 and the data still opens."""
    d = r.work / "rotation"
    landing = d / "landing" / "raw" / "silo=aws" / "dataset=grade"
    landing.mkdir(parents=True, exist_ok=True)
    key, plain, sealed = d / "kek.json", d / "plain.bin", landing / "batch=b0001.jsonl.env"
    plain.write_bytes(os.urandom(2048))
    for proc in (_envelope(r, "keygen", "--out", str(key)),
                 _envelope(r, "encrypt", "--key-file", str(key), *CTX, "--in", str(plain), "--out", str(sealed))):
        if proc.returncode != 0:
            return Outcome(detail=why(proc))
    before = json.loads(_envelope(r, "header", "--in", str(sealed)).stdout or "{}").get("key_id")
    rotated = _envelope(r, "rotate", "--key-file", str(key))
    rewrapped = _envelope(r, "rewrap", "--dir", str(d / "landing"), "--key-file", str(key), "--json",
                          "--checkpoint", str(d / "checkpoint.json"))
    if rotated.returncode != 0 or rewrapped.returncode != 0:
        return Outcome(detail=why(rotated if rotated.returncode else rewrapped))
    summary = last_json(rewrapped.stdout) or {}
    after = json.loads(_envelope(r, "header", "--in", str(sealed)).stdout or "{}").get("key_id")
    opened = _envelope(r, "decrypt", "--key-file", str(key), *CTX, "--in", str(sealed), "--out", str(d / "back"))
    same = opened.returncode == 0 and (d / "back").read_bytes() == plain.read_bytes()
    ok = bool(summary.get("verified")) and summary.get("rewrapped") == 1 and before != after and same
    return Outcome(True, ok, f"key {before} -> {after}; rewrap verified={summary.get('verified')}, "
                             f"rewrapped={summary.get('rewrapped')}; decrypt after {'ok' if same else 'FAILED'}")


def ingest_check(script: str, *extra: str) -> Callable[[Runner], Outcome]:
    """A silo's step script on 60 records + 6 hostile ones: its --json summary must be verified and add up."""
    def check(r: Runner) -> Outcome:
        proc = r.run([script, "--records", "60", "--with-invalid", "6", "--json", *extra], timeout=300)
        summary = last_json(proc.stdout)
        if summary is None:
            return Outcome(detail=why(proc))
        ok = (proc.returncode == 0 and summary.get("verified") is True and summary.get("landed") == 60
              and summary.get("dead_lettered") == 6)
        return Outcome(proc.returncode == 0, ok,
                       "sent={sent} landed={landed} dead_lettered={dead_lettered} verified={verified}".format(
                           **{k: summary.get(k) for k in ("sent", "landed", "dead_lettered", "verified")}))
    check.__doc__ = f"{script} on 60 records + 6 hostile ones"
    return check


def check_fl(r: Runner) -> Outcome:
    """A one-round SecAgg+ + DP simulation: ok, model changed, fl_run.json written, epsilon reported."""
    out = r.work / "fl"
    config = ("num-clients=3 num-server-rounds=1 local-epochs=1 num-shares=3 reconstruction-threshold=2 "
              f"out-dir={out}")
    proc = r.run(["federated-learning/run.py", "--config", config, "--json"], timeout=360)
    report_path = out / "fl_run.json"
    if not report_path.is_file():
        return Outcome(proc.returncode == 0, False, why(proc) if proc.returncode else "no fl_run.json written")
    rep = json.loads(report_path.read_text())
    eps, init, final = rep.get("epsilon"), rep.get("initial_accuracy"), rep.get("final_accuracy")
    changed = isinstance(init, (int, float)) and isinstance(final, (int, float)) and final != init
    ok = proc.returncode == 0 and rep.get("ok") is True and changed and isinstance(eps, (int, float)) and eps > 0
    def num(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    return Outcome(proc.returncode == 0, ok,
                   f"accuracy {num(init)} -> {num(final)}, epsilon {num(eps)}, secagg {rep.get('secagg')}")


def poisoned_digits(path: Path, rate: float = 0.33, seed: int = 0) -> set[int]:
    """Write digits with a 0 -> 1 backdoor (this checkout's attack code); return the poisoned indices."""
    import numpy as np

    from lab import digits
    from poisoning_detection.attack import add_backdoor

    x, y = digits.pixels()
    xp, yp, mask = add_backdoor(x.copy(), y.copy(), rate, source=0, target=1, seed=seed)
    ids = np.array([f"r{i:04d}" for i in range(len(yp))])
    np.savez(path, x=xp.astype(np.float32), y=yp, ids=ids)
    return {int(i) for i in np.flatnonzero(mask)}


def check_poisoning(r: Runner) -> Outcome:
    """The copy's detect.py on a backdoored digits set: flags must hit the poison."""
    data, report = r.work / "poisoned.npz", r.work / "poison-report.json"
    poison = {f"r{i:04d}" for i in poisoned_digits(data)}
    proc = r.run(["poisoning-detection/detect.py", "--data", str(data), "--out", str(report), "--quiet"], timeout=300)
    if proc.returncode != 0 or not report.is_file():
        return Outcome(detail=why(proc))
    rep = json.loads(report.read_text())
    flagged = {str(f) for f in rep.get("flagged", [])}
    hit = len(flagged & poison)
    recall, precision = hit / len(poison), hit / max(len(flagged), 1)
    ok = recall >= 0.5 and precision >= 0.5 and 0 <= rep.get("risk_score", -1) <= 1
    return Outcome(True, ok, f"{len(poison)} poisoned, {len(flagged)} flagged: recall {recall:.2f}, "
                             f"precision {precision:.2f}, risk {rep.get('risk_score')}")


def pytest_check(*targets: str) -> Callable[[Runner], Outcome]:
    def check(r: Runner) -> Outcome:
        proc = r.pytest(*targets)
        tail = (proc.stdout.strip().splitlines() or ["no output"])[-1]
        # exit 5 = no tests collected: a deleted test suite is not a passing one
        return Outcome(proc.returncode in (0, 1), proc.returncode == 0, tail[:160])
    check.__doc__ = "pytest " + " ".join(targets)
    return check


@dataclass(frozen=True)
class Deliverable:
    key: str
    title: str
    week: int
    points: int
    paths: tuple[str, ...]
    check: Callable[[Runner], Outcome]
    quick: bool = False


DELIVERABLES: tuple[Deliverable, ...] = (
    Deliverable("records", "record contract + signed data", 5, 10,
                ("ingestion/records.py", "data/generate.py"), check_records, quick=True),
    Deliverable("envelope", "envelope encryption CLI (incl. tamper refusal)", 5, 15,
                ("encryption/envelope.py", "encryption/format.py"), check_envelope, quick=True),
    Deliverable("aws", "AWS ingestion (Kinesis -> S3, KMS)", 5, 10,
                ("ingestion/aws/kinesis_ingest.py",), ingest_check("ingestion/aws/kinesis_ingest.py", "--no-vpc")),
    Deliverable("azure", "Azure ingestion (Event Hubs -> Blob, Key Vault)", 5, 10,
                ("ingestion/azure/eventhub_ingest.py",), ingest_check("ingestion/azure/eventhub_ingest.py")),
    Deliverable("gcp", "GCP ingestion (Pub/Sub -> GCS/BigQuery, Cloud KMS)", 5, 10,
                ("ingestion/gcp/pubsub_ingest.py",), ingest_check("ingestion/gcp/pubsub_ingest.py")),
    Deliverable("rotation", "key rotation + re-wrap", 5, 10,
                ("encryption/rotation.py",), check_rotation, quick=True),
    Deliverable("fl", "federated learning (SecAgg+, DP, epsilon)", 6, 15,
                ("federated-learning/run.py", "federated-learning/securefl"), check_fl),
    Deliverable("poisoning", "poisoning detection", 6, 15,
                ("poisoning-detection/detect.py",), check_poisoning),
    Deliverable("docs", "diagrams + playbook + case studies", 6, 10,
                ("diagrams", "docs/training_environment_security_playbook.md", "docs/case_studies/README.md"),
                pytest_check("tests/docs", "tests/case_studies"), quick=True),
    Deliverable("suite", "test suite subset", 6, 5,
                ("tests",), pytest_check("tests/encryption", "tests/ingestion/test_records.py"), quick=True),
)
KEYS = tuple(d.key for d in DELIVERABLES)


def grade_one(d: Deliverable, runner: Runner) -> Score:
    score = Score(d.key, d.title, d.week, d.points)
    start = time.perf_counter()
    score.present = all((runner.repo / p).exists() for p in d.paths)
    if not score.present:
        score.detail = "missing: " + ", ".join(p for p in d.paths if not (runner.repo / p).exists())
    else:
        try:
            outcome = d.check(runner)
        except Exception as exc:  # noqa: BLE001 - a crash in one check must not stop the grading
            outcome = Outcome(detail=f"grader could not check it: {type(exc).__name__}: {exc}"[:200])
        score.runs, score.verified, score.detail = outcome.runs, outcome.runs and outcome.verified, outcome.detail
    score.points = round(d.points * (PRESENT * score.present + RUNS * score.runs + VERIFIED * score.verified), 1)
    score.seconds = round(time.perf_counter() - start, 1)
    return score


def grade(repo: Path, keys: Sequence[str] = KEYS, work: Path | None = None,
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Grade ``repo`` on the chosen deliverables; the result as a JSON-ready dict."""
    repo = repo.resolve()
    if not (repo / "lab").is_dir() or not (repo / "ingestion").is_dir():
        raise LabError(f"{repo} does not look like a copy of the lab (no lab/ or ingestion/)")
    unknown = sorted(set(keys) - set(KEYS))
    if unknown:
        raise LabError(f"unknown deliverable(s) {unknown}; choose from {list(KEYS)}")
    tmp = Path(tempfile.mkdtemp(prefix="lab-grade-")) if work is None else work
    try:
        runner = Runner(repo, tmp)
        scores = []
        for d in DELIVERABLES:
            if d.key in keys:
                if progress:
                    progress(d.title)
                scores.append(grade_one(d, runner))
    finally:
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)
    total, maximum = sum(s.points for s in scores), sum(s.max_points for s in scores)
    return {"repo": str(repo), "graded": [s.key for s in scores], "score": round(total, 1), "max": maximum,
            "all_verified": all(s.verified for s in scores),
            "deliverables": [asdict(s) for s in scores]}


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def mark(flag: bool) -> str:
        return "[green]yes[/]" if flag else "[red]no[/]"

    table = Table(title=f"grade of {result['repo']}")
    for column in ("wk", "deliverable", "present", "runs", "verified", "points", "s", "evidence"):
        table.add_column(column, overflow="fold")
    for s in result["deliverables"]:
        table.add_row(str(s["week"]), s["title"], mark(s["present"]), mark(s["runs"]), mark(s["verified"]),
                      f"{s['points']:g}/{s['max_points']}", f"{s['seconds']:.0f}", s["detail"])
    table.add_section()
    table.add_row("", "[bold]total[/]", "", "", "", f"[bold]{result['score']:g}/{result['max']}[/]", "", "")
    Console(width=max(Console().width, 140)).print(table)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m course.grade", __doc__ or "")
    p.add_argument("--repo", type=Path, default=REPO_ROOT, help="the copy to grade (default: this checkout)")
    p.add_argument("--json", type=output_file, metavar="OUT", help="also write the result as JSON here (checked first)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true",
                       help="only " + ", ".join(d.key for d in DELIVERABLES if d.quick) + " (no emulator, no training)")
    which.add_argument("--only", nargs="+", choices=KEYS, metavar="KEY", help=f"only these: {', '.join(KEYS)}")
    args = p.parse_args(argv)
    if not args.repo.is_dir():
        raise LabError(f"--repo {args.repo}: no such folder")
    keys = args.only or [d.key for d in DELIVERABLES if d.quick or not args.quick]
    from lab.cli import console

    result = grade(args.repo, keys, progress=lambda title: console.print(f"grading: {title} ...", style="dim", markup=False))
    print_table(result)
    if args.json:
        atomic_write(args.json, json.dumps(result, indent=1))
    return 0 if result["all_verified"] else 1


if __name__ == "__main__":
    run_main(main)
