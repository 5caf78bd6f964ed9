"""The scenario, step by step. Every number it reports is measured in this run and
checked; a failed check marks its step red and makes the exit code non-zero."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ingestion import silos
from ingestion.landed import LandedSet, read_landed
from ingestion.records import REVOKED_PRODUCER, RecordError, TrustStore, parse_record
from ingestion.samples import default_producer
from lab.localcloud import SERVICES, LocalCloud
from lab.silos import SILOS
from lab.trust import TrustFile, ensure_enrolled
from course.revocation import reason_in_fresh_process
from course.scenario.config import ScenarioConfig
from course.scenario.console import StepLog
from course.scenario.traffic import Traffic, compromised_producer, make_traffic
from securefl.data import LandingSource


def _enrol(cfg: ScenarioConfig, log: StepLog) -> None:
    """Explicit trust: the producers that send records are enrolled for their own silo (the
    stolen key's owner too, as it was before the theft; a key revoked by an earlier run is
    replaced by a new one, never trusted again)."""
    wanted = {default_producer(silo): silo for silo in SILOS}
    if cfg.compromised != "none":
        wanted[compromised_producer(cfg.compromised)] = cfg.compromised
    with log.step("Enrol the producers in the trust store",
                  claim="each sending producer is enrolled, active, for its own silo only") as s:
        for name, silo in wanted.items():
            ensure_enrolled(name, silo)
        trust = TrustStore.from_dir()
        s["ok"] = all(trust.silos.get(name) == silo for name, silo in wanted.items())
        s["result"] = ", ".join(f"{name} → {silo}" for name, silo in wanted.items())


def _ingest(cfg: ScenarioConfig, log: StepLog, plan: dict[str, Traffic]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for silo in SILOS:
        traffic = plan[silo]
        expected = len(traffic.clean_ids) + len(traffic.injected_ids)
        with log.step(f"Ingest {silo}: stream → validate → encrypt → land",
                      claim="every valid record lands once, every invalid one is dead-lettered, the landing "
                            "re-verifies") as s:
            summary = silos.ingest(silo, traffic.lines, cfg.dataset)
            ok = (summary["verified"] and summary["landed"] == expected
                  and summary["dead_lettered"] == traffic.invalid and summary["sent"] == len(traffic.lines))
            s["ok"] = ok
            s["result"] = (f"sent {summary['sent']}, landed {summary['landed']}/{expected}, "
                           f"dead-lettered {summary['dead_lettered']}/{traffic.invalid}, "
                           f"verified={summary['verified']}")
        out[silo] = summary
    return out


def _read_landing(cfg: ScenarioConfig, log: StepLog, ingestion: dict[str, dict[str, Any]],
                  plan: dict[str, Traffic]) -> tuple[dict[str, LandedSet], dict[str, Any]]:
    """Each silo's landing through the reader training and detect.py use (no quarantine yet)."""
    data: dict[str, LandedSet] = {}
    evidence: dict[str, Any] = {}
    for silo in SILOS:
        with log.step(f"Read back {silo}'s encrypted landing",
                      claim="the records read back (decrypted, re-verified) are exactly the ones that landed") as s:
            data[silo] = read_landed(silo, cfg.dataset, quarantine=False)
            landing = silos.landing(silo)
            evidence[silo] = {"header": landing.sample_header(cfg.dataset), "key": silos.key_state(silo)}
            ids = [str(i) for i in data[silo].arrays.ids]
            landed = ingestion[silo]["landed"]
            s["ok"] = (data[silo].landed == landed == len(ids) == len(set(ids)) and data[silo].untrusted == 0
                       and set(ids) == set(plan[silo].clean_ids) | set(plan[silo].injected_ids))
            s["result"] = f"{data[silo].landed}/{landed} landed records decrypted and signature-checked"
    return data, evidence


