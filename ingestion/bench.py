"""Benchmark of every silo on its local cloud: secure path vs bare publish, KMS calls, envelope speed.

One run measures the silos named by ``--silos`` (default all three), one after
the other, each against its own emulators (started here, or reused from
``make up``). Per silo, the same records go through a bare publish and through
the secure path; what each times is stated in ``ingestion/azure/bench.py`` and
``ingestion/gcp/bench.py`` and, for AWS, below. Per-silo figures are keyed
``<silo>_secure_vs_bare_ratio``, ``<silo>_kms_calls_per_10k``, ...; the AWS
figures are also printed under their original names.

AWS (same records, same moto server):

* **bare**: a plain ``put_records`` loop (500 per call) of the same record bytes
  to a second, unencrypted 2-shard stream. Nothing is read back.
* **secure path**: the full silo path as ``kinesis_ingest.py`` runs it, minus
  provisioning and the final verification: from the first PutRecords until the
  last record has landed. The producer (PutRecords with partial-failure
  retries) writes to the KMS-encrypted stream while the consumer, in a second
  thread, follows both shards — parse, Ed25519 signature check, dedupe, envelope
  encryption (KMS data key via the cache), S3 put of each batch (SSE-KMS) and a
  checkpoint put after each batch.
* ``secure_vs_bare_ratio`` = secure records/s / bare records/s.
* ``kms_calls_per_10k``: KMS requests our code made during the secure path
  (GenerateDataKey/Decrypt/DescribeKey), scaled to 10,000 records. Calls that
  moto makes internally for stream/bucket SSE are not requests of ours.
* ``envelope_vs_aesgcm_ratio``: envelope encrypt MB/s / bare AES-GCM MB/s on one
  buffer (encryption.bench), with the same cached AWS KMS provider.

Why a ratio stops where it does (every silo, ``ingestion.core.cpu``):

* ``<silo>_cpu_us_per_record``: CPU microseconds per record that each path made
  this process and the silo's emulators spend (from ``/proc``, Linux only);
* ``<silo>_ceiling_ratio``: bare CPU / (secure CPU / cores) — the best ratio an
  idle machine with this many cores could reach for that work, however well the
  secure path overlaps. Under the target, only less work per record helps;
* ``<silo>_validate_us_per_record`` / ``<silo>_verify_us_per_record``: the
  consumer's validation (parse, canonical JSON, Ed25519, dedupe) and the signature
  check alone, per record, in this process — to set against ``bare_us_per_record``.

Every silo's landing is verified afterwards (untimed); the benchmark fails if
one is not. Progress goes to stderr; the last line printed is one JSON object.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from ingestion.core.cpu import CpuMeter, why_figures
from lab.cli import LabError, console, parser, positive_int, run_main

TARGETS = {"secure_vs_bare_ratio": (">=", 0.8), "kms_calls_per_10k": ("<=", 5.0),
           "envelope_vs_aesgcm_ratio": (">=", 0.9)}
SILO_TARGETS = {"secure_vs_bare_ratio": (">=", 0.8), "kms_calls_per_10k": ("<=", 5.0)}
ALL_SILOS = ("aws", "azure", "gcp")
#: Per-silo figures that explain a ratio (ingestion.core.cpu.why_figures); printed under each silo's ratio
WHY_KEYS = ("bare_us_per_record", "validate_us_per_record", "verify_us_per_record", "ceiling_ratio",
            "cpu_us_per_record", "cores")


def bare_puts(kinesis: Any, stream: str, lines: Sequence[bytes]) -> float:
    """Seconds for a plain put_records loop of lines (no retries, nothing else)."""
    from ingestion.aws.producer import chunks, partition_key

    entries = [{"Data": line, "PartitionKey": partition_key(line)} for line in lines]
    start = time.perf_counter()
    for batch in chunks(entries):
        resp = kinesis.put_records(StreamName=stream, Records=batch)
        if resp["FailedRecordCount"]:
            raise LabError("bare put_records had failures; the comparison would be unfair")
    return time.perf_counter() - start


def run_bench(records: int, size_mib: int, seed: int = 0) -> dict[str, Any]:
    from encryption.bench import envelope_vs_aesgcm
    from ingestion import samples
    from ingestion.aws.clients import client
    from ingestion.aws.ingest import Adapter
    from ingestion.core.run import produce_and_consume
    from ingestion.core.summary import IngestSummary
    from ingestion.aws.provision import ensure_stream
    from ingestion.core.verify import verify_landing
    from ingestion.records import TrustStore
    from lab.config import settings

    lines = [r.to_json().encode() for r in samples.generate_records("aws", records, seed=seed)]
    adapter = Adapter(with_vpc=False)
    adapter.provision()
    adapter.reset("bench")
    silo = adapter.connected
    kinesis = client("kinesis")
    bare_stream = f"{settings().name_prefix}-bench-bare"
    try:
        kinesis.delete_stream(StreamName=bare_stream)
        kinesis.get_waiter("stream_not_exists").wait(StreamName=bare_stream)
    except kinesis.exceptions.ResourceNotFoundException:
        pass
    kinesis.create_stream(StreamName=bare_stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=bare_stream)
    ensure_stream(kinesis, silo.resources.stream_name, silo.resources.key_arn)
    bare_puts(kinesis, bare_stream, lines[:50])  # warm the connection pool once
    with CpuMeter("aws") as bare_cpu:
        bare_s = bare_puts(kinesis, bare_stream, lines)

    trust = TrustStore.from_dir()
    lander = adapter.lander("bench", trust)
    calls_before = silo.kms.calls
    with CpuMeter("aws") as secure_cpu:
        start = time.perf_counter()
        produced, consumed = produce_and_consume(adapter, lines, lander, IngestSummary("aws", "bench"), 500)
        secure_s = time.perf_counter() - start
    kms_calls = silo.kms.calls - calls_before
    check = verify_landing(silo.store, silo.provider, "aws", "bench", trust,
                           expected_ids=lander.checkpoint.accepted_ids, expected_dead_letters=0)
    if not check.verified or consumed.landed != records or produced.sent != records:
        raise LabError(f"benchmark landing did not verify: {check.errors[:3]}")
    envelope = envelope_vs_aesgcm(size_mib=size_mib, repeats=7, provider=silo.provider)
    return {
        "records": records,
        "record_bytes_avg": round(sum(map(len, lines)) / len(lines)),
        "bare_put_records_per_s": round(records / bare_s),
        "secure_path_records_per_s": round(records / secure_s),
        "secure_path_s": round(secure_s, 3),
        "bare_s": round(bare_s, 3),
        "secure_vs_bare_ratio": round(bare_s / secure_s, 3),
        "batches": consumed.batches,
        "kms_calls": kms_calls,
        "kms_calls_per_10k": round(kms_calls * 10_000 / records, 2),
        "envelope_encrypt_mb_s": envelope["envelope_encrypt_mb_s"],
        "bare_aesgcm_encrypt_mb_s": envelope["bare_aesgcm_encrypt_mb_s"],
        "envelope_vs_aesgcm_ratio": envelope["envelope_over_bare"],
        "landing_verified": check.verified,
        **why_figures(lines, bare_cpu, secure_cpu),
    }


def silo_list(text: str) -> list[str]:
    """argparse type: a comma-separated subset of aws,azure,gcp (order kept, no repeats)."""
    import argparse

    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in ALL_SILOS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(ALL_SILOS)}, got {text!r}")
    return list(dict.fromkeys(names))


def _aws(records: int, size_mib: int, seed: int) -> dict[str, Any]:
    figures = run_bench(records, size_mib, seed)
    figures.update({"bare_records_per_s": figures["bare_put_records_per_s"],
                    "secure_records_per_s": figures["secure_path_records_per_s"]})
    return figures


def _in_child(silo: str, records: int, seed: int) -> dict[str, Any]:
    """Run ``python -m ingestion.<silo>.bench`` and return its JSON line.

    Why a child process: this script, run by path, has ``ingestion/`` first on
    sys.path, where the folder ``azure/`` shadows the Azure SDK's ``azure``
    namespace. ``-m`` from the repository root has no such folder in the way; a
    fresh process per silo also keeps one silo's SDK threads out of the next one's
    timing.
    """
    import subprocess
    import sys

    from lab.paths import REPO_ROOT

    cmd = [sys.executable, "-m", f"ingestion.{silo}.bench", "--records", str(records), "--seed", str(seed), "--json"]
    done = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603 - our own module
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise LabError(f"{silo} benchmark failed (exit {done.returncode}); its error is printed above")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _azure(records: int, size_mib: int, seed: int) -> dict[str, Any]:
    return _in_child("azure", records, seed)


def _gcp(records: int, size_mib: int, seed: int) -> dict[str, Any]:
    return _in_child("gcp", records, seed)


RUNNERS = {"aws": _aws, "azure": _azure, "gcp": _gcp}


def _judge(figures: dict[str, Any], targets: dict[str, tuple[str, float]], prefix: str = "") -> None:
    for name, (op, target) in targets.items():
        value = figures[f"{prefix}{name}"]
        met = value >= target if op == ">=" else value <= target
        figures[f"{prefix}{name}_target_met"] = met
        print(f"{prefix + name:<34} {value:>10}   target {op} {target}   {'met' if met else 'MISSED'}")


def run_silos(silos: Sequence[str], records: int, size_mib: int, seed: int) -> dict[str, Any]:
    """Run each silo's benchmark inside its own local cloud; return the flat figures."""
    from lab.localcloud import EmulatorError, local_cloud

    figures: dict[str, Any] = {"records": records, "silos": list(silos)}
    for silo in silos:
        console.print(f"[bold]bench[/] {silo}: starting its local cloud, then bare vs secure ({records} records)")
        start = time.perf_counter()
        if silo == "aws":
            try:
                with local_cloud(silo):
                    result = RUNNERS[silo](records, size_mib, seed)
            except EmulatorError as exc:
                raise LabError(f"{silo}: {exc}") from None
        else:  # the child starts (or reuses) its own local cloud
            result = RUNNERS[silo](records, size_mib, seed)
        console.print(f"[bold]bench[/] {silo}: done in {time.perf_counter() - start:.0f} s "
                      f"(ratio {result['secure_vs_bare_ratio']})")
        if silo == "aws":
            figures.update({k: v for k, v in result.items() if k in TARGETS or k in AWS_KEYS})
        for key in ("bare_records_per_s", "secure_records_per_s", "secure_vs_bare_ratio", "kms_calls",
                    "kms_calls_per_10k", "batches", *WHY_KEYS):
            figures[f"{silo}_{key}"] = result.get(key)
    return figures


