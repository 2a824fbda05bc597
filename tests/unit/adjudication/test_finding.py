"""The finding and the referral, and sample cases B and C of docs/law.md §7 run to their findings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from services.adjudication.domain import assignment, examination, finding, recommendation, summons
from services.adjudication.domain import commands as c
from services.adjudication.domain.case import State
from services.adjudication.domain.vocabulary import (
    AttendanceMode,
    ExaminerMode,
    Level,
    PositionKind,
    RecommendationCategory,
    TeamRole,
)
from services.adjudication.store.readmodel import rederive_conclusion, rederive_finding
from shared.envelope import canonical_json
from shared.legaltime import LEGAL_ZONE
from shared.refusals import RuleViolation, RuleViolations
from tests.unit.adjudication.builders import INVESTIGATOR, SUPERVISOR, Story, d

SUPERIOR = c.AppointExaminer(
    ExaminerMode.ATASAN_LANGSUNG, (c.TeamMember("Kadis", TeamRole.ATASAN_LANGSUNG),), d("2024-02-06")
)
TEAM = c.AppointExaminer(
    ExaminerMode.TIM_PEMERIKSA,
    (
        c.TeamMember("Kadis PMD", TeamRole.ATASAN_LANGSUNG),
        c.TeamMember("Inspektorat", TeamRole.PENGAWASAN),
        c.TeamMember("BKPSDM", TeamRole.KEPEGAWAIAN),
    ),
    d("2024-02-06"),
)
BAP = c.RecordBap("https://dms/bap.pdf", "AB" * 32, d("2024-03-15"), signed_by_subject=False)


def examined(
    alleged: tuple[str, ...] = ("N2",), examiner: c.AppointExaminer = SUPERIOR, **subject: str
) -> Story:
    story = Story().opened(alleged, **subject)
    story.do(examination.appoint_examiner, examiner, SUPERVISOR)
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis"), SUPERVISOR
    )
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-03-15"), AttendanceMode.VIRTUAL), SUPERVISOR
    )
    story.do(examination.record_bap, BAP, SUPERVISOR)
    return story


def refusals(story: Story, cmd: c.RecordFinding) -> dict[str, str]:
    with pytest.raises((RuleViolation, RuleViolations)) as refused:
        story.do(finding.record_finding, cmd, SUPERVISOR)
    error = refused.value
    found: tuple[RuleViolation, ...] = (
        error.violations
        if isinstance(error, RuleViolations)
        else (error,)
        if isinstance(error, RuleViolation)
        else ()
    )
    return {v.field: v.message for v in found}


def test_n1_has_no_level_in_law_so_a_person_chooses_one_and_writes_why() -> None:
    story = examined()
    assert set(refusals(story, c.RecordFinding(True, "…", (c.ViolationInput("N1"),)))) == {
        "violations.0.level",
        "violations.0.level_reason",
    }
    events = story.do(
        finding.record_finding,
        c.RecordFinding(True, "…", (c.ViolationInput("N1", Level.SEDANG, "attended the whole rally"),)),
        SUPERVISOR,
    )
    [n1] = events[0].payload["violations"]
    assert (n1["level"], n1["level_chosen"], n1["level_reason"]) == (
        "SEDANG",
        True,
        "attended the whole rally",
    )
    assert events[1].payload["finding"]["violations"][0]["level_reason"] == "attended the whole rally"


def test_a_level_the_catalogue_sets_cannot_be_changed_and_unknown_or_forwarded_codes_are_refused() -> None:
    story = examined()
    problems = refusals(
        story,
        c.RecordFinding(
            True,
            "…",
            (c.ViolationInput("N2", Level.RINGAN), c.ViolationInput("N9"), c.ViolationInput("PJ-MUTASI")),
        ),
    )
    assert set(problems) == {"violations.0.level", "violations.1.code", "violations.2.code"}
    assert "not ASN discipline" in problems["violations.2.code"]


def test_several_violations_take_the_heaviest_level_and_a_repeat_is_flagged() -> None:
    story = examined(("N2", "N4"), TEAM)
    [found, referred] = story.do(
        finding.record_finding,
        c.RecordFinding(
            True, "…", (c.ViolationInput("N2"), c.ViolationInput("N4")), repeat=True, repeat_of="800/1/2023"
        ),
        SUPERVISOR,
    )
    assert (found.payload["level"], found.payload["repeat"]) == ("BERAT", True)
    assert referred.payload["finding"]["level"] == "BERAT" and referred.payload["finding"]["repeat"] is True


def test_berat_examined_by_the_superior_alone_is_refused() -> None:
    story = examined(("N2",), SUPERIOR)
    problems = refusals(story, c.RecordFinding(True, "…", (c.ViolationInput("N4"),)))
    assert "tim pemeriksa" in problems["violations"]


def test_a_subject_without_a_known_position_kind_cannot_be_referred_until_recorded() -> None:
    story = examined(position_kind="Kabid")
    assert story.case.subject["position_kind_reported"] == "Kabid"
    problems = refusals(story, c.RecordFinding(True, "…", (c.ViolationInput("N2"),)))
    assert set(problems) == {"subject.position_kind"}
    story.do(
        assignment.record_subject_profile,
        c.RecordSubjectProfile(position_kind=PositionKind.ADMINISTRATOR),
        SUPERVISOR,
    )
    story.do(finding.record_finding, c.RecordFinding(True, "…", (c.ViolationInput("N2"),)), SUPERVISOR)
    assert story.case.state is State.REFERRED


def test_not_proven_closes_the_case_naming_the_finding() -> None:
    story = examined()
    [found, closed] = story.do(finding.record_finding, c.RecordFinding(False, "someone else"), SUPERVISOR)
    assert closed.event_type == "adjudication.case_closed_not_proven"
    assert closed.payload["finding_event_id"] == found.event_id
    assert story.case.state is State.CLOSED_NOT_PROVEN


def test_replay_rederives_the_finding_and_the_referral_byte_for_byte() -> None:
    story = examined()
    story.do(finding.record_finding, c.RecordFinding(True, "…", (c.ViolationInput("N2"),)), SUPERVISOR)
    history = story.history
    found, referred = history[-2], history[-1]
    again = rederive_finding(found, history[:-2])
    assert canonical_json(dict(again.payload)) == canonical_json(dict(found.payload))
    assert again.rule_set == found.rule_set
    assert canonical_json(dict(rederive_conclusion(referred, history[:-1]).payload)) == canonical_json(
        dict(referred.payload)
    )


def test_sample_case_b_pemprov_bali_n2_sedang_referred_to_the_sekda() -> None:
    """B: Kepala Bidang (administrator, provincial) in Korpri uniform at a campaign; KASN recommends
    on 4 Mar 2024; summons 6 Mar, examination no later than 19 Mar (Nyepi, cuti bersama)."""
    story = Story().opened(("N2",))
    story.do(assignment.assign, c.AssignInvestigator("inv.putu"), SUPERVISOR)
    [requested] = story.do(recommendation.request_recommendation, c.RequestRecommendation(d("2024-02-13")))
    assert requested.payload["body"] == "KASN"
    story.do(
        recommendation.record_recommendation,
        c.RecordRecommendation(
            "R-1/KASN/III/2024", d("2024-03-04"), RecommendationCategory.DISIPLIN, Level.SEDANG
        ),
    )
    story.do(recommendation.acknowledge, c.AcknowledgeRecommendation(d("2024-03-05"), "Pj Gubernur Bali"))
    [summoned] = story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis")
    )
    assert summoned.payload["examination_due_on"] == "2024-03-19"
    story.do(examination.appoint_examiner, SUPERIOR)  # a team is optional for sedang
    story.do(summons.record_attendance, c.RecordAttendance(d("2024-03-15"), AttendanceMode.TATAP_MUKA))
    story.do(examination.record_bap, BAP)
    [found, referred] = story.do(
        finding.record_finding,
        c.RecordFinding(True, "photos and BAP", (c.ViolationInput("N2"),)),
        INVESTIGATOR,
    )
    assert referred.event_type == "adjudication.case_referred"
    p = referred.payload
    assert (p["finding"]["category"], p["finding"]["level"], p["finding"]["finding_event_id"]) == (
        "DISIPLIN",
        "SEDANG",
        found.event_id,
    )
    assert (p["deciding_official"]["official"], p["deciding_official"]["relation"]) == (
        "JPT_MADYA",
        "TWO_LEVELS_UP",
    )
    assert {a["official"] for a in p["authorities"]} == {"JPT_PRATAMA", "JPT_MADYA", "PPK_PROVINSI"}
    assert [(cl.kind, cl.status) for cl in story.case.clocks] == [
        ("ppk_follow_up", "MET"),
        ("examination_1", "MET"),
    ]


def test_sample_case_c_tulang_bawang_barat_n4_n6_berat_absent_once_referred_to_the_bupati() -> None:
    """C: Kabid at Dinas PMD (administrator, regency) gathers village heads and hands out sembako;
    BKN recommends 4 Nov 2024; summons for 13 Nov, absent; second summons by 22 Nov; examined 22 Nov
    by the mandatory team; temporarily released."""
    story = Story().opened(("N4", "N6"), agency_level="REGENCY_CITY", agency="Pemkab Tulang Bawang Barat")
    story.do(assignment.assign, c.AssignInvestigator("inv.putu"), SUPERVISOR)
    [requested] = story.do(recommendation.request_recommendation, c.RequestRecommendation(d("2024-10-17")))
    assert requested.payload["body"] == "BKN"
    story.do(
        recommendation.record_recommendation,
        c.RecordRecommendation(
            "R-9/BKN/XI/2024", d("2024-11-04"), RecommendationCategory.DISIPLIN, Level.BERAT
        ),
    )
    story.do(recommendation.acknowledge, c.AcknowledgeRecommendation(d("2024-11-05"), "Pj Bupati Tubaba"))
    with pytest.raises(RuleViolation, match="tim pemeriksa"):
        story.do(examination.appoint_examiner, SUPERIOR)
    story.do(examination.appoint_examiner, TEAM)
    story.do(summons.issue_summons, c.IssueSummons("S-1", d("2024-11-06"), d("2024-11-13"), "Kadis PMD"))
    [absent] = story.do(summons.record_absence, c.RecordAbsence(d("2024-11-13")))
    assert absent.payload["second_summons_due_on"] == "2024-11-22"
    [second] = story.do(
        summons.issue_second_summons, c.IssueSummons("S-2", d("2024-11-15"), d("2024-11-22"), "Kadis PMD")
    )
    assert second.payload["late"] is False
    story.do(summons.record_attendance, c.RecordAttendance(d("2024-11-22"), AttendanceMode.TATAP_MUKA))
    story.do(
        examination.release_temporarily, c.ReleaseTemporarily(d("2024-11-22"), "800/13/2024", "witnesses")
    )
    story.do(examination.record_bap, c.RecordBap("https://dms/bap-c.pdf", "cd" * 32, d("2024-11-22"), True))
    [_, referred] = story.do(
        finding.record_finding, c.RecordFinding(True, "…", (c.ViolationInput("N4"), c.ViolationInput("N6")))
    )
    p = referred.payload
    assert (p["finding"]["level"], p["deciding_official"]["official"], p["temporarily_released"]) == (
        "BERAT",
        "PPK_KABUPATEN_KOTA",
        True,
    )
    assert p["deciding_official"]["basis"].startswith("PP 94/2021 Ps 18(3)(c)")
    assert [(cl.kind, cl.due_on.isoformat(), cl.status) for cl in story.case.clocks] == [
        ("ppk_follow_up", "2024-11-19", "MET"),
        ("examination_1", "2024-11-15", "MET"),
        ("second_summons", "2024-11-22", "MET"),
        ("examination_2", "2024-11-26", "MET"),
    ]


def test_the_finding_and_the_referral_are_dated_by_the_finding_not_by_when_it_was_typed_in() -> None:
    story = examined(("N4",), TEAM)
    [found, referred] = story.do(
        finding.record_finding,
        c.RecordFinding(True, "BAP", (c.ViolationInput("N4"),), found_on=d("2024-11-29")),
        SUPERVISOR,
    )
    assert found.payload["found_on"] == "2024-11-29"
    assert found.occurred_at == referred.occurred_at
    assert datetime.fromisoformat(found.occurred_at) == datetime(2024, 11, 29, tzinfo=LEGAL_ZONE)


def test_a_finding_dated_before_its_bap_or_after_today_is_refused() -> None:
    for day in ("2024-01-02", "2099-01-01"):
        with pytest.raises(RuleViolations) as refused:
            examined(("N4",), TEAM).do(
                finding.record_finding,
                c.RecordFinding(True, "BAP", (c.ViolationInput("N4"),), found_on=d(day)),
                SUPERVISOR,
            )
        assert [v.field for v in refused.value.violations] == ["found_on"]


def berat_summoned() -> Story:
    """Case C's codes (N4 + N6, berat), summoned for 22 Nov 2024."""
    story = Story().opened(("N4", "N6"), agency_level="REGENCY_CITY")
    story.do(
        summons.issue_summons,
        c.IssueSummons("S-1", d("2024-11-15"), d("2024-11-22"), "Kadis PMD"),
        SUPERVISOR,
    )
    return story


