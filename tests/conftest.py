"""Shared fixtures: an isolated lab state folder and one local AWS cloud (moto) per session.

The suite never touches a student's running emulators or a real cloud account:
before anything reads the settings, LAB_STATE_DIR points at a fresh temporary
folder (emulator state, producer keys, certificates) and every cloud is forced
to local mode. Emulators started here are stopped at the end of the session.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

_STATE_DIR = Path(tempfile.mkdtemp(prefix="lab-pytest-"))
os.environ["LAB_STATE_DIR"] = str(_STATE_DIR)
for _cloud in ("AWS", "AZURE", "GCP"):
    os.environ[f"LAB_{_cloud}_MODE"] = "local"

from lab.config import settings  # noqa: E402  (after the environment above)
from lab.localcloud import LocalCloud, local_cloud  # noqa: E402

settings.cache_clear()

from lab.trust import demo_producers, ensure_enrolled  # noqa: E402

for _name, _silo in demo_producers():  # what `make setup` does: enrol the walk-through's producers
    ensure_enrolled(_name, _silo)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_STATE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_state_dir() -> Path:
    """The session's private LAB_STATE_DIR."""
    return _STATE_DIR


@pytest.fixture(scope="session")
def aws_cloud() -> Iterator[LocalCloud]:
    """moto in server mode for the whole session (started here, stopped at the end)."""
    with local_cloud("aws") as cloud:
        yield cloud


@pytest.fixture(scope="session")
def moto_url(aws_cloud: LocalCloud) -> str:
    return aws_cloud.env["AWS_ENDPOINT_URL"]


def reset_moto(url: str) -> None:
    """Wipe every resource moto holds (POST /moto-api/reset)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - loopback test server
        assert resp.status == 200


@pytest.fixture
def clean_aws(moto_url: str) -> str:
    """A moto with no resources left over from earlier tests; returns its URL."""
    reset_moto(moto_url)
    return moto_url
