"""The cost-of-security benchmark runs both legs on moto and reports its figures (one tiny round)."""
from __future__ import annotations

import pytest

from ingestion import samples
from ingestion.aws.ingest import Adapter
from ingestion.core.bench import compare


def test_secure_vs_plain_compare_reports_figures(clean_aws: str) -> None:
    lines = [r.to_json().encode() for r in samples.generate_records("aws", 200, seed=2)]
    figures = compare(lambda secure: Adapter(with_vpc=False, secure=secure), lines, rounds=1)
    assert figures["verified"] is True and figures["rounds"] == 1 and figures["records"] == 200
    assert figures["secure_vs_plain_ratio"] > 0 and figures["floor_us_per_record"] > 0
    step = figures["step_cpu_us_per_record"]
    assert step["secure"] > 0 and step["plain"] > 0 and step["floor"] > step["plain"]  # every lander was metered
    assert figures["security_cpu_us_per_record"] == pytest.approx(step["secure"] - step["plain"], abs=0.2)
    # the floor is the floor leg's step minus plain's, and the overhead is counted in it
    assert figures["floor_us_per_record"] == pytest.approx(step["floor"] - step["plain"], abs=0.2)
    in_floors = (step["secure"] - step["plain"]) / (step["floor"] - step["plain"])
    assert figures["overhead_vs_floor"] == pytest.approx(in_floors, rel=0.02)
    idle = figures["idle_floors_us_per_record"]  # and in the idle floor timed around each leg
    in_idle_floors = step["secure"] / idle["secure"][0] - step["plain"] / idle["plain"][0]
    assert figures["overhead_vs_idle_floor"] == pytest.approx(in_idle_floors, abs=0.01)
    assert figures["kms_calls"] >= 1  # the warm-up fetched the data key, and it counts
    plain = Adapter(with_vpc=False, secure=False)
    plain.provision()
    head = plain.connected.store.s3.head_object(Bucket=plain.connected.resources.bucket,
                                                Key=next(plain.store.list("raw/")))
    assert head.get("ServerSideEncryption") != "aws:kms"  # the baseline really has SSE off
