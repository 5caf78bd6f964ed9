"""A small Cloud KMS emulator over gRPC, for the lab's GCP silo.

Why our own: Google ships no Cloud KMS emulator and none is obtainable from the
package registries (see the fidelity notes). This server implements only the
subset the lab uses, with the wire protocol of the real service, so the real
``google-cloud-kms`` client talks to it unchanged over an insecure loopback
channel. (De)serialisation uses the client library's own request/response
types, so field names and numbers cannot drift from the real API.

Implemented: key rings, crypto keys (ENCRYPT_DECRYPT with rotation period and
next rotation time, rotated lazily when due; ASYMMETRIC_SIGN with
EC_SIGN_P256_SHA256), crypto key versions (create, get, list, enable/disable,
destroy/restore), UpdateCryptoKeyPrimaryVersion, Encrypt/Decrypt with
additional authenticated data and CRC32C integrity fields, AsymmetricSign and
GetPublicKey. Errors use the gRPC status codes of the real service:
NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT (bad ciphertext or AAD),
FAILED_PRECONDITION (disabled or destroyed version, wrong key purpose).

Authentication and IAM: every call needs ``authorization: Bearer <token>`` metadata
(sent by a google.auth credentials object as gRPC call credentials): an RS256 JWT
checked against the lab's GCP token issuer's JWKS, issuer, audience
(``cloud-platform``) and lifetime, else UNAUTHENTICATED (HTTP 401). The caller's
service account must then hold the method's permission (``cloudkms.cryptoKeyVersions.useToDecrypt``,
``cloudkms.cryptoKeyVersions.update`` to enable or disable, ``cloudkms.cryptoKeys.update``
to change the primary, ...) through a binding on the request's key ring in the
operator's binding file, whose roles are the documents in ``ingestion/gcp/iam``;
else PERMISSION_DENIED (HTTP 403). The port uses gRPC local credentials (loopback
TCP only), the transport that lets call credentials travel without TLS.

Not emulated: IAM conditions and deny policies, quotas, HSM/EKM protection levels, import jobs, MAC keys.
Key material lives only in this process's memory (tests and `make up` sessions);
the ciphertext format is ours (opaque to callers, like the real one) and names
the key version, so data encrypted under an old primary stays decryptable.

Run: ``python -m lab.emulators.cloudkms --port N`` (binds 127.0.0.1 only).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google_crc32c
import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.cloud.kms_v1.types import resources, service
from google.protobuf import timestamp_pb2

from lab.emulators.tokens import CLOUD_PLATFORM, GCP_ISSUER, Grants, TokenRejected, Verifier

SERVICE_NAME = "google.cloud.kms.v1.KeyManagementService"
LOOPBACK = "127.0.0.1"
#: Ciphertext layout: magic, version number (uint32 big-endian), 12-byte nonce, AES-GCM output.
MAGIC = b"LKMS1"
MAX_PLAINTEXT = 64 * 1024
MAX_AAD = 64 * 1024
MIN_ROTATION = dt.timedelta(days=1)

Purpose = resources.CryptoKey.CryptoKeyPurpose
State = resources.CryptoKeyVersion.CryptoKeyVersionState
Algorithm = resources.CryptoKeyVersion.CryptoKeyVersionAlgorithm

_ID = r"[a-zA-Z0-9_-]{1,63}"
_LOCATION = re.compile(r"^projects/[^/]+/locations/[^/]+$")
_RING = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+")


class KmsError(Exception):
    """A failure reported to the client as a gRPC status, like the real service does."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _ts(when: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _crc(data: bytes) -> int:
    return int(google_crc32c.value(data))


@dataclass
class _Version:
    number: int
    algorithm: int
    material: bytes | ec.EllipticCurvePrivateKey
    state: int = State.ENABLED
    created: dt.datetime = field(default_factory=_now)


