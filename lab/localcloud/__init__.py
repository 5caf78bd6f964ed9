"""The local cloud: start, health-check, reuse and stop emulators on 127.0.0.1.

Use :func:`local_cloud` in a script: it reuses whatever ``make up`` left running,
starts what is missing on free ports, exports the endpoints through each SDK's
standard environment variables, and stops only what it started.
"""
from lab.localcloud.base import Emulator, EmulatorError, RunningService
from lab.localcloud.session import LocalCloud, down, local_cloud, status, up
from lab.localcloud.registry import SERVICES, services_for

__all__ = [
    "Emulator",
    "EmulatorError",
    "LocalCloud",
    "RunningService",
    "SERVICES",
    "down",
    "local_cloud",
    "services_for",
    "status",
    "up",
]
