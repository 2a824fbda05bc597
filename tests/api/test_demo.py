"""`netra demo load`: the five sample cases of docs/law.md §7 through a real HTTP server (their
reports at intake here; the whole script through all three services: tests/e2e/test_sample_cases.py)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from werkzeug.serving import make_server

from netra.demo import REPORTS, load_demo, send_reports, summary_line
from netra.sample_run import HttpTransport
from netra.samples import SAMPLE_CASES, Lapse
from services.intake import create_app
from shared.config import Settings
from shared.pg_embedded import free_port
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


def get(url: str, path: str, headers: Mapping[str, str]) -> tuple[int, Any, Any]:
    """GET ``path`` over real HTTP: status, headers and JSON body (an error answer too)."""
    request = urllib.request.Request(url + path, headers=dict(headers), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def bearer(tokens: Any, identity: str, role: str, agency: str | None, channel: str | None) -> dict[str, str]:
    return {"Authorization": "Bearer " + tokens.create(identity, role, agency=agency, channel=channel)}


def assert_intake_holds(url: str, tokens: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What intake's API answers about every report the demo sent, asked afresh by each
    report's own partner and by staff: the report and its case as the POST answered them.
    Returns the staff's view of each case, in the order of ``results``."""
    by_case = {r.case: r for r in REPORTS}
    cases = []
    for result in results:
        sent, answer = by_case[result["case"]], result["response"]
        # A supervisor reads the cases of its own agency's employees (shared.scope).
        staff = bearer(tokens, "sup.demo", "supervisor", sent.body["subject"]["agency"], None)
        partner = bearer(tokens, sent.agency, "partner", sent.agency, sent.channel)
        status, _, report = get(url, f"/v1/reports/{answer['report_id']}", partner)
        assert status == 200, (result["case"], report)
        assert (report["report_id"], report["case_id"], report["case_number"], report["status"]) == (
            answer["report_id"],
            answer["case_id"],
            answer["case_number"],
            answer["status"],
        ), result["case"]
        assert (report["stage"], [h["stage"] for h in report["history"]]) == ("RECEIVED", ["RECEIVED"])
        status, _, case = get(url, f"/v1/cases/{answer['case_id']}", staff)
        assert status == 200, (result["case"], case)
        assert case["case_number"] == answer["case_number"], result["case"]
        assert [r["report_id"] for r in case["reports"]] == [answer["report_id"]], result["case"]
        cases.append(case)
    return cases


def cases_at_intake(url: str, tokens: Any) -> int:
    """How many cases intake's API lists to an administrator (who reads every case)."""
    status, headers, listed = get(
        url, "/v1/cases?page_size=100", bearer(tokens, "admin.demo", "admin", None, None)
    )
    assert status == 200, listed
    total = json.loads(headers["X-Pagination"])["total"]
    assert total == len(listed)
    return int(total)


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
    # Intake's API, asked afresh, holds exactly these six registered cases.
    cases = assert_intake_holds(url, tokens, results)
    assert cases_at_intake(url, tokens) == 6
    # D1 and D2: two cases at intake too, neither holding the other's report.
    d1, d2 = (cases[[r["case"] for r in results].index(letter)] for letter in ("D1", "D2"))
    assert d1["case_id"] != d2["case_id"]
    assert {r["report_id"] for r in d1["reports"]}.isdisjoint(r["report_id"] for r in d2["reports"])


def test_loading_twice_replays_instead_of_opening_new_cases(served: tuple[str, Any]) -> None:
    url, tokens = served
    first = send_reports(url, tokens)
    again = send_reports(
        url,
        lambda i, role, agency, channel, offices: tokens.create(
            i, role, agency=agency, channel=channel, offices=offices
        ),
    )
    assert [r["http_status"] for r in again] == [200] * len(REPORTS)
    assert [r["response"] for r in again] == [r["response"] for r in first]
    # The API holds the six cases of the first load and nothing more.
    assert cases_at_intake(url, tokens) == len(REPORTS) == 6
    assert_intake_holds(url, tokens, again)


def test_the_script_is_dated_forward_in_legal_time_and_names_where_the_law_leaves_each_case() -> None:
    """The script's own data: its dates and the end state it declares for each case. Playing
    it to those ends takes all three services: tests/e2e/test_sample_cases.py does that."""
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


def test_the_demo_against_intake_alone_sends_the_reports_and_says_so(served: tuple[str, Any]) -> None:
    url, tokens = served
    nowhere = {name: f"http://127.0.0.1:{free_port()}" for name in ("adjudication", "sanctions")}
    lines: list[str] = []
    results = load_demo(url, tokens, urls=nowhere, progress=lines.append)
    assert lines == [
        f"adjudication and sanctions not reachable ({nowhere['adjudication']}, {nowhere['sanctions']}): "
        "reports only"
    ]
    assert [(r["case"], r["http_status"]) for r in results] == [(r.case, 201) for r in REPORTS]
    assert_intake_holds(url, tokens, results)
    assert cases_at_intake(url, tokens) == 6


def test_a_summary_line_shows_what_intake_answered_and_where_the_case_ended(served: tuple[str, Any]) -> None:
    url, tokens = served
    results = {r["case"]: r for r in send_reports(url, tokens)}
    reported, [sent] = results["B"], [r for r in REPORTS if r.case == "B"]
    answer = reported["response"]
    status, _, report = get(
        url,
        f"/v1/reports/{answer['report_id']}",
        bearer(tokens, sent.agency, "partner", sent.agency, sent.channel),
    )
    assert status == 200 and report["case_number"] == answer["case_number"]
    # Only reported: the number and status intake gave, nothing about an end.
    assert summary_line(reported).split() == [
        "B",
        report["case_number"],
        "REGISTERED",
        "late=False",
        f"report={answer['report_id']}",
    ]
    # Played to its end (the states a play returns) or stopped by a refusal.
    end = {"adjudication": "REFERRED", "sanctions": "CLOSED", "stage": "CLOSED"}
    played = summary_line({**reported, "end": end})
    assert played.startswith(summary_line(reported))
    assert played.endswith("-> adjudication REFERRED, sanctions CLOSED, partner CLOSED")
    assert summary_line({**reported, "stopped": "sanctions decision: HTTP 422"}).endswith(
        "stopped (see above)"
    )
    # A report intake refused shows the status and intake's own error body.
    refused = HttpTransport({"intake": url}).request(
        "intake", "POST", "/v1/reports", {"Idempotency-Key": "no-token"}, dict(sent.body)
    )
    assert refused.status == 401
    line = summary_line({"case": "B", "http_status": refused.status, "response": refused.body})
    assert line == f"B   HTTP 401: {json.dumps(refused.body)}"
    assert json.loads(line.split(": ", 1)[1])["message"] == "missing bearer token"