def test_a_berat_examination_with_no_tim_pemeriksa_appointed_is_refused_naming_the_rule() -> None:
    story = berat_summoned()
    with pytest.raises(RuleViolation) as refused:
        story.do(
            summons.record_attendance,
            c.RecordAttendance(d("2024-11-22"), AttendanceMode.TATAP_MUKA),
            SUPERVISOR,
        )
    assert refused.value.field == "examiner"
    assert "TIM_PEMERIKSA" in refused.value.message and "on or before 2024-11-22" in refused.value.message
    assert refused.value.rule == "TIM_PEMERIKSA_PS_29: PP 94/2021 Ps 29(1)–(3)"


def test_a_berat_examination_before_the_team_was_appointed_is_refused_and_on_the_day_accepted() -> None:
    story = berat_summoned()
    [appointed] = story.do(
        examination.appoint_examiner, replace(TEAM, appointed_on=d("2024-11-25")), SUPERVISOR
    )
    assert appointed.payload["appointed_on"] == "2024-11-25"
    with pytest.raises(RuleViolation) as refused:
        story.do(
            summons.record_attendance,
            c.RecordAttendance(d("2024-11-22"), AttendanceMode.TATAP_MUKA),
            SUPERVISOR,
        )
    assert refused.value.field == "examiner" and "appointed on 2024-11-25" in refused.value.message
    assert "Ps 29" in refused.value.rule
    story.do(examination.appoint_examiner, replace(TEAM, appointed_on=d("2024-11-22")), SUPERVISOR)
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-11-22"), AttendanceMode.TATAP_MUKA), SUPERVISOR
    )
    assert story.case.state is State.EXAMINATION


