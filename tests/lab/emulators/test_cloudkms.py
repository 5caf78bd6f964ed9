"""The Cloud KMS emulator, driven only through the real google-cloud-kms client over gRPC."""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import google_crc32c
import grpc
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.cloud.kms_v1.services.key_management_service.transports import KeyManagementServiceGrpcTransport

from lab.emulators.cloudkms import serve
from lab.localcloud.base import free_port

PARENT = "projects/test-project/locations/us-central1"


@pytest.fixture(scope="module")
def client():
    port = free_port()
    server = serve(port)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield kms_v1.KeyManagementServiceClient(transport=KeyManagementServiceGrpcTransport(channel=channel))
    channel.close()
    server.stop(grace=None)


@pytest.fixture()
def ring(client) -> str:
    return client.create_key_ring(
        request={"parent": PARENT, "key_ring_id": f"r-{uuid.uuid4().hex[:8]}", "key_ring": {}}
    ).name


def _key(client, ring: str, **extra) -> str:
    body = {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT, **extra}
    return client.create_crypto_key(request={"parent": ring, "crypto_key_id": "k", "crypto_key": body}).name


def test_encrypt_decrypt_binds_aad(client, ring):
    key = _key(client, ring)
    enc = client.encrypt(request={"name": key, "plaintext": b"data key", "additional_authenticated_data": b"ctx"})
    assert enc.name == f"{key}/cryptoKeyVersions/1"
    assert enc.ciphertext_crc32c == google_crc32c.value(enc.ciphertext)
    assert b"data key" not in enc.ciphertext
    dec = client.decrypt(request={"name": key, "ciphertext": enc.ciphertext, "additional_authenticated_data": b"ctx"})
    assert dec.plaintext == b"data key" and dec.used_primary
    with pytest.raises(gexc.InvalidArgument):
        client.decrypt(request={"name": key, "ciphertext": enc.ciphertext, "additional_authenticated_data": b"other"})
    with pytest.raises(gexc.InvalidArgument):
        client.decrypt(request={"name": key, "ciphertext": enc.ciphertext})
    tampered = enc.ciphertext[:-1] + bytes([enc.ciphertext[-1] ^ 1])
    with pytest.raises(gexc.InvalidArgument):
        client.decrypt(request={"name": key, "ciphertext": tampered, "additional_authenticated_data": b"ctx"})


def test_ciphertext_is_bound_to_its_key(client, ring):
    key = _key(client, ring)
    other = client.create_crypto_key(
        request={"parent": ring, "crypto_key_id": "other", "crypto_key": {"purpose": "ENCRYPT_DECRYPT"}}
    ).name
    enc = client.encrypt(request={"name": key, "plaintext": b"x"})
    with pytest.raises(gexc.InvalidArgument):
        client.decrypt(request={"name": other, "ciphertext": enc.ciphertext})


def test_rotate_primary_then_old_ciphertext_still_decrypts(client, ring):
    key = _key(client, ring)
    old = client.encrypt(request={"name": key, "plaintext": b"old"}).ciphertext
    version = client.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}})
    assert version.name.endswith("/cryptoKeyVersions/2")
    assert client.get_crypto_key(request={"name": key}).primary.name.endswith("/1")  # not primary until promoted
    updated = client.update_crypto_key_primary_version(request={"name": key, "crypto_key_version_id": "2"})
    assert updated.primary.name == version.name
    assert client.encrypt(request={"name": key, "plaintext": b"new"}).name == version.name
    dec = client.decrypt(request={"name": key, "ciphertext": old})
    assert dec.plaintext == b"old" and not dec.used_primary
    listed = client.list_crypto_key_versions(request={"parent": key})
    assert [v.name.rsplit("/", 1)[-1] for v in listed] == ["1", "2"]


def test_disabled_and_destroyed_versions_refuse(client, ring):
    key = _key(client, ring)
    ct = client.encrypt(request={"name": key, "plaintext": b"x"}).ciphertext
    v1 = f"{key}/cryptoKeyVersions/1"
    client.update_crypto_key_version(
        request={"crypto_key_version": {"name": v1, "state": "DISABLED"}, "update_mask": {"paths": ["state"]}}
    )
    with pytest.raises(gexc.FailedPrecondition):
        client.decrypt(request={"name": key, "ciphertext": ct})
    with pytest.raises(gexc.FailedPrecondition):
        client.encrypt(request={"name": key, "plaintext": b"x"})
    client.update_crypto_key_version(
        request={"crypto_key_version": {"name": v1, "state": "ENABLED"}, "update_mask": {"paths": ["state"]}}
    )
    assert client.decrypt(request={"name": key, "ciphertext": ct}).plaintext == b"x"
    client.destroy_crypto_key_version(request={"name": v1})
    with pytest.raises(gexc.FailedPrecondition):
        client.decrypt(request={"name": key, "ciphertext": ct})


def test_not_found_and_already_exists(client, ring):
    with pytest.raises(gexc.NotFound):
        client.encrypt(request={"name": f"{ring}/cryptoKeys/missing", "plaintext": b"x"})
    with pytest.raises(gexc.NotFound):
        client.get_key_ring(request={"name": f"{PARENT}/keyRings/missing"})
    with pytest.raises(gexc.AlreadyExists):
        client.create_key_ring(request={"parent": PARENT, "key_ring_id": ring.rsplit("/", 1)[-1], "key_ring": {}})
    _key(client, ring)
    with pytest.raises(gexc.AlreadyExists):
        _key(client, ring)


def test_checksums_are_checked(client, ring):
    key = _key(client, ring)
    enc = client.encrypt(request={"name": key, "plaintext": b"x", "plaintext_crc32c": google_crc32c.value(b"x")})
    assert enc.verified_plaintext_crc32c
    with pytest.raises(gexc.InvalidArgument):
        client.encrypt(request={"name": key, "plaintext": b"x", "plaintext_crc32c": 12345})


def test_rotation_schedule(client, ring):
    with pytest.raises(gexc.InvalidArgument):
        _key(client, ring, rotation_period=dt.timedelta(hours=1))
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    key = _key(client, ring, rotation_period=dt.timedelta(days=30), next_rotation_time=due)
    got = client.get_crypto_key(request={"name": key})
    assert got.primary.name.endswith("/cryptoKeyVersions/2")  # the due rotation happened
    assert got.rotation_period == dt.timedelta(days=30)
    assert got.next_rotation_time > dt.datetime.now(dt.timezone.utc)


def test_asymmetric_sign_verifies_with_public_key(client, ring):
    key = client.create_crypto_key(
        request={
            "parent": ring,
            "crypto_key_id": "signer",
            "crypto_key": {"purpose": "ASYMMETRIC_SIGN", "version_template": {"algorithm": "EC_SIGN_P256_SHA256"}},
        }
    ).name
    version = f"{key}/cryptoKeyVersions/1"
    digest = hashlib.sha256(b"model weights").digest()
    sig = client.asymmetric_sign(request={"name": version, "digest": {"sha256": digest}}).signature
    pem = client.get_public_key(request={"name": version}).pem
    public = serialization.load_pem_public_key(pem.encode())
    public.verify(sig, b"model weights", ec.ECDSA(hashes.SHA256()))  # raises if wrong
    with pytest.raises(gexc.FailedPrecondition):
        client.encrypt(request={"name": key, "plaintext": b"x"})
