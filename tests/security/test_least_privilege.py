"""Least privilege for Azure and GCP identities, checked on their documents (the emulators enforce no RBAC/IAM).

Azurite, the Event Hubs and Key Vault emulators and the GCP emulators accept any
caller, so the roles in ingestion/azure/iam/*.json and ingestion/gcp/iam/*.json are
checked here as data: every granted operation (Azure wildcards expanded against the
provider operations below) must be on the identity's allow-list — derived from the
SDK calls its code makes (table NEEDS) — or on a short list of named, reasoned
extras that a published built-in/predefined role carries; scopes are single
resources (no subscription/project, no wildcard) except where noted; the producer
cannot read, the trainer cannot write. AWS: moto enforces IAM
(tests/ingestion/aws/test_iam_enforcement.py); here only the explicit no-`*` check.
"""
from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from lab.paths import REPO_ROOT
from tests.faults.tally import count

AZ_DIR, GCP_DIR, AWS_DIR = (REPO_ROOT / p for p in ("ingestion/azure/iam", "ingestion/gcp/iam", "ingestion/aws/iam"))
IDENTITIES = ("producer", "consumer", "trainer")
EH, BLOB, KV = "Microsoft.EventHub/namespaces/", "Microsoft.Storage/storageAccounts/blobServices/", "Microsoft.KeyVault/vaults/keys/"

# Provider operations a wildcard could reach (from the providers' published operation lists).
AZURE_OPERATIONS = {
    EH + "messages/send/action", EH + "messages/receive/action", EH + "eventhubs/read", EH + "eventhubs/write",
    EH + "eventhubs/delete", EH + "eventhubs/consumergroups/read", EH + "eventhubs/consumergroups/write",
    EH + "eventhubs/authorizationRules/listkeys/action", EH + "authorizationRules/listkeys/action",
}

# code path -> the operation it needs (Azure dataActions/actions, GCP permissions)
NEEDS: dict[str, dict[str, dict[str, str]]] = {
    "azure": {
        "producer": {"EventHubProducerClient.send_batch": EH + "messages/send/action",
                     "EventHubProducerClient.create_batch / get_partition_ids": EH + "eventhubs/read"},
        "consumer": {"EventHubConsumerClient.receive_batch": EH + "messages/receive/action",
                     "consumer group of the receiver": EH + "eventhubs/consumergroups/read",
                     "BlobStore.put (upload_blob, overwrite)": BLOB + "containers/blobs/write",
                     "BlobStore.get/list/exists (verify, checkpoint)": BLOB + "containers/blobs/read",
                     "KeyVaultProvider.key_id (get_key)": KV + "read",
                     "KeyVaultProvider.wrap": KV + "wrap/action", "KeyVaultProvider.unwrap": KV + "unwrap/action"},
        "trainer": {"read_batches (download/list)": BLOB + "containers/blobs/read",
                    "container lookup": BLOB + "containers/read",
                    "KeyVaultProvider.unwrap": KV + "unwrap/action", "KeyVaultProvider.key_id": KV + "read"},
    },
    "gcp": {
        "producer": {"PublisherClient.publish": "pubsub.topics.publish"},
        "consumer": {"SubscriberClient.pull/acknowledge/modify_ack_deadline": "pubsub.subscriptions.consume",
                     "GcsStore.put": "storage.objects.create", "GcsStore.put over a batch / delete (rollback)":
                     "storage.objects.delete", "GcsStore.get": "storage.objects.get", "GcsStore.list":
                     "storage.objects.list", "bq.insert_rows_json": "bigquery.tables.updateData",
                     "bq DML DELETE reads the table": "bigquery.tables.getData", "table metadata": "bigquery.tables.get",
                     "bq.query (DELETE job)": "bigquery.jobs.create", "GcpKmsProvider.wrap (encrypt)":
                     "cloudkms.cryptoKeyVersions.useToEncrypt", "GcpKmsProvider.unwrap (decrypt)":
                     "cloudkms.cryptoKeyVersions.useToDecrypt", "GcpKmsProvider.key_id (get_crypto_key)":
                     "cloudkms.cryptoKeys.get"},
        "trainer": {"read_batches (get/list)": "storage.objects.get", "listing": "storage.objects.list",
                    "GcpKmsProvider.unwrap": "cloudkms.cryptoKeyVersions.useToDecrypt"},
    },
}