AWS_KEYS = ("bare_put_records_per_s", "secure_path_records_per_s", "secure_path_s", "bare_s", "batches",
            "kms_calls", "envelope_encrypt_mb_s", "bare_aesgcm_encrypt_mb_s", "landing_verified",
            "record_bytes_avg")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/bench.py", __doc__ or "")
    p.add_argument("--records", type=positive_int, default=5_000, help="records per silo (default 5000)")
    p.add_argument("--silos", type=silo_list, default=list(ALL_SILOS),
                   help="comma-separated silos to measure (default aws,azure,gcp)")
    p.add_argument("--size-mib", type=positive_int, default=32, help="buffer for the AWS envelope test (default 32)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    figures = run_silos(args.silos, args.records, args.size_mib, args.seed)
    if "aws" in args.silos:
        _judge(figures, TARGETS)
    for silo in args.silos:
        _judge(figures, SILO_TARGETS, prefix=f"{silo}_")
        for name in ("bare_records_per_s", "secure_records_per_s", *WHY_KEYS[:4]):
            print(f"{silo + '_' + name:<34} {figures[silo + '_' + name]!s:>10}")
        cpu = figures.get(f"{silo}_cpu_us_per_record")
        if cpu:
            print(f"{silo + '_cpu_us_per_record':<34} bare {cpu['bare']}  secure {cpu['secure']}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    run_main(main)