def _detect(cfg: ScenarioConfig, log: StepLog, data: dict[str, LandedSet],
            plan: dict[str, Traffic]) -> dict[str, Any]:
    """Scan each landing as ``detect.py --landing`` does, and write its quarantine list."""
    from poisoning_detection import landing as scan_landing
    from poisoning_detection.api import scan

    out: dict[str, Any] = {}
    for silo in SILOS:
        claim = (f"the injected records are flagged (recall ≥ {cfg.min_recall}) and traced to "
                 f"{compromised_producer(silo)} alone" if silo == cfg.compromised else "no producer is named")
        with log.step(f"Scan {silo} for poisoning", claim=claim) as s:
            d = data[silo].arrays
            report = scan(d.x, d.y, ids=d.ids, producers=d.producers, seed=cfg.seed, progress=False,
                          shape=scan_landing.SHAPE)
            flagged = {str(i) for i in report.flagged}
            path, _ = scan_landing.quarantine(data[silo], flagged, str(cfg.out / "scenario.json"))
            injected = set(plan[silo].injected_ids)
            tp = len(flagged & injected)
            precision = tp / len(flagged) if flagged else (1.0 if not injected else 0.0)
            recall = tp / len(injected) if injected else 1.0
            out[silo] = {
                "risk_score": report.risk_score, "flagged": sorted(flagged), "flagged_count": len(flagged),
                "injected": len(injected), "true_positives": tp, "precision": round(precision, 4),
                "recall": round(recall, 4), "compromised_producers": report.compromised_producers,
                "suspected": [p.model_dump() if hasattr(p, "model_dump") else vars(p) for p in report.suspected][:3],
                "mitigations": report.mitigations, "seconds": report.seconds, "quarantine_file": str(path),
            }
            if silo == cfg.compromised:
                s["ok"] = (recall >= cfg.min_recall
                           and list(report.compromised_producers) == [compromised_producer(silo)])
            else:
                s["ok"] = not report.compromised_producers
            s["result"] = (f"risk {report.risk_score:.2f}, flagged {len(flagged)} "
                           f"({tp}/{len(injected)} injected), producer(s): "
                           f"{', '.join(report.compromised_producers) or '-'}")
    return out


def _quarantine(log: StepLog, detection: dict[str, Any], cfg: ScenarioConfig,
                plan: dict[str, Traffic]) -> dict[str, Any]:
    expected = [compromised_producer(cfg.compromised)] if cfg.compromised != "none" else []
    with log.step("Quarantine flagged records; revoke the suspected producer",
                  claim=f"the producer named is exactly {', '.join(expected) or 'none'}; it is revoked in the trust store "
                        "and a fresh process refuses its records") as s:
        flagged = {i for d in detection.values() for i in d["flagged"]}
        suspects = sorted({p for d in detection.values() for p in d["compromised_producers"]})
        store = TrustFile()
        for producer in suspects:
            store.revoke(producer, reason="named by the poisoning detector (scenario)")
        fresh = "no producer revoked"
        if cfg.compromised != "none":
            fresh = reason_in_fresh_process(_injected_line(plan[cfg.compromised]))
        s["ok"] = suspects == expected and (not expected or fresh == REVOKED_PRODUCER)
        s["result"] = (f"{len(flagged)} quarantined; revoked: {', '.join(suspects) or 'none'}; "
                       f"fresh process says: {fresh}")
    return {"quarantined": len(flagged), "revoked": suspects, "fresh_process": fresh}


def _injected_line(traffic: Traffic) -> bytes:
    """One line the compromised producer sent (what a restarted consumer would see again)."""
    injected = set(traffic.injected_ids)
    for line in traffic.lines:
        try:
            if parse_record(line).id in injected:
                return line
        except RecordError:
            continue
    raise ValueError(f"no injected record in silo {traffic.silo}'s traffic")


