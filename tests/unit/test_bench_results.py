"""make bench keeps each run's figures and draws the report people read (issue 15, item 4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bench.results import Figure, Run, load_runs, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def a_run(append: float, p99: float) -> Run:
    run = Run()
    run.figure(Figure("append", append, "ev/s", 2000, 0.75))
    run.figure(Figure("report CPU", 2.5, "ms", target=3.0, at_most=True))
    run.figure(Figure("latency p99", p99, "ms", target=50, at_most=True))
    run.latency_ms = {"p50": 12.0, "p90": 20.0, "p99": p99, "max": 80.0}
    run.audit = [
        {"step": "replay", "size": 100_000, "rate": 10_000.0, "ratio": 0.13, "rss_mb": 160.0},
        {"step": "replay", "size": 200_000, "rate": 11_000.0, "ratio": 0.14, "rss_mb": 170.0},
    ]
    return run


def test_a_figure_meets_a_ratio_target_or_stays_under_a_ceiling() -> None:
    assert Figure("append", 1600, "ev/s", 2000, 0.75).meets is True
    assert Figure("append", 1400, "ev/s", 2000, 0.75).meets is False
    assert Figure("report CPU", 3.2, "ms", target=3.0, at_most=True).meets is False
    assert Figure("report CPU", 2.9, "ms", target=3.0, at_most=True).meets is True
    assert Figure("relay", 10, "ev/s", 20).meets is None  # no target: measured only


def test_runs_of_one_day_are_kept_side_by_side_and_read_back_oldest_first(tmp_path: Path) -> None:
    first = a_run(1000, 40).save(tmp_path, now=datetime(2026, 12, 6, 9, tzinfo=UTC))
    second = a_run(1600, 60).save(tmp_path, now=datetime(2026, 12, 6, 10, tzinfo=UTC))
    assert (first.name, second.name) == ("2026-12-06.json", "2026-12-06-2.json")
    runs = load_runs(tmp_path)
    assert [r["run"] for r in runs] == ["2026-12-06", "2026-12-06-2"]
    assert json.loads(second.read_text())["figures"][0] == {
        "name": "append",
        "value": 1600,
        "unit": "ev/s",
        "baseline": 2000,
        "target": 0.75,
        "at_most": False,
    }


def test_the_report_shows_the_newest_run_its_plots_and_every_runs_ratio(tmp_path: Path) -> None:
    a_run(1000, 40).save(tmp_path, now=datetime(2026, 12, 5, tzinfo=UTC))
    a_run(1600, 60).save(tmp_path, now=datetime(2026, 12, 6, tzinfo=UTC))
    report, plots = tmp_path / "benchmarks.md", tmp_path / "benchmarks"
    write_report(load_runs(tmp_path), report, plots)
    text = report.read_text()
    assert "## Newest run: 2026-12-06" in text
    assert "| append | 1,600.0 ev/s | 2,000 ev/s | 80.0% | ≥ 75% | meets |" in text
    assert "| latency p99 | 60.0 ms | — | — | ≤ 50 ms | **below** |" in text
    assert "| 2026-12-05 |" in text and "| 50.0% |" in text  # the older run's append ratio
    for name in ("throughput", "latency", "audit", "history"):
        assert f"![{name}](benchmarks/{name}.png)" in text
        assert (plots / f"{name}.png").read_bytes().startswith(PNG)
