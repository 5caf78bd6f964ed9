"""The trained model at rest: envelope-encrypted, then signed; verified before every load.

File layout (``models/fl_global.model``)::

    secure-ai-lab/fl-model/v2\\n
    <one line of JSON: signer, key_id, envelope_sha256, shapes, run_id, config_sha256,
     data_sha256, version, meta, signature (base64)>\\n
    <envelope bytes (encryption/ format)>

The signature covers ``SIGN_PREFIX || canonical header without 'signature'``, and the
header pins the SHA-256 of the envelope, so changing a byte anywhere is refused before
any decryption is attempted. Weights are serialised with ``numpy.save`` (no pickle).

Who may have signed it is not the header's say: the verifying key is the one the lab's
signer pinned in the operator's sealed trust store (``lab.trust``) for the header's key id;
a key id with no pin (an attacker's own key) is refused. The version must not be older
than the newest one this lab has accepted (``securefl.provenance``): no rollback.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from lab.cli import LabError
from lab.trust import TrustFile
from securefl.provenance import Provenance, VersionLedger
from securefl.signing import SignatureError, Signer, verify_pinned

MAGIC = b"secure-ai-lab/fl-model/v2\n"
SIGN_PREFIX = b"secure-ai-lab/fl-model-signature/v2\n"
BOUND = ("run_id", "config_sha256", "data_sha256", "version")
CONTEXT = {"dataset": "fl-global-model", "object": "fl_global"}


def _provider(provider: Any | None) -> Any:
    if provider is not None:
        return provider
    from encryption.providers.local import LocalKeyProvider, create_key_file, default_key_file

    if not default_key_file().exists():
        create_key_file(default_key_file())
    return LocalKeyProvider()


def _envelope() -> Any:
    try:
        from encryption import envelope
    except ImportError:
        raise LabError("encryption.envelope is missing: the encryption part is needed to seal models") from None
    return envelope


def _serialise(weights: list[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, *weights)
    return buf.getvalue()


def _deserialise(blob: bytes) -> list[np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return [npz[f"arr_{i}"] for i in range(len(npz.files))]


def _signed_bytes(header: dict[str, Any]) -> bytes:
    body = {k: v for k, v in header.items() if k != "signature"}
    return SIGN_PREFIX + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def write_model(path: Path, weights: list[np.ndarray], signer: Signer, provenance: Provenance,
                provider: Any | None = None, meta: dict[str, Any] | None = None,
                ledger: VersionLedger | None = None) -> Path:
    """Encrypt the weights, pin the signer's public key, sign header + provenance + a new version, write atomically."""
    sealed = _envelope().encrypt(_serialise(weights), _provider(provider), CONTEXT)
    TrustFile().pin_model_key(signer.key_id, signer.name, signer.public_key_pem())
    header: dict[str, Any] = {
        "signer": signer.name, "key_id": signer.key_id,
        "envelope_sha256": hashlib.sha256(sealed).hexdigest(),
        "shapes": [list(w.shape) for w in weights], "meta": meta or {},
        **provenance.to_json(), "version": (ledger or VersionLedger()).next_version(),
    }
    header["signature"] = base64.b64encode(signer.sign(_signed_bytes(header))).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + sealed)
    tmp.replace(path)
    return path


def verify_model(path: Path, signer: Signer | None = None,
                 ledger: VersionLedger | None = None) -> tuple[dict[str, Any], bytes]:
    """Check signature (pinned key), envelope hash and version; return (header, envelope).

    ``signer``: verify with exactly this key instead of the trust store's pins (tests, tools)."""
    if not path.is_file():
        raise LabError(f"no model at {path}")
    raw = path.read_bytes()
    if not raw.startswith(MAGIC):
        raise SignatureError(f"{path.name} is not a signed lab model (missing or older header): refused")
    head, sep, sealed = raw[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(head) if sep else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not header.get("signature"):
        raise SignatureError(f"{path.name} carries no signature: refused")
    missing = [k for k in BOUND if k not in header]
    if missing or not isinstance(header.get("version"), int) or header["version"] < 1:
        raise SignatureError(f"{path.name} does not bind {', '.join(missing) or 'a valid version'}: refused")
    try:
        signature = base64.b64decode(header["signature"], validate=True)
    except ValueError:
        raise SignatureError(f"{path.name}: signature is not base64") from None
    key_id = str(header.get("key_id"))
    if signer is not None:
        if signer.key_id != key_id:
            raise SignatureError(f"{path.name} was signed by key {key_id!r}, not the trusted "
                                 f"{signer.key_id!r}: refused")
        signer.verify(_signed_bytes(header), signature)
    else:
        pin = TrustFile().model_keys().get(key_id)
        if pin is None:
            raise SignatureError(f"{path.name} was signed by key {key_id!r}, which the trust store does not "
                                 "pin as a model-signing key: refused")
        verify_pinned(pin["public_key_pem"], _signed_bytes(header), signature)
    if hashlib.sha256(sealed).hexdigest() != header.get("envelope_sha256"):
        raise SignatureError(f"{path.name}: encrypted body does not match the signed hash (tampered): refused")
    newest = (ledger or VersionLedger()).newest_accepted()
    if header["version"] < newest:
        raise SignatureError(f"{path.name} is model version {header['version']}, older than the newest "
                             f"accepted ({newest}): rollback refused")
    return header, sealed


def read_model(path: Path, signer: Signer | None = None, provider: Any | None = None,
               ledger: VersionLedger | None = None) -> list[np.ndarray]:
    """Verify signature and version first, then decrypt; the version becomes the newest accepted."""
    ledger = ledger or VersionLedger()
    header, sealed = verify_model(path, signer, ledger)
    weights = _deserialise(_envelope().decrypt(sealed, _provider(provider), CONTEXT))
    if [list(w.shape) for w in weights] != header["shapes"]:
        raise LabError(f"{path.name}: decrypted weights do not match the signed shapes")
    ledger.accept(header["version"])
    return weights