def _train(cfg: ScenarioConfig, log: StepLog, name: str, title: str, source: LandingSource,
           out_dir: Path | None) -> dict[str, Any]:
    from course.backdoor import backdoor_metrics
    from securefl.run import run_simulation
    from securefl.task import load_model

    with log.step(title, claim="a healthy signed model is written, loads only after its signature and version "
                               "check, and scores the accuracy the run reported", show_spinner=False) as s:
        # the FL app's defaults: SecAgg+ with record-level DP-SGD on every client (epsilon <= 8 per client)
        config: dict[str, Any] = {"num-clients": cfg.clients, "secagg": cfg.secagg, "dp": cfg.dp, "seed": cfg.seed,
                                  "out-dir": str(out_dir) if out_dir else ""}
        if cfg.rounds is not None:
            config["num-server-rounds"] = cfg.rounds
        result = run_simulation(config, data_source=source)  # in-process: no runtime start-up
        model = load_model(result.model_path)  # verifies the signature, then decrypts
        accuracy, asr = backdoor_metrics(model, cfg.source, cfg.target)
        summary = result.summary
        s["ok"] = bool(result.ok) and abs(accuracy - (summary["final_accuracy"] or 0)) < 1e-6
        s["result"] = f"accuracy {accuracy:.3f}, attack success {asr:.1%}, {privacy_brief(summary)}"
    return {"name": name, "accuracy": accuracy, "attack_success_rate": asr, "seconds": round(result.seconds, 1),
            "model_path": str(result.model_path), "data": source.describe(), "summary": summary}


def privacy_brief(summary: dict[str, Any]) -> str:
    """One line on what a training's epsilon means (weak privacy is named as such)."""
    promise = summary.get("privacy_guarantee") or {}
    if not promise.get("meaningful"):
        return str(promise.get("label", "no meaningful privacy guarantee"))
    return (f"ε={summary['epsilon']:.2f} (δ={summary['delta']:g}, {summary['privacy_level']}-level per client, "
            f"noise on the {summary['noise_on']})")


def _backdoor(cfg: ScenarioConfig, runs: dict[str, dict[str, Any]]) -> tuple[bool, str]:
    """Did the backdoor take hold in the raw run? (raw attack success above the reference run's by
    cfg.min_backdoor_lift); the sentence the report prints either way, with the figures."""
    raw = runs["raw"]["attack_success_rate"]
    ref_name = "no-attack" if "no-attack" in runs else "quarantined"
    ref = runs[ref_name]["attack_success_rate"]
    if raw - ref >= cfg.min_backdoor_lift:
        return True, f"The backdoor took hold on the raw data: attack success {raw:.1%} vs {ref:.1%} ({ref_name})."
    return False, (f"DP damped the backdoor: on the raw data attack success was only {raw:.1%} vs {ref:.1%} "
                   f"({ref_name}), so the raw run does not show it taking hold; the per-record clipping and noise "
                   "of DP-SGD limit how much the injected records can teach the model. Quarantine is still checked.")


def _outcome(cfg: ScenarioConfig, log: StepLog, result: dict[str, Any]) -> dict[str, Any]:
    """The story's claims, each checked against this run's numbers."""
    runs = {r["name"]: r for r in result["training"]}
    raw, after = runs["raw"], runs["quarantined"]
    note = ""
    checks: dict[str, bool] = {
        "nothing lost (every silo verified, sent = landed + dead-lettered)": all(
            s["verified"] and s["sent"] == s["landed"] + s["dead_lettered"] for s in result["ingestion"].values()),
        "clean silos: no producer named": all(
            not d["compromised_producers"] for silo, d in result["detection"].items() if silo != cfg.compromised),
    }
    if cfg.compromised != "none":
        det = result["detection"][cfg.compromised]
        checks[f"injected records flagged (recall >= {cfg.min_recall})"] = det["recall"] >= cfg.min_recall
        checks["exactly the stolen producer is named"] = (
            det["compromised_producers"] == [compromised_producer(cfg.compromised)])
        checks[f"attack success after quarantine <= {cfg.max_asr_after:.0%}"] = (
            after["attack_success_rate"] <= cfg.max_asr_after)
        took_hold, note = _backdoor(cfg, runs)
        if took_hold:
            checks["attack success drops"] = after["attack_success_rate"] < raw["attack_success_rate"]
    if cfg.dp:
        checks[f"every training: ε <= {cfg.max_epsilon:g} with an accountant (noise on the clients)"] = all(
            r["summary"].get("epsilon") is not None and r["summary"]["epsilon"] <= cfg.max_epsilon
            and r["summary"].get("accountant") and r["summary"].get("noise_on") == "client"
            for r in result["training"])
    if "no-attack" in runs:
        checks[f"accuracy within {cfg.max_accuracy_drop:.0%} of the no-attack run"] = (
            runs["no-attack"]["accuracy"] - after["accuracy"] <= cfg.max_accuracy_drop)
    with log.step("Check the story's outcomes", claim="every claim of the story holds on this run's numbers") as s:
        failed = [name for name, ok in checks.items() if not ok]
        s["ok"] = not failed
        s["result"] = f"{len(checks) - len(failed)}/{len(checks)} hold" + (f"; FAILED: {'; '.join(failed)}" if failed else "")
    return {"checks": checks, "backdoor_note": note}


