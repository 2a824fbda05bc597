"""Admissibility under the shipped rule set: lateness, the recommending body, out of scope,
incomplete reports and Gakkumdu flags (docs/law.md §5 rows 1–4)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from services.intake.domain.admissibility import AdmissibilityStatus, assess
from services.intake.domain.report import (
    Channel,
    ElectionType,
    EmployeeType,
    PositionKind,
    Reporter,
    ReportKind,
)
from services.intake.domain.rules import ForwardTarget, RecommendingBody, load_rule_book
from shared.workdays import WorkingCalendar

from .builders import WITA, a_report

RULES = load_rule_book().in_force(date(2024, 10, 1))
CAL = WorkingCalendar()
PEMILU, PILKADA = ElectionType.PILEG, ElectionType.PILKADA_BUP


@pytest.mark.parametrize(
    ("election", "known_at", "deadline", "why"),
    [
        (PILKADA, date(2024, 10, 8), date(2024, 10, 15), "7 calendar days (sample case A)"),
        (PILKADA, date(2024, 10, 11), date(2024, 10, 18), "weekends count in calendar days"),
        (PILKADA, date(2024, 11, 25), date(2024, 12, 2), "Pilkada day 2024-11-27 counts too"),
        (PILKADA, date(2024, 4, 5), date(2024, 4, 12), "Lebaran counts in calendar days"),
        (PEMILU, date(2024, 2, 3), date(2024, 2, 16), "Isra Mi'raj, cuti bersama, election day skipped"),
        (PEMILU, date(2024, 4, 5), date(2024, 4, 24), "Lebaran 2024-04-08..15 skipped"),
        (ElectionType.PILPRES, date(2024, 10, 11), date(2024, 10, 22), "weekends skipped"),
    ],
)
def test_the_reporting_window_is_calendar_days_for_pilkada_and_working_days_for_pemilu(
    election: ElectionType, known_at: date, deadline: date, why: str
) -> None:
    on_time = assess(a_report(election=election, known_at=known_at, reported_on=deadline), RULES, CAL)
    day_after = date.fromordinal(deadline.toordinal() + 1)
    too_late = assess(a_report(election=election, known_at=known_at, reported_on=day_after), RULES, CAL)
    assert on_time.deadline == deadline, why
    assert not on_time.late
    assert too_late.late
    assert too_late.status is AdmissibilityStatus.REGISTERED  # late is recorded, never dropped


def test_lateness_counts_the_partners_local_register_date_not_utc() -> None:
    # 2024-10-16 00:30 WITA is still 2024-10-15 in UTC, but the partner registered it on the 16th.
    late = a_report(known_at=date(2024, 10, 8), reported_at=datetime(2024, 10, 16, 0, 30, tzinfo=WITA))
    in_time = a_report(known_at=date(2024, 10, 8), reported_at=datetime(2024, 10, 15, 23, 59, tzinfo=WITA))
    assert assess(late, RULES, CAL).late
    assert not assess(in_time, RULES, CAL).late


def test_a_pemilu_temuan_has_seven_calendar_days_and_needs_no_reporter() -> None:
    temuan = a_report(election=PEMILU, kind=ReportKind.TEMUAN, known_at=date(2024, 2, 3), reporter=None)
    result = assess(temuan, RULES, CAL)
    assert result.deadline == date(2024, 2, 10)
    assert result.status is AdmissibilityStatus.REGISTERED


@pytest.mark.parametrize(
    "channel", [Channel.BKN, Channel.INSPEKTORAT, Channel.ATASAN_LANGSUNG, Channel.PUBLIC_PORTAL]
)
def test_only_bawaslu_intake_has_a_reporting_window_so_other_channels_are_never_late(
    channel: Channel,
) -> None:
    result = assess(
        a_report(channel=channel, known_at=date(2024, 1, 2), reported_on=date(2024, 10, 1)), RULES, CAL
    )
    assert result.window is None
    assert result.deadline is None
    assert not result.late


@pytest.mark.parametrize(
    ("known_at", "body"),
    [
        (date(2020, 11, 10), RecommendingBody.KASN),
        (date(2024, 2, 3), RecommendingBody.KASN),
        (date(2024, 8, 23), RecommendingBody.KASN),
        (date(2024, 8, 24), RecommendingBody.BKN),
        (date(2024, 10, 8), RecommendingBody.BKN),
    ],
)
def test_kasn_receives_recommendations_for_conduct_known_before_24_august_2024_and_bkn_after(
    known_at: date, body: RecommendingBody
) -> None:
    choice = assess(a_report(known_at=known_at), RULES, CAL).recommending_body
    assert choice is not None
    assert choice.body is body
    assert choice.chosen_on == known_at


def test_no_recommending_body_is_chosen_before_kasn_existed() -> None:
    assert assess(a_report(known_at=date(2013, 6, 1)), RULES, CAL).recommending_body is None


@pytest.mark.parametrize(
    ("employee_type", "position_kind", "rule"),
    [
        (EmployeeType.NON_ASN, PositionKind.PELAKSANA, "NON_ASN_KE_PEMBERI_KERJA"),
        (EmployeeType.NON_ASN, PositionKind.KEPALA_DESA, "NON_ASN_KE_PEMBERI_KERJA"),
        (EmployeeType.PNS, PositionKind.KEPALA_DESA, "APARAT_DESA_KE_PEMBERI_KERJA"),
        (EmployeeType.PPPK, PositionKind.PERANGKAT_DESA, "APARAT_DESA_KE_PEMBERI_KERJA"),
    ],
)
def test_non_asn_and_village_officials_are_out_of_scope_and_forwarded_to_the_employer(
    employee_type: EmployeeType, position_kind: PositionKind, rule: str
) -> None:
    report = a_report(employee_type=employee_type, position_kind=position_kind, agency="Desa Contoh")
    result = assess(report, RULES, CAL)
    assert result.status is AdmissibilityStatus.OUT_OF_SCOPE
    assert result.forwarded_to is not None
    assert (result.forwarded_to.to, result.forwarded_to.agency, result.forwarded_to.rule) == (
        ForwardTarget.EMPLOYER,
        "Desa Contoh",
        rule,
    )


def test_an_out_of_scope_report_is_forwarded_even_when_it_is_incomplete() -> None:
    result = assess(a_report(employee_type=EmployeeType.NON_ASN, reporter=None), RULES, CAL)
    assert result.status is AdmissibilityStatus.OUT_OF_SCOPE
    assert result.missing == ("reporter.name", "reporter.address")  # still recorded


@pytest.mark.parametrize(
    ("channel", "reporter", "description", "regency", "missing"),
    [
        (
            Channel.BAWASLU,
            Reporter(name="Ni Luh Contoh", address=None),
            "ok",
            "Tabanan",
            ("reporter.address",),
        ),
        (
            Channel.BAWASLU,
            Reporter(name="Ni Luh Contoh", address="  "),
            "ok",
            "Tabanan",
            ("reporter.address",),
        ),
        (Channel.BAWASLU, None, "ok", "Tabanan", ("reporter.name", "reporter.address")),
        (Channel.BAWASLU, Reporter(name="A", address="B"), None, "Tabanan", ("incident.description",)),
        (Channel.PUBLIC_PORTAL, None, None, "Tabanan", ("incident.description",)),
        (Channel.INSPEKTORAT, None, "ok", None, ()),  # the province alone is a place
    ],
)
def test_a_report_missing_what_the_law_requires_of_its_channel_is_incomplete(
    channel: Channel,
    reporter: Reporter | None,
    description: str | None,
    regency: str | None,
    missing: tuple[str, ...],
) -> None:
    report = a_report(channel=channel, reporter=reporter, description=description, regency=regency)
    result = assess(report, RULES, CAL)
    assert result.missing == missing
    expected = AdmissibilityStatus.INCOMPLETE if missing else AdmissibilityStatus.REGISTERED
    assert result.status is expected


def test_a_public_report_without_a_reporter_is_registered() -> None:
    result = assess(a_report(channel=Channel.PUBLIC_PORTAL, reporter=None), RULES, CAL)
    assert result.status is AdmissibilityStatus.REGISTERED


def test_an_unnamed_subject_identified_by_nip_is_still_identified() -> None:
    assert "subject" not in assess(a_report(name=None), RULES, CAL).missing
    assert "subject" in assess(a_report(name=None, nip=None), RULES, CAL).missing


@pytest.mark.parametrize(
    ("election", "codes", "description", "rules"),
    [
        (PILKADA, ("N5",), "Signed a decision favouring a pair.", ("PILKADA_KEPUTUSAN_TINDAKAN",)),
        (PILKADA, ("N4", "N6"), "Handed out sembako with stickers.", ("PILKADA_PEMBERIAN_UANG_BARANG",)),
        (PILKADA, (), "Bagi-bagi amplop berisi uang.", ("PILKADA_PEMBERIAN_UANG_BARANG",)),
        (
            PILKADA,
            ("N5",),
            "Gave cash to village heads.",
            ("PILKADA_KEPUTUSAN_TINDAKAN", "PILKADA_PEMBERIAN_UANG_BARANG"),
        ),
        (PILKADA, ("N6",), "Rapat di ruang kantor.", ()),  # "ruang" (room) is not "uang"
        (PILKADA, ("N2",), "Wore a Korpri uniform at a rally.", ()),
        (PEMILU, ("N5",), "Approved a permit for one candidate.", ("PEMILU_KEPUTUSAN_TINDAKAN",)),
        (PEMILU, ("N6",), "Handed out amplop at the office.", ("PEMILU_PEMBERIAN_UANG_BARANG",)),
        (PEMILU, ("N2",), "Attended a rally in uniform.", ()),
    ],
)
def test_conduct_with_a_criminal_track_is_flagged_for_gakkumdu_alongside_the_case(
    election: ElectionType, codes: tuple[str, ...], description: str, rules: tuple[str, ...]
) -> None:
    result = assess(a_report(election=election, codes=codes, description=description), RULES, CAL)
    assert tuple(f.rule for f in result.gakkumdu_flags) == rules
    assert result.gakkumdu is bool(rules)
    assert all(f.reason and f.article for f in result.gakkumdu_flags)
    assert result.status is AdmissibilityStatus.REGISTERED  # the discipline case goes on


def test_the_decision_records_the_rule_set_the_rules_and_the_inputs_as_json() -> None:
    report = a_report(known_at=date(2024, 10, 8), reported_on=date(2024, 10, 16), codes=("N5",))
    record = assess(report, RULES, CAL).to_record()
    assert json.loads(json.dumps(record)) == record
    assert record["rule_set"] == "admissibility-2024.1"
    assert record["late"] is True
    assert record["window"]["rule"] == "PILKADA_LAPORAN_7_HARI"
    assert record["window"]["deadline"] == "2024-10-15"
    assert record["recommending_body"]["body"] == "BKN"
    assert record["gakkumdu"][0]["rule"] == "PILKADA_KEPUTUSAN_TINDAKAN"
    assert record["inputs"]["known_at"] == "2024-10-08"
    assert record["inputs"]["reported_at"].startswith("2024-10-16T10:30:00+08:00")


def test_assessing_the_same_report_twice_gives_the_same_decision() -> None:
    report = a_report(codes=("N4", "N6"), description="sembako")
    assert assess(report, RULES, CAL) == assess(report, RULES, CAL)