@dataclass
class _Key:
    name: str
    purpose: int
    algorithm: int
    labels: dict[str, str]
    created: dt.datetime = field(default_factory=_now)
    versions: dict[int, _Version] = field(default_factory=dict)
    primary: int | None = None
    rotation_period: dt.timedelta | None = None
    next_rotation: dt.datetime | None = None

    def new_version(self) -> _Version:
        number = max(self.versions, default=0) + 1
        material: bytes | ec.EllipticCurvePrivateKey
        if self.purpose == Purpose.ENCRYPT_DECRYPT:
            material = AESGCM.generate_key(bit_length=256)
        else:
            material = ec.generate_private_key(ec.SECP256R1())
        version = _Version(number=number, algorithm=self.algorithm, material=material)
        self.versions[number] = version
        return version


class KmsState:
    """All key rings and keys, behind one lock (the gRPC server is multi-threaded)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.key_rings: dict[str, dt.datetime] = {}
        self.keys: dict[str, _Key] = {}

    # -- lookups -------------------------------------------------------------------

    def ring(self, name: str) -> str:
        if name not in self.key_rings:
            raise KmsError(grpc.StatusCode.NOT_FOUND, f"KeyRing {name} not found.")
        return name

    def key(self, name: str) -> _Key:
        key = self.keys.get(name)
        if key is None:
            raise KmsError(grpc.StatusCode.NOT_FOUND, f"CryptoKey {name} not found.")
        self._rotate_if_due(key)
        return key

    def version(self, name: str) -> tuple[_Key, _Version]:
        match = re.fullmatch(r"(.+)/cryptoKeyVersions/(\d+)", name)
        if match is None:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid CryptoKeyVersion name {name!r}.")
        key = self.key(match.group(1))
        version = key.versions.get(int(match.group(2)))
        if version is None:
            raise KmsError(grpc.StatusCode.NOT_FOUND, f"CryptoKeyVersion {name} not found.")
        return key, version

    def _rotate_if_due(self, key: _Key) -> None:
        """Scheduled rotation, done lazily: the real service rotates at next_rotation_time."""
        if key.next_rotation is None or key.purpose != Purpose.ENCRYPT_DECRYPT:
            return
        while key.next_rotation <= _now():
            key.primary = key.new_version().number
            if key.rotation_period is None:
                key.next_rotation = None
                return
            key.next_rotation += key.rotation_period


def _version_pb(key: _Key, version: _Version) -> resources.CryptoKeyVersion:
    return resources.CryptoKeyVersion(
        name=f"{key.name}/cryptoKeyVersions/{version.number}",
        state=version.state,
        algorithm=version.algorithm,
        protection_level=resources.ProtectionLevel.SOFTWARE,
        create_time=_ts(version.created),
        generate_time=_ts(version.created),
    )


def _key_pb(key: _Key) -> resources.CryptoKey:
    pb = resources.CryptoKey(
        name=key.name,
        purpose=key.purpose,
        create_time=_ts(key.created),
        labels=key.labels,
        version_template=resources.CryptoKeyVersionTemplate(
            algorithm=key.algorithm, protection_level=resources.ProtectionLevel.SOFTWARE
        ),
    )
    if key.primary is not None and key.purpose == Purpose.ENCRYPT_DECRYPT:
        pb.primary = _version_pb(key, key.versions[key.primary])
    if key.rotation_period is not None:
        pb.rotation_period = key.rotation_period
    if key.next_rotation is not None:
        pb.next_rotation_time = _ts(key.next_rotation)
    return pb


def _set_rotation(key: _Key, crypto_key: resources.CryptoKey) -> None:
    """Apply rotation_period / next_rotation_time from a request, with the real service's rules."""
    period = crypto_key.rotation_period
    if period:
        length = period if isinstance(period, dt.timedelta) else dt.timedelta(seconds=period.total_seconds())
        if length < MIN_ROTATION:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "rotation_period must be at least 24 hours.")
        if key.purpose != Purpose.ENCRYPT_DECRYPT:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "Only symmetric keys support automatic rotation.")
        key.rotation_period = length
    if crypto_key.next_rotation_time:
        key.next_rotation = crypto_key.next_rotation_time.astimezone(dt.timezone.utc)
    elif period and key.next_rotation is None:
        key.next_rotation = _now() + key.rotation_period  # type: ignore[operator]


