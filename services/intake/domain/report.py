"""The facts of a partner's report that admissibility and linking decide on.

A subset of the partner contract (docs/partner-api.md, ``POST /v1/reports``) as frozen dataclasses,
already validated by the API layer: the domain sees typed dates and enums, never raw JSON.
Field names follow the contract so that a decision's recorded inputs read like the request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class ElectionType(enum.StrEnum):
    """Pemilu (national, UU 7/2017) or Pilkada (regional, UU 1/2015 as amended)."""

    PILPRES = "PILPRES"
    PILEG = "PILEG"
    PILKADA_GUB = "PILKADA_GUB"
    PILKADA_BUP = "PILKADA_BUP"
    PILKADA_WAKO = "PILKADA_WAKO"


class EmployeeType(enum.StrEnum):
    """The reported person's employment: ASN (PNS, CPNS, PPPK) or not."""

    PNS = "PNS"
    CPNS = "CPNS"
    PPPK = "PPPK"
    NON_ASN = "NON_ASN"


class Channel(enum.StrEnum):
    """The partner channel a report arrived through (named by the partner's token)."""

    BAWASLU = "BAWASLU"
    BKN = "BKN"
    INSPEKTORAT = "INSPEKTORAT"
    ATASAN_LANGSUNG = "ATASAN_LANGSUNG"
    PUBLIC_PORTAL = "PUBLIC_PORTAL"


class ReportKind(enum.StrEnum):
    """A *laporan* comes from a reporter; a *temuan* is the supervisor's own finding.

    The contract has no such field yet, so adapters pass LAPORAN; the law treats them
    differently (UU 7/2017 Ps 454: temuan ≤7 days, laporan ≤7 working days).
    """

    LAPORAN = "LAPORAN"
    TEMUAN = "TEMUAN"


@dataclass(frozen=True)
class Election:
    """Which election the conduct concerns."""

    type: ElectionType
    year: int
    candidate_determination_date: date | None = None


@dataclass(frozen=True)
class Subject:
    """The reported person (*terlapor*)."""

    employee_type: EmployeeType
    name: str | None = None
    nip: str | None = None
    ni_pppk: str | None = None
    position: str | None = None
    position_kind: str | None = None
    agency: str | None = None
    agency_level: str | None = None
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
