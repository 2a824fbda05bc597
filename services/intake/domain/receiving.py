"""The intake decider: a received report, its admissibility assessment and its linking
decision go in; the case's events come out. Pure: no clock, no database, no Kafka.

Every report belongs to a case stream. A report that joins an existing case (LINKED) is
appended to that case; any other opens a new case with its own number, registered,
incomplete (waiting for a supplement) or forwarded out of scope. The events carry the rule
set and the decisions' records so a replay re-derives the same outcome.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

from services.intake.domain.admissibility import AdmissibilityStatus, Assessment
from services.intake.domain.events import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
    REPORT_RECEIVED,
    REPORT_SUPPLEMENTED,
)
from services.intake.domain.linking import LinkDecision, LinkFacts, LinkOutcome, PersonKey, PersonScheme
from services.intake.domain.report import (
    IDENTIFYING_FIELDS,
    AgencyLevel,
    Channel,
    Election,
    ElectionType,
    EmployeeType,
    Incident,
    PositionKind,
    Report,
    Reporter,
    ReportKind,
    Subject,
)
from shared.envelope import NewEvent

M = TypeVar("M", bound=enum.Enum)


class ReportStatus(enum.StrEnum):
    """The status a partner is told (docs/partner-api.md, POST /v1/reports)."""

    REGISTERED = "REGISTERED"
    LINKED = "LINKED"
    INCOMPLETE = "INCOMPLETE"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


@dataclass(frozen=True)
class Receipt:
    """What was decided for one report: its status, its case and the events saying so."""

    status: ReportStatus
    case_id: str
    case_number: str
    opens_case: bool
    events: tuple[NewEvent, ...]


def case_number(year: int, sequence: int) -> str:
    """The human-readable case number, unique per year: ``NTR-2024-000123``."""
    return f"NTR-{year}-{sequence:06d}"


def receive(
    report: Report,
    *,
    report_id: str,
    partner: str,
    received_at: datetime,
    assessment: Assessment,
    link: LinkDecision,
    open_case: Callable[[], tuple[str, str]],
    joined_case_number: str | None = None,
    reporter_identity: Any = None,
    subject_identity: Any = None,
    person: PersonKey | None = None,
) -> Receipt:
    """Decide the events for a received report.

    ``open_case`` gives the (case id, case number) of a new case; it is called only when the
    report opens one, so numbers are not used up by reports that join a case.
    ``joined_case_number`` is the number of the case ``link`` joins, when it joins one.
    ``reporter_identity`` and ``subject_identity`` are who the reporter and the subject are,
    as the event records them: sealed by the caller (shared.keyring), opaque here. ``person``
    is the subject's linking key as ``link`` matched it (its number blinded by the caller).
    """
    received = NewEvent(
        REPORT_RECEIVED,
        {
            "report_id": report_id,
            "partner": partner,
            "received_at": received_at.isoformat(),
            "report": report_record(report, reporter_identity, subject_identity, person),
        },
        occurred_at=report.reported_at,
    )
    status = _status(assessment, link)
    if status is ReportStatus.LINKED:
        assert link.case_id is not None and joined_case_number is not None
        linked = NewEvent(
            REPORT_LINKED,
            {"report_id": report_id, "link": link.to_record(), "assessment": assessment.to_record()},
            occurred_at=received_at,
            rule_set=assessment.rule_set,
        )
        return Receipt(status, link.case_id, joined_case_number, False, (received, linked))
    case_id, number = open_case()
    return Receipt(
        status,
        case_id,
        number,
        True,
        (received, _opening(status, report_id, number, assessment, link, received_at)),
    )


def _status(assessment: Assessment, link: LinkDecision) -> ReportStatus:
    if assessment.status is AdmissibilityStatus.OUT_OF_SCOPE:
        return ReportStatus.OUT_OF_SCOPE
    if assessment.status is AdmissibilityStatus.INCOMPLETE:
        return ReportStatus.INCOMPLETE
    if link.outcome is LinkOutcome.JOIN_CASE:
        return ReportStatus.LINKED
    return ReportStatus.REGISTERED


def _opening(
    status: ReportStatus,
    report_id: str,
    number: str,
    assessment: Assessment,
    link: LinkDecision,
    at: datetime,
) -> NewEvent:
    kind = {
        ReportStatus.REGISTERED: CASE_REGISTERED,
        ReportStatus.INCOMPLETE: REPORT_MARKED_INCOMPLETE,
        ReportStatus.OUT_OF_SCOPE: CASE_FORWARDED_OUT_OF_SCOPE,
    }[status]
    payload = {
        "report_id": report_id,
        "case_number": number,
        "late": assessment.late,
        "assessment": assessment.to_record(),
        "link": link.to_record(),
    }
    return NewEvent(kind, payload, occurred_at=at, rule_set=assessment.rule_set)


def report_record(
    report: Report,
    reporter_identity: Any = None,
    subject_identity: Any = None,
    person: PersonKey | None = None,
) -> dict[str, Any]:
    """The report as recorded in ``intake.report_received``: the facts the partner sent, with
    who the reporter and the subject are as ``reporter_identity`` and ``subject_identity``
    (sealed), and the subject's ``person`` key (blinded) that linking matches on."""
    subject, incident, election = report.subject, report.incident, report.election
    clear_subject = {
        k: (v.value if isinstance(v, enum.Enum) else v)
        for k, v in vars(subject).items()
        if k not in IDENTIFYING_FIELDS
    }
    return {
        "channel": report.channel.value,
        "kind": report.kind.value,
        "source_ref": report.source_ref,
        "election": {
            "type": election.type.value,
            "year": election.year,
            "candidate_determination_date": _iso(election.candidate_determination_date),
        },
        "subject": {
            **clear_subject,
            "identity": subject_identity,
            "person": None if person is None else str(person),
        },
        "incident": {**vars(incident), "date": _iso(incident.date)},
        "known_at": report.known_at.isoformat(),
        "reported_at": report.reported_at.isoformat(),
        "alleged_violations": list(report.alleged_violations),
        "reporter": None
        if report.reporter is None
        else {"confidential": report.reporter.confidential, "identity": reporter_identity},
    }