class KeyManagementService:
    """The RPC implementations. Each takes the request message and returns the response message."""

    def __init__(self, state: KmsState | None = None) -> None:
        self.state = state or KmsState()

    # -- key rings -----------------------------------------------------------------

    def CreateKeyRing(self, req: service.CreateKeyRingRequest) -> resources.KeyRing:
        if not _LOCATION.match(req.parent):
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid parent {req.parent!r}.")
        if not re.fullmatch(_ID, req.key_ring_id):
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid key_ring_id {req.key_ring_id!r}.")
        name = f"{req.parent}/keyRings/{req.key_ring_id}"
        with self.state.lock:
            if name in self.state.key_rings:
                raise KmsError(grpc.StatusCode.ALREADY_EXISTS, f"KeyRing {name} already exists.")
            self.state.key_rings[name] = _now()
            return resources.KeyRing(name=name, create_time=_ts(self.state.key_rings[name]))

    def GetKeyRing(self, req: service.GetKeyRingRequest) -> resources.KeyRing:
        with self.state.lock:
            name = self.state.ring(req.name)
            return resources.KeyRing(name=name, create_time=_ts(self.state.key_rings[name]))

    def ListKeyRings(self, req: service.ListKeyRingsRequest) -> service.ListKeyRingsResponse:
        with self.state.lock:
            rings = [
                resources.KeyRing(name=n, create_time=_ts(t))
                for n, t in sorted(self.state.key_rings.items())
                if n.startswith(req.parent + "/keyRings/")
            ]
        return service.ListKeyRingsResponse(key_rings=rings, total_size=len(rings))

    # -- crypto keys ---------------------------------------------------------------

    def CreateCryptoKey(self, req: service.CreateCryptoKeyRequest) -> resources.CryptoKey:
        if not re.fullmatch(_ID, req.crypto_key_id):
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid crypto_key_id {req.crypto_key_id!r}.")
        purpose = req.crypto_key.purpose
        algorithm = req.crypto_key.version_template.algorithm
        if purpose == Purpose.ENCRYPT_DECRYPT:
            algorithm = algorithm or Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION
            if algorithm != Algorithm.GOOGLE_SYMMETRIC_ENCRYPTION:
                raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "ENCRYPT_DECRYPT keys use GOOGLE_SYMMETRIC_ENCRYPTION.")
        elif purpose == Purpose.ASYMMETRIC_SIGN:
            if algorithm != Algorithm.EC_SIGN_P256_SHA256:
                raise KmsError(
                    grpc.StatusCode.INVALID_ARGUMENT, "This emulator supports ASYMMETRIC_SIGN with EC_SIGN_P256_SHA256 only."
                )
        else:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"Unsupported purpose {Purpose(purpose).name}.")
        name = f"{req.parent}/cryptoKeys/{req.crypto_key_id}"
        with self.state.lock:
            self.state.ring(req.parent)
            if name in self.state.keys:
                raise KmsError(grpc.StatusCode.ALREADY_EXISTS, f"CryptoKey {name} already exists.")
            key = _Key(name=name, purpose=purpose, algorithm=algorithm, labels=dict(req.crypto_key.labels))
            _set_rotation(key, req.crypto_key)
            if not req.skip_initial_version_creation:
                version = key.new_version()
                if purpose == Purpose.ENCRYPT_DECRYPT:
                    key.primary = version.number
            self.state.keys[name] = key
            return _key_pb(key)

    def GetCryptoKey(self, req: service.GetCryptoKeyRequest) -> resources.CryptoKey:
        with self.state.lock:
            return _key_pb(self.state.key(req.name))

    def ListCryptoKeys(self, req: service.ListCryptoKeysRequest) -> service.ListCryptoKeysResponse:
        with self.state.lock:
            self.state.ring(req.parent)
            keys = [_key_pb(self.state.key(n)) for n in sorted(self.state.keys) if n.startswith(req.parent + "/")]
        return service.ListCryptoKeysResponse(crypto_keys=keys, total_size=len(keys))

    def UpdateCryptoKey(self, req: service.UpdateCryptoKeyRequest) -> resources.CryptoKey:
        paths = set(req.update_mask.paths)
        allowed = {"rotation_period", "next_rotation_time", "labels"}
        if not paths or paths - allowed:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"update_mask must be a subset of {sorted(allowed)}.")
        with self.state.lock:
            key = self.state.key(req.crypto_key.name)
            if "labels" in paths:
                key.labels = dict(req.crypto_key.labels)
            if "rotation_period" in paths and not req.crypto_key.rotation_period:
                key.rotation_period = None
            if "next_rotation_time" in paths and not req.crypto_key.next_rotation_time:
                key.next_rotation = None
            _set_rotation(key, req.crypto_key)
            return _key_pb(key)

    def UpdateCryptoKeyPrimaryVersion(self, req: service.UpdateCryptoKeyPrimaryVersionRequest) -> resources.CryptoKey:
        with self.state.lock:
            key = self.state.key(req.name)
            if key.purpose != Purpose.ENCRYPT_DECRYPT:
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"{key.name} has no primary version.")
            _, version = self.state.version(f"{key.name}/cryptoKeyVersions/{req.crypto_key_version_id}")
            if version.state != State.ENABLED:
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, "The primary version must be ENABLED.")
            key.primary = version.number
            return _key_pb(key)

    # -- versions ------------------------------------------------------------------

    def CreateCryptoKeyVersion(self, req: service.CreateCryptoKeyVersionRequest) -> resources.CryptoKeyVersion:
        with self.state.lock:
            key = self.state.key(req.parent)
            return _version_pb(key, key.new_version())  # not primary until promoted, as in the real service

    def GetCryptoKeyVersion(self, req: service.GetCryptoKeyVersionRequest) -> resources.CryptoKeyVersion:
        with self.state.lock:
            return _version_pb(*self.state.version(req.name))

    def ListCryptoKeyVersions(self, req: service.ListCryptoKeyVersionsRequest) -> service.ListCryptoKeyVersionsResponse:
        with self.state.lock:
            key = self.state.key(req.parent)
            versions = [_version_pb(key, key.versions[n]) for n in sorted(key.versions)]
        return service.ListCryptoKeyVersionsResponse(crypto_key_versions=versions, total_size=len(versions))

    def UpdateCryptoKeyVersion(self, req: service.UpdateCryptoKeyVersionRequest) -> resources.CryptoKeyVersion:
        if list(req.update_mask.paths) != ["state"]:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "update_mask must be ['state'].")
        wanted = req.crypto_key_version.state
        if wanted not in (State.ENABLED, State.DISABLED):
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "state can only be set to ENABLED or DISABLED.")
        with self.state.lock:
            key, version = self.state.version(req.crypto_key_version.name)
            if version.state not in (State.ENABLED, State.DISABLED):
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"Version is {State(version.state).name}.")
            version.state = wanted
            return _version_pb(key, version)

    def DestroyCryptoKeyVersion(self, req: service.DestroyCryptoKeyVersionRequest) -> resources.CryptoKeyVersion:
        with self.state.lock:
            key, version = self.state.version(req.name)
            if version.state not in (State.ENABLED, State.DISABLED):
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"Version is {State(version.state).name}.")
            version.state = State.DESTROY_SCHEDULED
            return _version_pb(key, version)

    def RestoreCryptoKeyVersion(self, req: service.RestoreCryptoKeyVersionRequest) -> resources.CryptoKeyVersion:
        with self.state.lock:
            key, version = self.state.version(req.name)
            if version.state != State.DESTROY_SCHEDULED:
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, "Only DESTROY_SCHEDULED versions can be restored.")
            version.state = State.DISABLED  # as in the real service
            return _version_pb(key, version)

    # -- cryptography --------------------------------------------------------------

    def Encrypt(self, req: service.EncryptRequest) -> service.EncryptResponse:
        _check_size(req.plaintext, MAX_PLAINTEXT, "plaintext")
        _check_size(req.additional_authenticated_data, MAX_AAD, "additional_authenticated_data")
        _check_crc(req.plaintext, req.plaintext_crc32c, "plaintext")
        _check_crc(req.additional_authenticated_data, req.additional_authenticated_data_crc32c, "AAD")
        with self.state.lock:
            if "/cryptoKeyVersions/" in req.name:
                key, version = self.state.version(req.name)
            else:
                key = self.state.key(req.name)
                if key.primary is None:
                    raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"{key.name} has no primary version.")
                version = key.versions[key.primary]
            _require_symmetric(key)
            _require_enabled(key, version)
            assert isinstance(version.material, bytes)
            nonce = os.urandom(12)
            sealed = AESGCM(version.material).encrypt(
                nonce, req.plaintext, _aad(key.name, req.additional_authenticated_data)
            )
        ciphertext = MAGIC + struct.pack(">I", version.number) + nonce + sealed
        return service.EncryptResponse(
            name=f"{key.name}/cryptoKeyVersions/{version.number}",
            ciphertext=ciphertext,
            ciphertext_crc32c=_crc(ciphertext),
            verified_plaintext_crc32c="plaintext_crc32c" in req,
            verified_additional_authenticated_data_crc32c="additional_authenticated_data_crc32c" in req,
            protection_level=resources.ProtectionLevel.SOFTWARE,
        )

    def Decrypt(self, req: service.DecryptRequest) -> service.DecryptResponse:
        _check_crc(req.ciphertext, req.ciphertext_crc32c, "ciphertext")
        _check_crc(req.additional_authenticated_data, req.additional_authenticated_data_crc32c, "AAD")
        invalid = KmsError(grpc.StatusCode.INVALID_ARGUMENT, "Decryption failed: the ciphertext is invalid.")
        data = req.ciphertext
        if len(data) < len(MAGIC) + 4 + 12 + 16 or not data.startswith(MAGIC):
            raise invalid
        (number,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
        nonce, sealed = data[len(MAGIC) + 4 : len(MAGIC) + 16], data[len(MAGIC) + 16 :]
        with self.state.lock:
            key = self.state.key(req.name)
            _require_symmetric(key)
            version = key.versions.get(number)
            if version is None:
                raise invalid
            _require_enabled(key, version)
            assert isinstance(version.material, bytes)
            try:
                plaintext = AESGCM(version.material).decrypt(
                    nonce, sealed, _aad(key.name, req.additional_authenticated_data)
                )
            except InvalidTag:
                raise invalid from None
        return service.DecryptResponse(
            plaintext=plaintext,
            plaintext_crc32c=_crc(plaintext),
            used_primary=number == key.primary,
            protection_level=resources.ProtectionLevel.SOFTWARE,
        )

    def AsymmetricSign(self, req: service.AsymmetricSignRequest) -> service.AsymmetricSignResponse:
        digest = req.digest.sha256
        if len(digest) != 32:
            raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, "digest.sha256 must be 32 bytes for EC_SIGN_P256_SHA256.")
        _check_crc(digest, req.digest_crc32c, "digest")
        with self.state.lock:
            key, version = self.state.version(req.name)
            if key.purpose != Purpose.ASYMMETRIC_SIGN:
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"{key.name} is not an ASYMMETRIC_SIGN key.")
            _require_enabled(key, version)
            assert isinstance(version.material, ec.EllipticCurvePrivateKey)
            signature = version.material.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        return service.AsymmetricSignResponse(
            signature=signature,
            signature_crc32c=_crc(signature),
            verified_digest_crc32c="digest_crc32c" in req,
            name=req.name,
            protection_level=resources.ProtectionLevel.SOFTWARE,
        )

    def GetPublicKey(self, req: service.GetPublicKeyRequest) -> resources.PublicKey:
        with self.state.lock:
            key, version = self.state.version(req.name)
            if key.purpose != Purpose.ASYMMETRIC_SIGN:
                raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"{key.name} has no public key.")
            _require_enabled(key, version)
            assert isinstance(version.material, ec.EllipticCurvePrivateKey)
            pem = version.material.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode()
        return resources.PublicKey(
            pem=pem,
            algorithm=version.algorithm,
            pem_crc32c=_crc(pem.encode()),
            name=req.name,
            protection_level=resources.ProtectionLevel.SOFTWARE,
        )


