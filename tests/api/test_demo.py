"""`netra demo load`: the five sample cases of domain.md §7 through a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from netra.demo import REPORTS, load_demo, summary_line
from services.intake import create_app
from shared.config import Settings
from shared.runtime import runtime


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
    results = load_demo(url, tokens)
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
    first = load_demo(url, tokens)
    again = load_demo(
        url, lambda agency, channel: tokens.create(agency, "partner", agency=agency, channel=channel)
    )
    assert [r["http_status"] for r in again] == [200] * len(REPORTS)
    assert [r["response"] for r in again] == [r["response"] for r in first]
