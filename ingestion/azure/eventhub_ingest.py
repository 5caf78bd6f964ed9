"""Azure silo: signed records -> Event Hubs -> validating consumer -> Blob (ADLS layout, envelope + Key Vault).

Starts (or reuses) the local Azure cloud (Azurite over HTTPS with OAuth, and the
lab's Event Hubs, Key Vault and managed-identity emulators), provisions the silo,
sends the records while the consumer lands them, then re-reads everything it landed
and exits 0 only if that verification passed. Every call authenticates with
DefaultAzureCredential. With LAB_AZURE_MODE=real the same code runs against your
subscription (set LAB_AZURE_BLOB_ACCOUNT_URL, LAB_AZURE_VAULT_URL,
LAB_AZURE_EVENTHUB_NAMESPACE, and LAB_AZURE_EVENTHUB_TIER for its size limits).

Examples::

    python ingestion/azure/eventhub_ingest.py --records 1000 --json
    python ingestion/azure/eventhub_ingest.py --records 200 --with-invalid 20
    python data/generate.py --silo azure --records 500 --out /tmp/azure.jsonl
    python ingestion/azure/eventhub_ingest.py --source /tmp/azure.jsonl --keep
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.cli import run_main

if TYPE_CHECKING:
    from ingestion.core.run import SiloAdapter


def adapter(args: argparse.Namespace) -> SiloAdapter:
    from ingestion.azure.ingest import Adapter

    return Adapter()


def main(argv: Sequence[str] | None = None) -> int:
    from ingestion.core.cli import silo_ingest_main

    return silo_ingest_main(
        "ingestion/azure/eventhub_ingest.py", __doc__ or "", "azure", "Azure silo ingestion", adapter, argv,
        batch_default=300, batch_help="events per landed batch (at most 1000)")


if __name__ == "__main__":
    run_main(main)
