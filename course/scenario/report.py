"""The one-page report: Markdown and self-contained HTML, plots embedded.

Both formats render the same sections built from the run's result dict, so every
number in the report is one the run measured (and wrote to scenario.json).
"""
from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.cli import atomic_write
from lab.silos import SILOS
from securefl.privacy import WEAK_EPSILON


@dataclass
class Section:
    title: str
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def _plots(result: dict[str, Any], out: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: dict[str, Path] = {}
    runs = result.get("training", [])
    if runs:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for run in runs:
            rounds = run["summary"].get("rounds", [])
            xs = [r["round"] for r in rounds]
            axes[0].plot(xs, [r["accuracy"] for r in rounds], marker="o", label=run["name"])
            eps = [r.get("epsilon") for r in rounds]
            if any(e is not None for e in eps):
                axes[1].plot(xs, [e if e is not None else float("nan") for e in eps], marker="o", label=run["name"])
        axes[0].set(title="Global model accuracy per round", xlabel="round", ylabel="accuracy (held-out)")
        axes[1].set(title="Privacy spent (ε per client, worst client)", xlabel="round", ylabel="ε")
        from matplotlib.ticker import MaxNLocator

        for ax in axes:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        paths["training"] = out / "training.png"
        fig.savefig(paths["training"], dpi=110)
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(5, 3.4))
        names = [r["name"] for r in runs]
        ax.bar(names, [100 * r["attack_success_rate"] for r in runs], color=["#c0392b", "#27ae60", "#7f8c8d"][: len(runs)])
        ax.set(title="Backdoor attack success rate", ylabel="% of triggered test images → target")
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        paths["asr"] = out / "attack_success.png"
        fig.savefig(paths["asr"], dpi=110)
        plt.close(fig)
    det = result.get("detection", {})
    if det:
        fig, ax = plt.subplots(figsize=(6, 3.4))
        xs = range(len(SILOS))
        ax.bar([x - 0.2 for x in xs], [det[s]["injected"] for s in SILOS], width=0.4, label="injected")
        ax.bar([x + 0.2 for x in xs], [det[s]["flagged_count"] for s in SILOS], width=0.4, label="flagged")
        ax.set_xticks(list(xs), list(SILOS))
        ax.set(title="Poisoned records: injected vs flagged", ylabel="records")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        paths["detection"] = out / "detection.png"
        fig.savefig(paths["detection"], dpi=110)
        plt.close(fig)
    return paths


#: where the privacy/utility trade-off plot lives (drawn by `python -m course.privacy_bench`)
PRIVACY_PLOT = "federated-learning/README.md#privacy-and-utility (plot: federated-learning/privacy_utility.png)"


def _privacy_cell(summary: dict[str, Any]) -> str:
    promise = summary.get("privacy_guarantee") or {}
    return "meaningful" if promise.get("meaningful") else str(promise.get("label", "no meaningful privacy guarantee"))


