"""Deadline arithmetic of PP 94/2021 Ps 26 across weekends, national holidays, cuti bersama and
election days, with the dates of docs/law.md §7 (which supersede the weekend-only ones)."""

from __future__ import annotations

from datetime import date

import pytest

from services.adjudication.domain import assignment, recommendation, summons
from services.adjudication.domain import commands as c
from services.adjudication.domain.summons import examination_limit, second_summons_limit
from services.adjudication.domain.vocabulary import AttendanceMode, Level, RecommendationCategory
from shared.refusals import RuleViolation
from tests.unit.adjudication.builders import BOOK, CALENDAR, SUPERVISOR, Story, d

RULES = BOOK.in_force(date(2024, 3, 6))


@pytest.mark.parametrize(
    ("letter", "limit", "why"),
    [
        ("2024-03-06", "2024-03-19", "case B: 11 Mar Nyepi and 12 Mar cuti bersama do not count"),
        ("2024-04-03", "2024-04-22", "Lebaran 2024: 8–15 April are holidays and cuti bersama"),
        ("2024-11-22", "2024-12-04", "27 Nov 2024, Pilkada voting day, is a holiday"),
        ("2024-12-20", "2025-01-03", "25–26 Dec (Christmas, cuti bersama) and 1 Jan"),
        ("2025-03-26", "2025-04-15", "Lebaran 2025: 31 Mar–7 Apr, after the Nyepi cuti bersama on 28 Mar"),
        ("2024-10-04", "2024-10-15", "a plain fortnight: weekends only"),
    ],
)
def test_the_examination_is_due_seven_working_days_after_the_letter(
    letter: str, limit: str, why: str
) -> None:
    assert examination_limit(d(letter), RULES, CALENDAR) == d(limit), why


def test_case_c_second_summons_is_due_seven_working_days_after_the_missed_date() -> None:
    assert second_summons_limit(d("2024-11-13"), RULES, CALENDAR) == d("2024-11-22")


def test_a_summons_that_sets_the_examination_past_the_limit_is_refused_naming_the_limit() -> None:
    story = Story().opened()
    with pytest.raises(RuleViolation) as refused:
        story.do(
            summons.issue_summons,
            c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-20"), "Kadis"),
            SUPERVISOR,
        )
    assert refused.value.field == "examination_date"
    assert "2024-03-19" in refused.value.message and "Ps 26(2)" in refused.value.rule


def test_the_summons_starts_the_examination_clock_in_the_event_and_the_outcome() -> None:
    story = Story().opened()
    [summoned] = story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-19"), "Kadis"), SUPERVISOR
    )
    [started] = summoned.payload["deadlines"]["started"]
    assert (started["kind"], started["due_on"], started["day_count"]) == (
        "examination_1",
        "2024-03-19",
        "WORKING",
    )
    [deadline] = story.uow.deadlines
    assert (deadline.kind, deadline.due_on, deadline.started_by) == (
        "examination_1",
        d("2024-03-19"),
        summoned.event_id,
    )
    assert summoned.rule_set == "adjudication-2024.1"


def test_attendance_meets_the_examination_clock() -> None:
    story = Story().opened()
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis"), SUPERVISOR
    )
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-03-15"), AttendanceMode.TATAP_MUKA), SUPERVISOR
    )
    assert [(cl.kind, cl.status) for cl in story.case.clocks] == [("examination_1", "MET")]
    assert [dl.kind for dl in story.uow.resolved] == ["examination_1"]


def test_an_examination_after_its_limit_meets_the_clock_late_judged_by_its_own_date() -> None:
    # Until issue 13 a late attendance showed its clock MET.
    story = Story().opened()
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis"), SUPERVISOR
    )
    [attended] = story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-03-20"), AttendanceMode.TATAP_MUKA), SUPERVISOR
    )
    clocks = attended.payload["deadlines"]
    assert (clocks["met"], clocks["met_late"], clocks["judged_on"]) == ([], ["examination_1"], "2024-03-20")
    assert [(cl.kind, cl.status) for cl in story.case.clocks] == [("examination_1", "MET_LATE")]


