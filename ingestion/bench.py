"""Benchmark of the AWS silo on the local cloud: secure path vs bare puts, KMS calls, envelope speed.

What is timed (one run, same records, same moto server):

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

The landing is verified afterwards (untimed); the benchmark fails if it is not.
The last line printed is one JSON object.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from lab.cli import LabError, parser, positive_int, run_main

TARGETS = {"secure_vs_bare_ratio": (">=", 0.8), "kms_calls_per_10k": ("<=", 5.0),
           "envelope_vs_aesgcm_ratio": (">=", 0.9)}


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
    from ingestion.aws.ingest import Silo, produce_and_consume, reset
    from ingestion.aws.provision import ensure_stream, provision
    from ingestion.core.verify import verify_landing
    from ingestion.records import TrustStore
    from lab.config import settings

    lines = [r.to_json().encode() for r in samples.generate_records("aws", records, seed=seed)]
    silo = Silo.connect(provision(with_vpc=False))
    reset(silo, "bench")
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
    bare_s = bare_puts(kinesis, bare_stream, lines)

    trust = TrustStore.from_dir()
    lander = silo.lander("bench", trust)
    calls_before = silo.kms.calls
    start = time.perf_counter()
    produced, consumed = produce_and_consume(silo, lines, lander)
    secure_s = time.perf_counter() - start
    kms_calls = silo.kms.calls - calls_before
    check = verify_landing(silo.store, silo.provider, "aws", "bench", trust,
                           expected_ids=lander.checkpoint.accepted_ids, expected_dead_letters=0)
    if not check.verified or consumed.landed != records or produced.sent != records:
        raise LabError(f"benchmark landing did not verify: {check.errors[:3]}")
    envelope = envelope_vs_aesgcm(size_mib=size_mib, repeats=3, provider=silo.provider)
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
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/bench.py", __doc__ or "")
    p.add_argument("--records", type=positive_int, default=10_000, help="records to send (default 10000)")
    p.add_argument("--size-mib", type=positive_int, default=32, help="buffer for the envelope test (default 32)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from lab.localcloud import EmulatorError, local_cloud

    try:
        with local_cloud("aws"):
            figures = run_bench(args.records, args.size_mib, args.seed)
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    for name, (op, target) in TARGETS.items():
        value = figures[name]
        met = value >= target if op == ">=" else value <= target
        figures[f"{name}_target_met"] = met
        print(f"{name:<28} {value:>10}   target {op} {target}   {'met' if met else 'MISSED'}")
    for name in ("bare_put_records_per_s", "secure_path_records_per_s", "envelope_encrypt_mb_s",
                 "bare_aesgcm_encrypt_mb_s"):
        print(f"{name:<28} {figures[name]:>10}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    run_main(main)
