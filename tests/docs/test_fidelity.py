"""docs/emulator_fidelity.md is kept true: its references exist, and its "not enforced" claims hold live.

The table's cells say who enforces a control (emulator / project / real only).
Every **emulator** or **project** cell must name at least one test, and every
named test must exist in the suite. A few **real only** cells are backed by live
checks below that the emulator still does NOT enforce the control: if a future
emulator starts enforcing it, that check fails and the table must be updated.
"""
from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT
from lab.silos import SILOS

TABLE = REPO_ROOT / "docs" / "emulator_fidelity.md"
CLOUDS = SILOS
VERDICTS = ("emulator", "project", "real only")
CONTROLS = (
    "IAM least privilege", "key policy", "key disable", "stream / topic encryption",
    "bucket / storage encryption", "private endpoints (VPC endpoints / Private Link / Private Service Connect)",
    "managed identity", "CMEK (service-side encryption under your key)", "TLS", "public access block",
    "bucket policy (TLS-only, SSE-KMS-only)", "key rotation", "signature verification of records",
    "schema validation",
)
REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
VERDICT = re.compile(r"^\*\*(emulator|project|real only)\*\*")
#: live checks below -> the (control, cloud) cell they back; that cell must say "real only" or "project"
LIVE = {
    "test_moto_decrypts_with_a_disabled_key": ("key disable", "aws"),
    "test_moto_does_not_enforce_a_key_policy": ("key policy", "aws"),
    "test_azurite_accepts_an_unknown_encryption_scope": ("bucket / storage encryption", "azure"),
    "test_pubsub_accepts_a_topic_key_that_does_not_exist": ("stream / topic encryption", "gcp"),
}


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def table() -> dict[tuple[str, str], str]:
    """(control, cloud) -> cell text, from the first Markdown table in the doc."""
    rows = [line for line in TABLE.read_text().splitlines() if line.startswith("|")]
    header, body = split_row(rows[0]), rows[2:]
    assert header[0] == "control" and [h.split()[0].lower() for h in header[1:]] == list(CLOUDS), header
    cells: dict[tuple[str, str], str] = {}
    for line in body:
        parts = split_row(line)
        assert len(parts) == 1 + len(CLOUDS), f"malformed row: {line[:80]}"
        for cloud, cell in zip(CLOUDS, parts[1:]):
            cells[(parts[0], cloud)] = cell
    return cells


def verdict(cell: str) -> str:
    found = VERDICT.match(cell)
    assert found, f"cell does not start with **emulator**, **project** or **real only**: {cell[:60]!r}"
    return found.group(1)


@cache
def defined_tests(path: str) -> frozenset[str]:
    file = REPO_ROOT / path
    if not file.is_file():
        return frozenset()
    tree = ast.parse(file.read_text())
    return frozenset(n.name for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_"))


def test_every_control_has_a_verdict_for_every_cloud() -> None:
    cells = table()
    assert {control for control, _ in cells} == set(CONTROLS)
    for (control, cloud), cell in cells.items():
        assert verdict(cell) in VERDICTS, (control, cloud)


def test_enforced_and_checked_cells_name_tests_that_exist() -> None:
    missing = []
    for (control, cloud), cell in table().items():
        refs = REF.findall(cell)
        if verdict(cell) in ("emulator", "project") and not refs:
            missing.append(f"{control} / {cloud}: no test named")
        for path, name in refs:
            if name not in defined_tests(path):
                missing.append(f"{control} / {cloud}: {path}::{name} does not exist")
    assert not missing, "\n".join(missing)


def test_live_checks_back_their_cells() -> None:
    for name, (control, cloud) in LIVE.items():
        cell = table()[(control, cloud)]
        assert f"tests/docs/test_fidelity.py::{name}" in cell, f"{control} / {cloud} should cite {name}"
        assert verdict(cell) in ("real only", "project"), f"{control} / {cloud}: the live check says not enforced"


def test_parser_rejects_a_bad_reference_and_a_missing_verdict() -> None:
    assert "test_no_such_test" not in defined_tests("tests/docs/test_fidelity.py")
    assert not defined_tests("tests/no/such_file.py")
    with pytest.raises(AssertionError):
        verdict("enforced, trust me")


# -- live checks: the emulator does NOT enforce what the table says it does not ---------


@pytest.mark.emulator
def test_moto_decrypts_with_a_disabled_key(clean_aws: str) -> None:
    from ingestion.aws.clients import client

    kms = client("kms")
    key = kms.create_key(Description="fidelity: disable")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"fidelity")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Enabled"] is False
    # Real AWS: DisabledException. moto: still decrypts -> the table says "real only".
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"fidelity"


