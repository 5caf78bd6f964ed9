"""Create the GCP silo's resources (idempotent), then read back what the service kept.

Resources: a Cloud KMS key ring and ENCRYPT_DECRYPT key with a rotation period;
a Pub/Sub topic with ``kms_key_name`` and labels; a dead-letter topic; a pull
subscription with message ordering and a dead-letter policy; a BigQuery dataset
and table (schema, CMEK); a GCS bucket with ``default_kms_key_name``.

The read-back matters: emulators accept many settings and drop or ignore them.
Each finding says whether the setting was *kept* (read back from the service) —
enforcement of CMEK is never observable locally, so the lab's own envelope
encryption is what actually protects the data in the local cloud.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from google.api_core import exceptions as gexc

from ingestion.gcp.clients import GcpNames

ROTATION_PERIOD = dt.timedelta(days=90)
ACK_DEADLINE_S = 10  # the minimum: a crashed consumer's messages come back quickly
MAX_DELIVERY_ATTEMPTS = 5
LABELS = {"lab": "secure-ai-data-pipelines", "silo": "gcp"}


def table_schema() -> list[Any]:
    """The BigQuery schema of landed records (one row per accepted record)."""
    from google.cloud.bigquery import SchemaField

    return [
        SchemaField("id", "STRING", mode="REQUIRED"),
        SchemaField("silo", "STRING", mode="REQUIRED"),
        SchemaField("producer", "STRING", mode="REQUIRED"),
        SchemaField("timestamp", "TIMESTAMP", mode="REQUIRED"),
        SchemaField("label", "INTEGER", mode="REQUIRED"),
        SchemaField("features", "FLOAT", mode="REPEATED"),
        SchemaField("signature", "STRING", mode="REQUIRED"),
        SchemaField("batch_id", "STRING", mode="REQUIRED", description="the GCS batch holding the sealed copy"),
    ]


@dataclass(frozen=True)
class Finding:
    """One security setting: what was asked and what the service kept."""

    resource: str
    setting: str
    requested: str
    kept: bool
    note: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _ignore_exists(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except (gexc.AlreadyExists, gexc.Conflict):
        return None


def provision_kms(kms: Any, names: GcpNames) -> str:
    """Key ring + symmetric key rotating every 90 days. Returns the crypto key name."""
    parent = f"projects/{names.project}/locations/{names.location}"
    ring_id = names.key_ring.rsplit("/", 1)[-1]
    _ignore_exists(kms.create_key_ring, request={"parent": parent, "key_ring_id": ring_id, "key_ring": {}})
    now = dt.datetime.now(dt.timezone.utc)
    _ignore_exists(
        kms.create_crypto_key,
        request={
            "parent": names.key_ring,
            "crypto_key_id": names.crypto_key.rsplit("/", 1)[-1],
            "crypto_key": {
                "purpose": "ENCRYPT_DECRYPT",
                "rotation_period": ROTATION_PERIOD,
                "next_rotation_time": now + ROTATION_PERIOD,
                "labels": LABELS,
            },
        },
    )
    return names.crypto_key


def provision_pubsub(publisher: Any, subscriber: Any, names: GcpNames) -> list[Finding]:
    for topic in (names.topic, names.deadletter_topic):
        _ignore_exists(publisher.create_topic, request={"name": topic, "kms_key_name": names.crypto_key, "labels": LABELS})
    _ignore_exists(
        subscriber.create_subscription,
        request={
            "name": names.subscription,
            "topic": names.topic,
            "ack_deadline_seconds": ACK_DEADLINE_S,
            "enable_message_ordering": True,
            "labels": LABELS,
            "dead_letter_policy": {
                "dead_letter_topic": names.deadletter_topic,
                "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS,
            },
        },
    )
    topic = publisher.get_topic(request={"topic": names.topic})
    sub = subscriber.get_subscription(request={"subscription": names.subscription})
    return [
        Finding("pubsub topic", "kms_key_name", names.crypto_key, topic.kms_key_name == names.crypto_key,
                "CMEK on Pub/Sub storage: enforced only by real Pub/Sub (the emulator neither validates nor uses it)"),
        Finding("pubsub topic", "labels", str(LABELS), dict(topic.labels) == LABELS, "metadata"),
        Finding("pubsub subscription", "enable_message_ordering", "True", bool(sub.enable_message_ordering),
                "ordering keys keep one producer's records in order"),
        Finding("pubsub subscription", "dead_letter_policy", f"{names.deadletter_topic} after {MAX_DELIVERY_ATTEMPTS}",
                sub.dead_letter_policy.dead_letter_topic == names.deadletter_topic,
                "for messages the consumer cannot even process; invalid records go to deadletter/ in GCS"),
        Finding("pubsub subscription", "ack_deadline_seconds", str(ACK_DEADLINE_S),
                sub.ack_deadline_seconds == ACK_DEADLINE_S, "unacked messages are redelivered after this"),
    ]


def provision_bigquery(bq: Any, names: GcpNames) -> list[Finding]:
    from google.cloud import bigquery

    cmek = bigquery.EncryptionConfiguration(kms_key_name=names.crypto_key)
    dataset = bigquery.Dataset(names.bq_dataset)
    dataset.location = "US"
    dataset.labels = LABELS
    dataset.default_encryption_configuration = cmek
    bq.create_dataset(dataset, exists_ok=True, timeout=30)
    table = bigquery.Table(names.bq_table, schema=table_schema())
    table.encryption_configuration = cmek
    bq.create_table(table, exists_ok=True, timeout=30)
    kept_ds = bq.get_dataset(names.bq_dataset, timeout=30).default_encryption_configuration
    kept_tb = bq.get_table(names.bq_table, timeout=30)
    return [
        Finding("bigquery dataset", "default_encryption_configuration", names.crypto_key,
                bool(kept_ds and kept_ds.kms_key_name == names.crypto_key),
                "CMEK for tables: enforced only by real BigQuery"),
        Finding("bigquery table", "encryption_configuration", names.crypto_key,
                bool(kept_tb.encryption_configuration
                     and kept_tb.encryption_configuration.kms_key_name == names.crypto_key),
                "CMEK for this table: enforced only by real BigQuery"),
        Finding("bigquery table", "schema", ",".join(f.name for f in table_schema()),
                [f.name for f in kept_tb.schema] == [f.name for f in table_schema()],
                "rows are validated by the consumer before insert (the emulator stores missing REQUIRED fields)"),
    ]


def provision_gcs(storage: Any, names: GcpNames) -> list[Finding]:
    bucket = storage.bucket(names.bucket)
    if not bucket.exists():
        _ignore_exists(storage.create_bucket, bucket, location="US")
    bucket = storage.get_bucket(names.bucket)
    bucket.default_kms_key_name = names.crypto_key  # kept by the emulator only via patch()
    bucket.labels = LABELS
    bucket.patch()
    bucket.reload()
    return [
        Finding("gcs bucket", "default_kms_key_name", names.crypto_key, bucket.default_kms_key_name == names.crypto_key,
                "server-side CMEK: enforced only by real GCS; batches are envelope-encrypted by the lab anyway"),
    ]


def provision_all(kms: Any, publisher: Any, subscriber: Any, bq: Any, storage: Any, names: GcpNames) -> list[Finding]:
    """Every resource of the silo; returns what each service kept of the security settings."""
    provision_kms(kms, names)
    return provision_pubsub(publisher, subscriber, names) + provision_bigquery(bq, names) + provision_gcs(storage, names)
