"""Commands: what a supervisor or investigator asks adjudication to record (imperative names).

The API builds them from validated requests; the deciders (recommendation, summons,
examination, evidence, finding, assignment) turn them into events or refuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from services.adjudication.domain.rules import RuleBook, RuleSet
from services.adjudication.domain.vocabulary import (
    AgencyLevel,
    AttendanceMode,
    CustodyAction,
    EmployeeType,
    ExaminerMode,
    Level,
    PositionKind,
    RecommendationCategory,
    RecommendingBody,
    TeamRole,
)
from shared.envelope import new_event_id
from shared.refusals import RuleViolation
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class Deciding:
    """What every decider may consult: the rules, the calendar, the instant, who acts."""

    book: RuleBook
    calendar: WorkingCalendar
    at: datetime
    actor_id: str = "system"
    # Ids for events a later event of the same outcome must cite (a referral its finding).
    new_event_id: Callable[[], str] = new_event_id

    def rules_on(self, day: date, field_name: str) -> RuleSet:
        """The rule set in force on ``day``; a 422 on ``field_name`` when none is."""
        try:
            return self.book.in_force(day)
        except LookupError as exc:
            raise RuleViolation(field_name, str(exc), "PP 94/2021 Ps 40, 46") from exc


@dataclass(frozen=True)
class AssignInvestigator:
    investigator_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Recuse:
    reason: str
    investigator_id: str | None = None  # default: the investigator assigned now


@dataclass(frozen=True)
class RecordSubjectProfile:
    position_kind: PositionKind | None = None
    agency_level: AgencyLevel | None = None
    employee_type: EmployeeType | None = None
    is_ppk: bool | None = None
    position: str | None = None
    agency: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RequestRecommendation:
    requested_on: date
    reference: str | None = None


@dataclass(frozen=True)
class RecordRecommendation:
    number: str
    issued_on: date
    category: RecommendationCategory
    level: Level | None = None
    issuer: RecommendingBody | None = None


@dataclass(frozen=True)
class AcknowledgeRecommendation:
    received_on: date
    ppk: str
    letter_number: str | None = None


@dataclass(frozen=True)
class IssueSummons:
    letter_number: str
    letter_date: date
    examination_date: date
    signed_by: str


@dataclass(frozen=True)
class RecordAttendance:
    examined_on: date
    mode: AttendanceMode


@dataclass(frozen=True)
class RecordAbsence:
    missed_on: date
    note: str | None = None


@dataclass(frozen=True)
class TeamMember:
    name: str
    role: TeamRole


@dataclass(frozen=True)
class AppointExaminer:
    mode: ExaminerMode
    members: tuple[TeamMember, ...]
    # The date of the appointment (the decree's): the examiner exists from it (Ps 27, 29).
    appointed_on: date
    decree_number: str | None = None


@dataclass(frozen=True)
class ReleaseTemporarily:
    from_date: date
    decree_number: str
    reason: str


# A URI that may point at a person: sealed by the web layer (shared.keyring), opaque here.
Sealed = dict[str, str] | str


@dataclass(frozen=True)
class RecordBap:
    document_uri: Sealed
    sha256: str
    signed_on: date
    signed_by_subject: bool
    copy_given_on: date | None = None


@dataclass(frozen=True)
class AddEvidence:
    evidence_id: str
    kind: str
    uri: Sealed
    sha256: str
    captured_at: datetime | None = None
    description: str | None = None


@dataclass(frozen=True)
class RecordCustody:
    evidence_id: str
    action: CustodyAction
    on: date
    note: str | None = None


@dataclass(frozen=True)
class ViolationInput:
    code: str
    level: Level | None = None
    level_reason: str | None = None


@dataclass(frozen=True)
class RecordFinding:
    proven: bool
    reasoning: str
    violations: tuple[ViolationInput, ...] = field(default_factory=tuple)
    repeat: bool = False
    repeat_of: str | None = None
    # The finding's legal date (its valid time, and the date sanctions counts from); today in
    # WIB when not given.
    found_on: date | None = None