# Operations a published role carries beyond the need, each with why it is accepted.
ACCEPTED_EXTRAS: dict[str, dict[str, dict[str, str]]] = {
    "azure": {
        "consumer": {f"Microsoft.EventGrid/eventSubscriptions/{v}": "built into Key Vault Crypto Service "
                     "Encryption User (key-change notifications); control plane, no data access" for v in
                     ("read", "write", "delete")},
        "trainer": {BLOB + "generateUserDelegationKey/action": "built into Storage Blob Data Reader; only "
                    "effective at account scope, and a delegation SAS never exceeds the caller's own rights"},
    },
    "gcp": {
        "consumer": {"pubsub.snapshots.seek": "in roles/pubsub.subscriber: rewinds its own subscription only",
                     "pubsub.topics.attachSubscription": "in roles/pubsub.subscriber; a topic permission, inert "
                     "on a subscription binding",
                     "resourcemanager.projects.get": "in roles/bigquery.jobUser (project metadata read)",
                     "resourcemanager.projects.list": "in roles/bigquery.jobUser (project metadata read)"},
        "trainer": {p: "read-only metadata in the predefined viewer/decrypter roles" for p in (
            "resourcemanager.projects.get", "resourcemanager.projects.list", "storage.folders.get",
            "storage.folders.list", "storage.managedFolders.get", "storage.managedFolders.list",
            "cloudkms.locations.get", "cloudkms.locations.list")},
    },
}

PROJECT_SCOPED_ROLES = {"roles/bigquery.jobUser"}  # jobs can only be created in a project
WRITE = re.compile(r"(/(write|delete)$|/(send|add|move|wrap|encrypt|sign|update|backup|restore|purge|import)/action$"
                   r"|\.(create|delete|update|publish|updateData|setIamPolicy|useToEncrypt|attachSubscription)$)")
READ_STREAM = re.compile(r"(/messages/receive/action$|^pubsub\.subscriptions\.consume$)")
WRITE_LANDING = re.compile(r"(containers/blobs/write$|^storage\.objects\.create$)")


def load(folder: Path, identity: str) -> dict[str, Any]:
    return json.loads((folder / f"{identity}.json").read_text())


def expand(pattern: str) -> set[str]:
    """An Azure operation pattern -> the concrete operations it grants."""
    if "*" not in pattern:
        return {pattern}
    hits = {op for op in AZURE_OPERATIONS if fnmatch.fnmatchcase(op, pattern)}
    assert hits, f"wildcard {pattern} matches no known operation: extend AZURE_OPERATIONS from the provider's list"
    return hits


def granted(cloud: str, identity: str) -> dict[str, set[str]]:
    """scope/resource -> operations granted there."""
    out: dict[str, set[str]] = {}
    if cloud == "azure":
        for a in load(AZ_DIR, identity)["assignments"]:
            ops = set().union(*(expand(p) for key in ("actions", "dataActions") for p in a["permissions"][key]))
            out.setdefault(a["scope"], set()).update(ops)
    else:
        for b in load(GCP_DIR, identity)["bindings"]:
            out.setdefault(b["resource"], set()).update(b["permissions"])
    return out


CASES = [(c, i) for c in ("azure", "gcp") for i in IDENTITIES]


@pytest.mark.parametrize("cloud, identity", CASES)
def test_each_identity_is_granted_only_what_its_code_calls(cloud: str, identity: str) -> None:
    ops = set().union(*granted(cloud, identity).values())
    need = set(NEEDS[cloud][identity].values())
    extras = ACCEPTED_EXTRAS[cloud].get(identity, {})
    assert ops - need - set(extras) == set(), "granted but not needed"
    assert need - ops == set(), "needed by the code but not granted"
    assert set(extras) <= ops, "an accepted extra is no longer granted: drop it from ACCEPTED_EXTRAS"
    count(f"least privilege: {cloud} {identity}", grants_checked=len(ops))


