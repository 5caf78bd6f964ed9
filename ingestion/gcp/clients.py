"""GCP clients and resource names for the silo, built from configuration alone.

Locally, ``lab.localcloud`` exports the emulators' endpoints: Pub/Sub and GCS
clients read their standard variables; BigQuery reads ``LAB_GCP_BIGQUERY_ENDPOINT``
(no SDK variable exists) and then uses anonymous credentials. Without those
variables (``LAB_GCP_MODE=real``) every client uses Google's endpoints over TLS
with Application Default Credentials.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from lab.config import settings
from lab.localcloud.gcp import BIGQUERY_ENDPOINT_VAR


@dataclass(frozen=True)
class GcpNames:
    """Every resource name the silo uses, derived from the configured prefix and project."""

    project: str
    location: str
    prefix: str

    @classmethod
    def from_settings(cls) -> GcpNames:
        cfg = settings()
        return cls(project=cfg.gcp_project, location=cfg.gcp_location, prefix=cfg.name_prefix)

    @property
    def topic(self) -> str:
        return f"projects/{self.project}/topics/{self.prefix}-gcp-records"

    @property
    def deadletter_topic(self) -> str:
        return f"projects/{self.project}/topics/{self.prefix}-gcp-deadletter"

    @property
    def subscription(self) -> str:
        return f"projects/{self.project}/subscriptions/{self.prefix}-gcp-records-landing"

    @property
    def bq_dataset(self) -> str:
        return f"{self.project}.{self.prefix.replace('-', '_')}_gcp"

    @property
    def bq_table(self) -> str:
        return f"{self.bq_dataset}.records"

    @property
    def bucket(self) -> str:
        return f"{self.prefix}-gcp-landing"

    @property
    def key_ring(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/keyRings/{self.prefix}-gcp"

    @property
    def crypto_key(self) -> str:
        return f"{self.key_ring}/cryptoKeys/landing"


def publisher(ordering: bool = True) -> Any:
    from google.cloud import pubsub_v1

    options = pubsub_v1.types.PublisherOptions(enable_message_ordering=ordering)
    batch = pubsub_v1.types.BatchSettings(max_messages=500, max_latency=0.05)
    return pubsub_v1.PublisherClient(batch_settings=batch, publisher_options=options)


def subscriber() -> Any:
    from google.cloud import pubsub_v1

    return pubsub_v1.SubscriberClient()


def bigquery_client() -> Any:
    from google.cloud import bigquery

    endpoint = os.environ.get(BIGQUERY_ENDPOINT_VAR)
    if not endpoint:
        return bigquery.Client(project=settings().gcp_project)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(
        project=settings().gcp_project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


def storage_client() -> Any:
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=settings().gcp_project, credentials=AnonymousCredentials())
    return storage.Client(project=settings().gcp_project)
