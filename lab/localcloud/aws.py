"""AWS on the local cloud: moto in server mode (Kinesis, S3, KMS, IAM, EC2)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from lab.config import settings
from lab.localcloud.base import LOOPBACK, Emulator, http_ready

#: Obviously fake credentials. moto accepts any; real AWS rejects these.
FAKE_AWS_ACCESS_KEY_ID = "FAKEEMULATORACCESSKEY"
FAKE_AWS_SECRET_ACCESS_KEY = "fake-emulator-secret-not-a-real-key"  # pragma: allowlist secret


def _moto_server() -> str:
    """The moto_server launcher of the interpreter running the lab."""
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise FileNotFoundError("moto_server (pip package moto[server])")
    return found


class MotoServer(Emulator):
    name = "moto"
    cloud = "aws"
    description = "moto server: Kinesis, S3, KMS, IAM, EC2 (VPC endpoints)"

    def command(self, port: int, extra_ports: dict[str, int]) -> list[str]:
        return [_moto_server(), "-H", LOOPBACK, "-p", str(port)]

    def client_env(self, port: int, extra_ports: dict[str, int]) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": f"http://{LOOPBACK}:{port}",
            "AWS_ACCESS_KEY_ID": FAKE_AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_AWS_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": settings().aws_region,
        }

    def is_ready(self, port: int, extra_ports: dict[str, int]) -> bool:
        # Not /moto-api/data.json: it serialises every resource moto holds, so once a silo has
        # landed data it can take over the 1 s check on a loaded machine; a script would then
        # think moto is down, start a second (empty) one, and the landing would seem gone.
        return http_ready(f"http://{LOOPBACK}:{port}/moto-api/")
