"""The scenario names weak privacy as such, and says honestly whether the backdoor took hold."""
from __future__ import annotations

from course.scenario.config import ScenarioConfig
from course.scenario.report import _privacy_cell
from course.scenario.run import _backdoor, privacy_brief

STRONG = {"epsilon": 7.99, "delta": 1e-5, "privacy_level": "record", "noise_on": "client",
          "privacy_guarantee": {"meaningful": True, "label": "epsilon = 7.99 ..."}}
WEAK = {"epsilon": None, "delta": None, "privacy_level": "none", "noise_on": None,
        "privacy_guarantee": {"meaningful": False, "label": "no meaningful privacy guarantee (no DP)"}}


def test_console_and_report_name_weak_privacy() -> None:
    assert privacy_brief(STRONG).startswith("ε=7.99") and "noise on the client" in privacy_brief(STRONG)
    assert privacy_brief(WEAK) == _privacy_cell(WEAK) == "no meaningful privacy guarantee (no DP)"
    assert _privacy_cell(STRONG) == "meaningful"
    assert privacy_brief({}) == "no meaningful privacy guarantee"  # a run without the fields claims nothing


def test_backdoor_note_carries_the_figures() -> None:
    cfg = ScenarioConfig()
    took, note = _backdoor(cfg, {"raw": {"attack_success_rate": 0.194}, "no-attack": {"attack_success_rate": 0.0},
                                 "quarantined": {"attack_success_rate": 0.0}})
    assert took and "19.4%" in note and "took hold" in note
    took, note = _backdoor(cfg, {"raw": {"attack_success_rate": 0.03}, "quarantined": {"attack_success_rate": 0.0}})
    assert not took and "DP damped" in note and "3.0%" in note and "quarantined" in note