def sections(result: dict[str, Any], plots: dict[str, Path]) -> list[Section]:
    cfg = result["config"]
    trained = [len(r["summary"].get("rounds", [])) for r in result.get("training", [])]
    rounds = cfg["rounds"] if cfg["rounds"] is not None else (max(trained) if trained else "the app's default")
    out: list[Section] = []
    verdict = "All checks passed." if result.get("ok") else "Some checks FAILED — see the steps table."
    out.append(Section(
        "Summary",
        f"{verdict} Compromised silo: **{cfg['compromised']}** (poison rate {cfg['poison_rate']}, "
        f"class {cfg['source']} + trigger → {cfg['target']}). SecAgg+: {_fmt(cfg['secagg'])}, DP: {_fmt(cfg['dp'])}, "
        f"{rounds} rounds, {cfg['clients']} clients, seed {cfg['seed']}. "
        f"Total {result.get('seconds_total')} s, started {result.get('started')}."))
    ing = result.get("ingestion", {})
    truth = result.get("ground_truth", {})
    if ing:
        out.append(Section(
            "Ingestion per silo",
            "Records sent through each cloud's stream, landed envelope-encrypted, or dead-lettered with a reason. "
            "`verified` means every landed batch was re-read, decrypted, signature-checked and counted.",
            ["silo", "sent", "landed", "dead-lettered", "duplicates", "injected (ground truth)", "batches",
             "key-service calls", "verified"],
            [[s, ing[s]["sent"], ing[s]["landed"], ing[s]["dead_lettered"], ing[s]["duplicates"],
              truth.get(s, {}).get("injected", 0), ing[s]["batches"], ing[s]["kms_calls"], ing[s]["verified"]]
             for s in SILOS if s in ing]))
    enc = result.get("encryption", {})
    if enc:
        rows = []
        for s in SILOS:
            if s not in enc:
                continue
            h, k = enc[s]["header"], enc[s]["key"]
            rotation = {key: v for key, v in k.items() if key not in ("service", "key")}
            rows.append([s, k.get("service"), f"`{k.get('key')}`", f"`{h.get('key_id', '')}`",
                         f"v{h.get('version')} {h.get('alg')} ctx={str(h.get('context_sha256', ''))[:12]}…",
                         ", ".join(f"{a}={b}" for a, b in rotation.items())])
        out.append(Section(
            "Encryption evidence",
            "A sample landed object's envelope header (no key material) and each key service's key with its rotation "
            "settings, read back from the service.",
            ["silo", "key service", "key", "envelope key id", "header", "rotation"], rows))
    det = result.get("detection", {})
    if det:
        out.append(Section(
            "Poisoning detection",
            "Each silo's landed training set scanned by the fused detector (activation clustering, spectral "
            "signatures, loss and gradient outliers). Flagged ids are traced to the producer that signed them.",
            ["silo", "risk score", "flagged", "injected", "true positives", "precision", "recall",
             "suspected producer(s)"],
            [[s, det[s]["risk_score"], det[s]["flagged_count"], det[s]["injected"], det[s]["true_positives"],
              det[s]["precision"], det[s]["recall"], ", ".join(det[s]["compromised_producers"]) or "-"]
             for s in SILOS if s in det],
            [plots["detection"]] if "detection" in plots else []))
        q = result.get("quarantine", {})
        out.append(Section("Quarantine", f"{q.get('quarantined', 0)} records quarantined; producer key(s) revoked: "
                                         f"{', '.join(q.get('revoked', [])) or 'none'}."))
    runs = result.get("training", [])
    if runs:
        note = result.get("outcome", {}).get("backdoor_note", "")
        out.append(Section(
            "Federated training",
            "Attack success rate = share of held-out source-class images with the trigger that the global model "
            "labels as the target. Privacy: each client trains with DP-SGD (per-record clipping + Gaussian noise "
            "added on the client, before SecAgg+ masking; the server adds none and sees only the masked sum). "
            "ε is record-level, per client (the worst client shown), from the accountant named in the table; "
            f"ε above {WEAK_EPSILON:g} or no accountant is labelled \"no meaningful privacy guarantee\". "
            f"How accuracy and attack success move with ε: {PRIVACY_PLOT}. " + note,
            ["run", "accuracy", "attack success", "ε", "δ", "accountant", "noise on", "privacy", "secagg",
             "clients/round", "seconds", "model"],
            [[r["name"], r["accuracy"], f"{100 * r['attack_success_rate']:.1f} %",
              r["summary"].get("epsilon"), r["summary"].get("delta"), r["summary"].get("accountant") or "-",
              r["summary"].get("noise_on") or "-", _privacy_cell(r["summary"]), r["summary"].get("secagg"),
              r["summary"].get("clients_per_round"), r["seconds"], f"`{r['model_path']}`"] for r in runs],
            [plots[k] for k in ("training", "asr") if k in plots]))
    checks = result.get("outcome", {}).get("checks", {})
    if checks:
        out.append(Section("Outcome checks", "Each claim of the story, checked against this run's numbers.",
                           ["claim", "holds"], [[name, ok] for name, ok in checks.items()]))
    steps = result.get("steps", [])
    out.append(Section("Steps", "Each step states the claim it proves; a step that checked nothing fails.",
                       ["step", "claim", "ok", "result", "seconds"],
                       [[r["step"], r.get("claim", ""), r["ok"], r["result"], r["seconds"]] for r in steps]))
    return out


def to_markdown(title: str, secs: list[Section], out: Path) -> str:
    lines = [f"# {title}", ""]
    for sec in secs:
        lines += [f"## {sec.title}", ""]
        if sec.text:
            lines += [sec.text, ""]
        if sec.header:
            lines.append("| " + " | ".join(sec.header) + " |")
            lines.append("|" + "---|" * len(sec.header))
            for row in sec.rows:
                lines.append("| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |")
            lines.append("")
        for img in sec.images:
            lines += [f"![{img.stem}]({img.relative_to(out).as_posix()})", ""]
    return "\n".join(lines)


def to_html(title: str, secs: list[Section]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;"
             "font-size:.9em}th{background:#f4f4f4}code{font-size:.85em}img{max-width:100%}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for sec in secs:
        parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        if sec.text:
            text = html.escape(sec.text)
            while "**" in text:
                text = text.replace("**", "<b>", 1).replace("**", "</b>", 1)
            parts.append(f"<p>{text.replace('`', '')}</p>")
        if sec.header:
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in sec.header) + "</tr>")
            for row in sec.rows:
                parts.append("<tr>" + "".join(f"<td>{html.escape(_fmt(v).strip('`'))}</td>" for v in row) + "</tr>")
            parts.append("</table>")
        for img in sec.images:
            data = base64.b64encode(img.read_bytes()).decode()
            parts.append(f"<p><img alt='{html.escape(img.stem)}' src='data:image/png;base64,{data}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(result: dict[str, Any], out: Path) -> list[Path]:
    """Write report.md (+ PNGs) and report.html (self-contained); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    secs = sections(result, _plots(result, out))
    title = "Secure AI Data Pipelines — end-to-end scenario report"
    md, page = out / "report.md", out / "report.html"
    atomic_write(md, to_markdown(title, secs, out))  # a failed run leaves no half report
    atomic_write(page, to_html(title, secs))
    return [md, page]
