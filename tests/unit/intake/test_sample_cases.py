"""The five sample cases of docs/law.md §7, as far as intake decides them."""

from __future__ import annotations

from datetime import date
from functools import partial

from services.intake.domain.admissibility import AdmissibilityStatus, assess
from services.intake.domain.linking import (
    ExistingCase,
    LinkFacts,
    LinkOutcome,
    LinkRule,
    Period,
    decide_link,
)
from services.intake.domain.nip import Nip, NiPppk, parse_ni_pppk, parse_nip
from services.intake.domain.report import ElectionType, EmployeeType, PositionKind
from services.intake.domain.rules import RecommendingBody, load_rule_book
from shared.workdays import WorkingCalendar

from .builders import a_report

BOOK = load_rule_book()
CAL = WorkingCalendar()


def test_case_a_pppk_sharing_a_pair_post_in_tabanan_is_registered_in_time_and_goes_to_bkn() -> None:
    report = a_report(
        election=ElectionType.PILKADA_BUP,
        employee_type=EmployeeType.PPPK,
        known_at=date(2024, 10, 8),
        reported_on=date(2024, 10, 10),
        codes=("SKB-KE-4",),
        description="Shared and commented on a Bupati pair's campaign post; APK sticker on a private car.",
    )
    assert isinstance(parse_ni_pppk(report.subject.ni_pppk or "", date(2024, 10, 10)), NiPppk)
    result = assess(report, BOOK.in_force(report.known_at), CAL)
    assert result.status is AdmissibilityStatus.REGISTERED
    assert (result.deadline, result.late, result.gakkumdu) == (date(2024, 10, 15), False, False)
    assert result.recommending_body is not None and result.recommending_body.body is RecommendingBody.BKN


def test_case_b_pns_in_korpri_uniform_at_a_pemilu_rally_is_in_time_and_goes_to_kasn() -> None:
    report = a_report(
        election=ElectionType.PILEG,
        known_at=date(2024, 2, 3),
        reported_on=date(2024, 2, 5),
        codes=("N2",),
        description="Attended a DPR candidate's campaign in Korpri uniform.",
    )
    assert isinstance(parse_nip(report.subject.nip or "", date(2024, 2, 5)), Nip)
    result = assess(report, BOOK.in_force(report.known_at), CAL)
    assert result.status is AdmissibilityStatus.REGISTERED
    # 7 working days skip Isra Mi'raj (8 Feb), cuti bersama (9 Feb) and election day (14 Feb).
    assert (result.deadline, result.late, result.gakkumdu) == (date(2024, 2, 16), False, False)
    assert result.recommending_body is not None and result.recommending_body.body is RecommendingBody.KASN


def test_case_c_sembako_from_the_office_hall_goes_to_gakkumdu_as_well() -> None:
    report = a_report(
        election=ElectionType.PILKADA_BUP,
        known_at=date(2024, 10, 12),
        reported_on=date(2024, 10, 14),
        codes=("N4", "N6"),
        description="Gathered village heads in the office hall, urged support for a pair, handed out sembako.",
    )
    result = assess(report, BOOK.in_force(report.known_at), CAL)
    assert result.status is AdmissibilityStatus.REGISTERED
    assert (result.deadline, result.late) == (date(2024, 10, 19), False)
    assert [f.rule for f in result.gakkumdu_flags] == ["PILKADA_PEMBERIAN_UANG_BARANG"]
    assert "UU 1/2015 Ps 188" in result.gakkumdu_flags[0].article
    assert result.recommending_body is not None and result.recommending_body.body is RecommendingBody.BKN


def test_case_d_one_report_naming_a_pns_and_a_pppk_teacher_opens_two_linked_cases() -> None:
    teacher = partial(
        a_report,
        election=ElectionType.PILKADA_GUB,
        known_at=date(2024, 10, 15),
        codes=(),
        source_ref="041/LP/PG/Prov/06.00/X/2024",
        description="Runs a Gubernur pair's tim pemenangan WhatsApp group; shares its flyers.",
    )
    pns, pppk = teacher(employee_type=EmployeeType.PNS), teacher(employee_type=EmployeeType.PPPK)
    for report in (pns, pppk):
        assert assess(report, BOOK.in_force(report.known_at), CAL).status is AdmissibilityStatus.REGISTERED

    first_facts = LinkFacts.of(pns, partner="bawaslu-sumsel")
    first = decide_link(first_facts, [])
    assert first.outcome is LinkOutcome.NEW_CASE
    pns_case = ExistingCase(
        case_id="NTR-2024-000001",
        opened_on=date(2024, 10, 16),
        person=first_facts.person,
        conduct=first_facts.conduct,
        period=first_facts.period,
        sources=frozenset({first_facts.source} if first_facts.source else set()),
    )
    second = decide_link(LinkFacts.of(pppk, partner="bawaslu-sumsel"), [pns_case])
    assert (second.outcome, second.rule) == (LinkOutcome.NEW_CASE, LinkRule.SHARED_SOURCE_REF)
    assert second.related_case_ids == ("NTR-2024-000001",)


def test_case_d_the_same_teacher_reported_again_joins_his_case() -> None:
    report = a_report(election=ElectionType.PILKADA_GUB, known_at=date(2024, 10, 15), codes=())
    facts = LinkFacts.of(report, partner="bkn")
    existing = ExistingCase(
        "NTR-2024-000001", date(2024, 10, 16), facts.person, frozenset({"N3"}), Period.of(report)
    )
    assert decide_link(facts, [existing]).rule is LinkRule.SAME_PERSON_SAME_CONDUCT


def test_case_e_a_lurah_handing_out_cash_in_pilkada_2020_goes_to_kasn_and_gakkumdu() -> None:
    report = a_report(
        election=ElectionType.PILKADA_WAKO,
        position_kind=PositionKind.ADMINISTRATOR,  # a Lurah is a PNS, not a village official
        known_at=date(2020, 11, 20),
        reported_on=date(2020, 11, 23),
        codes=(),
        description="Lurah handed out cash for a pair.",
    )
    rules = BOOK.in_force(report.known_at)
    result = assess(report, rules, CAL)
    assert result.status is AdmissibilityStatus.REGISTERED
    assert result.rule_set == rules.name
    assert result.recommending_body is not None and result.recommending_body.body is RecommendingBody.KASN
    assert result.gakkumdu
    assert (result.deadline, result.late) == (date(2020, 11, 27), False)
