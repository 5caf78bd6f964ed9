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

from ingestion.core.cli import add_ingest_arguments, input_lines, wants_reset
from lab.cli import LabError, exit_code, parser, print_summary, run_main


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ingestion/azure/eventhub_ingest.py", __doc__ or "")
    add_ingest_arguments(p, silo="azure", batch_default=300, batch_help="events per landed batch")
    args = p.parse_args(argv)

    from ingestion.azure.ingest import run_ingest
    from lab.localcloud import EmulatorError, local_cloud

    if args.batch_size > 1000:
        raise LabError("--batch-size must be at most 1000")
    lines = input_lines(args, "azure")
    do_reset = wants_reset(args, "azure")
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
