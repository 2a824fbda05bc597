"""The figures of ``make bench``, kept so that people can read them and compare runs.

Each run's figures are collected as they are printed (``RUN``), then written to
``bench/results/<date>.json`` (``-2``, ``-3``… for a later run on the same day). The report,
``docs/benchmarks.md`` with its plots under ``docs/benchmarks/``, is drawn again from every
file kept there: the newest run in full, and each figure's ratio over the history of runs.

    python -m bench.results      # draw the report again from bench/results/*.json
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.config import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"
REPORT = REPO_ROOT / "docs" / "benchmarks.md"
PLOTS = REPO_ROOT / "docs" / "benchmarks"


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its baseline from the same run, and the issue's target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None  # None: an absolute figure (a latency, a CPU cost)
    target: float | None = None  # a ratio to reach, or (with at_most) a value not to exceed
    at_most: bool = False

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    @property
    def meets(self) -> bool | None:
        if self.target is None:
            return None
        if self.at_most:
            return self.value <= self.target
        return self.ratio is not None and self.ratio >= self.target

    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"≤ {self.target:g} {self.unit}" if self.at_most else f"≥ {self.target:.0%}"


@dataclass
class Run:
    """Everything one ``make bench`` run measured."""

    figures: list[Figure] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)  # p50, p90, p99, max
    audit: list[dict[str, Any]] = field(default_factory=list)  # size, step, rate, rss_mb, ratio

    def figure(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def save(self, directory: Path = RESULTS, now: datetime | None = None) -> Path:
        """Write this run as ``<date>.json`` in ``directory``; return the path."""
        now = now or datetime.now(UTC)
        directory.mkdir(parents=True, exist_ok=True)
        path, n = directory / f"{now:%Y-%m-%d}.json", 1
        while path.exists():
            n += 1
            path = directory / f"{now:%Y-%m-%d}-{n}.json"
        record = {
            "run": path.stem,
            "at": now.isoformat(timespec="seconds"),
            "commit": _commit(),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
            "figures": [asdict(f) for f in self.figures],
            "latency_ms": self.latency_ms,
            "audit": self.audit,
        }
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return path


# The run of this process: bench.core, bench.intake_http and bench.audit add to it.
RUN = Run()


def _commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    return found.stdout.strip() or "unknown"


def load_runs(directory: Path = RESULTS) -> list[dict[str, Any]]:
    """Every kept run, oldest first."""
    runs = [json.loads(p.read_text()) for p in directory.glob("*.json")]
    return sorted(runs, key=lambda r: str(r["at"]))


def write_report(runs: list[dict[str, Any]], report: Path = REPORT, plots: Path = PLOTS) -> None:
    """docs/benchmarks.md and its plots, from ``runs`` (oldest first)."""
    if not runs:
        return
    plots.mkdir(parents=True, exist_ok=True)
    newest = runs[-1]
    drawn = [
        name
        for name, draw in (
            ("throughput.png", _plot_throughput),
            ("latency.png", _plot_latency),
            ("audit.png", _plot_audit),
        )
        if draw(newest, plots / name)
    ]
    if len(runs) > 1 and _plot_history(runs, plots / "history.png"):
        drawn.append("history.png")
    report.write_text(_markdown(runs, drawn, plots.relative_to(report.parent)))


def _figures(run: dict[str, Any]) -> list[Figure]:
    return [Figure(**f) for f in run["figures"]]


def _markdown(runs: list[dict[str, Any]], drawn: list[str], plots: Path) -> str:
    newest = runs[-1]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/results.py`) from the runs kept in `bench/results/`; do not",
        "edit by hand. Each figure is measured beside its baseline in the same run on the same",
        "machine, so the ratio, not the absolute figure, is what compares across machines.",
        "",
        f"## Newest run: {newest['run']} (commit {newest['commit']}, {newest['machine']})",
        "",
        "| figure | measured | baseline | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for f in _figures(newest):
        baseline = f"{f.baseline:,.0f} {f.unit}" if f.baseline else "—"
        ratio = f"{f.ratio:.1%}" if f.ratio is not None else "—"
        verdict = {True: "meets", False: "**below**", None: ""}[f.meets]
        lines.append(
            f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | {ratio} | {f.target_text()} | {verdict} |"
        )
    latency = newest.get("latency_ms") or {}
    if latency:
        lines += [
            "",
            "Append → consumed latency at 200 events/s: "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in latency.items()),
        ]
    if newest.get("audit"):
        lines += [
            "",
            "| audit | events | events/s | ratio to raw consume | peak RSS |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {a['step']} | {a['size']:,} | {a['rate']:,.0f} | {a['ratio']:.1%} | {a['rss_mb']:,.0f} MB |"
            for a in newest["audit"]
        ]
    lines += [""] + [f"![{name.removesuffix('.png')}]({plots / name})" for name in drawn]
    lines += ["", "## History (ratio to baseline, or the figure itself where there is none)", ""]
    names = list(dict.fromkeys(f.name for run in runs for f in _figures(run)))
    lines += ["| run | commit | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for run in runs:
        by_name = {f.name: f for f in _figures(run)}
        cells = [_cell(by_name.get(name)) for name in names]
        lines.append(f"| {run['run']} | {run['commit']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(figure: Figure | None) -> str:
    if figure is None:
        return ""
    return f"{figure.ratio:.1%}" if figure.ratio is not None else f"{figure.value:,.1f} {figure.unit}"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    return plt


def _plot_throughput(run: dict[str, Any], path: Path) -> bool:
    rated = [f for f in _figures(run) if f.baseline and f.unit.endswith("/s")]
    if not rated:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    ratios = [f.ratio or 0.0 for f in rated]
    bars = ax.barh(
        [f.name for f in rated], ratios, color=["#2e7d32" if f.meets else "#c62828" for f in rated]
    )
    for f, bar in zip(rated, bars, strict=True):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {f.value:,.0f} / {f.baseline:,.0f} {f.unit}",
            va="center",
            fontsize=8,
        )
        if f.target is not None:
            ax.plot([f.target, f.target], [bar.get_y(), bar.get_y() + bar.get_height()], color="black", lw=2)
    ax.set_xlim(0, max(1.0, *ratios) * 1.35)
    ax.set_xlabel("figure / its baseline in the same run (black mark: target)")
    ax.invert_yaxis()
    ax.set_title(f"Throughput against baseline, run {run['run']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plot_latency(run: dict[str, Any], path: Path) -> bool:
    latency = run.get("latency_ms") or {}
    if not latency:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(latency), list(latency.values()), color="#1565c0")
    ax.axhline(50, color="black", lw=1, ls="--", label="target p99 < 50 ms")
    ax.set_ylabel("ms")
    ax.set_title("Append → consumed at 200 events/s")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plot_audit(run: dict[str, Any], path: Path) -> bool:
    audit = run.get("audit") or []
    if not audit:
        return False
    plt = _pyplot()
    fig, (rates, memory) = plt.subplots(1, 2, figsize=(9, 3.5))
    for step in dict.fromkeys(a["step"] for a in audit):
        points = sorted((a["size"], a["rate"], a["rss_mb"]) for a in audit if a["step"] == step)
        sizes = [p[0] for p in points]
        rates.plot(sizes, [p[1] for p in points], marker="o", label=step)
        memory.plot(sizes, [p[2] for p in points], marker="o", label=step)
    rates.set(title="events/s against log size", xlabel="events in the log", ylabel="events/s")
    memory.set(title="peak RSS against log size", xlabel="events in the log", ylabel="MB")
    memory.axhline(300, color="black", lw=1, ls="--", label="limit 300 MB")
    for ax in (rates, memory):
        ax.legend(fontsize=8)
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plot_history(runs: list[dict[str, Any]], path: Path) -> bool:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(dict.fromkeys(f.name for run in runs for f in _figures(run) if f.baseline))
    for name in names:
        points = [(run["run"], f.ratio) for run in runs for f in _figures(run) if f.name == name and f.ratio]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    ax.set(title="Each figure's ratio to its baseline, run by run", ylabel="ratio")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return bool(names)


if __name__ == "__main__":
    write_report(load_runs())
    print(f"wrote {REPORT}")
