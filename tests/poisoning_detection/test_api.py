"""Scan behaviour on sklearn digits: a planted backdoor is found and traced; a clean set is not accused."""
from __future__ import annotations

import json

import numpy as np
from sklearn.metrics import f1_score

from poisoning_detection import api, attack, data, fusion
from poisoning_detection.remediation import remediate


def test_backdoor_is_flagged_named_and_traced_to_its_producer(backdoor_scan) -> None:
    scan, truth = backdoor_scan
    rep = scan.report
    assert f1_score(truth, scan.fused.flagged) >= 0.8
    assert rep.risk_score >= 0.5
    assert rep.suspected and (rep.suspected[0].source, rep.suspected[0].target) == (0, 1)
    assert rep.per_class["1"].poisoned and not rep.per_class["5"].poisoned
    assert rep.compromised_producers == ["producer-mallory"]
    assert all(str(i).startswith("r") for i in rep.flagged)
    text = " ".join(rep.mitigations)
    assert "Quarantine" in text and "producer-mallory" in text and "trigger check" in text
    parsed = json.loads(rep.to_json())
    assert parsed["flagged_count"] == len(parsed["flagged"]) and 0 <= parsed["risk_score"] <= 1
    assert set(parsed["methods"]) >= {"activation_clustering", "spectral_signatures", "loss", "gradient", "fused"}


def test_estimated_trigger_sits_in_the_corner(backdoor_scan) -> None:
    pixels = backdoor_scan[0].report.suspected[0].trigger_pixels
    planted = {(8 + r, 8 + c) for r, c in attack.trigger_offsets(8)}
    assert len(planted & {tuple(p) for p in pixels}) >= 3


def test_every_detector_ranks_poison_above_clean(backdoor_scan) -> None:
    from sklearn.metrics import roc_auc_score

    scan, truth = backdoor_scan
    for name, result in scan.results.items():
        assert result.scores.shape == truth.shape
        if name == "look_alike":  # scores only the groups it proposes; triggered '0's vote for each other here
            continue
        assert roc_auc_score(truth, result.scores) > 0.7, name


def test_clean_set_gets_low_risk_and_few_flags(clean_scan) -> None:
    assert clean_scan.report.risk_score < 0.2
    assert clean_scan.fused.flagged.mean() <= 0.01
    assert clean_scan.report.suspected == []
    assert "No poisoning found" in clean_scan.report.mitigations[0]


def test_individual_flags_below_the_clean_noise_floor_are_dropped(clean_scan) -> None:
    fused = fusion.fuse(clean_scan.context, clean_scan.results)
    share, raw = fusion.individual_evidence(clean_scan.context)
    assert raw.mean() <= 2 * fusion.CLEAN_INDIVIDUAL_SHARE and not fused.individual.any()
    assert ((share >= 0) & (share <= 1)).all()


def test_label_flips_are_caught(digits_split) -> None:
    xtr, _, ytr, _ = digits_split
    yf, truth = attack.flip_labels(ytr, 0.1, seed=0)
    scan = api.run_scan(data.Dataset(xtr, yf), seed=0, progress=False)
    assert f1_score(truth, scan.fused.flagged) >= 0.7
    assert scan.report.risk_score >= 0.5


def test_remediation_removes_the_backdoor(backdoor_scan, digits_split) -> None:
    scan, _ = backdoor_scan
    _, xte, _, yte = digits_split
    rem, _ = remediate(scan.dataset.x, scan.dataset.y, scan.fused.flagged, scan.trained, xte, yte,
                       source=0, target=1, seed=0, progress=False)
    assert rem.attack_success_before is not None and rem.attack_success_before > 0.5
    assert rem.attack_success_after is not None and rem.attack_success_after <= 0.1
    assert rem.clean_accuracy_after >= rem.clean_accuracy_before - 0.03
    assert np.isclose(rem.removed, scan.fused.flagged.sum())


def test_individual_flag_needs_the_deep_knn_and_one_view_that_names_the_same_class() -> None:
    """Record 0: deep k-NN and pixel k-NN name '2' -> flagged; 1: deep and early model name '2' ->
    flagged; 2: only the deep k-NN disagrees -> not; 3: the other views name a different class
    than the deep k-NN -> not; 4: the deep k-NN agrees with the label (a backdoored record among
    its kind), even though both other views disagree -> not."""
    from types import SimpleNamespace

    y = np.zeros(5, int)
    ctx = SimpleNamespace(
        y=y, deep_votes=np.array([2, 2, 2, 2, 0]), deep_share=np.array([0.8, 0.9, 1.0, 0.8, 1.0]),
        votes=np.array([2, 0, 0, 1, 1]), vote_share=np.array([0.7, 0.6, 0.6, 0.9, 0.9]),
        early_probs=np.eye(3)[[0, 2, 0, 1, 1]] * 0.9 + 0.1 / 3)
    _, flag = fusion.individual_evidence(ctx)
    assert flag.tolist() == [True, True, False, False, False]
