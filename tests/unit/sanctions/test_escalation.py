"""A PPK who does not act on a referral (docs/law.md §5 6a): the breach and the escalation
steps of the rule set, as events; nothing once the case has been decided."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.sanctions.domain.case import Action, State
from services.sanctions.domain.decision import DecisionRequest, decide
from services.sanctions.domain.lapses import on_lapse
from shared.envelope import NewEvent
from tests.unit.sanctions.support import BOOK, CALENDAR, Story, referral


def test_the_follow_up_deadline_is_rule_data_counted_from_the_referral() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    # 14 calendar days (R: disputed, 10 vs 14; the unit is assumed calendar).
    assert story.due("ppk_follow_up") == date(2024, 12, 9)
    assert story.starts[0].rule_set == "sanctions-pp94-2021.1"


def test_a_lapse_with_no_decision_records_the_breach_and_requests_each_escalation() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    assert story.lapse("ppk_follow_up") == [
        "sanctions.deadline_missed",
        "sanctions.escalation_requested",
        "sanctions.escalation_requested",
    ]
    steps = {e.payload["action"]: e.payload for e in story.history[-2:]}
    assert steps["SIASN_DATA_BLOCK"]["article"] == "Perban BKN 1/2023"
    assert steps["SIASN_DATA_BLOCK"]["confidence"] == "S"
    assert steps["PYBM_SANCTION"]["article"] == "PP 94/2021 Ps 24(2)-(3)"
    assert story.history[-1].occurred_at == "2024-12-10T00:00:00.000000+07:00"
    assert story.case.state is State.PPK_NONCOMPLIANT
    # The PPK may still decide, late.
    assert story.case.allowed() == [Action.DECISION]


def test_a_legacy_case_escalates_by_its_own_rule_set() -> None:
    story = Story.referred(referral("BERAT", incident_date="2020-11-20"), on=date(2021, 2, 1))
    story.lapse("ppk_follow_up")
    assert {e.payload["article"] for e in story.history[-2:]} == {
        "BKN practice before Perban BKN 1/2023 (docs/law.md §7 E)",
        "UU 5/2014 Ps 33",
    }


def test_a_decided_case_does_not_escalate() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    outcome = decide(
        story.case,
        BOOK,
        CALENDAR,
        DecisionRequest(("B2",), date(2024, 12, 2), "p", datetime(2024, 12, 2, tzinfo=UTC)),
    )
    assert outcome.meets == ["ppk_follow_up"]
    story.record(outcome)
    breach = NewEvent(
        "sanctions.deadline_missed", {"kind": "ppk_follow_up"}, datetime(2024, 12, 10, tzinfo=UTC)
    )
    assert on_lapse(story.case, BOOK, "ppk_follow_up", date(2024, 12, 9), breach) == []