def _aad(key_name: str, aad: bytes) -> bytes:
    """Bind the ciphertext to its key's name as well as the caller's AAD."""
    return key_name.encode() + b"\x00" + aad


def _check_size(data: bytes, limit: int, what: str) -> None:
    if len(data) > limit:
        raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"{what} is larger than {limit} bytes.")


def _check_crc(data: bytes, wrapper: Any, what: str) -> None:
    """The real service rejects a request whose CRC32C does not match the bytes sent."""
    if wrapper is not None and wrapper != _crc(data):
        raise KmsError(grpc.StatusCode.INVALID_ARGUMENT, f"The checksum of {what} does not match.")


def _require_symmetric(key: _Key) -> None:
    if key.purpose != Purpose.ENCRYPT_DECRYPT:
        raise KmsError(grpc.StatusCode.FAILED_PRECONDITION, f"{key.name} is not an ENCRYPT_DECRYPT key.")


def _require_enabled(key: _Key, version: _Version) -> None:
    if version.state != State.ENABLED:
        raise KmsError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{key.name}/cryptoKeyVersions/{version.number} is not enabled, current state is: "
            f"{State(version.state).name}.",
        )


#: method name -> (request type, response type)
METHODS: dict[str, tuple[Any, Any]] = {
    "CreateKeyRing": (service.CreateKeyRingRequest, resources.KeyRing),
    "GetKeyRing": (service.GetKeyRingRequest, resources.KeyRing),
    "ListKeyRings": (service.ListKeyRingsRequest, service.ListKeyRingsResponse),
    "CreateCryptoKey": (service.CreateCryptoKeyRequest, resources.CryptoKey),
    "GetCryptoKey": (service.GetCryptoKeyRequest, resources.CryptoKey),
    "ListCryptoKeys": (service.ListCryptoKeysRequest, service.ListCryptoKeysResponse),
    "UpdateCryptoKey": (service.UpdateCryptoKeyRequest, resources.CryptoKey),
    "UpdateCryptoKeyPrimaryVersion": (service.UpdateCryptoKeyPrimaryVersionRequest, resources.CryptoKey),
    "CreateCryptoKeyVersion": (service.CreateCryptoKeyVersionRequest, resources.CryptoKeyVersion),
    "GetCryptoKeyVersion": (service.GetCryptoKeyVersionRequest, resources.CryptoKeyVersion),
    "ListCryptoKeyVersions": (service.ListCryptoKeyVersionsRequest, service.ListCryptoKeyVersionsResponse),
    "UpdateCryptoKeyVersion": (service.UpdateCryptoKeyVersionRequest, resources.CryptoKeyVersion),
    "DestroyCryptoKeyVersion": (service.DestroyCryptoKeyVersionRequest, resources.CryptoKeyVersion),
    "RestoreCryptoKeyVersion": (service.RestoreCryptoKeyVersionRequest, resources.CryptoKeyVersion),
    "Encrypt": (service.EncryptRequest, service.EncryptResponse),
    "Decrypt": (service.DecryptRequest, service.DecryptResponse),
    "AsymmetricSign": (service.AsymmetricSignRequest, service.AsymmetricSignResponse),
    "GetPublicKey": (service.GetPublicKeyRequest, resources.PublicKey),
}