def run(cfg: ScenarioConfig, log: StepLog) -> dict[str, Any]:
    """Run the whole story; returns the result dict the report is rendered from."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {"config": cfg.model_dump(mode="json"), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with log.step("Start the local cloud (AWS, Azure, GCP)", claim="every emulator is up") as s:
        cloud = LocalCloud(SILOS).start()
        s["ok"] = set(cloud.services) == set(cloud.names) and all(
            SERVICES[name].running() is not None for name in cloud.names)
        s["result"] = f"{len(cloud.services)} emulators on 127.0.0.1 ({len(cloud.owned)} started here)"
    try:
        _enrol(cfg, log)
        with log.step("Generate signed records (one producer compromised)",
                      claim="each silo's stream holds its clean, injected and invalid records, nothing else") as s:
            plan = make_traffic(cfg)
            s["ok"] = all(len(t.lines) == len(t.clean_ids) + len(t.injected_ids) + t.invalid
                          and len(set(t.clean_ids) | set(t.injected_ids)) == len(t.clean_ids) + len(t.injected_ids)
                          for t in plan.values())
            s["result"] = ", ".join(f"{k}: {len(v.lines)} lines ({len(v.injected_ids)} injected)"
                                    for k, v in plan.items())
        result["ground_truth"] = {k: {"clean": len(v.clean_ids), "injected": len(v.injected_ids),
                                      "invalid": v.invalid} for k, v in plan.items()}
        result["ingestion"] = _ingest(cfg, log, plan)
        data, result["encryption"] = _read_landing(cfg, log, result["ingestion"], plan)
        result["detection"] = _detect(cfg, log, data, plan)
        result["quarantine"] = _quarantine(log, result["detection"], cfg, plan)
        injected = {i for t in plan.values() for i in t.injected_ids}
        raw = LandingSource(data, cfg.dataset)
        with log.step("Re-read the landings for training",
                      claim="the revoked producer's records and every quarantined id are left out, nothing else") as s:
            quarantined = LandingSource.read(SILOS, cfg.dataset, quarantine=True, trust=TrustStore.from_dir())
            flagged = {i for d in result["detection"].values() for i in d["flagged"]}
            revoked = set(result["quarantine"]["revoked"])
            expected = {silo: {str(i) for i, p in zip(d.arrays.ids, d.arrays.producers)
                               if str(i) not in flagged and str(p) not in revoked} for silo, d in data.items()}
            s["ok"] = all({str(i) for i in quarantined(silo).ids} == expected[silo] for silo in SILOS)
            s["result"] = ", ".join(f"{k}: {c['used']} of {c['landed']}" for k, c in quarantined.counts.items())
        runs = []
        runs.append(_train(cfg, log, "raw", "Train on raw landed data (SecAgg+ / DP)", raw, cfg.out / "fl-raw"))
        if cfg.baseline:
            runs.append(_train(cfg, log, "no-attack", "Reference: train without the injected records",
                               raw.without(injected), cfg.out / "fl-no-attack"))
        # last: the published model is the newest version, so it stays loadable (older ones are refused)
        runs.append(_train(cfg, log, "quarantined", "Train after quarantine (model → models/)",
                           quarantined, cfg.model_dir))
        result["training"] = runs
        result["outcome"] = _outcome(cfg, log, result)
    finally:
        with log.step("Stop the emulators this run started", claim="none of them still runs") as s:
            stopped = list(cloud.owned)
            cloud.stop()
            s["ok"] = all(SERVICES[name].running() is None for name in stopped)
            s["result"] = ", ".join(stopped) or "none (they were already running)"
    result["steps"] = log.rows
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    result["ok"] = log.ok
    (cfg.out / "scenario.json").write_text(json.dumps(result, indent=2, default=str))
    return result
