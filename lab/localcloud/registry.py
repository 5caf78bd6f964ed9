"""Every emulator the lab knows, by name, and which ones each cloud needs."""
from __future__ import annotations

from lab.localcloud.aws import MotoServer
from lab.localcloud.base import Emulator
from lab.silos import SILOS

SERVICES: dict[str, Emulator] = {}


def register(emulator: Emulator) -> Emulator:
    """Add an emulator to the registry (each cloud module calls this once)."""
    SERVICES[emulator.name] = emulator
    return emulator


register(MotoServer())

# Azure and GCP emulators register themselves here when their modules exist.
for _module in ("lab.localcloud.azure", "lab.localcloud.gcp"):
    try:
        __import__(_module)
    except ModuleNotFoundError as _exc:  # pragma: no cover - while a cloud is not built yet
        if _exc.name != _module:
            raise


CLOUDS = SILOS  # one silo per cloud


def services_for(*clouds: str) -> list[str]:
    """Names of the emulators that the given clouds need (all clouds when none given)."""
    wanted = clouds or CLOUDS
    unknown = set(wanted) - set(CLOUDS)
    if unknown:
        raise ValueError(f"unknown cloud(s) {sorted(unknown)}; choose from {list(CLOUDS)}")
    return [name for name, emu in SERVICES.items() if emu.cloud in wanted]
