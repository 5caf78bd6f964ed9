"""Fault-injection suite: every test here carries the ``faults`` marker.

Faults are injected into the real path (an emulator process killed and restarted
on its port, the network path to a service cut, a real SDK client wrapped so a
call fails as the service would fail it); the services themselves are the lab's
emulators over the wire, never mocks.
"""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)
