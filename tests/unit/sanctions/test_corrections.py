"""Valid time decides (domain.corrections): a fact entered after a lapse it precedes in law
withdraws that lapse, and the case ends as it would have had the fact been entered in time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

from services.sanctions.domain import appeals, delivery
from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case, State
from services.sanctions.domain.corrections import by_valid_time, lapses
from services.sanctions.domain.decision import DecisionRequest, decide
from shared.outcome import Outcome
from tests.unit.sanctions.support import BOOK, CALENDAR, Story, referral
from tests.unit.sanctions.test_lifecycle import SHA, decided, delivered

TODAY = date(2026, 1, 1)


def legal(case: Case) -> Case:
    """What the law cares about: the case without its version, timeline and last instant."""
    return replace(case, version=0, timeline=(), last_at=None)


def keberatan(on: date) -> Callable[[Case], Outcome]:
    return lambda case: appeals.file(appeals.KEBERATAN, case, BOOK, CALENDAR, on, TODAY)


def banding(on: date) -> Callable[[Case], Outcome]:
    return lambda case: appeals.file(appeals.BANDING, case, BOOK, CALENDAR, on, TODAY)


def delivered_on(on: date) -> Callable[[Case], Outcome]:
    return lambda case: delivery.deliver(case, BOOK, CALENDAR, on, "IN_PERSON", TODAY)


def decision(on: date) -> Callable[[Case], Outcome]:
    request = DecisionRequest(("B2",), on, "pybm", datetime(2025, 1, 20, tzinfo=UTC))
    return lambda case: decide(case, BOOK, CALENDAR, request)


def entered(story: Story, valid_on: date, command: Callable[[Case], Outcome]) -> list[str]:
    """Record ``command`` as the web layer does: by valid time on ``valid_on``."""
    return [e.event_type for e in story.record(by_valid_time(story.history, valid_on, command))]


def test_a_timely_keberatan_entered_after_the_window_closed_withdraws_the_closing() -> None:
    # Sample case C: in force 27 Dec 2024, window to 6 Jan 2025, keberatan filed 3 Jan.
    in_time = delivered("BERAT", "B2")
    in_time.lapse("takes_effect")
    assert entered(in_time, date(2025, 1, 3), keberatan(date(2025, 1, 3))) == [
        ev.OBJECTION_FILED,
        ev.PENALTY_SUSPENDED,
    ]
    late = delivered("BERAT", "B2")
    late.lapse("takes_effect")
    late.lapse("appeal_window")
    assert entered(late, date(2025, 1, 3), keberatan(date(2025, 1, 3))) == [
        ev.LAPSE_WITHDRAWN,
        ev.OBJECTION_FILED,
        ev.PENALTY_SUSPENDED,
    ]
    correction = late.history[-3]
    assert [w["event_type"] for w in correction.payload["withdrawn"]] == [ev.APPEAL_WINDOW_CLOSED]
    assert correction.payload["deadlines"] == [{"kind": "appeal_window", "lapsed_on": "2025-01-07"}]
    assert correction.payload["restored"]["state"] == "IN_FORCE"
    assert legal(late.case) == legal(in_time.case)
    assert late.case.state is State.UNDER_KEBERATAN and not late.case.window_closed


def test_a_keberatan_filed_before_the_penalty_took_effect_withdraws_its_taking_effect_too() -> None:
    in_time = delivered("BERAT", "B2")
    entered(in_time, date(2024, 12, 20), keberatan(date(2024, 12, 20)))
    late = delivered("BERAT", "B2")
    late.lapse("takes_effect")
    late.lapse("appeal_window")
    assert entered(late, date(2024, 12, 20), keberatan(date(2024, 12, 20))) == [
        ev.LAPSE_WITHDRAWN,
        ev.OBJECTION_FILED,
    ]
    withdrawn = [w["event_type"] for w in late.history[-2].payload["withdrawn"]]
    assert withdrawn == [ev.PENALTY_IN_FORCE, ev.EXECUTION_STARTED, ev.APPEAL_WINDOW_CLOSED]
    assert legal(late.case) == legal(in_time.case)
    assert not late.case.in_force and late.case.execution is None
    assert lapses(late.history) == []


def test_a_timely_banding_reopens_a_dismissal_the_lapses_had_closed() -> None:
    late = delivered("BERAT", "B3")
    late.lapse("takes_effect")  # dismissal effective on taking effect
    late.lapse("appeal_window")
    assert late.case.state is State.CLOSED
    assert entered(late, date(2024, 12, 13), banding(date(2024, 12, 13))) == [
        ev.LAPSE_WITHDRAWN,
        ev.APPEAL_FILED,
    ]
    in_time = delivered("BERAT", "B3")
    entered(in_time, date(2024, 12, 13), banding(date(2024, 12, 13)))
    assert legal(late.case) == legal(in_time.case)
    assert late.case.state is State.UNDER_BANDING
    assert late.history[-2].payload["restored"]["state"] == "DELIVERED"


def test_a_keberatan_filed_after_the_window_withdraws_nothing() -> None:
    story = delivered("BERAT", "B2")
    story.lapse("takes_effect")
    story.lapse("appeal_window")
    assert entered(story, date(2025, 1, 7), keberatan(date(2025, 1, 7))) == [ev.OBJECTION_REJECTED_LATE]
    assert story.case.window_closed


def test_a_keberatan_filed_the_day_the_penalty_took_effect_leaves_its_taking_effect_standing() -> None:
    story = delivered("BERAT", "B2")
    story.lapse("takes_effect")
    story.lapse("appeal_window")
    assert entered(story, date(2024, 12, 27), keberatan(date(2024, 12, 27))) == [
        ev.LAPSE_WITHDRAWN,
        ev.OBJECTION_FILED,
        ev.PENALTY_SUSPENDED,
    ]
    assert [w["event_type"] for w in story.history[-3].payload["withdrawn"]] == [ev.APPEAL_WINDOW_CLOSED]


def test_a_delivery_in_time_entered_after_its_breach_was_recorded_withdraws_the_breach() -> None:
    story = decided("BERAT", "B2")
    story.record(
        delivery.issue_decree(
            story.case, delivery.Decree("800/77/BKPSDM/2024", date(2024, 12, 9), SHA), TODAY
        )
    )
    assert story.lapse("delivery") == [ev.DEADLINE_MISSED]  # due 30 Dec 2024
    assert entered(story, date(2024, 12, 30), delivered_on(date(2024, 12, 30))) == [
        ev.LAPSE_WITHDRAWN,
        ev.DECISION_DELIVERED,
    ]
    [withdrawn] = story.history[-2].payload["withdrawn"]
    assert (withdrawn["event_type"], withdrawn["kind"]) == (ev.DEADLINE_MISSED, "delivery")


def test_a_decision_dated_inside_the_follow_up_withdraws_the_escalation_but_a_later_one_does_not() -> None:
    # Referred 25 Nov 2024, follow-up due 9 Dec: the lapse on the 10th escalates.
    for decided_on, withdraws in ((date(2024, 12, 9), True), (date(2024, 12, 10), False)):
        story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
        assert story.lapse("ppk_follow_up")[0] == ev.DEADLINE_MISSED
        assert story.case.state is State.PPK_NONCOMPLIANT
        types = entered(story, decided_on, decision(decided_on))
        assert (types[0] == ev.LAPSE_WITHDRAWN) is withdraws, types
        assert story.case.state is State.DECIDED and story.case.noncompliant is not withdraws
        if withdraws:
            withdrawn = [w["event_type"] for w in story.history[-2].payload["withdrawn"]]
            assert withdrawn == [ev.DEADLINE_MISSED, ev.ESCALATION_REQUESTED, ev.ESCALATION_REQUESTED]
