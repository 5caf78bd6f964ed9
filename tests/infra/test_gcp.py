"""infra/gcp names what ingestion/gcp uses, puts CMEK on every store, and binds the roles of ingestion/gcp/iam/."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingestion.gcp import provision
from ingestion.gcp.clients import GcpNames
from lab.config import LabSettings

from .hcl import Module, module

IAM_DIR = Path(provision.__file__).resolve().parent / "iam"
PROJECT = "lab-project"
KEY_REF = "${google_kms_crypto_key.landing.id}"
#: Terraform binding resource type -> the resource kind of the IAM documents' "resource" field
BINDING_KINDS = {
    "google_pubsub_topic_iam_member": "pubsub.googleapis.com/projects/${PROJECT}/topics/",
    "google_pubsub_subscription_iam_member": "pubsub.googleapis.com/projects/${PROJECT}/subscriptions/",
    "google_storage_bucket_iam_member": "storage.googleapis.com/projects/_/buckets/",
    "google_bigquery_table_iam_member": "bigquery.googleapis.com/projects/${PROJECT}/datasets/",
    "google_project_iam_member": "cloudresourcemanager.googleapis.com/projects/",
    "google_kms_crypto_key_iam_member": "cloudkms.googleapis.com/projects/",
}


@pytest.fixture(scope="module")
def gcp() -> Module:
    mod = module("gcp")
    assert mod.variables["name_prefix"] == LabSettings.model_fields["name_prefix"].default
    assert mod.variables["location"] == LabSettings.model_fields["gcp_location"].default
    return mod


def test_names_match_gcp_names(gcp: Module) -> None:
    names = GcpNames(project=PROJECT, location=str(gcp.variables["location"]), prefix=str(gcp.variables["name_prefix"]))
    local = {k: gcp.resolve(gcp.locals[k]) for k in ("topic", "deadletter_topic", "subscription", "dataset",
                                                     "table", "bucket", "key_ring", "crypto_key")}
    assert f"projects/{PROJECT}/topics/{local['topic']}" == names.topic
    assert f"projects/{PROJECT}/topics/{local['deadletter_topic']}" == names.deadletter_topic
    assert f"projects/{PROJECT}/subscriptions/{local['subscription']}" == names.subscription
    assert f"{PROJECT}.{local['dataset']}.{local['table']}" == names.bq_table
    assert local["bucket"] == names.bucket
    assert f"projects/{PROJECT}/locations/{names.location}/keyRings/{local['key_ring']}/cryptoKeys/" \
           f"{local['crypto_key']}" == names.crypto_key


def test_key_and_subscription_settings_match_provision(gcp: Module) -> None:
    key = gcp.resource("google_kms_crypto_key", "landing")
    assert gcp.resolve(key["rotation_period"]) == f"{int(provision.ROTATION_PERIOD.total_seconds())}s"
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    assert gcp.locals["labels"] == provision.LABELS
    sub = gcp.resource("google_pubsub_subscription", "landing")
    assert gcp.locals["ack_deadline_s"] == provision.ACK_DEADLINE_S
    assert gcp.locals["max_delivery"] == provision.MAX_DELIVERY_ATTEMPTS
    assert sub["enable_message_ordering"] is True


def test_cmek_on_topics_dataset_table_and_bucket(gcp: Module) -> None:
    for topic in ("records", "deadletter"):
        assert gcp.resource("google_pubsub_topic", topic)["kms_key_name"] == KEY_REF
    assert gcp.resource("google_bigquery_dataset", "silo")["default_encryption_configuration"][0]["kms_key_name"] == KEY_REF
    assert gcp.resource("google_bigquery_table", "records")["encryption_configuration"][0]["kms_key_name"] == KEY_REF
    assert gcp.resource("google_storage_bucket", "landing")["encryption"][0]["default_kms_key_name"] == KEY_REF


def test_table_schema_matches_the_consumer(gcp: Module) -> None:
    schema = gcp.resource("google_bigquery_table", "records")["schema"]
    declared = re.findall(r'name\s*=\s*"(\w+)",\s*type\s*=\s*"(\w+)",\s*mode\s*=\s*"(\w+)"', schema)
    assert declared == [(f.name, f.field_type, f.mode) for f in provision.table_schema()]


def test_perimeter_restricts_the_four_data_apis(gcp: Module) -> None:
    status = gcp.resource("google_access_context_manager_service_perimeter", "silo")["status"][0]
    assert status["restricted_services"] == "${local.restricted_apis}"
    assert set(gcp.locals["restricted_apis"]) == {"pubsub.googleapis.com", "bigquery.googleapis.com",
                                                  "storage.googleapis.com", "cloudkms.googleapis.com"}


def _bindings(gcp: Module) -> set[tuple[str, str, str]]:
    """(identity, role, resource kind) of every binding to a silo service account."""
    custom = {name: f"projects/${{PROJECT}}/roles/{body['role_id']}"
              for name, body in gcp.resources["google_project_iam_custom_role"].items()}
    found = set()
    for rtype, kind in BINDING_KINDS.items():
        for body in gcp.resources.get(rtype, {}).values():
            ident = re.fullmatch(r'\$\{local\.sa\["(\w+)"\]\}', str(body["member"]))
            if not ident:
                continue  # a service agent's CMEK grant, not a silo identity
            role = str(body["role"])
            ref = re.fullmatch(r"\$\{google_project_iam_custom_role\.(\w+)\.name\}", role)
            found.add((ident.group(1), custom[ref.group(1)] if ref else role, kind))
    return found


def _documented() -> set[tuple[str, str, str]]:
    found = set()
    for ident in ("producer", "consumer", "trainer"):
        for b in json.loads((IAM_DIR / f"{ident}.json").read_text())["bindings"]:
            kind = next(k for k in BINDING_KINDS.values() if b["resource"].startswith("//" + k))
            found.add((ident, b["role"], kind))
    return found


def test_bindings_are_the_documented_ones(gcp: Module) -> None:
    assert _bindings(gcp) == _documented()


def test_custom_roles_have_the_documented_permissions(gcp: Module) -> None:
    documented = {b["role"].rsplit("/", 1)[-1]: sorted(b["permissions"])
                  for ident in ("consumer", "trainer")
                  for b in json.loads((IAM_DIR / f"{ident}.json").read_text())["bindings"] if b["type"] == "custom"}
    defined = {body["role_id"]: sorted(body["permissions"]) for body in gcp.resources["google_project_iam_custom_role"].values()}
    assert defined == documented