@pytest.mark.parametrize("cloud, identity", CASES)
def test_scopes_are_single_resources(cloud: str, identity: str) -> None:
    if cloud == "azure":
        for a in load(AZ_DIR, identity)["assignments"]:
            scope = a["scope"]
            assert "*" not in scope and scope.count("/providers/") == 1 and re.search(
                r"/(eventhubs|containers|keys)/\$\{[A-Z_]+\}$", scope), scope
    else:
        for b in load(GCP_DIR, identity)["bindings"]:
            resource = b["resource"]
            assert "*" not in resource, resource
            if b["role"] in PROJECT_SCOPED_ROLES:
                assert b["why"] and set(b["permissions"]) <= {"bigquery.jobs.create", "resourcemanager.projects.get",
                                                             "resourcemanager.projects.list"}
            else:
                assert re.search(r"/(topics|subscriptions|buckets|tables|cryptoKeys)/\$\{[A-Z_]+\}$", resource), resource


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_separation_of_duties(cloud: str) -> None:
    ops = {i: set().union(*granted(cloud, i).values()) for i in IDENTITIES}
    assert not any(WRITE.search(o) for o in ops["trainer"]), "the trainer must write nothing"
    assert not any(READ_STREAM.search(o) for o in ops["producer"]), "the producer must not read the stream"
    assert not any(WRITE_LANDING.search(o) or o.endswith("blobs/read") or o.startswith("storage.")
                   for o in ops["producer"]), "the producer must not touch the landing"
    both = [i for i in IDENTITIES if any(READ_STREAM.search(o) for o in ops[i])
            and any(WRITE_LANDING.search(o) for o in ops[i])]
    assert both == ["consumer"], "only the consumer's job is to read the stream and write the landing"


def test_custom_roles_say_why_and_built_in_roles_say_where_published() -> None:
    for cloud, folder, key in (("azure", AZ_DIR, "assignments"), ("gcp", GCP_DIR, "bindings")):
        for identity in IDENTITIES:
            for grant in load(folder, identity)[key]:
                kind = grant["type"]
                assert kind in ("BuiltInRole", "CustomRole", "predefined", "custom"), grant
                assert grant.get("why") if kind in ("CustomRole", "custom") else grant.get("source"), grant


def test_the_checks_catch_an_over_broad_grant(tmp_path: Path) -> None:
    """Mutation: the trainer given Storage Blob Data Contributor's write, and a subscription scope, must be caught."""
    doc = load(AZ_DIR, "trainer")
    doc["assignments"][0]["permissions"]["dataActions"].append(BLOB + "containers/blobs/write")
    doc["assignments"][0]["scope"] = "/subscriptions/${SUBSCRIPTION_ID}"
    ops = set().union(*(expand(p) for a in doc["assignments"] for k in ("actions", "dataActions")
                        for p in a["permissions"][k]))
    assert any(WRITE.search(o) for o in ops)
    assert ops - set(NEEDS["azure"]["trainer"].values()) - set(ACCEPTED_EXTRAS["azure"]["trainer"])
    assert not re.search(r"/(eventhubs|containers|keys)/\$\{[A-Z_]+\}$", doc["assignments"][0]["scope"])
    assert expand("Microsoft.EventHub/*/send/action") == {EH + "messages/send/action"}


def statements(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["Statement"]


@pytest.mark.parametrize("path", sorted(AWS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_aws_policies_allow_no_wildcard_action_or_resource(path: Path) -> None:
    for st in statements(path):
        if st["Effect"] != "Allow":
            continue  # a Deny on s3:* (e.g. insecure transport) narrows, it grants nothing
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), st
        assert "*" not in resources, st
