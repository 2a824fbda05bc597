"""`netra demo load`: the five sample cases of docs/law.md §7 through a real HTTP server (their
reports at intake here; the whole script through all three services: tests/e2e/test_sample_cases.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from netra.demo import REPORTS, send_reports, summary_line
from netra.samples import SAMPLE_CASES, Lapse
from services.intake import create_app
from shared.config import Settings
from shared.web.runtime import runtime


@pytest.fixture
def served(api_settings: Settings) -> Iterator[tuple[str, Any]]:
    """The intake app on a real socket (the system clock: the demo's dates are in the past)."""
    app = create_app(api_settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", runtime(app).tokens
    finally:
        server.shutdown()
        thread.join(10)
        runtime(app).close()


def test_the_five_sample_cases_register_as_the_domain_expects(served: tuple[str, Any]) -> None:
    url, tokens = served
    results = send_reports(url, tokens)
    assert [r["case"] for r in results] == ["A", "B", "C", "D1", "D2", "E"]
    assert all(r["http_status"] == 201 for r in results), results
    answers = {r["case"]: r["response"] for r in results}
    # All are ASN (PNS or PPPK; a Lurah is not a village official), complete Bawaslu
    # laporan filed within their windows: registered, none late, none out of scope.
    assert {case: (a["status"], a["late"]) for case, a in answers.items()} == {
        case: ("REGISTERED", False) for case in answers
    }
    # D: one source_ref naming two people opens two cases, not one joined case.
    assert answers["D1"]["case_id"] != answers["D2"]["case_id"]
    assert len({a["case_id"] for a in answers.values()}) == 6
    # Numbered by the year of receipt, not of the conduct: unique across all five.
    assert len({a["case_number"] for a in answers.values()}) == 6
    assert all(summary_line(r).startswith(r["case"]) for r in results)


def test_loading_twice_replays_instead_of_opening_new_cases(served: tuple[str, Any]) -> None:
    url, tokens = served
    first = send_reports(url, tokens)
    again = send_reports(
        url, lambda i, role, agency, channel: tokens.create(i, role, agency=agency, channel=channel)
    )
    assert [r["http_status"] for r in again] == [200] * len(REPORTS)
    assert [r["response"] for r in again] == [r["response"] for r in first]


def test_the_script_runs_forward_in_legal_time_and_ends_where_the_law_leaves_each_case() -> None:
    assert [s.letter for s in SAMPLE_CASES] == [r.case for r in REPORTS]
    for sample in SAMPLE_CASES:
        days = [step.on for step in sample.steps]
        assert days == sorted(days), sample.letter
        assert all(isinstance(s, Lapse) or s.service in ("adjudication", "sanctions") for s in sample.steps)
    assert {s.letter: s.end_state for s in SAMPLE_CASES} == {
        "A": "CLOSED",
        "B": "CLOSED",
        "C": "CLOSED",
        "D1": "CLOSED",
        "D2": "CLOSED",
        "E": "PPK_NONCOMPLIANT",
    }


def test_a_summary_line_says_where_a_played_case_ended() -> None:
    answer = {"case_number": "NTR-2024-000002", "status": "REGISTERED", "late": False}
    played = {"case": "B", "http_status": 201, "response": answer}
    end = {"adjudication": "REFERRED", "sanctions": "CLOSED", "stage": "CLOSED"}
    assert summary_line({**played, "end": end}).endswith("sanctions CLOSED, partner CLOSED")
    assert summary_line({**played, "stopped": "sanctions decision: HTTP 422"}).endswith("stopped (see above)")
