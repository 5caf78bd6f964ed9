"""Re-wrap: header-only rewrite, verified, idempotent, resumable after a crash."""
from __future__ import annotations

from pathlib import Path

import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import KeyServiceError
from encryption.format import PREFIX
from encryption.providers.aws_kms import AwsKmsProvider
from encryption.providers.base import KeyProvider
from encryption.providers.local import LocalKeyProvider
from encryption.rotation import context_from_key, rewrap
from lab.storage import LocalDirStore


class CrashingStore(LocalDirStore):
    """A folder store whose process 'dies' after a number of writes (fault injection)."""

    def __init__(self, root: Path, puts_before_crash: int) -> None:
        super().__init__(root)
        self.left = puts_before_crash

    def put(self, key: str, data: bytes) -> None:
        if self.left == 0:
            raise RuntimeError("simulated crash")
        self.left -= 1
        super().put(key, data)


def land(store: LocalDirStore, provider: KeyProvider, n: int) -> dict[str, bytes]:
    """n landed batches in the ingestion layout, plus one dead-letter file."""
    plain: dict[str, bytes] = {}
    for i in range(n):
        key = f"raw/silo=aws/dataset=train/batch={i:06d}.jsonl.env"
        plain[key] = f'{{"batch": {i}}}\n'.encode() * 10
    plain["deadletter/silo=aws/batch=000000.jsonl.env"] = b'{"reason": "schema"}\n'
    for key, data in plain.items():
        store.put(key, bytes(encrypt(data, provider, context_from_key(key))))
    return plain


def body(blob: bytes) -> bytes:
    return blob[PREFIX.size + PREFIX.unpack_from(blob)[2] :]


def test_context_from_key() -> None:
    assert context_from_key("raw/silo=aws/dataset=train/batch=000001.jsonl.env") == {
        "silo": "aws", "dataset": "train", "batch": "000001"}
    assert context_from_key("deadletter/silo=gcp/batch=000002.jsonl.env") == {
        "silo": "gcp", "dataset": "deadletter", "batch": "000002"}
    assert context_from_key("raw/silo=aws/dataset=train/batch=shard-0.seq-17.jsonl.env")["batch"] == "shard-0.seq-17"
    with pytest.raises(KeyServiceError):
        context_from_key("plain/file.env")


def test_rotate_then_rewrap_changes_only_headers(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    store = LocalDirStore(tmp_path / "landing")
    plain = land(store, local_provider, 5)
    bodies = {k: body(store.get(k)) for k in plain}
    new_id = local_provider.rotate()
    result = rewrap(store, list(plain), local_provider, local_provider, tmp_path / "cp.json")
    assert result.ok and result.rewrapped == 6 and result.total == 6
    for key, data in plain.items():
        blob = store.get(key)
        assert read_header(blob).key_id == new_id
        assert body(blob) == bodies[key]
        assert decrypt(blob, local_provider, context_from_key(key)) == data


def test_rewrap_resumes_after_crash_and_is_idempotent(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    plain = land(LocalDirStore(tmp_path / "landing"), local_provider, 7)
    keys = sorted(plain)
    local_provider.rotate()
    checkpoint = tmp_path / "cp.json"
    with pytest.raises(RuntimeError, match="simulated crash"):
        rewrap(CrashingStore(tmp_path / "landing", 3), keys, local_provider, local_provider, checkpoint)
    resumed = rewrap(LocalDirStore(tmp_path / "landing"), keys, local_provider, local_provider, checkpoint)
    assert resumed.ok
    assert resumed.resumed_from_checkpoint == 3 and resumed.rewrapped == 5 and resumed.already_target == 0
    # the same run again, without a checkpoint: nothing to do, everything verified
    again = rewrap(LocalDirStore(tmp_path / "landing"), keys, local_provider, local_provider, tmp_path / "cp2.json")
    assert again.ok and again.already_target == 8 and again.rewrapped == 0


def test_crash_between_write_and_checkpoint_is_harmless(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    store = LocalDirStore(tmp_path / "landing")
    plain = land(store, local_provider, 2)
    local_provider.rotate()
    key = sorted(plain)[0]
    from encryption.rotation import rewrap_blob

    new_blob, _, _ = rewrap_blob(store.get(key), context_from_key(key), local_provider, local_provider)
    store.put(key, new_blob)  # written, but the checkpoint never heard of it
    result = rewrap(store, sorted(plain), local_provider, local_provider, tmp_path / "cp.json")
    assert result.ok and result.already_target == 1 and result.rewrapped == 2


def test_tampered_object_fails_and_is_not_checkpointed(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    store = LocalDirStore(tmp_path / "landing")
    plain = land(store, local_provider, 3)
    bad = sorted(plain)[1]
    blob = bytearray(store.get(bad))
    blob[-3] ^= 0x10
    store.put(bad, bytes(blob))
    local_provider.rotate()
    result = rewrap(store, sorted(plain), local_provider, local_provider, tmp_path / "cp.json")
    assert not result.ok and list(result.failed) == [bad] and "DecryptionFailed" in result.failed[bad]
    assert store.get(bad) == bytes(blob)  # left as it was, never given a fresh header
    assert bad not in (tmp_path / "cp.json").read_text()


def test_checkpoint_of_another_target_is_refused(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    store = LocalDirStore(tmp_path / "landing")
    plain = land(store, local_provider, 1)
    rewrap(store, sorted(plain), local_provider, local_provider, tmp_path / "cp.json")
    local_provider.rotate()
    with pytest.raises(KeyServiceError, match="another re-wrap target"):
        rewrap(store, sorted(plain), local_provider, local_provider, tmp_path / "cp.json")


def test_migrate_local_to_aws_kms(tmp_path: Path, local_provider: LocalKeyProvider, kms_key: str) -> None:
    store = LocalDirStore(tmp_path / "landing")
    plain = land(store, local_provider, 3)
    kms = AwsKmsProvider(kms_key)
    result = rewrap(store, sorted(plain), local_provider, kms, tmp_path / "cp.json")
    assert result.ok and result.rewrapped == 4 and result.target_key_id == kms_key
    for key, data in plain.items():
        assert read_header(store.get(key)).provider == "aws-kms"
        assert decrypt(store.get(key), AwsKmsProvider(kms_key), context_from_key(key)) == data
