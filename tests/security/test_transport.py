"""Transport security: local endpoints that are TLS in the real cloud are TLS here too, and no
production code turns certificate verification off.

For Azurite (Blob) and the Key Vault emulator: plain HTTP fails, TLS without the
lab CA fails certificate verification, TLS with the lab CA works. The Flower
deployment's TLS is tested in tests/federated_learning/test_deploy.py.
"""
from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from encryption.errors import KeyServiceError
from encryption.providers.azure_keyvault import AzureKeyVaultProvider
from encryption.providers.gcp_kms import _loopback_only
from lab.localcloud import LocalCloud, local_cloud
from lab.paths import REPO_ROOT
from tests.faults.tally import count

PRODUCTION = ("lab", "ingestion", "encryption", "federated-learning", "poisoning-detection", "data")
DISABLING = re.compile(r"verify\s*=\s*False|_create_unverified_context|CERT_NONE|check_hostname\s*=\s*False|"
                       r"connection_verify\s*=\s*False|insecure_channel")
#: The only places allowed to open a plaintext gRPC channel: the loopback-only emulator paths.
LOOPBACK_ONLY = {"lab/localcloud/gcp.py", "encryption/providers/gcp_kms.py"}


@pytest.fixture(scope="module")
def azure() -> Iterator[LocalCloud]:
    with local_cloud("azure") as cloud:
        yield cloud


def endpoints(cloud: LocalCloud) -> list[tuple[str, int]]:
    out = []
    for var in ("LAB_AZURE_BLOB_URL", "LAB_AZURE_VAULT_URL"):
        port = int(cloud.env[var].split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        out.append((var, port))
    return out


@pytest.mark.emulator
def test_tls_endpoints_refuse_plain_http_and_unknown_cas(azure: LocalCloud) -> None:
    ca = azure.env["LAB_AZURE_CA_BUNDLE"]
    for name, port in endpoints(azure):
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        with pytest.raises((http.client.HTTPException, OSError)):  # the TLS server does not speak HTTP
            plain.request("GET", "/")
            status = plain.getresponse().status
            pytest.fail(f"{name} answered plain HTTP with status {status}")
        plain.close()
        no_lab_ca = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ssl.create_default_context())
        with pytest.raises(ssl.SSLCertVerificationError):
            no_lab_ca.request("GET", "/")
        no_lab_ca.close()
        trusted = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                              context=ssl.create_default_context(cafile=ca))
        trusted.request("GET", "/")
        assert trusted.getresponse().status < 600  # TLS handshake verified; any HTTP answer
        trusted.close()
        count(f"transport: {name}", bad_inputs=2, plaintext_leaks=0)


def test_no_production_code_disables_tls_verification() -> None:
    hits = []
    for top in PRODUCTION:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if ".egg-info" in rel:
                continue
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DISABLING.search(line) and not (rel in LOOPBACK_ONLY and "insecure_channel" in line):
                    hits.append(f"{rel}:{lineno}: {line.strip()}")
    assert not hits, "TLS verification disabled in production code:\n" + "\n".join(hits)


@pytest.mark.parametrize("endpoint", ["kms.example.com:443", "10.0.0.5:9000", "0.0.0.0:8085", "[::2]:1"])
def test_plaintext_kms_channel_refuses_non_loopback_hosts(endpoint: str) -> None:
    with pytest.raises(KeyServiceError, match="loopback"):
        _loopback_only(endpoint)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9000", "localhost:1", "[::1]:8085"])
def test_plaintext_kms_channel_allows_loopback(endpoint: str) -> None:
    assert _loopback_only(endpoint) == endpoint


def test_key_vault_provider_refuses_http_and_verify_off() -> None:
    with pytest.raises(KeyServiceError, match="https"):
        AzureKeyVaultProvider("http://127.0.0.1:1", "k", credential=object())
    with pytest.raises(KeyServiceError, match="verification"):
        AzureKeyVaultProvider("https://127.0.0.1:1", "k", credential=object(), connection_verify=False)


def test_the_scan_sees_a_disabling_line(tmp_path: Path) -> None:
    assert DISABLING.search("requests.get(url, verify=False)") and DISABLING.search("ssl.CERT_NONE")
    assert not DISABLING.search("client = Client(connection_verify=ca_bundle)")
