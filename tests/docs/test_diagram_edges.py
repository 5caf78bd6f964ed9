"""Every arrow of the diagrams is a real call path.

``EDGES`` maps each edge of each Mermaid block (diagram file, from-node, to-node) to
the module(s) that make the call and the symbol they call or pass on (a function,
method, class or, for a process started with flags, the flag). The test checks that
every arrow of every diagram has an entry, that every entry is still an arrow, and
that each module really uses the symbol (read with ``ast``: a name, an attribute or
a string constant; plain text for a non-Python file). Moving a call out of a module,
or drawing an arrow that no code makes, fails here.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

from .mdcheck import fenced_blocks, parse_mermaid

W5, W6 = "week5_secure_pipeline_architecture", "week6_federated_learning_architecture"
FL = "federated-learning/securefl"
Call = tuple[str, str]  # (module path, symbol)

EDGES: dict[tuple[str, str, str], list[Call]] = {
    # Week 5, shared flow
    (W5, "gen", "prod"): [("ingestion/samples.py", "sign_record")],
    (W5, "pkeys", "prod"): [("ingestion/samples.py", "producer_signing_key")],
    (W5, "prod", "stream"): [("ingestion/aws/producer.py", "put_records"), ("ingestion/azure/producer.py", "send_batch"),
                             ("ingestion/gcp/producer.py", "publish")],
    (W5, "stream", "cons"): [("ingestion/aws/consumer.py", "get_records"),
                             ("ingestion/azure/consumer.py", "receive_batch"), ("ingestion/gcp/consumer.py", "pull")],
    (W5, "cons", "val"): [("ingestion/aws/consumer.py", "screen"), ("ingestion/aws/consumer.py", "land"),
                          ("ingestion/core/pipeline.py", "admit_all")],
    (W5, "trust", "val"): [("ingestion/core/validate.py", "verify")],
    (W5, "val", "batch"): [("ingestion/core/pipeline.py", "write_lines")],
    (W5, "val", "dlq"): [("ingestion/core/pipeline.py", "write_deadletters")],
    (W5, "batch", "env"): [("ingestion/core/landing.py", "encrypt")],
    (W5, "ksvc", "env"): [("encryption/envelope.py", "data_key_for_message"),
                          ("encryption/envelope.py", "unwrap_data_key")],
    (W5, "cache", "env"): [("ingestion/aws/ingest.py", "CachingKeyProvider")],
    (W5, "env", "land"): [("ingestion/core/landing.py", "put")],
    (W5, "land", "ver"): [("ingestion/core/verify.py", "read_batch")],
    # Week 5, AWS lane
    (W5, "awsprod", "kin"): [("ingestion/aws/producer.py", "put_records")],
    (W5, "kin", "awscons"): [("ingestion/aws/consumer.py", "get_records")],
    (W5, "awscons", "kms"): [("ingestion/aws/ingest.py", "AwsKmsProvider"), ("encryption/providers/aws_kms.py", "_data_key")],
    (W5, "awscons", "s3"): [("ingestion/aws/ingest.py", "S3Store"), ("ingestion/aws/store.py", "put_object")],
    (W5, "awspol", "s3"): [("ingestion/aws/provision.py", "bucket_policy")],
    (W5, "awspol", "awscons"): [("tests/ingestion/aws/test_iam_enforcement.py", "role_policy")],
    (W5, "awsstep", "awsprod"): [("ingestion/aws/ingest.py", "KinesisProducer")],
    (W5, "awsstep", "awscons"): [("ingestion/aws/ingest.py", "KinesisConsumer")],
    # Week 5, Azure lane
    (W5, "azprod", "eh"): [("ingestion/azure/producer.py", "send_batch")],
    (W5, "eh", "azcons"): [("ingestion/azure/consumer.py", "receive_batch")],
    (W5, "azcons", "kv"): [("ingestion/azure/ingest.py", "AzureKeyVaultProvider"),
                           ("encryption/providers/azure_keyvault.py", "wrap_key")],
    (W5, "azcons", "blob"): [("ingestion/azure/ingest.py", "BlobStore"), ("ingestion/azure/store.py", "upload_blob")],
    (W5, "mi", "azprod"): [("ingestion/azure/clients.py", "DefaultAzureCredential"),
                           ("ingestion/azure/ingest.py", "credential")],
    (W5, "mi", "azcons"): [("ingestion/azure/ingest.py", "credential")],
    (W5, "azstep", "azprod"): [("ingestion/azure/ingest.py", "EventHubProducer")],
    (W5, "azstep", "azcons"): [("ingestion/azure/ingest.py", "EventHubConsumer")],
    # Week 5, GCP lane
    (W5, "gcpprod", "ps"): [("ingestion/gcp/producer.py", "publish")],
    (W5, "ps", "gcpcons"): [("ingestion/gcp/consumer.py", "pull")],
    (W5, "gcpcons", "ckms"): [("ingestion/gcp/ingest.py", "GcpKmsProvider"), ("encryption/providers/gcp_kms.py", "_kms")],
    (W5, "gcpcons", "gcs"): [("ingestion/gcp/consumer.py", "BatchLander"), ("ingestion/core/pipeline.py", "write_lines"),
                             ("ingestion/gcp/store.py", "upload_from_string")],
    (W5, "gcpcons", "bq"): [("ingestion/gcp/consumer.py", "insert_rows_json")],
    (W5, "gcpstep", "gcpprod"): [("ingestion/gcp/ingest.py", "publish_lines")],
    (W5, "gcpstep", "gcpcons"): [("ingestion/gcp/ingest.py", "PubSubConsumer")],
    # Week 5, rotation and re-wrap
    (W5, "rot", "scan"): [("encryption/rotation.py", "read_header")],
    (W5, "scan", "rewrap"): [("encryption/rotation.py", "rewrap_blob")],
    (W5, "rewrap", "ckpt"): [("encryption/rotation.py", "mark")],
    (W5, "rewrap", "check"): [("encryption/rotation.py", "decrypt")],
    # Week 6, default path: the detector runs on the landings, before training
    (W6, "land1", "reader"): [("ingestion/landed.py", "landing"), ("ingestion/aws/ingest.py", "S3Store")],
    (W6, "land2", "reader"): [("ingestion/landed.py", "landing"), ("ingestion/azure/ingest.py", "BlobStore")],
    (W6, "land3", "reader"): [("ingestion/landed.py", "landing"), ("ingestion/gcp/ingest.py", "GcsStore")],
    (W6, "reader", "det"): [("poisoning-detection/landing.py", "read_landed"), ("poisoning-detection/detect.py", "read")],
    (W6, "det", "quar"): [("poisoning-detection/landing.py", "write_quarantine")],
    (W6, "det", "revoke"): [("course/scenario/run.py", "revoke")],
    (W6, "quar", "reader"): [("ingestion/landed.py", "load_quarantine")],
    (W6, "revoke", "reader"): [("ingestion/landed.py", "from_dir"), ("ingestion/core/landing.py", "untrusted")],
    (W6, "reader", "src"): [(f"{FL}/data.py", "read_landed"), ("federated-learning/run.py", "LandingSource")],
    (W6, "src", "cl"): [(f"{FL}/client_app.py", "client_data")],
    (W6, "cl", "clip"): [(f"{FL}/client_app.py", "fixedclipping_mod")],
    (W6, "clip", "mask"): [(f"{FL}/client_app.py", "secaggplus_mod")],
    (W6, "mask", "srv"): [(f"{FL}/run.py", "flwr_run_simulation"), (f"{FL}/server_app.py", "SecAggPlusWorkflow")],
    (W6, "srv", "noise"): [(f"{FL}/strategy.py", "DifferentialPrivacyClientSideFixedClipping")],
    (W6, "noise", "acct"): [(f"{FL}/outputs.py", "epsilon_of")],
    (W6, "srv", "gm"): [(f"{FL}/outputs.py", "write_model")],
    # Week 6, deployment: the only path with TLS
    (W6, "dep", "slink"): [("federated-learning/deploy.py", "deploy"), (f"{FL}/deploy.py", "--ssl-certfile"),
                           (f"{FL}/deploy.py", "submit")],
    (W6, "dep", "reg"): [(f"{FL}/deploy.py", "register")],
    (W6, "reg", "slink"): [(f"{FL}/deploy.py", "--enable-supernode-auth")],
    (W6, "dep", "nodes"): [(f"{FL}/deploy.py", "start_supernode")],
    (W6, "nodes", "slink"): [(f"{FL}/deploy.py", "--root-certificates"), (f"{FL}/deploy.py", "--auth-supernode-private-key")],
    (W6, "slink", "dsrv"): [("federated-learning/pyproject.toml", "securefl.server_app:app")],
    # Week 6, robust mode
    (W6, "rcl", "rsrv"): [(f"{FL}/run.py", "make_client_app")],
    (W6, "rsrv", "rscore"): [(f"{FL}/strategy.py", "flag_outliers")],
    (W6, "rscore", "ragg"): [(f"{FL}/strategy.py", "aggregate_fit")],
    (W6, "ragg", "rgm"): [(f"{FL}/outputs.py", "write_model")],
    (W6, "rscore", "rrep"): [(f"{FL}/outputs.py", "flag_reasons")],
}


def diagram_edges() -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for stem in (W5, W6):
        text = (REPO_ROOT / "diagrams" / f"{stem}.md").read_text(encoding="utf-8")
        for lang, body, _ in fenced_blocks(text):
            if lang == "mermaid":
                out |= {(stem, a, b) for a, b in parse_mermaid(body).edges}
    return out


@cache
def symbols(path: str) -> frozenset[str]:
    """Names, attributes and string constants a Python module uses (whole text otherwise)."""
    text = (REPO_ROOT / path).read_text(encoding="utf-8")
    if not path.endswith(".py"):
        return frozenset({text})
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return frozenset(found)


def uses(path: str, symbol: str) -> bool:
    if not (REPO_ROOT / path).is_file():
        return False
    found = symbols(path)
    return symbol in found if path.endswith(".py") else any(symbol in text for text in found)


def test_every_arrow_has_a_call_and_every_call_an_arrow() -> None:
    drawn = diagram_edges()
    assert not sorted(drawn - EDGES.keys()), f"arrows with no call path in EDGES: {sorted(drawn - EDGES.keys())}"
    assert not sorted(EDGES.keys() - drawn), f"EDGES entries no diagram draws: {sorted(EDGES.keys() - drawn)}"


@pytest.mark.parametrize("edge", sorted(EDGES), ids=lambda e: f"{e[0][:5]}:{e[1]}->{e[2]}")
def test_each_arrow_is_made_by_its_module(edge: tuple[str, str, str]) -> None:
    missing = [f"{path} does not use {symbol!r}" for path, symbol in EDGES[edge] if not uses(path, symbol)]
    assert not missing, f"{edge[1]} -> {edge[2]}: " + "; ".join(missing)


def test_the_detector_runs_on_landed_data_before_training_and_tls_only_on_deployment() -> None:
    drawn = {(a, b) for stem, a, b in diagram_edges() if stem == W6}
    assert ("reader", "det") in drawn and ("gm", "det") not in drawn  # it scans the landing, not the model
    assert ("quar", "reader") in drawn and ("reader", "src") in drawn  # and training honours its list
    text = (REPO_ROOT / "diagrams" / f"{W6}.md").read_text(encoding="utf-8")
    blocks = [body for lang, body, _ in fenced_blocks(text) if lang == "mermaid"]
    with_tls = [i for i, body in enumerate(blocks) if "TLS" in body]
    assert with_tls == [i for i, body in enumerate(blocks) if "deploy.py" in body] == [1]


def test_the_checker_fails_on_a_symbol_the_module_does_not_use(tmp_path: Path) -> None:
    assert uses("ingestion/landed.py", "load_quarantine")
    assert not uses("ingestion/landed.py", "put_records")
    assert not uses("no/such/module.py", "anything")