#: method name -> the IAM permission it needs (as documented for Cloud KMS)
PERMISSIONS: dict[str, str] = {
    "CreateKeyRing": "cloudkms.keyRings.create", "GetKeyRing": "cloudkms.keyRings.get",
    "ListKeyRings": "cloudkms.keyRings.list", "CreateCryptoKey": "cloudkms.cryptoKeys.create",
    "GetCryptoKey": "cloudkms.cryptoKeys.get", "ListCryptoKeys": "cloudkms.cryptoKeys.list",
    "UpdateCryptoKey": "cloudkms.cryptoKeys.update", "UpdateCryptoKeyPrimaryVersion": "cloudkms.cryptoKeys.update",
    "CreateCryptoKeyVersion": "cloudkms.cryptoKeyVersions.create", "GetCryptoKeyVersion": "cloudkms.cryptoKeyVersions.get",
    "ListCryptoKeyVersions": "cloudkms.cryptoKeyVersions.list",
    "UpdateCryptoKeyVersion": "cloudkms.cryptoKeyVersions.update",
    "DestroyCryptoKeyVersion": "cloudkms.cryptoKeyVersions.destroy",
    "RestoreCryptoKeyVersion": "cloudkms.cryptoKeyVersions.restore",
    "Encrypt": "cloudkms.cryptoKeyVersions.useToEncrypt", "Decrypt": "cloudkms.cryptoKeyVersions.useToDecrypt",
    "AsymmetricSign": "cloudkms.cryptoKeyVersions.useToSign", "GetPublicKey": "cloudkms.cryptoKeyVersions.viewPublicKey",
}


