"""Event Hubs emulator authentication probes with the real azure-eventhub SDK and a TokenCredential.

The SDK puts a JWT on ``$cbs`` for ``https://eventhubs.azure.net`` when it is given a
credential (here with ``use_tls=False``, what its emulator mode sets): the emulator must
check it like the service (signature, issuer, audience, lifetime -> else 401) and then
the principal's data actions (send / receive -> else the attach is refused, the AMQP 403).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient
from azure.eventhub.exceptions import EventHubError
from azure.identity import ManagedIdentityCredential

from lab.config import settings
from lab.localcloud import local_cloud
from tests.lab.emulators import forge

pytestmark = pytest.mark.emulator
AUDIENCE = "https://eventhubs.azure.net"


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    with local_cloud("identity", "eventhubs") as cloud:
        conn = cloud.env["LAB_AZURE_EVENTHUB_CONNECTION_STRING"]
        yield conn.split("Endpoint=sb://", 1)[1].split(";", 1)[0]


class Fixed:
    """A TokenCredential that hands out one given token (a forgery, or nothing at all)."""

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.make(), int(time.time()) + 3600)


def producer(host: str, credential: Any) -> EventHubProducerClient:
    return EventHubProducerClient(host, settings().azure_eventhub_name, credential, use_tls=False, retry_total=0)


def send_one(host: str, credential: Any) -> None:
    with producer(host, credential) as client:
        batch = client.create_batch(partition_id="0")
        batch.add(EventData(b"probe"))
        client.send_batch(batch)


def test_a_signed_token_with_the_send_action_can_send(namespace: str) -> None:
    send_one(namespace, ManagedIdentityCredential(client_id="lab-producer"))


@pytest.mark.parametrize("make", [
    pytest.param(lambda: "not-a-token", id="garbage-token"),  # no token at all: the SDK never attaches
    pytest.param(lambda: forge.alg_none(AUDIENCE, "lab-producer"), id="alg-none"),
    pytest.param(lambda: forge.hs256(AUDIENCE, "lab-producer"), id="hs256-own-secret"),
    pytest.param(lambda: forge.self_signed_rs256(AUDIENCE, "lab-producer"), id="rs256-own-key"),
    pytest.param(lambda: forge.azure_token("https://vault.azure.net", "lab-producer")[0], id="other-audience"),
    pytest.param(lambda: forge.azure_token(AUDIENCE, "lab-producer", now=time.time() - 7200)[0], id="expired"),
])
def test_forged_tokens_are_refused_at_put_token(namespace: str, make: Callable[[], str]) -> None:
    with pytest.raises(EventHubError) as refused:
        send_one(namespace, Fixed(make))
    assert "401" in str(refused.value) or "not valid" in str(refused.value) or "nauthorized" in str(refused.value)


def test_a_valid_token_without_the_data_action_is_refused(namespace: str) -> None:
    with pytest.raises(EventHubError) as consumer_sends:  # the consumer holds receive, not send
        send_one(namespace, ManagedIdentityCredential(client_id="lab-consumer"))
    assert "Send" in str(consumer_sends.value)
    errors: list[Exception] = []
    client = EventHubConsumerClient(namespace, settings().azure_eventhub_name, "$Default",
                                    ManagedIdentityCredential(client_id="lab-producer"), use_tls=False, retry_total=0)
    with client:  # the producer holds send, not receive (listen)
        client.receive_batch(lambda *_: None, partition_id="0", starting_position="-1", max_wait_time=2,
                             on_error=lambda _ctx, exc: (errors.append(exc), client.close()))
    assert errors and "Listen" in str(errors[0])


def test_no_token_no_link(namespace: str) -> None:
    """A plain AMQP client (qpid-proton) that attaches without a $cbs token is refused (the AMQP 401)."""
    from proton import Message
    from proton.utils import BlockingConnection, LinkDetached

    conn = BlockingConnection(f"amqp://{namespace}", timeout=5, allowed_mechs="ANONYMOUS")
    try:
        with pytest.raises(LinkDetached, match="unauthorized-access"):
            conn.create_sender(settings().azure_eventhub_name).send(Message(body=b"no token"))
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - the emulator does not echo CLOSE to proton; nothing to clean up
            pass
