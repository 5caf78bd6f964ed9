"""The local key-file provider: file safety, wrapping with context, rotation."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from encryption.envelope import decrypt, encrypt, read_header
from encryption.errors import DecryptionFailed, KeyServiceError
from encryption.providers.local import LocalKeyProvider, create_key_file

CTX = {"silo": "gcp", "dataset": "train", "batch": "7"}


def test_keygen_writes_owner_only_file_and_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    key_id = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["current"] == 1 and key_id == f"{doc['key_set']}/v1"
    with pytest.raises(KeyServiceError, match="already exists"):
        create_key_file(path)
    assert create_key_file(path, overwrite=True) != key_id


def test_group_readable_key_file_is_refused(key_file: Path) -> None:
    key_file.chmod(0o644)
    with pytest.raises(KeyServiceError, match="chmod 600"):
        LocalKeyProvider(key_file)


def test_missing_and_foreign_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyServiceError, match="not found"):
        LocalKeyProvider(tmp_path / "nope.json")
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    other.chmod(0o600)
    with pytest.raises(KeyServiceError, match="not a"):
        LocalKeyProvider(other)


def test_wrap_binds_key_service_context_but_not_batch(local_provider: LocalKeyProvider) -> None:
    dk = local_provider.generate_data_key(CTX)
    same_dataset_other_batch = {**CTX, "batch": "8"}
    assert local_provider.unwrap_data_key(dk.wrapped, dk.key_id, same_dataset_other_batch) == dk.plaintext
    with pytest.raises(DecryptionFailed):
        local_provider.unwrap_data_key(dk.wrapped, dk.key_id, {**CTX, "dataset": "test"})
    with pytest.raises(DecryptionFailed):
        local_provider.unwrap_data_key(dk.wrapped[:-1] + bytes([dk.wrapped[-1] ^ 1]), dk.key_id, CTX)
    assert local_provider.calls == 4
    assert dk.plaintext.hex() not in repr(dk)


def test_rotation_keeps_old_envelopes_readable(local_provider: LocalKeyProvider, key_file: Path) -> None:
    old_blob = bytes(encrypt(b"before rotation", local_provider, CTX))
    old_id = local_provider.current_key_id()
    new_id = local_provider.rotate()
    assert new_id != old_id and new_id.endswith("/v2") and local_provider.versions() == [1, 2]
    new_blob = bytes(encrypt(b"after rotation", local_provider, CTX))
    assert read_header(new_blob).key_id == new_id
    # a provider that loaded the file before the rotation picks up the new version on demand
    fresh = LocalKeyProvider(key_file)
    assert decrypt(old_blob, fresh, CTX) == b"before rotation"
    assert decrypt(new_blob, fresh, CTX) == b"after rotation"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_stale_provider_reloads_after_another_process_rotates(key_file: Path) -> None:
    reader = LocalKeyProvider(key_file)
    writer = LocalKeyProvider(key_file)
    writer.rotate()
    blob = bytes(encrypt(b"v2 data", writer, CTX))
    assert decrypt(blob, reader, CTX) == b"v2 data"


def test_key_from_another_key_file_is_unknown(tmp_path: Path, local_provider: LocalKeyProvider) -> None:
    other_file = tmp_path / "other.json"
    create_key_file(other_file)
    blob = bytes(encrypt(b"x", LocalKeyProvider(other_file), CTX))
    with pytest.raises(KeyServiceError, match="not in key file"):
        decrypt(blob, local_provider, CTX)
