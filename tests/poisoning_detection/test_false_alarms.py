"""A clean silo must not be accused, whatever order its records landed in (the scenario's GCP share
once scored risk 0.60 because one ordering let a clean '1' sub-style pass as a backdoor)."""
from __future__ import annotations

import numpy as np
import pytest

from ingestion.arrays import RecordArrays
from ingestion.samples import generate_records, silo_share
from poisoning_detection import api, attack, data
from poisoning_detection.detectors.trigger import carriers, shared_pixels


def _silo(silo: str) -> tuple[np.ndarray, np.ndarray]:
    recs = generate_records(silo, len(silo_share(silo)), seed=0)
    arrays = RecordArrays.of(recs)
    return arrays.x, arrays.y


@pytest.mark.parametrize(("permutation", "seed"), [(None, 2), (1, 0), (2, 2)])
def test_clean_gcp_share_is_not_accused_in_any_order(permutation: int | None, seed: int) -> None:
    x, y = _silo("gcp")
    order = np.arange(len(y)) if permutation is None else np.random.default_rng(permutation).permutation(len(y))
    scan = api.run_scan(data.from_arrays(x[order], y[order], shape=(8, 8)), seed=seed, progress=False)
    assert scan.report.risk_score < 0.2
    assert scan.fused.flagged.mean() <= 0.01
    assert scan.report.compromised_producers == []


def test_shared_pixels_finds_the_trigger_but_not_a_clean_look_alike() -> None:
    x, y = _silo("aws")
    x = x.reshape(-1, 8, 8)
    zeros = np.flatnonzero(y == 0)[:20]
    triggered = attack.add_trigger(x[zeros], value=1.0)
    xs = np.concatenate([x, triggered])
    ys = np.concatenate([y, np.ones(len(zeros), int)])
    members = np.arange(len(y), len(ys))
    planted = {(8 + r) * 8 + (8 + c) for r, c in attack.trigger_offsets(8)}
    found = shared_pixels(xs, members, ys == 0)
    assert len(found) >= 2 and set(found) <= planted
    # the same images without the trigger: nothing they share that other '0's lack
    assert shared_pixels(x, zeros[:10], y == 0) == []
    assert shared_pixels(xs, np.array([], int), ys == 0) == []


def test_seven_to_one_backdoor_is_caught_by_its_trigger() -> None:
    # triggered '7's resemble clean '1's, so no activation cluster looks like '7': the trigger group does
    x, y = _silo("aws")
    sevens = np.flatnonzero(y == 7)[:24]
    xs = np.concatenate([x, attack.add_trigger(x[sevens], value=1.0)])
    ys = np.concatenate([y, np.ones(len(sevens), int)])
    truth = np.arange(len(ys)) >= len(y)
    scan = api.run_scan(data.from_arrays(xs, ys, shape=(8, 8)), seed=0, progress=False)
    assert (scan.fused.flagged & truth).sum() >= 22 and (scan.fused.flagged & ~truth).sum() <= 5
    assert scan.report.risk_score >= 0.5
    assert (scan.report.suspected[0].source, scan.report.suspected[0].target) == (7, 1)


def test_carriers_keep_the_triggered_members_of_a_mixed_cluster() -> None:
    x, y = _silo("aws")
    x = x.reshape(-1, 8, 8)
    threes, ones = np.flatnonzero(y == 3)[:20], np.flatnonzero(y == 1)[:6]
    xs = np.concatenate([x, attack.add_trigger(x[threes], value=1.0)])
    ys = np.concatenate([y, np.ones(len(threes), int)])
    poison = np.arange(len(y), len(ys))
    mixed = np.concatenate([poison, ones])  # a cluster holding the poison and some clean '1's
    pixels = shared_pixels(xs, mixed, ys == 3)
    assert len(pixels) >= 2
    assert set(carriers(xs, mixed, ys == 3, pixels).tolist()) == set(poison.tolist())
