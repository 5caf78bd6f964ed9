"""The Cloud KMS emulator, driven only through the real google-cloud-kms client over gRPC."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import google_crc32c
import grpc
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.api_core import exceptions as gexc
from google.cloud import kms_v1
from google.cloud.kms_v1.services.key_management_service.transports import KeyManagementServiceGrpcTransport

from lab.localcloud.auth import gcp_bindings, gcp_member
from lab.localcloud.base import free_port
from tests.lab.emulators.forge import cloudkms_server, kms_client_as

PARENT = "projects/test-project/locations/us-central1"


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    # the lab's bindings, plus signing for the operator (no lab identity signs with Cloud KMS)
    config = json.loads(gcp_bindings().read_text())
    config["principals"][gcp_member("operator")]["permissions"] = ["cloudkms.cryptoKeyVersions.useToSign"]
    bindings = tmp_path_factory.mktemp("iam") / "bindings.json"
    bindings.write_text(json.dumps(config))
    port = free_port()
    server = cloudkms_server(port, bindings)
    yield port
    server.stop(grace=None)


@pytest.fixture(scope="module")
def client(port):
    return kms_client_as(port)  # the operator: key admin and the pipeline roles


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


# -- probes: authentication and IAM (issue #14, item 3) ------------------------------------------

def _forged(kind: str) -> str | None:
    from lab.emulators.tokens import CLOUD_PLATFORM, GCP_ISSUER
    from tests.lab.emulators import forge

    member = gcp_member("operator")
    return {
        "alg-none": lambda: forge.alg_none(CLOUD_PLATFORM, member, issuer=GCP_ISSUER),
        "hs256-own-secret": lambda: forge.hs256(CLOUD_PLATFORM, member, issuer=GCP_ISSUER),
        "rs256-own-key": lambda: forge.self_signed_rs256(CLOUD_PLATFORM, member, issuer=GCP_ISSUER),
        "azure-token": lambda: forge.azure_token(CLOUD_PLATFORM, member)[0],  # another issuer's key
        "expired": lambda: forge.gcp_token(member, now=0),
    }[kind]()


def test_no_token_is_unauthenticated(port, ring):
    channel = grpc.secure_channel(f"127.0.0.1:{port}", grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP))
    anonymous = kms_v1.KeyManagementServiceClient(transport=KeyManagementServiceGrpcTransport(channel=channel))
    with pytest.raises(gexc.Unauthenticated) as refused:  # HTTP 401
        anonymous.get_key_ring(request={"name": ring})
    assert refused.value.code == 401
    channel.close()


@pytest.mark.parametrize("kind", ["alg-none", "hs256-own-secret", "rs256-own-key", "azure-token", "expired"])
def test_forged_tokens_are_unauthenticated(port, client, ring, kind):
    key = _key(client, ring)
    ciphertext = client.encrypt(request={"name": key, "plaintext": b"secret"}).ciphertext
    forged = kms_client_as(port, token=_forged(kind))
    with pytest.raises(gexc.Unauthenticated):
        forged.decrypt(request={"name": key, "ciphertext": ciphertext})


def test_a_valid_token_without_the_permission_is_denied(port, client, ring):
    key = _key(client, ring)
    ciphertext = client.encrypt(request={"name": key, "plaintext": b"secret"}).ciphertext
    with pytest.raises(gexc.PermissionDenied) as denied:  # the producer only publishes
        kms_client_as(port, "producer").decrypt(request={"name": key, "ciphertext": ciphertext})
    assert denied.value.code == 403 and "useToDecrypt" in denied.value.message
    trainer = kms_client_as(port, "trainer")  # decrypts, never encrypts
    assert trainer.decrypt(request={"name": key, "ciphertext": ciphertext}).plaintext == b"secret"
    with pytest.raises(gexc.PermissionDenied):
        trainer.encrypt(request={"name": key, "plaintext": b"x"})


def test_enable_disable_and_rotate_need_the_admin_role(port, client, ring):
    key = _key(client, ring)
    version = f"{key}/cryptoKeyVersions/1"
    disabled = {"name": version, "state": kms_v1.CryptoKeyVersion.CryptoKeyVersionState.DISABLED}
    client.update_crypto_key_version(request={"crypto_key_version": disabled, "update_mask": {"paths": ["state"]}})
    consumer = kms_client_as(port, "consumer")
    enabled = {"name": version, "state": kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED}
    for attempt in (
        lambda: consumer.update_crypto_key_version(request={"crypto_key_version": enabled,
                                                            "update_mask": {"paths": ["state"]}}),
        lambda: consumer.create_crypto_key_version(request={"parent": key, "crypto_key_version": {}}),
        lambda: consumer.update_crypto_key_primary_version(request={"name": key, "crypto_key_version_id": "1"}),
    ):
        with pytest.raises(gexc.PermissionDenied):  # HTTP 403
            attempt()
    state = client.get_crypto_key_version(request={"name": version}).state
    assert state == kms_v1.CryptoKeyVersion.CryptoKeyVersionState.DISABLED
    client.update_crypto_key_version(request={"crypto_key_version": enabled, "update_mask": {"paths": ["state"]}})


def test_bindings_are_per_key_ring(tmp_path):
    rings = [f"{PARENT}/keyRings/s-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    config = json.loads(gcp_bindings().read_text())
    config["principals"][gcp_member("trainer")]["scope"] = rings[0]  # the trainer on the first ring only
    bindings = tmp_path / "bindings.json"
    bindings.write_text(json.dumps(config))
    port = free_port()
    server = cloudkms_server(port, bindings)
    try:
        admin = kms_client_as(port)
        keys = []
        for ring in rings:
            admin.create_key_ring(request={"parent": PARENT, "key_ring_id": ring.rsplit("/", 1)[1], "key_ring": {}})
            keys.append(_key(admin, ring))
        sealed = [admin.encrypt(request={"name": k, "plaintext": b"p"}).ciphertext for k in keys]
        trainer = kms_client_as(port, "trainer")
        assert trainer.decrypt(request={"name": keys[0], "ciphertext": sealed[0]}).plaintext == b"p"
        with pytest.raises(gexc.PermissionDenied):
            trainer.decrypt(request={"name": keys[1], "ciphertext": sealed[1]})
    finally:
        server.stop(grace=None)
