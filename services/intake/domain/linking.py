"""Duplicate linking: does a registered report open a case, or join one already open?

The rule, explicit because it changes what a partner sees (``LINKED``) and is recorded:

1. **Same person, same conduct, overlapping period → join** (``SAME_PERSON_SAME_CONDUCT``).
   Same person: the same NIP, or the same NI PPPK. Same conduct: the alleged §2 codes
   overlap, *or either side has none yet*. Codes may be empty at intake (classification
   happens later); a second unclassified report about the same person in the same period is
   far more likely the same conduct told twice than a new one, and a wrong join costs little
   (PP 94 Ps 35: one penalty for several violations) while a wrong split risks examining and
   punishing the same conduct twice. Period: the case's incident dates, widened by
   ``slack_days`` on each side, overlap the report's. If several cases match, the oldest wins.
2. **Same partner ``source_ref``, no join → a new case linked to those cases**
   (``SHARED_SOURCE_REF``): one Bawaslu register entry naming two people (docs/law.md §7
   case D) becomes two cases that know of each other.
3. Otherwise a new case (``NO_MATCH``).

Pure: the caller passes the candidate cases it found (by person key or source_ref).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.intake.domain.report import EmployeeType, Report


class PersonScheme(enum.StrEnum):
    """Which register a person's number comes from."""

    NIP = "NIP"
    NI_PPPK = "NI_PPPK"


@dataclass(frozen=True)
class PersonKey:
    """A civil servant's identity for linking: the number, never the name (names repeat)."""

    scheme: PersonScheme
    number: str

    @classmethod
    def of(cls, report: Report) -> PersonKey | None:
        """The report subject's key; None for NON_ASN or when the number is absent."""
        subject = report.subject
        if subject.employee_type in (EmployeeType.PNS, EmployeeType.CPNS) and subject.nip:
            return cls(PersonScheme.NIP, subject.nip.strip())
        if subject.employee_type is EmployeeType.PPPK and subject.ni_pppk:
            return cls(PersonScheme.NI_PPPK, subject.ni_pppk.strip())
        return None

    def __str__(self) -> str:
        return f"{self.scheme.value} {self.number}"


@dataclass(frozen=True)
class Period:
    """An inclusive range of days on which the conduct took place."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    @classmethod
    def of(cls, report: Report) -> Period:
        """The report's incident date, or ``known_at`` when the incident date is missing."""
        day = report.incident.date or report.known_at
        return cls(day, day)

    def overlaps(self, other: Period, slack_days: int = 0) -> bool:
        """Whether the two share a day once this one is widened by ``slack_days`` each side."""
        slack = timedelta(days=slack_days)
        return self.start - slack <= other.end and other.start <= self.end + slack

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class SourceRef:
    """A partner's own reference (e.g. a Bawaslu register number); unique per partner only."""

    partner: str
    ref: str


@dataclass(frozen=True)
class LinkFacts:
    """What linking reads of a new report."""

    person: PersonKey | None
    conduct: frozenset[str]
    period: Period
    source: SourceRef | None

    @classmethod
    def of(cls, report: Report, partner: str) -> LinkFacts:
        """The linking facts of ``report`` sent by ``partner``."""
        return cls(
            person=PersonKey.of(report),
            conduct=frozenset(report.alleged_violations),
            period=Period.of(report),
            source=SourceRef(partner, report.source_ref) if report.source_ref else None,
        )


@dataclass(frozen=True)
class ExistingCase:
    """A case a report could join, as the caller's projection knows it."""

    case_id: str
    opened_on: date
    person: PersonKey | None
    conduct: frozenset[str]
    period: Period
    sources: frozenset[SourceRef] = field(default_factory=frozenset)
    # Its number in the register, so a report that joins it is answered without a lookup.
    case_number: str | None = None


class LinkRule(enum.StrEnum):
    """Which linking rule decided."""

    SAME_PERSON_SAME_CONDUCT = "SAME_PERSON_SAME_CONDUCT"
    SHARED_SOURCE_REF = "SHARED_SOURCE_REF"
    NO_MATCH = "NO_MATCH"


class LinkOutcome(enum.StrEnum):
    """Join an open case, or open a new one."""

    JOIN_CASE = "JOIN_CASE"
    NEW_CASE = "NEW_CASE"


@dataclass(frozen=True)
class LinkDecision:
    """The linking decision, with the rule and the reason to record in the event."""

    outcome: LinkOutcome
    rule: LinkRule
    reason: str
    case_id: str | None = None  # the case joined
    related_case_ids: tuple[str, ...] = ()  # cases the new case is linked to

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready account of the decision for an event payload."""
        return {
            "outcome": self.outcome.value,
            "rule": self.rule.value,
            "reason": self.reason,
            "case_id": self.case_id,
            "related_case_ids": list(self.related_case_ids),
        }


def decide_link(report: LinkFacts, cases: Iterable[ExistingCase], *, slack_days: int = 0) -> LinkDecision:
    """Apply the linking rule (module docstring) to a report and the candidate cases."""
    candidates = sorted(cases, key=lambda c: (c.opened_on, c.case_id))
    for case in candidates:
        if (
            _same_person(report, case)
            and _same_conduct(report, case)
            and report.period.overlaps(case.period, slack_days)
        ):
            return LinkDecision(
                outcome=LinkOutcome.JOIN_CASE,
                rule=LinkRule.SAME_PERSON_SAME_CONDUCT,
                case_id=case.case_id,
                reason=(
                    f"same {report.person}; conduct {_codes(report.conduct)} matches {_codes(case.conduct)}; "
                    f"period {report.period} overlaps {case.period}"
                ),
            )
    if report.source is not None:
        related = tuple(c.case_id for c in candidates if report.source in c.sources)
        if related:
            return LinkDecision(
                outcome=LinkOutcome.NEW_CASE,
                rule=LinkRule.SHARED_SOURCE_REF,
                related_case_ids=related,
                reason=(
                    f"{report.source.partner} reference {report.source.ref} is shared with "
                    f"{', '.join(related)} about another person or conduct: separate, linked cases"
                ),
            )
    return LinkDecision(
        outcome=LinkOutcome.NEW_CASE,
        rule=LinkRule.NO_MATCH,
        reason="no open case about the same person and conduct, and no shared reference",
    )


def _same_person(report: LinkFacts, case: ExistingCase) -> bool:
    return report.person is not None and report.person == case.person


def _same_conduct(report: LinkFacts, case: ExistingCase) -> bool:
    # Unclassified (no codes) matches anything: see the module docstring for why.
    return not report.conduct or not case.conduct or bool(report.conduct & case.conduct)


def _codes(codes: frozenset[str]) -> str:
    return "+".join(sorted(codes)) if codes else "(unclassified)"