@pytest.mark.emulator
def test_moto_does_not_enforce_a_key_policy(clean_aws: str) -> None:
    import json

    from ingestion.aws.clients import client

    kms = client("kms")
    key = kms.create_key(Description="fidelity: policy")["KeyMetadata"]["KeyId"]
    deny_all = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyAll", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(deny_all))
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == deny_all  # stored
    # Real AWS: AccessDeniedException. moto: allowed -> the table says "real only".
    assert kms.encrypt(KeyId=key, Plaintext=b"x")["KeyId"]



@pytest.mark.emulator
def test_moto_drops_the_kms_rotation_period(clean_aws: str) -> None:
    from ingestion.aws.clients import client

    kms = client("kms")
    key = kms.create_key(Description="fidelity: rotation period")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key)
    # Real AWS returns RotationPeriodInDays=180. moto turns rotation on but keeps no period, so the
    # automatic schedule is "real only" in the key rotation row (tests/infra/test_local_rotation.py).
    assert status["KeyRotationEnabled"] is True
    assert status.get("RotationPeriodInDays") is None

@pytest.fixture(scope="module")
def azure_env() -> Iterator[None]:
    from lab.localcloud import local_cloud

    with local_cloud("azure"):
        yield


@pytest.mark.emulator
def test_azurite_accepts_an_unknown_encryption_scope(azure_env: None) -> None:
    from azure.storage.blob import ContainerClient

    from ingestion.azure.endpoints import azure_endpoints, credential

    ep = azure_endpoints()
    container = ContainerClient(ep.blob_url, f"fidelity-{uuid.uuid4().hex[:8]}", credential=credential(),
                                connection_verify=ep.verify())
    container.create_container()
    try:
        # Real Azure: 409 EncryptionScopeNotFound. Azurite: stored -> the table says the project encrypts.
        container.upload_blob("probe", b"fidelity", encryption_scope="no-such-scope-anywhere")
        assert container.download_blob("probe").readall() == b"fidelity"
    finally:
        container.delete_container()


@pytest.fixture(scope="module")
def pubsub_env() -> Iterator[None]:
    from lab.localcloud import local_cloud

    with local_cloud("pubsub"):
        yield


@pytest.mark.emulator
def test_pubsub_accepts_a_topic_key_that_does_not_exist(pubsub_env: None) -> None:
    from ingestion.gcp import clients
    from lab.config import settings

    project = settings().gcp_project
    publisher = clients.publisher(ordering=False)
    topic = f"projects/{project}/topics/fidelity-{uuid.uuid4().hex[:8]}"
    bogus = f"projects/{project}/locations/nowhere/keyRings/none/cryptoKeys/none"
    # Real Pub/Sub: refused (the key must exist and the service agent needs access to it).
    publisher.create_topic(request={"name": topic, "kms_key_name": bogus})
    try:
        assert publisher.get_topic(request={"topic": topic}).kms_key_name == bogus
        assert publisher.publish(topic, b"fidelity").result(timeout=30)  # and it is not used either
    finally:
        publisher.delete_topic(request={"topic": topic})


def test_doc_is_linked_from_the_ingestion_readme() -> None:
    assert "emulator_fidelity.md" in (REPO_ROOT / "ingestion" / "README.md").read_text()


def test_table_file_exists() -> None:
    assert Path(TABLE).is_file()
