"""Command-line pieces every silo's ingestion script shares (same flags, same checks).

A silo script adds its own flags, then::

    add_ingest_arguments(p, silo="aws", batch_default=500, batch_help="GetRecords limit per batch")
    args = p.parse_args(argv)
    lines = input_lines(args, "aws")
    do_reset = wants_reset(args, "aws")
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.cli import MAX_RECORDS, LabError, count, exit_code, parser, print_summary, seed

#: records per leg and round of a silo benchmark: at 2,000 a leg lasted ~0.5 s on moto, and one idle
#: poll of the Kinesis consumer (0.2 s: Kinesis allows 5 reads/s per shard) moved the ratio by 0.1-0.3
BENCH_RECORDS = 5000
#: rounds of each benchmark leg, medians reported (each round runs secure, plain and the floor leg)
BENCH_ROUNDS = 7

if TYPE_CHECKING:
    from ingestion.core.run import SiloAdapter
    from ingestion.core.summary import IngestSummary


def add_ingest_arguments(p: argparse.ArgumentParser, silo: str, batch_default: int, batch_help: str) -> None:
    """--records | --source, --seed, --with-invalid, --dataset, --batch-size, --reset | --keep, --json."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--records", type=count(MAX_RECORDS), default=1000,
                     help="generate this many signed sample records (default 1000)")
    src.add_argument("--source", type=Path, help="send the lines of this JSONL file instead (as-is)")
    p.add_argument("--seed", type=seed, default=0, help="seed of generated records (default 0)")
    p.add_argument("--with-invalid", type=count(MAX_RECORDS, lower=0), default=0, metavar="K",
                   help="mix K invalid records into the generated ones (they must be dead-lettered)")
    p.add_argument("--dataset", default="digits", help="dataset name in the landing layout (default digits)")
    p.add_argument("--batch-size", type=count(MAX_RECORDS), default=batch_default,
                   help=f"{batch_help} (default {batch_default})")
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--reset", dest="reset", action="store_true", default=None,
                      help="start from an empty stream and landing zone for this silo (default on the local cloud)")
    keep.add_argument("--keep", dest="reset", action="store_false",
                      help=f"keep earlier runs' data (default against real {silo.upper()}): "
                           "re-sent ids become duplicates")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def input_lines(args: argparse.Namespace, silo: str) -> list[bytes]:
    """The raw lines to send: the --source file as-is, or generated records (+ --with-invalid faults).

    Checks the flags first (a bad --dataset fails here, before any emulator starts)."""
    from ingestion import samples
    from ingestion.core.landing import batch_prefix

    try:
        batch_prefix(silo, args.dataset)
    except ValueError as exc:
        raise LabError(f"--dataset: {exc}") from None
    if args.with_invalid < 0:
        raise LabError("--with-invalid must be >= 0")
    if args.source is not None:
        if args.with_invalid:
            raise LabError("--with-invalid applies to generated records, not to --source")
        try:
            return samples.read_jsonl(args.source)
        except OSError as exc:
            raise LabError(f"cannot read {args.source}: {exc.strerror}") from None
    from lab.trust import require_enrolled

    require_enrolled(samples.default_producer(silo), silo)  # else every record would be dead-lettered
    valid = samples.generate_records(silo, args.records, seed=args.seed)
    return samples.mixed_lines(valid, samples.invalid_examples(valid, args.with_invalid, args.seed), args.seed)


def run_silo_cli(adapter: SiloAdapter, args: argparse.Namespace) -> IngestSummary:
    """What every silo script does with its parsed flags: read the input, start (or reuse) the
    silo's local cloud, run :func:`ingestion.core.run.run_ingest`; errors become one-line LabErrors."""
    from ingestion.core.run import run_ingest
    from lab.localcloud import EmulatorError, local_cloud

    if not 1 <= args.batch_size <= adapter.max_batch_size:
        raise LabError(f"--batch-size must be at most {adapter.max_batch_size} on {adapter.silo}")
    lines = input_lines(args, adapter.silo)
    try:
        with local_cloud(adapter.silo):
            summary, _ = run_ingest(adapter, lines, dataset=args.dataset, do_reset=wants_reset(args, adapter.silo),
                                    batch_size=args.batch_size, show_progress=not args.json)
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    except ValueError as exc:  # e.g. a dataset name that is not a safe key part
        raise LabError(str(exc)) from None
    return summary


def silo_ingest_main(
    prog: str, description: str, silo: str, title: str, make_adapter: Callable[[argparse.Namespace], SiloAdapter],
    argv: Sequence[str] | None, batch_default: int, batch_help: str,
    add_flags: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """The command line every silo's ingest script shares (``add_flags`` adds a cloud's own flags);
    the adapter is made after parsing, so ``--help`` and bad flags never import a cloud SDK.
    Exits 0 only when the landing verified."""
    p = parser(prog, description)
    add_ingest_arguments(p, silo, batch_default=batch_default, batch_help=batch_help)
    if add_flags is not None:
        add_flags(p)
    args = p.parse_args(argv)
    summary = run_silo_cli(make_adapter(args), args)
    print_summary(summary.to_dict(), args.json, title)
    return exit_code(summary.verified)


def wants_reset(args: argparse.Namespace, cloud: str) -> bool:
    """--reset / --keep as given, else: reset on the local cloud, keep against a real account."""
    from lab.config import settings

    return bool(args.reset) if args.reset is not None else settings().mode(cloud) == "local"


def silo_bench_main(
    prog: str, description: str, cloud: str, bench: Callable[[int, int, int], dict[str, Any]],
    argv: Sequence[str] | None,
) -> int:
    """The command line every silo's ``bench.py`` shares: --records, --rounds, --seed, --json; runs in
    its local cloud (started here, or reused from ``make up``)."""
    from lab.localcloud import EmulatorError, local_cloud

    p = parser(prog, description)
    p.add_argument("--records", type=count(MAX_RECORDS), default=BENCH_RECORDS,
                   help=f"records per leg and round (default {BENCH_RECORDS})")
    p.add_argument("--rounds", type=count(100), default=BENCH_ROUNDS,
                   help=f"rounds of secure, plain and floor legs, order rotating (default {BENCH_ROUNDS})")
    p.add_argument("--seed", type=seed, default=0, help="seed of generated records (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    try:
        with local_cloud(cloud):
            figures = bench(args.records, args.seed, args.rounds)
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    print_summary(figures, args.json, f"{cloud} silo benchmark: secure vs plain")
    return 0
