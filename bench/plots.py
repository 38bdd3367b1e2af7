"""The latency benchmark's plots (matplotlib, PNG): latency against offered load, and the
latency distribution at each load level, one panel per phase (single, batch)."""

from __future__ import annotations

import math
from pathlib import Path

COLOURS = {"p50": "#1f77b4", "p95": "#2ca02c", "p99": "#d62728", "max": "#7f7f7f"}


class MatplotlibMissing(RuntimeError):
    pass


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MatplotlibMissing("no plots: matplotlib is not installed (pip install -e '.[bench]')") from exc
    return plt


def draw(phases: dict[str, dict], directory: Path, *, target_p99: float, title: str) -> list[Path]:
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    names = list(phases)
    written = []

    fig, axes = plt.subplots(1, len(names), figsize=(6.2 * len(names), 4.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        phase = phases[name]
        levels = sorted(phase["levels"], key=lambda r: r["rate"])
        rates = [r["rate"] for r in levels]
        for key in ("p50", "p95", "p99", "max"):
            ax.plot(rates, [r[f"{key}_ms"] for r in levels], marker="o", color=COLOURS[key], label=key)
        for r in levels:
            ax.annotate(
                f"{r['level']:g}%",
                (r["rate"], r["p99_ms"]),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
                color=COLOURS["p99"],
            )
        if phase["search"]:
            ax.scatter(
                [r["rate"] for r in phase["search"]],
                [r["p99_ms"] for r in phase["search"]],
                marker="x",
                color=COLOURS["p99"],
                label="p99, search",
            )
        ax.axhline(target_p99, color="black", linestyle="--", linewidth=0.8, label=f"{target_p99:g} ms")
        ax.axvline(phase["maximum"], color="black", linestyle=":", linewidth=0.8, label="closed-loop max")
        ax.axvline(
            phase["highest_within_target"],
            color=COLOURS["p99"],
            linestyle=":",
            linewidth=0.8,
            label=f"p99 <= {target_p99:g} ms up to here",
        )
        ax.set_yscale("log")
        ax.set_xlabel(f"offered load, requests/s ({phase['label']})")
        ax.set_ylabel("latency from scheduled send, ms")
        other = sum(r["cores"].get("other", 0.0) for r in levels) / max(1, len(levels))
        ax.set_title(f"{phase['label']}: max {phase['maximum']:,.0f}/s; other CPU (noise) {other:.2f} cores")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Exposure latency at fixed offered load (open loop, Poisson) — {title}", fontsize=10)
    fig.tight_layout()
    path = directory / "latency-vs-load.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(1, len(names), figsize=(6.2 * len(names), 4.6), squeeze=False)
    ticks = [0, 50, 90, 99, 99.9, 99.99]
    for ax, name in zip(axes[0], names, strict=True):
        phase = phases[name]
        for r in sorted(phase["levels"], key=lambda r: r["rate"]):
            values = r["latencies_ms"]
            n = len(values)
            if not n:
                continue
            xs = [-math.log10(1 - (i + 0.5) / n) for i in range(n)]
            ax.plot(xs, values, label=f"{r['level']:g}% ({r['rate']:,.0f}/s)")
        ax.axhline(target_p99, color="black", linestyle="--", linewidth=0.8)
        ax.set_xticks([-math.log10(1 - t / 100) for t in ticks], [f"{t:g}" for t in ticks])
        ax.set_yscale("log")
        ax.set_xlabel("percentile")
        ax.set_ylabel("latency from scheduled send, ms")
        ax.set_title(f"{phase['label']}: latency by percentile")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, title="offered load")
    fig.suptitle(f"Exposure latency distribution (open loop, Poisson) — {title}", fontsize=10)
    fig.tight_layout()
    path = directory / "latency-distribution.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
