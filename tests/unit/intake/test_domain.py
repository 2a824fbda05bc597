"""The intake decider: which events a received report produces, and which case they go to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.intake.domain.admissibility import assess
from services.intake.domain.linking import LinkDecision, LinkOutcome, LinkRule, PersonKey, PersonScheme
from services.intake.domain.receiving import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
    REPORT_RECEIVED,
    REPORT_SUPPLEMENTED,
    Receipt,
    ReportStatus,
    case_number,
    facts_of_record,
    merged_body,
    receive,
    report_of_record,
    report_record,
    supplement,
)
from services.intake.domain.report import AgencyLevel, EmployeeType, PositionKind, Report
from services.intake.domain.rules import load_rule_book
from shared.workdays import WorkingCalendar

from .builders import a_report

RULES = load_rule_book().in_force(datetime(2024, 10, 8).date())
CALENDAR = WorkingCalendar()
AT = datetime(2024, 10, 10, 2, 30, tzinfo=UTC)
NEW = LinkDecision(LinkOutcome.NEW_CASE, LinkRule.NO_MATCH, "no match")
JOIN = LinkDecision(
    LinkOutcome.JOIN_CASE, LinkRule.SAME_PERSON_SAME_CONDUCT, "same person", case_id="case-old"
)


def decide(report: Report, link: LinkDecision = NEW) -> tuple[Receipt, list[str]]:
    opened: list[str] = []

    def open_case() -> tuple[str, str]:
        opened.append("opened")
        return "case-new", case_number(2024, 7)

    receipt = receive(
        report,
        report_id="report-1",
        partner="Bawaslu Kab. Tabanan",
        received_at=AT,
        assessment=assess(report, RULES, CALENDAR),
        link=link,
        open_case=open_case,
        joined_case_number="NTR-2024-000001",
    )
    return receipt, opened


@pytest.mark.parametrize(
    ("report", "status", "opening"),
    [
        (a_report(), ReportStatus.REGISTERED, CASE_REGISTERED),
        (a_report(reporter=None), ReportStatus.INCOMPLETE, REPORT_MARKED_INCOMPLETE),
        (
            a_report(employee_type=EmployeeType.NON_ASN),
            ReportStatus.OUT_OF_SCOPE,
            CASE_FORWARDED_OUT_OF_SCOPE,
        ),
    ],
)
def test_a_report_that_joins_no_case_opens_a_numbered_case(
    report: Report, status: ReportStatus, opening: str
) -> None:
    receipt, opened = decide(report)
    assert (receipt.status, receipt.case_id, receipt.case_number, receipt.opens_case) == (
        status,
        "case-new",
        "NTR-2024-000007",
        True,
    )
    assert [e.event_type for e in receipt.events] == [REPORT_RECEIVED, opening]
    assert receipt.events[1].rule_set == RULES.name
    assert opened == ["opened"]


def test_a_report_on_the_same_person_and_conduct_joins_without_using_a_number() -> None:
    receipt, opened = decide(a_report(), JOIN)
    assert (receipt.status, receipt.case_id, receipt.case_number) == (
        ReportStatus.LINKED,
        "case-old",
        "NTR-2024-000001",
    )
    assert [e.event_type for e in receipt.events] == [REPORT_RECEIVED, REPORT_LINKED]
    assert opened == []


def test_an_incomplete_report_does_not_join_even_when_the_person_matches() -> None:
    receipt, _ = decide(a_report(reporter=None), JOIN)
    assert receipt.status is ReportStatus.INCOMPLETE


def test_the_received_event_records_the_facts_and_their_valid_time() -> None:
    report = a_report()
    receipt, _ = decide(report)
    received = receipt.events[0]
    assert received.occurred_at == report.reported_at
    assert received.payload["report"]["alleged_violations"] == ["N2"]
    assert received.payload["report"]["subject"]["position"] == report.subject.position


def test_who_the_subject_and_reporter_are_is_recorded_only_as_the_caller_sealed_it() -> None:
    report = a_report()
    person = PersonKey(PersonScheme.NIP, "bi1:blinded")
    receipt = receive(
        report,
        report_id="report-1",
        partner="Bawaslu Kab. Tabanan",
        received_at=AT,
        assessment=assess(report, RULES, CALENDAR),
        link=NEW,
        open_case=lambda: ("case-new", case_number(2024, 7)),
        reporter_identity={"sealed": "reporter"},
        subject_identity={"sealed": "subject"},
        person=person,
    )
    record = receipt.events[0].payload["report"]
    assert record["subject"]["identity"] == {"sealed": "subject"}
    assert record["subject"]["person"] == "NIP bi1:blinded"
    assert record["reporter"] == {"confidential": True, "identity": {"sealed": "reporter"}}
    for name in ("name", "nip", "ni_pppk"):
        assert name not in record["subject"]
    assert report.subject.nip and report.subject.nip not in str(record)
    assert facts_of_record(record, "Bawaslu Kab. Tabanan").person == person


def test_a_recorded_subject_reads_back_as_the_subject_that_was_decided_but_who_it_is() -> None:
    report = a_report(position_kind=PositionKind.KEPALA_DESA)
    assert report_of_record(report_record(report)).subject == replace(
        report.subject, name=None, nip=None, ni_pppk=None
    )


@pytest.mark.parametrize(
    ("recorded", "position_kind", "agency_level"),
    [
        ({"position_kind": "kepala_desa", "agency_level": "regency_city"}, "KEPALA_DESA", "REGENCY_CITY"),
        ({"position_kind": "FUNGSIONAL", "agency_level": "REGENCY"}, None, None),
    ],
)
def test_free_text_recorded_before_intake_held_the_enums_reads_as_the_rules_matched_it(
    recorded: dict[str, str], position_kind: PositionKind | None, agency_level: AgencyLevel | None
) -> None:
    record = report_record(a_report())
    record["subject"].update(recorded)
    subject = report_of_record(record).subject
    assert (subject.position_kind, subject.agency_level) == (position_kind, agency_level)


def test_case_numbers_are_zero_padded_per_year() -> None:
    assert case_number(2024, 123) == "NTR-2024-000123"


def test_a_supplement_records_the_whole_report_as_it_now_stands_beside_what_was_supplied() -> None:
    original = {"subject": {"name": "I Made", "position": "Kabid"}, "reporter": {"name": "A"}}
    supplied = {"reporter": {"address": "Jl. Contoh 1"}}
    body = merged_body(original, supplied)
    assert body == {
        "subject": {"name": "I Made", "position": "Kabid"},
        "reporter": {"name": "A", "address": "Jl. Contoh 1"},
    }
    completed = a_report()
    status, events = supplement(
        report_id="report-1",
        case_number="NTR-2024-000007",
        supplied=supplied,
        report=completed,
        assessment=assess(completed, RULES, CALENDAR),
        at=AT,
    )
    assert status is ReportStatus.REGISTERED
    assert [e.event_type for e in events] == [REPORT_SUPPLEMENTED, CASE_REGISTERED]
    assert events[0].payload["supplied"] == supplied
    assert events[0].payload["report"] == report_record(completed)
