"""Write signed sample records (JSON Lines) for one silo, from scikit-learn's bundled digits.

Examples::

    python data/generate.py --silo aws --records 1000 --seed 7 --out data/aws.jsonl
    python data/generate.py --silo gcp --records 200 --with-invalid 20 --out /tmp/mixed.jsonl
    python data/generate.py --silo aws --producer aws-producer-c --enroll --out /tmp/c.jsonl
    python data/generate.py --export-schema      # rewrite ingestion/record.schema.json

Records are signed with the producer's Ed25519 key (created under .lab/keys on first
use). The pipeline accepts them only if the operator enrolled that producer for the silo
(`make setup` enrols <silo>-producer-a; `python -m lab trust list`), so a producer that is
not enrolled is refused here unless you ask to enrol it with --enroll. Same arguments,
same bytes.
"""
from __future__ import annotations

from collections.abc import Sequence

from lab.cli import MAX_RECORDS, LabError, count, output_file, parser, run_main, seed


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.records import PRODUCER_PATTERN, SILOS

    p = parser("data/generate.py", __doc__ or "")
    p.add_argument("--silo", choices=SILOS, help="which organisation's share of the data")
    p.add_argument("--records", type=count(MAX_RECORDS), default=1000,
                   help=f"valid records to write (default 1000, at most {MAX_RECORDS:,})")
    p.add_argument("--seed", type=seed, default=0, help="seed: order and augmentation (default 0)")
    p.add_argument("--out", type=output_file, help="output .jsonl file (written atomically)")
    p.add_argument("--producer", help="producer name (default <silo>-producer-a)")
    p.add_argument("--dataset", default="digits", choices=["digits"], help="source image set")
    p.add_argument("--with-invalid", type=count(MAX_RECORDS, lower=0), default=0, metavar="K",
                   help="also mix in K invalid records (malformed, unsigned, forged, duplicate, oversize...)")
    p.add_argument("--enroll", action="store_true",
                   help="enrol the producer for --silo first if it is not (same as `python -m lab trust enroll`)")
    p.add_argument("--export-schema", action="store_true", help="rewrite ingestion/record.schema.json and exit")
    args = p.parse_args(argv)

    from ingestion import samples

    if args.export_schema:
        print(f"wrote {samples.export_schema()}")
        return 0
    if args.silo is None or args.out is None:
        raise LabError("--silo and --out are required (see --help)")
    if args.with_invalid < 0:
        raise LabError("--with-invalid must be >= 0")
    import re

    if args.producer is not None and not re.fullmatch(PRODUCER_PATTERN, args.producer):
        raise LabError(f"--producer {args.producer!r} must match {PRODUCER_PATTERN}")
    from lab.trust import require_enrolled

    producer = args.producer or samples.default_producer(args.silo)
    enrolled = require_enrolled(producer, args.silo, enroll=args.enroll)
    valid = samples.generate_records(args.silo, args.records, seed=args.seed, producer=args.producer,
                                     dataset=args.dataset)
    bad = samples.invalid_examples(valid, args.with_invalid, seed=args.seed)
    try:
        n = samples.write_jsonl(args.out, samples.mixed_lines(valid, bad, seed=args.seed))
    except OSError as exc:
        raise LabError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"wrote {n} lines to {args.out}: {len(valid)} valid, {len(bad)} invalid "
          f"(producer {producer}, enrolled for silo {args.silo}, key {enrolled.fingerprint[:16]})")
    return 0


if __name__ == "__main__":
    run_main(main)
