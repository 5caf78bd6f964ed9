"""The scenario, step by step. Every number it reports is measured in this run and
checked; a failed check marks its step red and makes the exit code non-zero."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingestion import silos
from ingestion.records import SILOS, Record, TrustStore
from lab.localcloud import LocalCloud
from course.scenario.config import ScenarioConfig
from course.scenario.console import StepLog
from course.scenario.traffic import Traffic, make_traffic


@dataclass
class SiloArrays:
    """A silo's landed training data as arrays (what its FL clients and the detector read)."""

    x: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    producers: np.ndarray

    @classmethod
    def of(cls, records: list[Record]) -> SiloArrays:
        return cls(np.array([r.features for r in records], dtype=np.float32),
                   np.array([r.label for r in records], dtype=np.int64),
                   np.array([r.id for r in records]), np.array([r.producer for r in records]))

    def without(self, ids: set[str]) -> SiloArrays:
        keep = np.array([i not in ids for i in self.ids], dtype=bool)
        return SiloArrays(self.x[keep], self.y[keep], self.ids[keep], self.producers[keep])


class ArraySource:
    """A federated data source over in-memory silo arrays (picklable for the simulation workers)."""

    def __init__(self, data: dict[str, SiloArrays]) -> None:
        self.data = {s: (d.x, d.y, d.ids) for s, d in data.items()}

    def __call__(self, silo: str) -> Any:
        from securefl.data import SiloData

        x, y, ids = self.data[silo]
        return SiloData(x, y, ids)


