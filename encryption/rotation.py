"""Key rotation (AWS KMS helpers) and resumable re-wrapping of stored envelopes.

Rotation comes in two kinds, and the lab shows both:

* **in-place** — AWS KMS automatic or on-demand rotation keeps the key id and adds
  backing key material; old wrapped keys still decrypt, nothing to rewrite. The
  local provider's ``rotate`` is the same idea (new KEK version, old ones kept).
* **re-wrap** — move envelopes to another key (a new local KEK version, another KMS
  key, another provider). Only the header changes: the body's AAD does not cover
  provider, key id or wrapped key, so the (possibly large) body is copied byte for
  byte and never decrypted into storage.

:func:`rewrap` is idempotent (envelopes already under the target key are skipped),
resumable (a checkpoint file lists finished keys) and verified (each rewritten
object is read back and decrypted with the new provider before the next one).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from encryption.envelope import decrypt, decrypt_body, open_header, read_header
from encryption.errors import EnvelopeError, KeyServiceError
from encryption.format import Header
from encryption.providers.aws_kms import kms_call
from encryption.providers.base import KeyProvider
from lab.storage import ObjectStore

CHECKPOINT_FORMAT = "secure-ai-lab/rewrap-checkpoint/v1"
ENVELOPE_SUFFIX = ".env"


# -- AWS KMS rotation ---------------------------------------------------------------


def enable_key_rotation(client: Any, key_id: str, period_days: int = 365) -> None:
    """Turn on automatic yearly (or ``period_days``) rotation of a KMS key."""
    if not 90 <= period_days <= 2560:
        raise KeyServiceError(f"rotation period must be 90..2560 days, got {period_days}")
    kms_call(client, "enable_key_rotation", key_id, KeyId=key_id, RotationPeriodInDays=period_days)


def rotate_key_on_demand(client: Any, key_id: str) -> None:
    """Rotate a KMS key's backing material now; its id, and every old wrapped key, stay valid."""
    kms_call(client, "rotate_key_on_demand", key_id, KeyId=key_id)


def rotation_status(client: Any, key_id: str) -> dict[str, Any]:
    """Whether automatic rotation is on, its period, and the rotations done so far."""
    status = kms_call(client, "get_key_rotation_status", key_id, KeyId=key_id)
    rotations = kms_call(client, "list_key_rotations", key_id, KeyId=key_id).get("Rotations", [])
    return {
        "key_id": key_id,
        "enabled": bool(status.get("KeyRotationEnabled")),
        "period_days": status.get("RotationPeriodInDays"),
        "next_rotation": status.get("NextRotationDate"),
        "rotations": [
            {"date": r.get("RotationDate"), "type": r.get("RotationType")} for r in rotations
        ],
    }


# -- re-wrap ------------------------------------------------------------------------


def context_from_key(key: str) -> dict[str, str]:
    """The encryption context of a landed object, read from its key (see DEVELOPING.md).

    ``raw/silo=aws/dataset=train/batch=000001.jsonl.env`` → ``{silo, dataset, batch}``;
    ``deadletter/silo=aws/batch=000001.jsonl.env`` → dataset ``deadletter``.
    """
    context: dict[str, str] = {}
    parts = key.split("/")
    for index, part in enumerate(parts):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        if index == len(parts) - 1:  # batch ids may contain dots: strip only the known suffixes
            value = value.removesuffix(ENVELOPE_SUFFIX).removesuffix(".jsonl")
        context[name] = value
    if parts[0] == "deadletter":
        context.setdefault("dataset", "deadletter")
    if not context:
        raise KeyServiceError(f"cannot derive an encryption context from object key {key!r}")
    return context


@dataclass
class RewrapResult:
    """What one re-wrap run did. ``ok`` only when nothing failed and every rewrite verified."""

    target_provider: str
    target_key_id: str
    total: int = 0
    rewrapped: int = 0
    already_target: int = 0
    resumed_from_checkpoint: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"verified": self.ok}


class Checkpoint:
    """Finished keys of one re-wrap target, saved atomically after every object."""

    def __init__(self, path: Path, target: dict[str, str]) -> None:
        self.path = Path(path)
        self.target = target
        self.done: set[str] = set()
        if self.path.exists():
            try:
                doc = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise KeyServiceError(f"checkpoint {self.path} is unreadable; delete it to start over") from None
            if doc.get("format") != CHECKPOINT_FORMAT or doc.get("target") != target:
                raise KeyServiceError(
                    f"checkpoint {self.path} belongs to another re-wrap target; delete it to start over"
                )
            self.done = set(doc.get("done", []))

    def mark(self, key: str) -> None:
        self.done.add(key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        doc = {"format": CHECKPOINT_FORMAT, "target": self.target, "done": sorted(self.done)}
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


def rewrap_blob(
    blob: bytes, context: Mapping[str, str], old: KeyProvider, new: KeyProvider
) -> tuple[bytes, Header, bytes]:
    """The same envelope with a new header (data key wrapped by ``new``); the body is copied as is.

    The old envelope is fully decrypted first (in memory only), so a corrupt object is
    never given a fresh, valid-looking header. Returns the new envelope, its header and
    the SHA-256 of the plaintext (to verify the rewrite against).
    """
    # BEGIN SOLUTION ex05
    header, body_offset, data_key = open_header(blob, old, context)
    digest = hashlib.sha256(decrypt_body(blob, header, body_offset, data_key)).digest()
    wrapped = new.wrap_data_key(data_key, context)
    new_header = Header(
        version=header.version,
        alg=header.alg,
        provider=new.name,
        key_id=wrapped.key_id,
        wrapped_key=wrapped.wrapped,
        nonce=header.nonce,
        context_sha256=header.context_sha256,
    )
    return new_header.encode() + bytes(memoryview(blob)[body_offset:]), new_header, digest
    # END SOLUTION ex05


def rewrap(
    store: ObjectStore,
    keys: Iterable[str],
    old_provider: KeyProvider,
    new_provider: KeyProvider,
    checkpoint: Path,
    *,
    context_for: Callable[[str], Mapping[str, str]] = context_from_key,
    progress: bool = False,
) -> RewrapResult:
    """Re-wrap each envelope under ``new_provider``'s current key; resumable and idempotent."""
    target = {"provider": new_provider.name, "key_id": new_provider.current_key_id()}
    state = Checkpoint(checkpoint, target)
    result = RewrapResult(target_provider=target["provider"], target_key_id=target["key_id"])
    key_list = list(keys)
    for key in tqdm(key_list, desc="re-wrap", unit="obj", disable=not progress):
        result.total += 1
        if key in state.done:
            result.resumed_from_checkpoint += 1
            continue
        try:
            context = context_for(key)
            blob = store.get(key)
            header = read_header(blob)
            if header.provider == target["provider"] and header.key_id == target["key_id"]:
                decrypt(blob, new_provider, context)  # still verify what we skip
                result.already_target += 1
            else:
                new_blob, _, before = rewrap_blob(blob, context, old_provider, new_provider)
                store.put(key, new_blob)
                after = hashlib.sha256(decrypt(store.get(key), new_provider, context)).digest()
                if after != before:
                    raise KeyServiceError("re-wrapped object decrypts to different bytes")
                result.rewrapped += 1
        except (EnvelopeError, KeyError) as exc:
            result.failed[key] = f"{type(exc).__name__}: {exc}"
            continue
        state.mark(key)
    return result
