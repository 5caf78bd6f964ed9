"""The trained model at rest: envelope-encrypted, then signed; verified before every load.

File layout (``models/fl_global.model``)::

    secure-ai-lab/fl-model/v1\\n
    <one line of JSON: signer, key_id, envelope_sha256, shapes, signature (base64)>\\n
    <envelope bytes (encryption/ format)>

The signature covers ``SIGN_PREFIX || canonical header without 'signature'``, and the
header pins the SHA-256 of the envelope, so changing a byte anywhere is refused before
any decryption is attempted. Weights are serialised with ``numpy.save`` (no pickle).
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
from securefl.signing import SignatureError, Signer, signer_for

MAGIC = b"secure-ai-lab/fl-model/v1\n"
SIGN_PREFIX = b"secure-ai-lab/fl-model-signature/v1\n"
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


def write_model(path: Path, weights: list[np.ndarray], signer: Signer, provider: Any | None = None,
                meta: dict[str, Any] | None = None) -> Path:
    """Encrypt the weights with the envelope format, sign, write atomically."""
    sealed = _envelope().encrypt(_serialise(weights), _provider(provider), CONTEXT)
    header: dict[str, Any] = {
        "signer": signer.name, "key_id": signer.key_id,
        "envelope_sha256": hashlib.sha256(sealed).hexdigest(),
        "shapes": [list(w.shape) for w in weights], "meta": meta or {},
    }
    header["signature"] = base64.b64encode(signer.sign(_signed_bytes(header))).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + sealed)
    tmp.replace(path)
    return path


def verify_model(path: Path, signer: Signer | None = None) -> tuple[dict[str, Any], bytes]:
    """Check the signature and envelope hash; return (header, envelope). Refuses unsigned files."""
    if not path.is_file():
        raise LabError(f"no model at {path}")
    raw = path.read_bytes()
    if not raw.startswith(MAGIC):
        raise SignatureError(f"{path.name} is not a signed lab model (missing header): refused")
    head, sep, sealed = raw[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(head) if sep else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not header.get("signature"):
        raise SignatureError(f"{path.name} carries no signature: refused")
    try:
        signature = base64.b64decode(header["signature"], validate=True)
    except ValueError:
        raise SignatureError(f"{path.name}: signature is not base64") from None
    verifier = signer or signer_for(str(header.get("signer")), str(header.get("key_id")))
    if verifier.key_id != header.get("key_id"):
        raise SignatureError(f"{path.name} was signed by key {header.get('key_id')!r}, not the trusted "
                             f"{verifier.key_id!r}: refused")
    verifier.verify(_signed_bytes(header), signature)
    if hashlib.sha256(sealed).hexdigest() != header.get("envelope_sha256"):
        raise SignatureError(f"{path.name}: encrypted body does not match the signed hash (tampered): refused")
    return header, sealed


def read_model(path: Path, signer: Signer | None = None, provider: Any | None = None) -> list[np.ndarray]:
    """Verify the signature first, then decrypt and return the weights."""
    header, sealed = verify_model(path, signer)
    weights = _deserialise(_envelope().decrypt(sealed, _provider(provider), CONTEXT))
    if [list(w.shape) for w in weights] != header["shapes"]:
        raise LabError(f"{path.name}: decrypted weights do not match the signed shapes")
    return weights