def _resource(request: Any) -> str:
    """The key ring a request acts on (a location for ListKeyRings): what IAM bindings are scoped to."""
    for name in ("name", "parent"):
        value = getattr(request, name, "") or ""
        if value:
            break
    else:
        value = getattr(getattr(request, "crypto_key", None), "name", "") or \
            getattr(getattr(request, "crypto_key_version", None), "name", "")
    if isinstance(request, service.CreateKeyRingRequest):
        value = f"{request.parent}/keyRings/{request.key_ring_id}"
    match = _RING.match(value)
    return match.group(0) if match else value


@dataclass
class Auth:
    """Who may call: a token verifier (JWKS, issuer, audience) and the operator's IAM bindings."""

    verifier: Verifier
    grants: Grants

    def check(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        metadata = {k.lower(): v for k, v in context.invocation_metadata()}
        header = str(metadata.get("authorization", ""))
        try:
            if not header.startswith("Bearer "):
                raise TokenRejected("Request is missing required authentication credential.")
            member = str(self.verifier.verify(header[7:])["sub"])
        except TokenRejected as exc:
            raise KmsError(grpc.StatusCode.UNAUTHENTICATED, str(exc)) from None
        permission, resource = PERMISSIONS[method], _resource(request)
        if not self.grants.allows(member, permission, resource):
            raise KmsError(grpc.StatusCode.PERMISSION_DENIED,
                           f"Permission '{permission}' denied on resource '{resource}' for {member}.")


def _handler(method: str, impl: Callable[[Any], Any], auth: Auth) -> Callable[[Any, grpc.ServicerContext], Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            auth.check(method, request, context)
            return impl(request)
        except KmsError as exc:
            context.abort(exc.code, exc.message)

    return call


def generic_handler(servicer: KeyManagementService, auth: Auth) -> grpc.GenericRpcHandler:
    """The gRPC handler serving every implemented method with the client library's types."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            _handler(name, getattr(servicer, name), auth),
            request_deserializer=request_type.deserialize,
            response_serializer=response_type.serialize,
        )
        for name, (request_type, response_type) in METHODS.items()
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)


def serve(port: int, auth: Auth, host: str = LOOPBACK, workers: int = 8) -> grpc.Server:
    """Start the server on host:port (loopback, gRPC local credentials) and return it."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((generic_handler(KeyManagementService(), auth),))
    credentials = grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    if server.add_secure_port(f"{host}:{port}", credentials) == 0:
        raise OSError(f"cannot bind {host}:{port}")
    server.start()
    return server


def auth_from_files(jwks: Any, bindings: Any, roles_dir: Any) -> Auth:
    """The Auth of the lab's GCP issuer (its JWKS file) and the operator's binding file."""
    return Auth(Verifier(jwks, GCP_ISSUER, [CLOUD_PLATFORM]), Grants(bindings, roles_dir, "gcp"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lab.emulators.cloudkms",
        description="Cloud KMS emulator (gRPC, loopback only, bearer tokens + IAM bindings) for the lab's GCP silo.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--jwks", type=Path, required=True, help="the lab's GCP token issuer's JWKS (file)")
    parser.add_argument("--bindings", type=Path, required=True, help="operator's IAM bindings (JSON)")
    parser.add_argument("--roles-dir", type=Path, required=True, help="role documents (ingestion/gcp/iam)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    if not args.bindings.is_file():
        parser.error(f"{args.bindings} does not exist")
    try:
        server = serve(args.port, auth_from_files(args.jwks, args.bindings, args.roles_dir))
    except (OSError, RuntimeError) as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"cloudkms emulator listening on {LOOPBACK}:{args.port}", flush=True)
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
