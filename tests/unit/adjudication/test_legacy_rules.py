"""The legacy rule set (PP 53/2010, adjudication-pp53-2010.1) and sample case E of docs/law.md §7
run to its referral: a PNS Lurah hands out cash for a pair in Nov 2020."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.adjudication.domain import commands as c
from services.adjudication.domain import examination, finding, recommendation, summons
from services.adjudication.domain.case import State
from services.adjudication.domain.opening import note_report, open_examination
from services.adjudication.domain.vocabulary import (
    AttendanceMode,
    ExaminerMode,
    Level,
    RecommendationCategory,
    RecommendingBody,
    TeamRole,
)
from services.adjudication.handlers import CONSUMER
from shared.clock import ManualClock
from shared.refusals import RuleViolation, RuleViolations
from shared.rulefiles import Confidence
from tests.unit.adjudication.builders import BOOK, SUPERVISOR, Story, d, report

LEGACY = BOOK.in_force(date(2020, 11, 20))
TEAM = c.AppointExaminer(
    ExaminerMode.TIM_PEMERIKSA,
    (
        c.TeamMember("Camat", TeamRole.ATASAN_LANGSUNG),
        c.TeamMember("Inspektorat", TeamRole.PENGAWASAN),
        c.TeamMember("BKPSDM", TeamRole.KEPEGAWAIAN),
    ),
    d("2020-11-23"),
)
CASH = c.ViolationInput("N6", Level.BERAT, "cash to residents for a pair: PP 94 would say berat")


def test_conduct_before_31_aug_2021_falls_under_pp_53_2010_and_after_under_pp_94() -> None:
    assert LEGACY.name == "adjudication-pp53-2010.1"
    assert LEGACY.effective_from == date(2010, 6, 6)
    assert BOOK.in_force(date(2021, 8, 30)).name == "adjudication-pp53-2010.1"
    assert BOOK.in_force(date(2021, 8, 31)).name == "adjudication-2024.1"
    with pytest.raises(LookupError, match="2010-06-06"):
        BOOK.in_force(date(2010, 6, 5))


def test_the_legacy_set_claims_no_certainty_domain_md_does_not_give() -> None:
    # Levels per prohibition are not in docs/law.md for PP 53/2010: a person chooses them.
    assert {code: LEGACY.violations[code].level for code in ("N1", "N2", "N3", "N4", "N5", "N6", "N7")} == {
        code: None for code in ("N1", "N2", "N3", "N4", "N5", "N6", "N7")
    }
    assert all(LEGACY.violations[f"N{i}"].basis.note for i in range(1, 8))
    # PP 53/2010's clocks and Ps 9–21 are not in docs/law.md: PP 94's figures and rows, marked R.
    assert {r.kind: (r.days, r.basis.confidence) for r in LEGACY.deadlines.values()} == {
        "examination": (7, Confidence.R),
        "second_summons": (7, Confidence.R),
        "ppk_follow_up": (14, Confidence.R),
    }
    assert {a.basis.confidence for a in LEGACY.authority} == {Confidence.R}
    assert all(a.basis.note and "PP 53/2010" in a.basis.article for a in LEGACY.authority)
    # Only the recommending body (UU 5/2014) and party membership are verified.
    assert LEGACY.body_on(date(2020, 12, 14)).body is RecommendingBody.KASN
    assert LEGACY.body_on(date(2020, 12, 14)).basis.confidence is Confidence.V


def test_every_legacy_rule_cites_its_article_and_confidence() -> None:
    bases = [
        *(p.basis for p in LEGACY.recommending_bodies),
        *(r.basis for r in LEGACY.deadlines.values()),
        LEGACY.team.basis,
        LEGACY.release.basis,
        *(v.basis for v in LEGACY.violations.values()),
        *LEGACY.not_findings.values(),
        LEGACY.hierarchy_basis,
        *(a.basis for a in LEGACY.authority),
        LEGACY.kode_etik.basis,
        LEGACY.pppk.basis,
    ]
    assert all(b.article.strip() and isinstance(b.confidence, Confidence) for b in bases)
    # Not V where docs/law.md has nothing: only bodies, party membership, kode etik and PJ-MUTASI.
    verified = {b.id for b in bases if b.confidence is Confidence.V}
    assert verified == {"KASN_UU_5_2014", "PARPOL", "PJ-MUTASI", "SANKSI_MORAL_PP_42_2004"}


def case_e() -> Story:
    """Case E opened: a Lurah (administrator, city government) reported on 23 Nov 2020."""
    body = report(("N6",), position="Lurah", agency="Pemerintah Kota Contoh", agency_level="REGENCY_CITY")
    body |= {
        "source_ref": "004/LP/PW/Kota/00.00/XI/2020",
        "election": {"type": "PILKADA_WAKO", "year": 2020, "candidate_determination_date": None},
        "incident": {"date": "2020-11-20", "province": "Jawa Tengah", "regency": "Kota Contoh"},
        "known_at": "2020-11-21",
        "reported_at": "2020-11-23T09:00:00+07:00",
    }
    at = datetime(2020, 11, 23, 3, tzinfo=UTC)
    story = Story(ManualClock(at))
    story.record(lambda _c: note_report({"report_id": "report-1", "report": body}, at), CONSUMER)
    story.record(
        lambda case: open_examination(case, {"report_id": "report-1", "case_number": "NTR-2020-000001"}, at),
        CONSUMER,
    )
    return story


def examined_e() -> Story:
    """Case E through KASN's recommendation and the team's examination (PP 53/2010 rules)."""
    story = case_e()
    story.do(
        recommendation.record_recommendation,
        c.RecordRecommendation(
            "R-5/KASN/12/2020", d("2020-12-14"), RecommendationCategory.DISIPLIN, Level.BERAT
        ),
        SUPERVISOR,
    )
    story.do(
        recommendation.acknowledge,
        c.AcknowledgeRecommendation(d("2020-12-15"), "Wali Kota Contoh"),
        SUPERVISOR,
    )
    story.do(examination.appoint_examiner, TEAM, SUPERVISOR)
    story.do(
        summons.issue_summons, c.IssueSummons("S-1", d("2020-12-16"), d("2020-12-22"), "Camat"), SUPERVISOR
    )
    story.do(
        summons.record_attendance, c.RecordAttendance(d("2020-12-22"), AttendanceMode.TATAP_MUKA), SUPERVISOR
    )
    story.do(
        examination.record_bap,
        c.RecordBap("https://dms/bap.pdf", "CD" * 32, d("2020-12-22"), False),
        SUPERVISOR,
    )
    return story


def test_case_e_kasn_recommends_and_the_summons_runs_on_the_legacy_clock() -> None:
    story = examined_e()
    recorded = {e.event_type: e for e in story.history}
    assert recorded["adjudication.recommendation_issued"].payload["issuer"] == "KASN"
    assert recorded["adjudication.recommendation_issued"].rule_set == "adjudication-pp53-2010.1"
    assert recorded["adjudication.summons_issued"].rule_set == "adjudication-pp53-2010.1"
    assert story.case.state is State.BAP_SIGNED


def test_case_e_n6_needs_a_level_chosen_with_a_reason_under_pp_53_2010() -> None:
    story = examined_e()
    story.clock.set(datetime(2021, 1, 4, 2, tzinfo=UTC))  # the finding, typed in after the BAP
    with pytest.raises((RuleViolation, RuleViolations)) as refused:
        story.do(
            finding.record_finding,
            c.RecordFinding(True, "…", (c.ViolationInput("N6"),)),
            SUPERVISOR,
        )
    error = refused.value
    assert isinstance(error, RuleViolations)
    assert {v.field for v in error.violations} == {"violations.0.level", "violations.0.level_reason"}


def test_case_e_is_referred_to_the_wali_kota_as_ppk_under_the_copied_authority_rows() -> None:
    story = examined_e()
    story.clock.set(datetime(2021, 1, 4, 2, tzinfo=UTC))
    [found, referred] = story.do(finding.record_finding, c.RecordFinding(True, "BAP", (CASH,)), SUPERVISOR)
    assert found.rule_set == referred.rule_set == "adjudication-pp53-2010.1"
    [n6] = found.payload["violations"]
    assert (n6["level"], n6["level_chosen"], n6["level_reason"]) == ("BERAT", True, CASH.level_reason)
    assert referred.payload["finding"]["level"] == "BERAT"
    pybm = referred.payload["deciding_official"]
    assert pybm["official"] == "PPK_KABUPATEN_KOTA" and pybm["basis"].startswith("PP 53/2010")
    assert referred.payload["incident_date"] == "2020-11-20"
    assert story.case.state is State.REFERRED


def test_a_recommendation_before_kasn_existed_is_refused_not_guessed() -> None:
    with pytest.raises(RuleViolation) as refused:
        case_e().do(
            recommendation.request_recommendation, c.RequestRecommendation(d("2012-03-01")), SUPERVISOR
        )
    assert refused.value.field == "requested_on" and "no recommending body" in refused.value.message
