"""After KMS key rotation, batches landed before it still decrypt and verify."""
from __future__ import annotations

from encryption.rotation import rotate_key_on_demand
from ingestion import samples
from ingestion.aws.clients import client
from ingestion.aws.ingest import Silo
from ingestion.core import landing
from ingestion.core.verify import verify_landing
from ingestion.records import TrustStore


def test_rotate_then_read_old_and_new(silo: Silo) -> None:
    records = samples.generate_records("aws", 20, seed=30)
    trust = TrustStore.from_dir()  # after the generator made the producer's key: the test runs alone too
    landing.write_batch(silo.store, silo.provider, "aws", "digits", "before", records[:10])
    kms = client("kms")
    rotate_key_on_demand(kms, silo.resources.key_id)
    assert kms.list_key_rotations(KeyId=silo.resources.key_id)["Rotations"]
    silo.provider.clear()  # forget cached data keys: the next batch gets a key under the new material
    landing.write_batch(silo.store, silo.provider, "aws", "digits", "after", records[10:])
    fresh = Silo.connect(silo.resources)  # a new reader with empty caches asks KMS for both
    result = verify_landing(fresh.store, fresh.provider, "aws", "digits", trust,
                            expected_ids={r.id for r in records})
    assert result.verified, result.errors
    assert fresh.kms.calls >= 2
