"""The Azure silo end to end against the local Azure cloud, with the real SDKs over the wire."""
from __future__ import annotations

import json

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential

from encryption.envelope import decrypt
from encryption.errors import EnvelopeError
from ingestion import samples
from ingestion.azure.blobstore import BlobStore
from ingestion.azure.consumer import EventHubConsumer
from ingestion.azure.endpoints import azure_endpoints, credential
from ingestion.azure.ingest import Silo, run_ingest
from ingestion.azure.producer import EventHubProducer
from ingestion.core.landing import batch_prefix, context, deadletter_prefix, read_batches
from ingestion.core.verify import verify_landing
from ingestion.records import TrustStore
from tests.lab.emulators.forge import azure_token as make_token

pytestmark = pytest.mark.emulator


def test_ingest_lands_encrypted_batches_and_dead_letters(silo: Silo) -> None:
    valid = samples.generate_records("azure", 120, seed=1)
    lines = samples.mixed_lines(valid, samples.invalid_examples(valid, 8, 1), 1)
    summary, result = run_ingest(lines, do_reset=True, batch_size=50, show_progress=False)
    out = summary.to_dict()
    assert out["verified"] is True and result.errors == []
    assert out["sent"] == 128 and out["landed"] + out["dead_lettered"] == 128
    assert out["dead_lettered"] == 8 and out["landed"] == len({r.id for r in valid}) == 120
    assert out["kms_calls"] >= 1 and out["silo"] == "azure"
    keys = list(silo.store.list(batch_prefix("azure", "digits")))
    assert keys and all(k.startswith("raw/silo=azure/dataset=digits/batch=p") for k in keys)
    assert list(silo.store.list(deadletter_prefix("azure")))
    raw = silo.store.get(keys[0])
    assert b"azure-digits-" not in raw and b"features" not in raw, "landed batches must be encrypted"
    tampered = bytearray(raw)
    tampered[-5] ^= 1
    silo.store.put(keys[0], bytes(tampered))
    again = verify_landing(silo.store, silo.provider, "azure", "digits", TrustStore.from_dir())
    assert not again.verified and any(keys[0] in e for e in again.errors)


def test_consumer_restart_mid_stream_neither_loses_nor_duplicates(silo: Silo) -> None:
    trust = TrustStore.from_dir()
    lines = [r.to_json().encode() for r in samples.generate_records("azure", 300, seed=2)]
    with silo.producer_client() as client:
        assert EventHubProducer(client).put_all(lines).sent == 300
    first = EventHubConsumer(silo.consumer_client, silo.lander("digits", trust), batch_size=40)
    stats = first.run(max_batches=2)
    assert 0 < stats.landed < 300
    second = EventHubConsumer(silo.consumer_client, silo.lander("digits", trust), batch_size=40)  # a new process
    rest = second.run()
    assert stats.landed + rest.landed == 300 and rest.duplicates == 0
    result = verify_landing(silo.store, silo.provider, "azure", "digits", trust)
    assert result.verified and result.records == 300 and result.duplicates == 0
    again = EventHubConsumer(silo.consumer_client, silo.lander("digits", trust), batch_size=40).run()
    assert again.read == 0, "a caught-up consumer reads nothing more"


@pytest.mark.slow
def test_resent_records_are_counted_as_duplicates_not_landed_twice(silo: Silo) -> None:
    lines = [r.to_json().encode() for r in samples.generate_records("azure", 30, seed=3)]
    run_ingest(lines, show_progress=False)
    summary, result = run_ingest(lines, show_progress=False)  # same records again, keep landing
    assert summary.duplicates == 30 and summary.landed == 0
    assert result.verified and result.records == 30


@pytest.mark.slow
def test_rotation_keeps_old_batches_readable_and_wrong_context_fails(silo: Silo) -> None:
    lines = [r.to_json().encode() for r in samples.generate_records("azure", 40, seed=4)]
    run_ingest(lines, show_progress=False)
    old_key = silo.keyvault.current_key_id()
    from ingestion.azure.provision import key_client

    key_client(azure_endpoints()).rotate_key(silo.resources.key_name)
    fresh = Silo.connect(silo.resources)  # a new reader: nothing cached
    assert fresh.keyvault.current_key_id() != old_key
    records = list(read_batches(fresh.store, fresh.provider, "azure", "digits"))
    assert len(records) == 40
    assert fresh.keyvault.calls >= 2, "old envelopes were unwrapped by Key Vault"
    new_lines = [r.to_json().encode() for r in samples.generate_records("azure", 45, seed=4)[40:]]
    summary, result = run_ingest(new_lines, show_progress=False)
    assert result.verified and summary.extra["key_id"] != old_key
    key = next(iter(fresh.store.list(batch_prefix("azure", "digits"))))
    blob = fresh.store.get(key)
    with pytest.raises(EnvelopeError):
        decrypt(blob, fresh.provider, context("azure", "digits", "p9-000000000000"))
    with pytest.raises(EnvelopeError):
        decrypt(blob, fresh.provider, context("azure", "other", key.rsplit("batch=", 1)[1].split(".")[0]))


def test_default_credential_reaches_azurite_and_other_tokens_are_refused(silo: Silo) -> None:
    assert isinstance(credential(), DefaultAzureCredential)
    ep = azure_endpoints()

    class WrongAudience:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            token, expires = make_token("https://vault.azure.net")
            return AccessToken(token, expires)

    intruder = BlobStore(ep.blob_url, silo.resources.container, WrongAudience(), ep.verify())
    with pytest.raises(HttpResponseError) as err:
        intruder.put("raw/silo=azure/intruder.txt", b"x")
    assert err.value.status_code in (401, 403)
    assert not silo.store.exists("raw/silo=azure/intruder.txt")


def test_script_json_summary_and_bad_arguments(azure_cloud: object, capsys: pytest.CaptureFixture[str]) -> None:
    import runpy

    script = runpy.run_path("ingestion/azure/eventhub_ingest.py")
    assert script["main"](["--records", "25", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"sent", "landed", "dead_lettered", "duplicates", "batches", "kms_calls", "verified", "silo"} <= set(out)
    assert out["verified"] is True and out["landed"] == 25 and out["silo"] == "azure"
    with pytest.raises(SystemExit) as bad:
        script["main"](["--records", "0"])
    assert bad.value.code == 2
