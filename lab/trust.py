"""The operator's trust store: which producers may sign records, which were revoked, which
keys may sign models. Explicit, persistent, sealed.

Why here (``lab/``, the bottom layer): every reader — the ingest consumers, the read-back,
the FL data source, the detector's provenance, the scenario, the case studies — must see
the same decisions, and a revocation must outlive the process that made it. They all
reach this file through ``ingestion.records.TrustStore.from_dir()``.

The store is one JSON document (``<state_dir>/trust/trust.json``) sealed with the operator
key (``lab.sealed``): ``python -m lab trust enroll|revoke`` are the only writers; a file
edited by hand, or unsealed, is refused loudly by every reader.

* A producer is trusted only after ``enroll NAME --silo S`` (its Ed25519 public key and
  its silo are recorded). Records of any other name are "unknown producer".
* ``revoke NAME`` keeps the entry, marked revoked (records: "revoked producer"), and adds
  the key's fingerprint to a list that can never be enrolled again; a producer comes back
  only with a new key (``enroll NAME --silo S --new-key``).
* Model-signing public keys are pinned here by the lab's own signer, so a model's
  verifying key comes from this store, never from the model file.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lab.cli import LabError
from lab.config import settings
from lab.sealed import SealedJson, operator_key_file
from lab.silos import SILOS

PRODUCER_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
STORE_NAME = "trust.json"


class TrustError(LabError):
    """An enrolment or revocation that cannot be done (unknown name, revoked key, ...)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fingerprint(raw: bytes) -> str:
    """SHA-256 of a raw public key: how revocations name a key."""
    return hashlib.sha256(raw).hexdigest()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Enrolment:
    """One producer as the operator enrolled it."""

    name: str
    silo: str
    public_key: bytes
    enrolled_at: str
    revoked_at: str | None = None
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def to_json(self) -> dict[str, Any]:
        return {"silo": self.silo, "public_key": self.public_key.hex(), "enrolled_at": self.enrolled_at,
                "revoked_at": self.revoked_at, "reason": self.reason}

    @classmethod
    def from_json(cls, name: str, body: dict[str, Any]) -> Enrolment:
        return cls(name, str(body["silo"]), bytes.fromhex(body["public_key"]), str(body["enrolled_at"]),
                   body.get("revoked_at"), str(body.get("reason", "")))


def _empty() -> dict[str, Any]:
    return {"producers": {}, "revoked_keys": [], "model_keys": {}}


def check_name(name: str) -> str:
    if not re.fullmatch(PRODUCER_PATTERN, name):
        raise TrustError(f"invalid producer name {name!r}: use 1-64 lowercase letters, digits and '-', "
                         "starting with a letter or digit")
    return name


