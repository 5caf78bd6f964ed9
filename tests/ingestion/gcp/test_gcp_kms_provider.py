"""GcpKmsProvider with the envelope format, against the Cloud KMS emulator over gRPC (real client)."""
from __future__ import annotations

import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import EnvelopeError, KeyServiceError
from encryption.providers.gcp_kms import GcpKmsProvider, kms_client
from lab.localcloud import local_cloud
from lab.localcloud.base import free_port
from lab.localcloud.gcp import KMS_ENDPOINT_VAR
from tests.lab.emulators.forge import cloudkms_server, kms_client_as

RING = "projects/p/locations/l/keyRings/r"
CTX = {"silo": "gcp", "dataset": "digits", "batch": "b1"}


@pytest.fixture(scope="module")
def kms():
    port = free_port()
    server = cloudkms_server(port)
    client = kms_client_as(port)
    client.create_key_ring(request={"parent": "projects/p/locations/l", "key_ring_id": "r", "key_ring": {}})
    for name in ("a", "b"):
        client.create_crypto_key(request={"parent": RING, "crypto_key_id": name, "crypto_key": {"purpose": "ENCRYPT_DECRYPT"}})
    yield client, port
    server.stop(grace=None)


def test_envelope_round_trip_and_context_binding(kms):
    client, _ = kms
    provider = GcpKmsProvider(f"{RING}/cryptoKeys/a", client=client)
    blob = encrypt(b"secret rows", provider, CTX)
    assert provider.calls == 1
    assert read_header(blob).key_id == f"{RING}/cryptoKeys/a/cryptoKeyVersions/1"
    assert decrypt(blob, provider, CTX) == b"secret rows"
    with pytest.raises(EnvelopeError):
        decrypt(blob, provider, {**CTX, "dataset": "other"})  # key-service context differs: Cloud KMS refuses


def test_old_envelopes_open_after_rotation(kms):
    client, _ = kms
    key = f"{RING}/cryptoKeys/a"
    provider = GcpKmsProvider(key, client=client)
    old = encrypt(b"before", provider, CTX)
    version = client.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}})
    client.update_crypto_key_primary_version(request={"name": key, "crypto_key_version_id": version.name.rsplit("/", 1)[-1]})
    assert provider.current_key_id() == version.name
    new = encrypt(b"after", provider, CTX)
    assert read_header(new).key_id == version.name
    assert decrypt(old, provider, CTX) == b"before"


def test_envelope_of_another_key_is_refused(kms):
    client, _ = kms
    blob = encrypt(b"x", GcpKmsProvider(f"{RING}/cryptoKeys/a", client=client), CTX)
    with pytest.raises(KeyServiceError):
        decrypt(blob, GcpKmsProvider(f"{RING}/cryptoKeys/b", client=client), CTX)


def test_missing_key_is_a_key_service_error(kms):
    client, _ = kms
    with pytest.raises(KeyServiceError):
        encrypt(b"x", GcpKmsProvider(f"{RING}/cryptoKeys/missing", client=client), CTX)
    with pytest.raises(KeyServiceError):
        GcpKmsProvider(f"{RING}/cryptoKeys/a/cryptoKeyVersions/1")


def test_client_from_environment(kms, monkeypatch):
    _, port = kms
    monkeypatch.setenv(KMS_ENDPOINT_VAR, f"127.0.0.1:{port}")
    with local_cloud("gcptoken"):  # tokens the way the SDK gets them: a google.auth credentials object
        provider = GcpKmsProvider(f"{RING}/cryptoKeys/b", client=kms_client())
        assert decrypt(encrypt(b"env", provider, CTX), provider, CTX) == b"env"
    monkeypatch.setenv(KMS_ENDPOINT_VAR, "kms.example.com:443")
    with pytest.raises(KeyServiceError, match="loopback"):
        kms_client()
