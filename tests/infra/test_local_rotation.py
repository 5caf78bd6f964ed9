"""The local AWS silo turns on automatic KMS rotation with a stated period, the one infra/aws sets.

moto 5.2.5 turns rotation on but neither stores nor returns ``RotationPeriodInDays``
(see tests/docs/test_fidelity.py::test_moto_drops_the_kms_rotation_period), so the
period is checked where it leaves the client: the request the SDK sends.
"""
from __future__ import annotations

from typing import Any

from encryption.rotation import rotation_status
from ingestion.aws.clients import client
from ingestion.aws.provision import KEY_ROTATION_DAYS, ensure_key


def _sent_rotation_requests(kms: Any) -> list[dict[str, Any]]:
    """Record the parameters of every EnableKeyRotation call this client makes."""
    sent: list[dict[str, Any]] = []
    kms.meta.events.register("provide-client-params.kms.EnableKeyRotation",
                             lambda params, **_: sent.append(dict(params)))
    return sent


def test_provisioned_key_rotates_and_asks_for_the_period(clean_aws: str) -> None:
    kms = client("kms")
    sent = _sent_rotation_requests(kms)
    _, key_arn = ensure_key(kms, "alias/rotation-probe")
    assert rotation_status(kms, key_arn)["enabled"] is True
    assert sent and all(p.get("RotationPeriodInDays") == KEY_ROTATION_DAYS == 365 for p in sent)


def test_ensure_key_turns_rotation_back_on(clean_aws: str) -> None:
    kms = client("kms")
    key_id, _ = ensure_key(kms, "alias/rotation-repair")
    kms.disable_key_rotation(KeyId=key_id)
    assert rotation_status(kms, key_id)["enabled"] is False
    assert ensure_key(kms, "alias/rotation-repair")[0] == key_id  # found, not created again
    assert rotation_status(kms, key_id)["enabled"] is True
