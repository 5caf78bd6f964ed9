"""AWS on the local cloud: moto in server mode (Kinesis, S3, KMS, IAM, EC2)."""
from __future__ import annotations

import shutil
import sys
import urllib.request
from pathlib import Path

from lab.config import settings
from lab.localcloud.base import LOOPBACK, Emulator

#: Obviously fake credentials. moto accepts any; real AWS rejects these.
FAKE_AWS_ACCESS_KEY_ID = "FAKEEMULATORACCESSKEY"
FAKE_AWS_SECRET_ACCESS_KEY = "fake-emulator-secret-not-a-real-key"


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
        try:
            with urllib.request.urlopen(  # noqa: S310 - fixed loopback URL
                f"http://{LOOPBACK}:{port}/moto-api/data.json", timeout=1
            ) as resp:
                return resp.status == 200
        except OSError:
            return False
