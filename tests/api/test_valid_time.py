"""Valid time decides at sanctions, through the API, its database and its own scheduler: the
same facts give the same case and the same deadline outcomes however late each is entered
and whenever the scheduler runs in between (issue 13, defect 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import ManualClock
from shared.web.runtime import runtime
from tests.api.test_sanctions_support import command, js, rebuilt_read_models_match, refer, scheduler

pytest_plugins = ("tests.api.test_sanctions_support",)

SHA = "e" * 64
# Every run ends here, with the scheduler run once more: what is still pending then lapses.
END = date(2027, 1, 4)
# What the case's GET answer holds that is not its legal state: ids new in each run, the
# referral (the same input every run, but for its event id) and what counts the events.
NOT_LEGAL = ("case_id", "referral", "version", "timeline", "updated_at")


@dataclass(frozen=True)
class Fact:
    """One command with the legal date of its fact."""

    action: str
    body: dict[str, Any]
    valid_on: date


def decided(penalty: str) -> tuple[Fact, ...]:
    return (
        Fact("decision", {"penalty": penalty, "decided_on": "2024-12-09"}, date(2024, 12, 9)),
        Fact(
            "decree",
            {"number": "800/77", "issued_on": "2024-12-09", "document_sha256": SHA},
            date(2024, 12, 9),
        ),
        Fact("delivery", {"received_on": "2024-12-12"}, date(2024, 12, 12)),
    )


# Sample case C (docs/law.md §7): B2, in force 27 Dec 2024, a keberatan on 3 Jan 2025 inside
# the window (to 6 Jan) suspends it, confirmed on 20 Jan, completed after twelve months.
CASE_C = (
    *decided("B2"),
    Fact("objection", {"filed_on": "2025-01-03"}, date(2025, 1, 3)),
    Fact("objection/decision", {"ruling": "CONFIRM", "decided_on": "2025-01-20"}, date(2025, 1, 20)),
    Fact("execution/completion", {"completed_on": "2026-01-19"}, date(2026, 1, 19)),
)
# A dismissal with a banding before it takes effect, answered and confirmed by BPASN.
DISMISSAL = (
    *decided("B3"),
    Fact("appeal", {"filed_on": "2024-12-20"}, date(2024, 12, 20)),
    Fact("appeal/answer", {"answered_on": "2025-01-10"}, date(2025, 1, 10)),
    Fact("appeal/decision", {"ruling": "CONFIRM", "decided_on": "2025-03-03"}, date(2025, 3, 3)),
)
# No appeal: the windows run out, the penalty is carried out.
NO_APPEAL = (*decided("B2"), Fact("execution/completion", {"completed_on": "2025-12-26"}, date(2025, 12, 26)))


@pytest.fixture
def client(sanctions: Flask) -> FlaskClient:
    return sanctions.test_client()


def at(day: date) -> datetime:
    """10:00 WIB on ``day``."""
    return datetime.fromisoformat(f"{day.isoformat()}T03:00:00+00:00")


def play(
    sanctions: Flask,
    official: dict[str, str],
    clock: ManualClock,
    facts: tuple[Fact, ...],
    entered: list[date],
    runs_before: list[bool],
) -> tuple[str, dict[str, Any]]:
    """Refer a case, enter each fact on its day (the scheduler run first where asked), run
    the scheduler at ``END``; return the case id and its legal state."""
    client = sanctions.test_client()
    clock.set(at(date(2024, 11, 25)))
    case_id = refer(sanctions)
    for fact, day, run in zip(facts, entered, runs_before, strict=True):
        clock.set(at(day))
        if run:
            scheduler(sanctions).run_once()
        version = js(client.get(f"/v1/cases/{case_id}", headers=official))["version"]
        answer = command(client, official, case_id, fact.action, fact.body, version)
        assert answer.status_code == 200, (fact, day, js(answer))
    clock.set(at(END))
    scheduler(sanctions).run_once()
    body = js(client.get(f"/v1/cases/{case_id}", headers=official))
    with runtime(sanctions).engine.connect() as conn:
        projected = conn.execute(
            sa.text("SELECT state, breaches FROM sanctions_cases WHERE case_id = :c"), {"c": case_id}
        ).one()
    assert (projected.state, projected.breaches) == (body["state"], body["breaches"])  # read model = fold
    legal = {k: v for k, v in body.items() if k not in NOT_LEGAL}
    if legal["decision"]:  # its recorded inputs name the referral event, new in each run
        legal["decision"] = {k: v for k, v in legal["decision"].items() if k != "inputs"}
    legal["deadlines"] = sorted((d["kind"], d["due_on"], d["status"]) for d in body["deadlines"])
    return case_id, legal


IN_TIME: dict[int, dict[str, Any]] = {}


def in_time(sanctions: Flask, official: dict[str, str], clock: ManualClock, facts: tuple[Fact, ...]) -> Any:
    """Each fact entered on its own date, the scheduler run before each (played once per story)."""
    if id(facts) not in IN_TIME:
        days, runs = [f.valid_on for f in facts], [True] * len(facts)
        IN_TIME[id(facts)] = play(sanctions, official, clock, facts, days, runs)[1]
    return IN_TIME[id(facts)]


def types(client: FlaskClient, headers: dict[str, str], case_id: str) -> list[str]:
    return [
        e["envelope"]["event_type"] for e in js(client.get(f"/v1/cases/{case_id}/events", headers=headers))
    ]


def test_a_timely_keberatan_entered_after_the_window_closed_ends_as_if_entered_in_time(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    expected = in_time(sanctions, official, sanctions_clock, CASE_C)
    # Every fact but the keberatan in time; the keberatan typed in on 2 Feb, after the
    # scheduler had put the penalty in force (27 Dec) and closed the window (7 Jan).
    entered = [f.valid_on for f in CASE_C]
    entered[3:5] = [date(2025, 2, 2), date(2025, 2, 2)]
    case_id, legal = play(sanctions, official, sanctions_clock, CASE_C, entered, [True] * len(CASE_C))
    assert legal == expected
    assert legal["state"] == "CLOSED" and ("appeal_window", "2025-01-06", "MET") in legal["deadlines"]
    recorded = types(client, official, case_id)
    at_ = recorded.index("sanctions.lapse_withdrawn")
    assert recorded[at_ - 1 : at_ + 3] == [
        "sanctions.appeal_window_closed",
        "sanctions.lapse_withdrawn",
        "sanctions.objection_filed",
        "sanctions.penalty_suspended",
    ]
    correction = js(client.get(f"/v1/cases/{case_id}/events", headers=official))[at_]["envelope"]
    assert correction["occurred_at"].startswith("2025-01-03")
    [withdrawn] = correction["payload"]["withdrawn"]
    assert withdrawn["event_type"] == "sanctions.appeal_window_closed"
    assert withdrawn["occurred_at"].startswith("2025-01-07") and withdrawn["recorded_at"].startswith(
        "2025-02-02"
    )


def test_a_timely_banding_on_a_dismissal_the_lapses_closed_reopens_it(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    entered = [f.valid_on for f in DISMISSAL]
    # The banding and the answer after it took effect (27 Dec) and the window closed.
    entered[3:] = [date(2025, 2, 1), date(2025, 2, 1), date(2025, 3, 10)]
    case_id, legal = play(sanctions, official, sanctions_clock, DISMISSAL, entered, [True] * len(DISMISSAL))
    assert legal == in_time(sanctions, official, sanctions_clock, DISMISSAL)
    recorded = types(client, official, case_id)
    assert "sanctions.case_closed" in recorded[: recorded.index("sanctions.appeal_filed")]
    assert legal["state"] == "CLOSED" and legal["penalty"] == "B3"


def test_the_read_models_rebuilt_from_events_with_corrections_match_the_live_ones(
    sanctions: Flask, official: dict[str, str], sanctions_clock: ManualClock, new_database: Any
) -> None:
    entered = [f.valid_on for f in CASE_C]
    entered[3:] = [date(2025, 2, 5)] * 2 + [date(2026, 1, 19)]
    play(sanctions, official, sanctions_clock, CASE_C, entered, [True] * len(CASE_C))
    envelopes = rebuilt_read_models_match(sanctions, new_database)
    assert any(e.event_type == "sanctions.lapse_withdrawn" for e in envelopes)


@st.composite
def entry(draw: st.DrawFn, facts: tuple[Fact, ...]) -> tuple[list[date], list[bool]]:
    """When a clerk types each fact in (in order, never before its date, often weeks late) and
    whether the scheduler ran just before."""
    days, last = [], facts[0].valid_on
    for fact in facts:
        delay = draw(st.one_of(st.just(0), st.integers(0, 6), st.integers(7, 60)))
        last = max(last, fact.valid_on) + timedelta(days=delay)
        days.append(last)
    return days, draw(st.lists(st.booleans(), min_size=len(facts), max_size=len(facts)))


@pytest.mark.parametrize("facts", [CASE_C, DISMISSAL, NO_APPEAL], ids=["case_c", "dismissal", "no_appeal"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_interleaving_of_entry_and_scheduler_runs_gives_the_in_time_case(
    sanctions: Flask,
    official: dict[str, str],
    sanctions_clock: ManualClock,
    facts: tuple[Fact, ...],
    data: st.DataObject,
) -> None:
    entered, runs = data.draw(entry(facts))
    expected = in_time(sanctions, official, sanctions_clock, facts)
    assert play(sanctions, official, sanctions_clock, facts, entered, runs)[1] == expected
