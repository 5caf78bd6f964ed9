"""The end-to-end story at reduced size: injected records flagged, attack success drops, nothing lost."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.scenario.config import ScenarioConfig
from course.scenario.console import StepLog
from course.scenario.report import write_report
from course.scenario.run import run


@pytest.mark.slow
def test_reduced_scenario_tells_the_whole_story(tmp_path: Path) -> None:
    # full federated settings (a 3-round run is too short for the backdoor to take); no reference run
    cfg = ScenarioConfig(baseline=False, out=tmp_path / "report",
                         model_dir=tmp_path / "models", progress=False)
    result = run(cfg, StepLog())
    # nothing lost: every silo verified, every record sent is landed or dead-lettered
    for silo, summary in result["ingestion"].items():
        assert summary["verified"], silo
        assert summary["sent"] == summary["landed"] + summary["dead_lettered"], silo
        assert summary["dead_lettered"] == cfg.invalid, silo
    # the injected records are flagged and traced to the stolen producer; clean silos name nobody
    det = result["detection"]
    assert det["aws"]["injected"] > 0 and det["aws"]["recall"] >= 0.9
    assert det["aws"]["compromised_producers"] == ["aws-producer-b"]
    assert not det["azure"]["compromised_producers"] and not det["gcp"]["compromised_producers"]
    # the backdoor works before quarantine and stops working after it
    runs = {r["name"]: r for r in result["training"]}
    # the raw run shows the backdoor taking hold, or the report says (with the figure) that DP damped it
    raw_asr = runs["raw"]["attack_success_rate"]
    note = result["outcome"]["backdoor_note"]
    assert f"{raw_asr:.1%}" in note and ("took hold" in note or "DP damped" in note)
    if "took hold" in note:
        assert result["outcome"]["checks"]["attack success drops"]
    assert runs["quarantined"]["attack_success_rate"] <= 0.05
    # every training: record-level epsilon <= 8 from an accountant, noise added on the clients
    for r in result["training"]:
        s = r["summary"]
        assert s["epsilon"] <= 8.0 and s["noise_on"] == "client" and s["accountant"], r["name"]
    assert (tmp_path / "models" / "fl_run.json").exists()
    # every training read the landings (the path of run.py --from-landings); after quarantine the
    # injected records were left out (quarantine list, or the revoked producer's signatures)
    landed = json.loads((tmp_path / "models" / "fl_run.json").read_text())
    assert landed["data_source"] == "landings" and set(landed["silos"]) == {"aws", "azure", "gcp"}
    aws = landed["silos"]["aws"]
    assert aws["quarantined_left_out"] + aws["untrusted_left_out"] >= det["aws"]["true_positives"]
    assert runs["raw"]["data"]["silos"]["aws"]["used"] == aws["landed"]
    assert result["ok"], [r for r in result["steps"] if not r["ok"]]
    # the report carries this run's numbers
    md, page = write_report(result, cfg.out)
    text = md.read_text()
    assert f"| aws | {result['ingestion']['aws']['sent']} | {result['ingestion']['aws']['landed']} |" in text
    assert "data:image/png;base64," in page.read_text()
    assert "noise on" in text and "privacy_utility.png" in text
    saved = json.loads((cfg.out / "scenario.json").read_text())
    assert saved["detection"]["aws"]["flagged_count"] == det["aws"]["flagged_count"]


def test_bad_flags_stop_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    from course.scenario.__main__ import main

    with pytest.raises(SystemExit) as info:
        from lab.cli import run_main

        run_main(main, ["--poison-rate", "2"])
    assert info.value.code == 1
    assert "poison-rate" in capsys.readouterr().err
    from lab.cli import LabError

    with pytest.raises(LabError, match="differ"):
        main(["--source", "1", "--target", "1"])
