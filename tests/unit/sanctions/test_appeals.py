"""Keberatan and banding (PP 79/2021): the window, *tidak dapat diterima*, suspension of a
penalty already in force, each ruling and the penalty that then stands."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.sanctions.domain import appeals
from services.sanctions.domain.appeals import AppealDecision, Ruling
from services.sanctions.domain.case import State
from shared.refusals import IllegalTransition, RuleViolations
from tests.unit.sanctions.support import BOOK, CALENDAR, JPT_MADYA_2, PPK_KAB
from tests.unit.sanctions.test_lifecycle import delivered

TODAY = date(2026, 1, 1)


def objected(penalty: str = "B2", filed_on: date = date(2024, 12, 20), **kw: Any) -> Any:
    story = delivered(kw.pop("level", "BERAT"), penalty, **kw)
    story.record(appeals.file(appeals.KEBERATAN, story.case, BOOK, CALENDAR, filed_on, TODAY))
    return story


def test_a_timely_keberatan_goes_to_the_ppk_and_stops_the_penalty_taking_effect() -> None:
    story = objected()
    filed = story.history[-1]
    assert filed.event_type == "sanctions.objection_filed"
    assert (filed.payload["addressed_to"], filed.payload["basis"]) == ("PPK", "PP 79/2021 Ps 4(2) [V]")
    # 21 working days from 20 Dec 2024, skipping 25-26 Dec and 1 Jan.
    assert filed.payload["keberatan_decision_due_on"] == "2025-01-23"
    assert story.case.state is State.UNDER_KEBERATAN
    assert "takes_effect" not in [s.kind for s in story.starts]
    assert [a.value for a in story.case.allowed()] == ["objection_decision"]


def test_a_keberatan_after_the_penalty_took_effect_but_inside_the_window_suspends_it() -> None:
    story = delivered("BERAT", "B2")
    story.lapse("takes_effect")  # in force on 27 Dec 2024, the window runs to 6 Jan 2025
    assert story.case.in_force
    new = story.record(appeals.file(appeals.KEBERATAN, story.case, BOOK, CALENDAR, date(2025, 1, 6), TODAY))
    assert [e.event_type for e in new] == ["sanctions.objection_filed", "sanctions.penalty_suspended"]
    assert not story.case.in_force and story.case.execution is None


def test_a_late_keberatan_is_recorded_as_tidak_dapat_diterima_and_changes_nothing() -> None:
    story = delivered("BERAT", "B2")
    before = story.case.state
    [late] = story.record(
        appeals.file(appeals.KEBERATAN, story.case, BOOK, CALENDAR, date(2025, 1, 7), TODAY)
    )
    assert late.event_type == "sanctions.objection_rejected_late"
    assert late.payload["ruling"] == "TIDAK_DAPAT_DITERIMA"
    assert story.case.state is before
    assert {s.kind for s in story.starts} == {"takes_effect", "appeal_window"}


def test_a_keberatan_against_another_officials_decision_goes_to_the_superior() -> None:
    story = delivered("SEDANG", "S2L", signer=JPT_MADYA_2)
    filed = story.record(
        appeals.file(appeals.KEBERATAN, story.case, BOOK, CALENDAR, date(2024, 12, 13), TODAY)
    )[0]
    assert filed.payload["addressed_to"] == "ATASAN_PEJABAT"
    # Its window's article is the superior's (Ps 7), not the PPK's (Ps 4(2)): until issue 13, Ps 4(2).
    assert filed.payload["basis"] == "PP 79/2021 Ps 7 [R]"
    assert filed.payload["official_answer_due_on"] == "2024-12-23"  # 6 working days
    assert [a.value for a in story.case.allowed()] == ["objection_answer", "objection_decision"]
    story.record(appeals.answer(appeals.KEBERATAN, story.case, date(2024, 12, 19), TODAY))
    assert "official_answer" not in [s.kind for s in story.starts]
    assert [a.value for a in story.case.allowed()] == ["objection_decision"]


@pytest.mark.parametrize(
    ("ruling", "penalty", "stands"),
    [
        (Ruling.CONFIRM, None, "B2"),
        (Ruling.LIGHTEN, "B1", "B1"),
        (Ruling.AGGRAVATE, "B3", "B3"),
        (Ruling.CHANGE, "B1", "B1"),
        (Ruling.REVOKE, None, None),
        (Ruling.ANNUL, None, None),
    ],
)
def test_each_keberatan_ruling_leaves_the_penalty_that_then_stands(
    ruling: Ruling, penalty: str | None, stands: str | None
) -> None:
    story = objected()
    decision = AppealDecision(ruling, date(2025, 1, 10), penalty, in_force_on=date(2025, 1, 13))
    new = story.record(appeals.decide(appeals.KEBERATAN, story.case, BOOK, decision, TODAY))
    decided = new[0]
    assert decided.event_type == "sanctions.objection_decided"
    assert (decided.payload["penalty"] or {}).get("code") == stands
    if stands is None:
        assert [e.event_type for e in new][1:] == ["sanctions.case_closed"]
        assert new[1].payload["reason"] == ("REVOKED" if ruling is Ruling.REVOKE else "ANNULLED")
        assert story.case.state is State.CLOSED
    else:
        assert new[1].event_type == "sanctions.penalty_in_force"
        assert new[1].payload["in_force_on"] == "2025-01-13"
        assert story.case.penalty is not None and story.case.penalty["code"] == stands


@pytest.mark.parametrize(
    ("ruling", "penalty"),
    [
        (Ruling.LIGHTEN, "B3"),  # not lighter
        (Ruling.AGGRAVATE, "B1"),  # not heavier
        (Ruling.CHANGE, "B2"),  # not a change
        (Ruling.LIGHTEN, None),  # names no penalty
        (Ruling.REVOKE, "B1"),  # revoking leaves none
        (Ruling.LIGHTEN, "S2"),  # not available while the Ps 42 switch is off
        (Ruling.CHANGE, "M1"),  # a moral sanction is another category
    ],
)
def test_a_ruling_that_does_not_fit_its_penalty_is_refused(ruling: Ruling, penalty: str | None) -> None:
    story = objected()
    with pytest.raises(RuleViolations):
        appeals.decide(
            appeals.KEBERATAN, story.case, BOOK, AppealDecision(ruling, date(2025, 1, 10), penalty), TODAY
        )


def test_a_lightened_penalty_must_be_within_some_listed_officials_power() -> None:
    payload_signer = {**PPK_KAB, "may_impose": ["BERAT"]}
    story = objected(signer=payload_signer)
    with pytest.raises(RuleViolations) as refused:
        appeals.decide(
            appeals.KEBERATAN,
            story.case,
            BOOK,
            AppealDecision(Ruling.LIGHTEN, date(2025, 1, 10), "S1L"),
            TODAY,
        )
    assert refused.value.violations[0].rule.startswith("PYBM_AUTHORITY")


def test_a_keberatan_decision_dated_later_takes_effect_by_its_timer() -> None:
    story = objected()
    decision = AppealDecision(Ruling.CONFIRM, date(2025, 1, 10), None, in_force_on=date(2026, 2, 1))
    story.record(appeals.decide(appeals.KEBERATAN, story.case, BOOK, decision, TODAY))
    assert story.case.state is State.APPEAL_DECIDED
    assert story.due("takes_effect") == date(2026, 1, 31)
    assert story.lapse("takes_effect") == ["sanctions.penalty_in_force", "sanctions.execution_started"]


def test_an_unanswered_keberatan_past_21_working_days_is_a_breach_opening_the_ptun() -> None:
    story = objected()
    assert story.lapse("keberatan_decision") == ["sanctions.deadline_missed"]
    assert "PTUN" in story.history[-1].payload["consequence"]


def test_banding_is_only_against_a_dismissal() -> None:
    story = delivered("BERAT", "B2")
    with pytest.raises(IllegalTransition) as refused:
        appeals.file(appeals.BANDING, story.case, BOOK, CALENDAR, date(2024, 12, 13), TODAY)
    assert refused.value.allowed == ("objection",)
    assert "contested by a keberatan" in str(refused.value)
    # The refusal names the rule and its article, from the rule data.
    assert refused.value.rule == "APPEAL_ROUTE_KEBERATAN (PP 79/2021 Ps 3-9 [V])"


def test_a_banding_against_a_dismissal_runs_its_two_clocks_and_bpasn_decides() -> None:
    story = delivered("BERAT", "B3")
    with pytest.raises(IllegalTransition):
        appeals.file(appeals.KEBERATAN, story.case, BOOK, CALENDAR, date(2024, 12, 13), TODAY)
    filed = story.record(
        appeals.file(appeals.BANDING, story.case, BOOK, CALENDAR, date(2024, 12, 13), TODAY)
    )[0]
    assert filed.payload["addressed_to"] == "BPASN"
    assert {s.kind for s in story.starts} == {"ppk_answer", "bpasn_decision"}
    assert story.case.state is State.UNDER_BANDING
    story.record(appeals.answer(appeals.BANDING, story.case, date(2025, 1, 10), TODAY))
    assert [a.value for a in story.case.allowed()] == ["appeal_decision"]
    new = story.record(
        appeals.decide(
            appeals.BANDING, story.case, BOOK, AppealDecision(Ruling.ANNUL, date(2025, 3, 3)), TODAY
        )
    )
    assert [e.event_type for e in new] == ["sanctions.appeal_decided", "sanctions.case_closed"]


def test_a_bpasn_confirmation_makes_the_dismissal_effective_and_closes_the_case() -> None:
    story = delivered("BERAT", "B3")
    story.record(appeals.file(appeals.BANDING, story.case, BOOK, CALENDAR, date(2024, 12, 13), TODAY))
    new = story.record(
        appeals.decide(
            appeals.BANDING, story.case, BOOK, AppealDecision(Ruling.CONFIRM, date(2025, 3, 3), None), TODAY
        )
    )
    assert [e.event_type for e in new] == [
        "sanctions.appeal_decided",
        "sanctions.penalty_in_force",
        "sanctions.penalty_executed",
        "sanctions.case_closed",
    ]
