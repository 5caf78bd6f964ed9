"""Reuse what runs, start what is missing, stop only what we started."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from lab.config import settings
from lab.localcloud.base import EmulatorError, RunningService
from lab.localcloud.registry import SERVICES, services_for
from lab.silos import SILOS


def _resolve(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name in SILOS:
            out.extend(services_for(name))
        elif name in SERVICES:
            out.append(name)
        else:
            raise EmulatorError(
                f"unknown service {name!r}; known: {sorted(SERVICES)} or a cloud name (aws, azure, gcp)"
            )
    # keep order, drop duplicates, skip clouds configured as real
    seen: dict[str, None] = {}
    for name in out:
        if settings().mode(SERVICES[name].cloud) == "local":
            seen.setdefault(name, None)
    return list(seen)


class LocalCloud:
    """A set of running emulators and the environment that points SDKs at them."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = _resolve(names)
        self.services: dict[str, RunningService] = {}
        self.owned: list[str] = []
        self._saved_env: dict[str, str | None] = {}

    @property
    def env(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for state in self.services.values():
            merged.update(state.env)
        return merged

    def start(self) -> LocalCloud:
        """Attach to running emulators or start them; export their endpoints."""
        try:
            for name in self.names:
                emulator = SERVICES[name]
                state = emulator.running()
                if state is None:
                    state = emulator.start()
                    self.owned.append(name)
                self.services[name] = state
        except BaseException:
            self.stop()
            raise
        for key, value in self.env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        return self

    def stop(self) -> None:
        """Stop the emulators this session started, leave the others running, and put the
        environment back as it was (so SDK clients made later do not point at a stopped port)."""
        for name in reversed(self.owned):
            SERVICES[name].stop(self._current(name))
        self.owned.clear()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def _current(self, name: str) -> RunningService | None:
        """Our instance as recorded now: a restart on the same port (a fault drill, a crash
        recovery) records a new pid, and stopping the old one would orphan the new process."""
        ours = self.services.get(name)
        recorded = RunningService.load(SERVICES[name].state_file)
        if ours is not None and recorded is not None and recorded.port == ours.port:
            return recorded
        return ours


@contextmanager
def local_cloud(*names: str) -> Iterator[LocalCloud]:
    """``with local_cloud("aws"):`` — the emulators of those clouds, for the block's duration."""
    cloud = LocalCloud(names).start()
    try:
        yield cloud
    finally:
        cloud.stop()


def up(names: Iterable[str]) -> list[RunningService]:
    """Start (or find) emulators and leave them running for later scripts."""
    cloud = LocalCloud(names).start()
    cloud.owned.clear()  # `make down` stops them, not us
    cloud._saved_env.clear()  # and the caller keeps the endpoints
    return list(cloud.services.values())


def down(names: Iterable[str]) -> list[str]:
    """Stop emulators recorded in the state directory. Returns the names stopped."""
    return [name for name in _resolve(names) if SERVICES[name].stop()]


def status() -> list[dict[str, object]]:
    """One row per known emulator: running or not, port, pid."""
    rows: list[dict[str, object]] = []
    for name, emulator in SERVICES.items():
        state = emulator.running()
        rows.append(
            {
                "service": name,
                "cloud": emulator.cloud,
                "mode": settings().mode(emulator.cloud),
                "running": state is not None,
                "port": state.port if state else None,
                "pid": state.pid if state else None,
                "description": emulator.description,
            }
        )
    return rows