def test_the_team_cannot_be_named_after_the_examination_it_held() -> None:
    story = berat_summoned()
    story.do(examination.appoint_examiner, replace(TEAM, appointed_on=d("2024-11-20")), SUPERVISOR)
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-11-22"), AttendanceMode.TATAP_MUKA), SUPERVISOR
    )
    with pytest.raises(RuleViolation) as refused:
        story.do(examination.appoint_examiner, replace(TEAM, appointed_on=d("2024-11-23")), SUPERVISOR)
    assert refused.value.field == "appointed_on" and "on or before 2024-11-22" in refused.value.message
    assert "Ps 27(1), 29" in refused.value.rule
    with pytest.raises(RuleViolation, match="future"):
        story.do(examination.appoint_examiner, replace(TEAM, appointed_on=d("2030-01-02")), SUPERVISOR)


def test_a_sedang_examination_by_the_direct_superior_may_name_the_superior_later_but_not_after_it() -> None:
    story = Story().opened(("N2",))
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2024-03-06"), d("2024-03-15"), "Kadis"), SUPERVISOR
    )
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2024-03-15"), AttendanceMode.VIRTUAL), SUPERVISOR
    )
    with pytest.raises(RuleViolation, match="on or before 2024-03-15"):
        story.do(examination.appoint_examiner, replace(SUPERIOR, appointed_on=d("2024-03-18")), SUPERVISOR)
    story.do(examination.appoint_examiner, replace(SUPERIOR, appointed_on=d("2024-03-15")), SUPERVISOR)
    story.do(examination.record_bap, BAP, SUPERVISOR)
    assert story.case.state is State.BAP_SIGNED
