"""Azure silo: signed records -> Event Hubs -> validating consumer -> Blob (ADLS layout, envelope + Key Vault).

Starts (or reuses) the local Azure cloud (Azurite over HTTPS with OAuth, and the
lab's Event Hubs, Key Vault and managed-identity emulators), provisions the silo,
sends the records, consumes and lands them, then re-reads everything it landed
and exits 0 only if that verification passed. Every call authenticates with
DefaultAzureCredential. With LAB_AZURE_MODE=real the same code runs against your
subscription (set LAB_AZURE_BLOB_ACCOUNT_URL, LAB_AZURE_VAULT_URL,
LAB_AZURE_EVENTHUB_NAMESPACE).

Examples::

    python ingestion/azure/eventhub_ingest.py --records 1000 --json
    python ingestion/azure/eventhub_ingest.py --records 200 --with-invalid 20
    python data/generate.py --silo azure --records 500 --out /tmp/azure.jsonl
    python ingestion/azure/eventhub_ingest.py --source /tmp/azure.jsonl
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab.cli import LabError, exit_code, parser, positive_int, print_summary, run_main


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/azure/eventhub_ingest.py", __doc__ or "")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--records", type=positive_int, default=1000,
                     help="generate this many signed sample records (default 1000)")
    src.add_argument("--source", type=Path, help="send the lines of this JSONL file instead (as-is)")
    p.add_argument("--seed", type=int, default=0, help="seed of generated records (default 0)")
    p.add_argument("--with-invalid", type=int, default=0, metavar="K",
                   help="mix K invalid records into the generated ones (they must be dead-lettered)")
    p.add_argument("--dataset", default="digits", help="dataset name in the landing layout (default digits)")
    p.add_argument("--batch-size", type=positive_int, default=300, help="events per landed batch (default 300)")
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--reset", dest="reset", action="store_true", default=None,
                      help="clear this silo's landing zone and read only new events (default on the local cloud)")
    keep.add_argument("--keep", dest="reset", action="store_false",
                      help="keep earlier runs' data (default against real Azure): re-sent ids become duplicates")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = p.parse_args(argv)

    from ingestion import samples
    from ingestion.azure.ingest import run_ingest
    from lab.config import settings
    from lab.localcloud import EmulatorError, local_cloud

    if args.with_invalid < 0:
        raise LabError("--with-invalid must be >= 0")
    if args.batch_size > 1000:
        raise LabError("--batch-size must be at most 1000")
    if args.source is not None:
        if args.with_invalid:
            raise LabError("--with-invalid applies to generated records, not to --source")
        try:
            lines = samples.read_jsonl(args.source)
        except OSError as exc:
            raise LabError(f"cannot read {args.source}: {exc.strerror}") from None
    else:
        valid = samples.generate_records("azure", args.records, seed=args.seed)
        lines = samples.mixed_lines(valid, samples.invalid_examples(valid, args.with_invalid, args.seed), args.seed)
    do_reset = args.reset if args.reset is not None else settings().azure_mode == "local"
    try:
        with local_cloud("azure"):
            summary, _ = run_ingest(lines, dataset=args.dataset, do_reset=do_reset, batch_size=args.batch_size)
    except EmulatorError as exc:
        raise LabError(str(exc)) from None
    except ValueError as exc:  # e.g. a dataset name that is not a safe key part
        raise LabError(str(exc)) from None
    print_summary(summary.to_dict(), args.json, "Azure silo ingestion")
    return exit_code(summary.verified)


if __name__ == "__main__":
    run_main(main)
