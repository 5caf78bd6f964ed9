"""Case study: an Azure Key Vault key rotation that retires the old version too early.

Failure: the silo's key is rotated (new version v2) and, in the same change, the old
version v1 is disabled — "rotation done". Every batch sealed before the rotation has its
data key wrapped under v1, and Key Vault refuses ``unwrapKey`` on a disabled version: every
read fails loudly (HTTP 403 → ``KeyServiceError``) and returns nothing; batches sealed after
the rotation still read. Recovery: v1 is only *disabled* (not deleted and purged), so it is
re-enabled, every envelope is re-wrapped under v2 (``encryption.rotation.rewrap``: header
only, verified, resumable), and then v1 is disabled again — now every batch reads.
"""
from __future__ import annotations

import shutil
import uuid
from typing import Any

from encryption.errors import EnvelopeError
from course.case_studies.common import CaseResult, work_dir

NAME = "keyvault-rotation"
SILO = "azure"
DATASET = "case-keyvault-rotation"


def _read_all(store: Any, provider: Any, trust: Any) -> tuple[int, list[str]]:
    """(records read, one error line per batch that failed). A failed batch yields no record."""
    from ingestion.core.landing import batch_prefix, read_batch

    records, errors = 0, []
    for key in store.list(batch_prefix(SILO, DATASET)):
        try:
            records += len(read_batch(store, provider, key, SILO, DATASET, trust))
        except EnvelopeError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    return records, errors


def _key_versions(store: Any) -> dict[str, int]:
    from encryption.envelope import read_header

    versions: dict[str, int] = {}
    for key in store.list("raw/"):
        version = read_header(store.get(key)).key_id.rsplit("/", 1)[-1][:8]
        versions[version] = versions.get(version, 0) + 1
    return versions


def run(batches: int = 5, per_batch: int = 20, seed: int = 0) -> CaseResult:
    """Seal ``batches`` batches under v1, rotate, disable v1 (fails), re-wrap (recovers)."""
    from encryption.providers.azure_keyvault import AzureKeyVaultProvider
    from encryption.rotation import rewrap
    from ingestion.azure.clients import azure_endpoints, credential
    from ingestion.azure.provision import key_client
    from ingestion.core.landing import write_batch
    from lab.storage import LocalDirStore
    from ingestion.records import TrustStore
    from ingestion.samples import generate_records
    from lab.localcloud import local_cloud

    result = CaseResult(NAME)
    out = work_dir(NAME)
    shutil.rmtree(out / "landing", ignore_errors=True)
    store = LocalDirStore(out / "landing")
    records = generate_records(SILO, batches * per_batch + per_batch, seed=seed)
    trust = TrustStore.from_dir()
    key_name = f"case-rotation-{uuid.uuid4().hex[:8]}"  # a fresh key each run: the emulator persists keys

    with local_cloud("azure"):
        ep = azure_endpoints()
        kc = key_client(ep)
        kc.create_rsa_key(key_name, size=2048, key_operations=["wrapKey", "unwrapKey"])
        provider = AzureKeyVaultProvider(ep.vault_url, key_name, credential=credential(),
                                         connection_verify=ep.verify())
        v1 = provider.current_key_id()
        for b in range(batches):
            write_batch(store, provider, SILO, DATASET, f"b{b:04d}", records[b * per_batch:(b + 1) * per_batch])

        # the rotation, and the mistake: v1 disabled at once
        v2 = str(kc.rotate_key(key_name).id)
        provider.refresh()
        write_batch(store, provider, SILO, DATASET, f"b{batches:04d}", records[batches * per_batch:])
        kc.update_key_properties(key_name, version=v1.rsplit("/", 1)[-1], enabled=False)
        read, errors = _read_all(store, provider, trust)
        result.evidence["broken"] = {"key_v1": v1.rsplit("/", 1)[-1][:8], "key_v2": v2.rsplit("/", 1)[-1][:8],
                                     "batches": batches + 1, "failed_batches": len(errors),
                                     "records_read": read, "first_error": errors[0] if errors else None,
                                     "envelopes_by_key_version": _key_versions(store)}
        result.check("every batch sealed under the disabled version fails, loudly", len(errors) == batches
                     and all("403" in e for e in errors), f"{batches} errors naming HTTP 403", len(errors))
        result.check("a failed batch returns no record; the newer batch still reads", read == per_batch,
                     f"{per_batch} records (the post-rotation batch only)", read)

        # recovery: v1 was only disabled -> re-enable, re-wrap under v2, retire v1 again
        kc.update_key_properties(key_name, version=v1.rsplit("/", 1)[-1], enabled=True)
        checkpoint = out / "rewrap-checkpoint.json"
        checkpoint.unlink(missing_ok=True)
        rw = rewrap(store, list(store.list("raw/")), provider, provider, checkpoint, progress=True)
        kc.update_key_properties(key_name, version=v1.rsplit("/", 1)[-1], enabled=False)
        read_after, errors_after = _read_all(store, provider, trust)
        result.evidence["recovered"] = {"rewrap": rw.as_dict(), "records_read": read_after,
                                        "failed_batches": len(errors_after),
                                        "envelopes_by_key_version": _key_versions(store)}
        result.check("re-wrap moved every old envelope to v2 and verified it", rw.ok and rw.rewrapped == batches
                     and rw.already_target == 1, f"{batches} re-wrapped, 1 already on v2",
                     f"{rw.rewrapped} re-wrapped, {rw.already_target} already, {len(rw.failed)} failed")
        result.check("with v1 retired, every record reads again", not errors_after
                     and read_after == len(records), f"{len(records)} records, 0 errors",
                     f"{read_after} records, {len(errors_after)} errors")
    return result
