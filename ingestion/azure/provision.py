"""Provision the Azure silo: landing container, Key Vault key with a rotation policy, hub check.

Idempotent: re-running finds what exists. The event hub itself is created by the
management plane in real Azure (ARM/Bicep/``az eventhubs eventhub create``), not
by the data-plane SDK, so here it is only checked; locally the emulator serves
the hub named in ``lab.config`` (``LAB_AZURE_EVENTHUB_NAME``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError

from ingestion.azure.store import BlobStore
from ingestion.azure.clients import AzureEndpoints, azure_endpoints, credential
from lab.cli import LabError
from lab.config import settings

#: Rotate the key-encryption key every 90 days; versions expire after two years.
ROTATE_AFTER = "P90D"
KEY_EXPIRES_IN = "P2Y"


@dataclass(frozen=True)
class AzureResources:
    endpoints: AzureEndpoints
    container: str
    key_name: str
    key_id: str
    hub: str
    partition_ids: tuple[str, ...]


def key_client(endpoints: AzureEndpoints) -> Any:
    from azure.keyvault.keys import KeyClient

    return KeyClient(endpoints.vault_url, credential(), connection_verify=endpoints.verify(),
                     verify_challenge_resource=not endpoints.local)


def ensure_key(client: Any, name: str) -> str:
    """The RSA key (created if missing) with its rotation policy; returns the current key id."""
    from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction

    try:
        key = client.get_key(name)
    except ResourceNotFoundError:
        key = client.create_rsa_key(name, size=3072, key_operations=["wrapKey", "unwrapKey"])
    policy = KeyRotationPolicy(
        expires_in=KEY_EXPIRES_IN,
        lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create=ROTATE_AFTER)],
    )
    client.update_key_rotation_policy(name, policy)
    return str(key.id)


def producer_client(endpoints: AzureEndpoints, **kwargs: Any) -> Any:
    """An EventHubProducerClient: the emulator's connection string locally, the credential in real Azure."""
    from azure.eventhub import EventHubProducerClient

    if endpoints.eventhub_connection_string:
        return EventHubProducerClient.from_connection_string(
            endpoints.eventhub_connection_string, eventhub_name=endpoints.eventhub_name, **kwargs)
    return EventHubProducerClient(endpoints.eventhub_namespace, endpoints.eventhub_name, credential(), **kwargs)


def consumer_client(endpoints: AzureEndpoints, consumer_group: str = "$Default", **kwargs: Any) -> Any:
    from azure.eventhub import EventHubConsumerClient

    if endpoints.eventhub_connection_string:
        return EventHubConsumerClient.from_connection_string(
            endpoints.eventhub_connection_string, consumer_group, eventhub_name=endpoints.eventhub_name, **kwargs)
    return EventHubConsumerClient(endpoints.eventhub_namespace, endpoints.eventhub_name, consumer_group,
                                  credential(), **kwargs)


def provision() -> AzureResources:
    """Create or find the silo's resources; LabError with the failing step on trouble."""
    endpoints = azure_endpoints()
    cfg = settings()
    try:
        store = BlobStore(endpoints.blob_url, cfg.azure_container, credential(), endpoints.verify())
        store.create()
    except AzureError as exc:
        raise LabError(f"Blob container {cfg.azure_container!r}: {type(exc).__name__}: {exc}") from None
    try:
        key_id = ensure_key(key_client(endpoints), cfg.azure_key_name)
    except AzureError as exc:
        raise LabError(f"Key Vault key {cfg.azure_key_name!r}: {type(exc).__name__}") from None
    try:
        with producer_client(endpoints, retry_total=1) as producer:
            props = producer.get_eventhub_properties()
    except Exception as exc:  # noqa: BLE001 - azure-eventhub raises its own hierarchy
        raise LabError(f"event hub {endpoints.eventhub_name!r} is not reachable: {type(exc).__name__}") from None
    return AzureResources(endpoints, cfg.azure_container, cfg.azure_key_name, key_id, endpoints.eventhub_name,
                          tuple(props["partition_ids"]))