def report_of_record(record: dict[str, Any]) -> Report:
    """The report an ``intake.report_received`` event recorded (``report_record``'s inverse),
    so a projection reads the same facts the decider read."""
    election, incident = record["election"], record["incident"]
    subject = {k: v for k, v in record["subject"].items() if k not in ("identity", "person")}
    subject["employee_type"] = EmployeeType(subject["employee_type"])
    subject["position_kind"] = _recorded_member(PositionKind, subject.get("position_kind"))
    subject["agency_level"] = _recorded_member(AgencyLevel, subject.get("agency_level"))
    return Report(
        channel=Channel(record["channel"]),
        kind=ReportKind(record["kind"]),
        source_ref=record["source_ref"],
        election=Election(
            type=ElectionType(election["type"]),
            year=election["year"],
            candidate_determination_date=_date(election["candidate_determination_date"]),
        ),
        subject=Subject(**subject),
        incident=Incident(**{**incident, "date": _date(incident["date"])}),
        known_at=date.fromisoformat(record["known_at"]),
        reported_at=datetime.fromisoformat(record["reported_at"]),
        alleged_violations=tuple(record["alleged_violations"]),
        reporter=_reporter_of_record(record["reporter"]),
    )


def _recorded_member(members: type[M], text: str | None) -> M | None:
    """An enum field as recorded. Reports recorded before intake held these fields to their
    lists keep the partner's text: a member in any case is read as the member (admissibility
    then compared them upper-cased), other text as absent, as it matched no rule."""
    if text is None:
        return None
    try:
        return members(text.upper())
    except ValueError:
        return None


def facts_of_record(record: dict[str, Any], partner: str) -> LinkFacts:
    """The linking facts of a recorded report: its person key as recorded (blinded). Reports
    recorded before subjects were sealed hold the number itself, and are keyed by it."""
    facts = LinkFacts.of(report_of_record(record), partner)
    subject = record["subject"]
    if "person" not in subject:
        return facts
    person = subject["person"]
    if person is None:
        return replace(facts, person=None)
    scheme, _, number = str(person).partition(" ")
    return replace(facts, person=PersonKey(PersonScheme(scheme), number))


def _reporter_of_record(record: dict[str, Any] | None) -> Reporter | None:
    """The reporter as far as the record shows it: whether one exists and asked for
    confidentiality; who they are stays sealed. Reports recorded before identities were
    sealed kept them in the clear, and are read as recorded."""
    if record is None:
        return None
    if "identity" in record:
        return Reporter(confidential=bool(record["confidential"]))
    return Reporter(**record)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def supplement(
    *,
    report_id: str,
    case_number: str,
    supplied: dict[str, Any],
    report: Report,
    assessment: Assessment,
    at: datetime,
    reporter_identity: Any = None,
    subject_identity: Any = None,
    person: PersonKey | None = None,
) -> tuple[ReportStatus, tuple[NewEvent, ...]]:
    """Decide what a supplement to an INCOMPLETE report does: record what was supplied and,
    when the report now holds everything the law asks, register its case.

    The event carries the whole ``report`` as it now stands (``merged_body`` of the original
    and the supplement), so no reader has to merge it again and none can merge differently.
    ``supplied`` comes with its identities already sealed, as ``reporter_identity``,
    ``subject_identity`` and ``person`` do (see ``receive``)."""
    supplemented = NewEvent(
        REPORT_SUPPLEMENTED,
        {
            "report_id": report_id,
            "supplied": supplied,
            "report": report_record(report, reporter_identity, subject_identity, person),
            "assessment": assessment.to_record(),
        },
        occurred_at=at,
        rule_set=assessment.rule_set,
    )
    if assessment.status is not AdmissibilityStatus.REGISTERED:
        return ReportStatus.INCOMPLETE, (supplemented,)
    registered = NewEvent(
        CASE_REGISTERED,
        {
            "report_id": report_id,
            "case_number": case_number,
            "late": assessment.late,
            "assessment": assessment.to_record(),
        },
        occurred_at=at,
        rule_set=assessment.rule_set,
    )
    return ReportStatus.REGISTERED, (supplemented, registered)


def merged_body(original: dict[str, Any], supplied: dict[str, Any]) -> dict[str, Any]:
    """The original request body with the supplied fields laid over it, object by object."""
    merged = dict(original)
    for key, value in supplied.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merged_body(merged[key], value)
        else:
            merged[key] = value
    return merged
