"""Plots for the report: a 2-D projection of each suspicious class, and score histograms."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_plots(scan: object, out_dir: Path, max_classes: int = 10) -> list[Path]:
    """Write PNGs under out_dir; returns their paths. `scan` is an api.Scan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    out_dir.mkdir(parents=True, exist_ok=True)
    ctx, fused, results = scan.context, scan.fused, scan.results  # type: ignore[attr-defined]
    written = []
    suspicious = [int(c) for c, r in scan.report.per_class.items() if r.poisoned][:max_classes]  # type: ignore[attr-defined]
    for c in suspicious:
        idx = np.flatnonzero(ctx.y == c)
        z = PCA(2).fit_transform(ctx.features[idx] - ctx.features[idx].mean(0))
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(*z[~fused.flagged[idx]].T, s=6, c="tab:blue", label="kept")
        ax.scatter(*z[fused.flagged[idx]].T, s=10, c="tab:red", label="flagged")
        ax.set_title(f"class {c}: penultimate activations (PCA)")
        ax.legend()
        path = out_dir / f"class_{c}_projection.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    names = [*results, "fused"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3))
    for ax, name in zip(axes, names):
        s = fused.scores if name == "fused" else results[name].scores
        ax.hist([s[~fused.flagged], s[fused.flagged]], bins=40, stacked=True, color=["tab:blue", "tab:red"],
                label=["kept", "flagged"])
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
    axes[0].legend(fontsize=8)
    path = out_dir / "score_histograms.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    written.append(path)
    return written
