"""The facts of a partner's report that admissibility and linking decide on.

A subset of the partner contract (docs/partner-api.md, ``POST /v1/reports``) as frozen dataclasses,
already validated by the API layer: the domain sees typed dates and enums, never raw JSON.
Field names follow the contract so that a decision's recorded inputs read like the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# The enums are the service's copy of the wire vocabulary; imported here so that
# ``from services.intake.domain.report import EmployeeType`` (and the others) keeps working.
from services.intake.domain.vocabulary import AgencyLevel as AgencyLevel
from services.intake.domain.vocabulary import Channel as Channel
from services.intake.domain.vocabulary import ElectionType as ElectionType
from services.intake.domain.vocabulary import EmployeeType as EmployeeType
from services.intake.domain.vocabulary import PositionKind as PositionKind
from services.intake.domain.vocabulary import ReportKind as ReportKind


@dataclass(frozen=True)
class Election:
    """Which election the conduct concerns."""

    type: ElectionType
    year: int
    candidate_determination_date: date | None = None


# The subject's fields that name them: personal data, sealed in every record (UU 27/2022).
IDENTIFYING_FIELDS = ("name", "nip", "ni_pppk")


@dataclass(frozen=True)
class Subject:
    """The reported person (*terlapor*). ``IDENTIFYING_FIELDS`` say who they are and are kept
    sealed; the rest (position, agency, ...) decides who may punish them and stays clear."""

    employee_type: EmployeeType
    name: str | None = None
    nip: str | None = None
    ni_pppk: str | None = None
    position: str | None = None
    position_kind: PositionKind | None = None
    agency: str | None = None
    agency_level: AgencyLevel | None = None
    work_unit: str | None = None


@dataclass(frozen=True)
class Incident:
    """When, where and what: the time, place and account UU 1/2015 Ps 134(3) asks for."""

    date: date | None = None
    province: str | None = None
    regency: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Reporter:
    """Who reported (*pelapor*); absent for a temuan or an anonymous tip."""

    name: str | None = None
    address: str | None = None
    contact: str | None = None
    confidential: bool = False


@dataclass(frozen=True)
class Report:
    """One partner report, as the intake domain sees it."""

    channel: Channel
    election: Election
    subject: Subject
    incident: Incident
    known_at: date
    # The partner's register time with its own offset: its local date is the filing date.
    reported_at: datetime
    alleged_violations: tuple[str, ...] = ()
    reporter: Reporter | None = None
    source_ref: str | None = None
    kind: ReportKind = ReportKind.LAPORAN