def _ingest(cfg: ScenarioConfig, log: StepLog, plan: dict[str, Traffic]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for silo in SILOS:
        traffic = plan[silo]
        expected = len(traffic.clean_ids) + len(traffic.injected_ids)
        with log.step(f"Ingest {silo}: stream → validate → encrypt → land") as s:
            summary = silos.ingest(silo, traffic.lines, cfg.dataset)
            ok = (summary["verified"] and summary["landed"] == expected
                  and summary["dead_lettered"] == traffic.invalid and summary["sent"] == len(traffic.lines))
            s["ok"] = ok
            s["result"] = (f"sent {summary['sent']}, landed {summary['landed']}/{expected}, "
                           f"dead-lettered {summary['dead_lettered']}/{traffic.invalid}, "
                           f"verified={summary['verified']}")
        out[silo] = summary
    return out


def _read_landing(cfg: ScenarioConfig, log: StepLog) -> tuple[dict[str, SiloArrays], dict[str, Any]]:
    data: dict[str, SiloArrays] = {}
    evidence: dict[str, Any] = {}
    for silo in SILOS:
        with log.step(f"Read back {silo}'s encrypted landing") as s:
            landing = silos.landing(silo)
            records = landing.records(cfg.dataset)
            data[silo] = SiloArrays.of(records)
            evidence[silo] = {"header": landing.sample_header(cfg.dataset), "key": silos.key_state(silo),
                              "provider_calls": landing.provider.calls}
            s["result"] = f"{len(records)} records decrypted and signature-checked"
    return data, evidence


def _detect(cfg: ScenarioConfig, log: StepLog, data: dict[str, SiloArrays],
            plan: dict[str, Traffic]) -> dict[str, Any]:
    from poisoning_detection.api import scan

    out: dict[str, Any] = {}
    for silo in SILOS:
        with log.step(f"Scan {silo} for poisoning") as s:
            d = data[silo]
            report = scan(d.x, d.y, ids=d.ids, producers=d.producers, seed=cfg.seed, progress=False, shape=(8, 8))
            flagged = {str(i) for i in report.flagged}
            injected = set(plan[silo].injected_ids)
            tp = len(flagged & injected)
            precision = tp / len(flagged) if flagged else (1.0 if not injected else 0.0)
            recall = tp / len(injected) if injected else 1.0
            out[silo] = {
                "risk_score": report.risk_score, "flagged": sorted(flagged), "flagged_count": len(flagged),
                "injected": len(injected), "true_positives": tp, "precision": round(precision, 4),
                "recall": round(recall, 4), "compromised_producers": report.compromised_producers,
                "suspected": [p.model_dump() if hasattr(p, "model_dump") else vars(p) for p in report.suspected][:3],
                "mitigations": report.mitigations, "seconds": report.seconds,
            }
            s["result"] = (f"risk {report.risk_score:.2f}, flagged {len(flagged)} "
                           f"({tp}/{len(injected)} injected), producer(s): "
                           f"{', '.join(report.compromised_producers) or '-'}")
    return out


def _quarantine(log: StepLog, detection: dict[str, Any], cfg: ScenarioConfig) -> dict[str, Any]:
    with log.step("Quarantine flagged records; revoke the suspected producer") as s:
        flagged = {i for d in detection.values() for i in d["flagged"]}
        suspects = sorted({p for d in detection.values() for p in d["compromised_producers"]})
        trust = TrustStore.from_dir()
        for producer in suspects:
            trust.revoke(producer)
        revoked_ok = all(p not in trust.keys for p in suspects)
        expected_suspect = cfg.compromised == "none" or any(p.startswith(cfg.compromised) for p in suspects)
        s["ok"] = revoked_ok and expected_suspect
        s["result"] = f"{len(flagged)} quarantined; revoked: {', '.join(suspects) or 'none'}"
    return {"quarantined": len(flagged), "revoked": suspects, "flagged_ids": flagged}


def _train(cfg: ScenarioConfig, log: StepLog, name: str, title: str, data: dict[str, SiloArrays],
           out_dir: Path | None) -> dict[str, Any]:
    from course.backdoor import backdoor_metrics
    from securefl.run import run_simulation
    from securefl.task import load_model

    with log.step(title, show_spinner=False) as s:
        # the FL app's defaults: SecAgg+ with record-level DP-SGD on every client (epsilon <= 8 per client)
        config: dict[str, Any] = {"num-clients": cfg.clients, "secagg": cfg.secagg, "dp": cfg.dp, "seed": cfg.seed,
                                  "out-dir": str(out_dir) if out_dir else ""}
        if cfg.rounds is not None:
            config["num-server-rounds"] = cfg.rounds
        result = run_simulation(config, data_source=ArraySource(data))  # in-process: no runtime start-up
        model = load_model(result.model_path)  # verifies the signature, then decrypts
        accuracy, asr = backdoor_metrics(model, cfg.source, cfg.target)
        summary = result.summary
        s["ok"] = bool(result.ok) and abs(accuracy - (summary["final_accuracy"] or 0)) < 1e-6
        s["result"] = f"accuracy {accuracy:.3f}, attack success {asr:.1%}, {privacy_brief(summary)}"
    return {"name": name, "accuracy": accuracy, "attack_success_rate": asr, "seconds": round(result.seconds, 1),
            "model_path": str(result.model_path), "summary": summary}


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
        checks["the stolen producer is named"] = any(
            p.startswith(f"{cfg.compromised}-") for p in det["compromised_producers"])
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
    with log.step("Check the story's outcomes") as s:
        failed = [name for name, ok in checks.items() if not ok]
        s["ok"] = not failed
        s["result"] = f"{len(checks) - len(failed)}/{len(checks)} hold" + (f"; FAILED: {'; '.join(failed)}" if failed else "")
    return {"checks": checks, "backdoor_note": note}


def run(cfg: ScenarioConfig, log: StepLog) -> dict[str, Any]:
    """Run the whole story; returns the result dict the report is rendered from."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {"config": cfg.model_dump(mode="json"), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with log.step("Start the local cloud (AWS, Azure, GCP)") as s:
        cloud = LocalCloud(["aws", "azure", "gcp"]).start()
        s["result"] = f"{len(cloud.services)} emulators on 127.0.0.1 ({len(cloud.owned)} started here)"
    try:
        with log.step("Generate signed records (one producer compromised)") as s:
            plan = make_traffic(cfg)
            s["result"] = ", ".join(f"{k}: {len(v.lines)} lines ({len(v.injected_ids)} injected)"
                                    for k, v in plan.items())
        result["ground_truth"] = {k: {"clean": len(v.clean_ids), "injected": len(v.injected_ids),
                                      "invalid": v.invalid} for k, v in plan.items()}
        result["ingestion"] = _ingest(cfg, log, plan)
        data, result["encryption"] = _read_landing(cfg, log)
        result["detection"] = _detect(cfg, log, data, plan)
        quarantine = _quarantine(log, result["detection"], cfg)
        flagged = quarantine.pop("flagged_ids")
        result["quarantine"] = quarantine
        injected = {i for t in plan.values() for i in t.injected_ids}
        runs = []
        runs.append(_train(cfg, log, "raw", "Train on raw landed data (SecAgg+ / DP)",
                           data, cfg.out / "fl-raw"))
        runs.append(_train(cfg, log, "quarantined", "Train after quarantine (model → models/)",
                           {s: d.without(flagged) for s, d in data.items()}, cfg.model_dir))
        if cfg.baseline:
            runs.append(_train(cfg, log, "no-attack", "Reference: train without the injected records",
                               {s: d.without(injected) for s, d in data.items()}, cfg.out / "fl-no-attack"))
        result["training"] = runs
        result["outcome"] = _outcome(cfg, log, result)
    finally:
        with log.step("Stop the emulators this run started") as s:
            stopped = list(cloud.owned)
            cloud.stop()
            s["result"] = ", ".join(stopped) or "none (they were already running)"
    result["steps"] = log.rows
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    result["ok"] = log.ok
    (cfg.out / "scenario.json").write_text(json.dumps(result, indent=2, default=str))
    return result