def test_the_ppk_follow_up_runs_fourteen_calendar_days_from_receipt_and_the_summons_meets_it() -> None:
    story = Story().opened()
    story.do(assignment.assign, c.AssignInvestigator("inv.putu"), SUPERVISOR)
    story.do(
        recommendation.record_recommendation,
        c.RecordRecommendation("R-1", d("2024-03-04"), RecommendationCategory.DISIPLIN, Level.SEDANG),
    )
    [ack] = story.do(recommendation.acknowledge, c.AcknowledgeRecommendation(d("2024-03-05"), "Pj Gubernur"))
    assert ack.payload["deadlines"]["started"][0]["due_on"] == "2024-03-19"
    assert ack.payload["basis"]["confidence"] == "R"  # disputed: 10 vs 14 days
    [summoned] = story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis"), SUPERVISOR
    )
    assert summoned.payload["deadlines"]["met"] == ["ppk_follow_up"]


def test_a_late_second_summons_is_recorded_and_marked_late() -> None:
    story = Story().opened()
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-11-06"), d("2024-11-13"), "Kadis"), SUPERVISOR
    )
    [absent] = story.do(summons.record_absence, c.RecordAbsence(d("2024-11-13")), SUPERVISOR)
    assert absent.payload["second_summons_due_on"] == "2024-11-22"
    [second] = story.do(
        summons.issue_second_summons,
        c.IssueSummons("S-2", d("2024-11-25"), d("2024-11-29"), "Kadis"),
        SUPERVISOR,
    )
    assert second.payload["late"] is True and second.payload["issue_due_on"] == "2024-11-22"


def test_a_second_summons_after_its_seven_working_days_meets_its_clock_late() -> None:
    """Absent on 27 Dec 2024: 1 Jan is a holiday, so the second summons is due by 8 Jan 2025;
    a letter of 9 Jan is recorded, but as met late, citing Ps 26(3)."""
    story = Story().opened()
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-12-18"), d("2024-12-27"), "Kadis"), SUPERVISOR
    )
    [absent] = story.do(summons.record_absence, c.RecordAbsence(d("2024-12-27")), SUPERVISOR)
    assert absent.payload["second_summons_due_on"] == "2025-01-08"
    [second] = story.do(
        summons.issue_second_summons,
        c.IssueSummons("S-2", d("2025-01-09"), d("2025-01-10"), "Kadis"),
        SUPERVISOR,
    )
    clocks = second.payload["deadlines"]
    assert clocks["met"] == [] and clocks["met_late"] == ["second_summons"]
    assert second.payload["late"] is True and second.payload["issue_due_on"] == "2025-01-08"
    assert second.payload["issue_basis"] == {
        "rule": "PANGGILAN_KEDUA_7_HARI_KERJA",
        "article": "PP 94/2021 Ps 26(3)",
        "confidence": "V",
    }
    statuses = {cl.kind: cl.status for cl in story.case.clocks}
    assert statuses == {"examination_1": "MET", "second_summons": "MET_LATE", "examination_2": "PENDING"}


def test_a_second_summons_on_its_last_day_meets_its_clock_on_time() -> None:
    story = Story().opened()
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-12-18"), d("2024-12-27"), "Kadis"), SUPERVISOR
    )
    story.do(summons.record_absence, c.RecordAbsence(d("2024-12-27")), SUPERVISOR)
    [second] = story.do(
        summons.issue_second_summons,
        c.IssueSummons("S-2", d("2025-01-08"), d("2025-01-10"), "Kadis"),
        SUPERVISOR,
    )
    assert second.payload["deadlines"]["met"] == ["second_summons"] and second.payload["late"] is False
    assert "met_late" not in second.payload["deadlines"]
    assert {cl.kind: cl.status for cl in story.case.clocks}["second_summons"] == "MET"