class TrustFile:
    """The sealed store of one state folder (default: the configured one)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        if state_dir is None:
            self.sealed = SealedJson(settings().trust_dir / STORE_NAME, operator_key_file())
        else:  # another lab's state (the grader reads a student copy's): its own key, its own store
            self.sealed = SealedJson(state_dir / "trust" / STORE_NAME, state_dir / "keys" / "operator.key")

    @property
    def path(self) -> Path:
        return self.sealed.path

    def body(self) -> dict[str, Any]:
        body = self.sealed.read(_empty)
        return {**_empty(), **body}

    def producers(self) -> dict[str, Enrolment]:
        return {name: Enrolment.from_json(name, b) for name, b in self.body()["producers"].items()}

    def revoked_keys(self) -> set[str]:
        return {str(item["fingerprint"]) for item in self.body()["revoked_keys"]}

    def model_keys(self) -> dict[str, dict[str, str]]:
        """Pinned model-signing keys: key id -> {"signer", "public_key_pem"}."""
        return dict(self.body()["model_keys"])

    def enroll(self, name: str, silo: str, public_key: bytes) -> Enrolment:
        """Trust ``name`` for ``silo`` with this raw Ed25519 key. Idempotent for the same key."""
        check_name(name)
        if silo not in SILOS:
            raise TrustError(f"unknown silo {silo!r}; choose from {', '.join(SILOS)}")
        if len(public_key) != 32:
            raise TrustError("a producer key must be a raw 32-byte Ed25519 public key")
        with self.sealed.update(_empty) as body:
            body.setdefault("revoked_keys", [])
            if fingerprint(public_key) in {i["fingerprint"] for i in body["revoked_keys"]}:
                raise TrustError(f"that key of {name!r} was revoked and can never be enrolled again; "
                                 "enrol a new key (--new-key)")
            current = body["producers"].get(name)
            if current and current.get("revoked_at") is None:
                same = Enrolment.from_json(name, current)
                if same.public_key == public_key and same.silo == silo:
                    return same
                raise TrustError(f"{name!r} is already enrolled (silo {same.silo}, key {same.fingerprint[:16]}); "
                                 "revoke it first")
            entry = Enrolment(name, silo, public_key, _now())
            body["producers"][name] = entry.to_json()
        return entry

    def revoke(self, name: str, reason: str = "") -> Enrolment:
        """Stop trusting ``name`` for good (its key is refused forever)."""
        check_name(name)
        with self.sealed.update(_empty) as body:
            current = body["producers"].get(name)
            if current is None:
                raise TrustError(f"{name!r} is not enrolled; nothing to revoke")
            entry = Enrolment.from_json(name, current)
            if not entry.active:
                return entry
            entry = Enrolment(name, entry.silo, entry.public_key, entry.enrolled_at, _now(), reason)
            body["producers"][name] = entry.to_json()
            body.setdefault("revoked_keys", []).append(
                {"producer": name, "fingerprint": entry.fingerprint, "revoked_at": entry.revoked_at})
        return entry

    def pin_model_key(self, key_id: str, signer: str, public_key_pem: str) -> None:
        """Record a model-signing public key (done by the lab's configured signer when it signs)."""
        with self.sealed.update(_empty) as body:
            pinned = body.setdefault("model_keys", {}).get(key_id)
            if pinned and pinned["public_key_pem"] != public_key_pem:
                raise TrustError(f"model key {key_id!r} is pinned with another public key: refused")
            body["model_keys"][key_id] = {"signer": signer, "public_key_pem": public_key_pem}


# -- the lab's own producer keys (a producer holds its private key; the operator enrols the public half)


def producer_key_dir() -> Path:
    return settings().keys_dir / "producers"


def producer_key(name: str, key_dir: Path | None = None, new: bool = False) -> Ed25519PrivateKey:
    """This machine's private key for producer ``name`` (mode 0600), created on first use or with ``new``."""
    check_name(name)
    base = key_dir or producer_key_dir()
    private_path, public_path = base / f"{name}.key", base / f"{name}.pub"
    if private_path.exists() and not new:
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TrustError(f"{private_path} is not an Ed25519 key")
        return key
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = private_path.with_name(private_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)
    tmp.write_bytes(pem)
    tmp.replace(private_path)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def load_public_key(path: Path) -> bytes:
    """A PEM Ed25519 public key file, as raw bytes."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TrustError(f"cannot read a PEM public key from {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise TrustError(f"{path} is not an Ed25519 public key")
    return raw_public(key)


def ensure_enrolled(name: str, silo: str) -> Enrolment:
    """Enrol this machine's key for ``name``; a revoked producer gets a new key first (demo set-up)."""
    store = TrustFile()
    current = store.producers().get(name)
    key = producer_key(name)
    if current is not None and current.active and current.silo == silo:
        if current.public_key != raw_public(key.public_key()):
            raise TrustError(f"{name!r} is enrolled with another key than this machine's "
                             f"({producer_key_dir() / (name + '.key')}); revoke it, then enrol again")
        return current
    if fingerprint(raw_public(key.public_key())) in store.revoked_keys():
        key = producer_key(name, new=True)
    return store.enroll(name, silo, raw_public(key.public_key()))


def require_enrolled(name: str, silo: str, enroll: bool = False) -> Enrolment:
    """Refuse to sign for a producer the pipeline would refuse, unless asked to enrol it (``--enroll``)."""
    entry = TrustFile().producers().get(name)
    if entry is not None and entry.active and entry.silo == silo:
        return entry
    if entry is not None and entry.active:
        raise TrustError(f"producer {name!r} is enrolled for silo {entry.silo}, not {silo}")
    if not enroll:
        state = "was revoked" if entry is not None else "is not enrolled"
        raise TrustError(f"producer {name!r} {state}: its records would be dead-lettered. Enrol it with "
                         f"`python -m lab trust enroll {name} --silo {silo}`" + (" --new-key" if entry else "")
                         + " (or pass --enroll)")
    return ensure_enrolled(name, silo)


def demo_producers() -> list[tuple[str, str]]:
    """The producers the walk-through's scripts use by default: ``<silo>-producer-a``."""
    return [(f"{silo}-producer-a", silo) for silo in SILOS]
