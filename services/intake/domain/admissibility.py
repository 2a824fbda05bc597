"""Admissibility: the pure decision on what a freshly received report is (docs/law.md §5 rows 1–4).

``assess`` answers, from the report, a rule set and the working calendar only:

* is it out of ASN discipline (NON_ASN, village officials) and where is it forwarded;
* does it lack what the law requires of its channel (INCOMPLETE, with ``missing``);
* was it filed after the reporting window that runs from ``known_at`` (``late``: recorded,
  never a reason to drop it; the window binds Bawaslu intake only, PP 94 has no limitation);
* does the conduct have a criminal track for Sentra Gakkumdu, alongside the discipline case;
* which body, KASN or BKN, receives the recommendation, chosen by ``known_at``.

Whether a registered report opens a case or joins one (LINKED) is ``linking``'s decision.
Every answer names the rule id and article it applied, and ``Assessment.to_record`` gives the
rule-set version and the inputs that mattered, ready for an event payload.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.intake.domain.report import Report
from services.intake.domain.rules import (
    BodyPeriod,
    ForwardTarget,
    GakkumduRule,
    RecommendingBody,
    ReportingWindow,
    RuleSet,
)
from shared.workdays import DayCount, WorkingCalendar


class AdmissibilityStatus(enum.StrEnum):
    """What intake makes of a report (LINKED is decided later, by linking)."""

    REGISTERED = "REGISTERED"
    INCOMPLETE = "INCOMPLETE"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


@dataclass(frozen=True)
class WindowJudgement:
    """The reporting window a report was judged against, and the verdict."""

    rule: str
    article: str
    days: int
    count: DayCount
    known_at: date
    deadline: date
    reported_on: date
    late: bool


@dataclass(frozen=True)
class Forwarding:
    """Where an out-of-scope report goes, and why."""

    rule: str
    article: str
    to: ForwardTarget
    agency: str | None


@dataclass(frozen=True)
class GakkumduFlag:
    """One reason the conduct also goes to Sentra Gakkumdu."""

    rule: str
    article: str
    reason: str


@dataclass(frozen=True)
class BodyChoice:
    """The body that receives the recommendation, chosen by the date the conduct was known."""

    body: RecommendingBody
    rule: str
    article: str
    chosen_on: date


@dataclass(frozen=True)
class Assessment:
    """The admissibility decision on one report under one rule set."""

    rule_set: str
    status: AdmissibilityStatus
    # What the law requires and the report lacks; only makes it INCOMPLETE when in scope.
    missing: tuple[str, ...]
    missing_rules: tuple[str, ...]
    forwarded_to: Forwarding | None
    window: WindowJudgement | None
    gakkumdu_flags: tuple[GakkumduFlag, ...]
    recommending_body: BodyChoice | None
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def late(self) -> bool:
        """Filed after the reporting window; False when no window applies to the report."""
        return self.window is not None and self.window.late

    @property
    def deadline(self) -> date | None:
        """The last day of the window the report was judged against."""
        return self.window.deadline if self.window else None

    @property
    def gakkumdu(self) -> bool:
        """Whether the conduct is flagged for Sentra Gakkumdu."""
        return bool(self.gakkumdu_flags)

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready account of the decision for an event payload: rule set, rules, inputs."""
        window = self.window
        return {
            "rule_set": self.rule_set,
            "status": self.status.value,
            "missing": list(self.missing),
            "missing_rules": list(self.missing_rules),
            "forwarded_to": None
            if self.forwarded_to is None
            else {
                "to": self.forwarded_to.to.value,
                "agency": self.forwarded_to.agency,
                "rule": self.forwarded_to.rule,
                "article": self.forwarded_to.article,
            },
            "late": self.late,
            "window": None
            if window is None
            else {
                "rule": window.rule,
                "article": window.article,
                "days": window.days,
                "count": window.count.value,
                "known_at": window.known_at.isoformat(),
                "deadline": window.deadline.isoformat(),
                "reported_on": window.reported_on.isoformat(),
            },
            "gakkumdu": [
                {"rule": f.rule, "article": f.article, "reason": f.reason} for f in self.gakkumdu_flags
            ],
            "recommending_body": None
            if self.recommending_body is None
            else {
                "body": self.recommending_body.body.value,
                "rule": self.recommending_body.rule,
                "article": self.recommending_body.article,
                "chosen_on": self.recommending_body.chosen_on.isoformat(),
            },
            "inputs": dict(self.inputs),
        }


def reporting_deadline(window: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the partner is told of the reporting window, from a recorded assessment's
    ``window`` (``Assessment.to_record()["window"]``): the last day still in time, how it
    was counted and the rule and article behind it; None when no window applies.

    Made from the record, not the ``Assessment``, so that the answer to ``POST /v1/reports``
    and the report's ``GET`` (read from the recorded event) cannot say different things.
    """
    if not window:
        return None
    return {
        "due_on": window["deadline"],
        "days": window["days"],
        "count": window["count"],
        "rule": window["rule"],
        "article": window["article"],
    }


def assess(report: Report, rules: RuleSet, calendar: WorkingCalendar) -> Assessment:
    """Decide admissibility of ``report`` under ``rules``; pure, deterministic, never raises
    for a report the API layer accepted.

    Out of scope wins over incomplete: a report Netra will forward needs nothing more here.
    """
    forwarding = _out_of_scope(report, rules)
    missing, missing_rules = _missing(report, rules)
    if forwarding is not None:
        status = AdmissibilityStatus.OUT_OF_SCOPE
    elif missing:
        status = AdmissibilityStatus.INCOMPLETE
    else:
        status = AdmissibilityStatus.REGISTERED
    return Assessment(
        rule_set=rules.name,
        status=status,
        missing=missing,
        missing_rules=missing_rules,
        forwarded_to=forwarding,
        window=judge_window(report, rules, calendar),
        gakkumdu_flags=tuple(
            flag for rule in rules.gakkumdu if (flag := _gakkumdu(report, rule)) is not None
        ),
        recommending_body=choose_recommending_body(report.known_at, rules),
        inputs=_inputs(report),
    )


def judge_window(report: Report, rules: RuleSet, calendar: WorkingCalendar) -> WindowJudgement | None:
    """Judge ``reported_at`` against the reporting window from ``known_at``, if one applies.

    The filing date is ``reported_at``'s own local date (the partner's register date); the
    time Netra received the push never counts. The deadline day itself is still in time.
    """
    window = _window_for(report, rules)
    if window is None:
        return None
    deadline = calendar.add_days(report.known_at, window.days, window.count)
    reported_on = report.reported_at.date()
    return WindowJudgement(
        rule=window.basis.id,
        article=window.basis.article,
        days=window.days,
        count=window.count,
        known_at=report.known_at,
        deadline=deadline,
        reported_on=reported_on,
        late=reported_on > deadline,
    )


def choose_recommending_body(known_at: date, rules: RuleSet) -> BodyChoice | None:
    """KASN or BKN, by the date the conduct became known; None before any period starts."""
    period: BodyPeriod | None = next((p for p in rules.recommending_bodies if p.covers(known_at)), None)
    if period is None:
        return None
    return BodyChoice(
        body=period.body, rule=period.basis.id, article=period.basis.article, chosen_on=known_at
    )


def _window_for(report: Report, rules: RuleSet) -> ReportingWindow | None:
    # The loader guarantees at most one window per (election type, channel, kind).
    for window in rules.reporting_windows:
        if (
            report.election.type in window.election_types
            and report.channel in window.channels
            and report.kind in window.kinds
        ):
            return window
    return None


def _out_of_scope(report: Report, rules: RuleSet) -> Forwarding | None:
    subject = report.subject
    for rule in rules.out_of_scope:
        if rule.employee_types and subject.employee_type not in rule.employee_types:
            continue
        if rule.position_kinds and subject.position_kind not in rule.position_kinds:
            continue
        return Forwarding(
            rule=rule.basis.id, article=rule.basis.article, to=rule.forward_to, agency=subject.agency
        )
    return None


def _filled(value: str | None) -> bool:
    return value is not None and bool(value.strip())


# How to tell whether a report has each field a content rule may require (rules.CONTENT_FIELDS).
_PRESENT: Mapping[str, Callable[[Report], bool]] = {
    "reporter.name": lambda r: r.reporter is not None and _filled(r.reporter.name),
    "reporter.address": lambda r: r.reporter is not None and _filled(r.reporter.address),
    "subject": lambda r: any(_filled(v) for v in (r.subject.name, r.subject.nip, r.subject.ni_pppk)),
    "incident.date": lambda r: r.incident.date is not None,
    "incident.place": lambda r: _filled(r.incident.province) or _filled(r.incident.regency),
    "incident.description": lambda r: _filled(r.incident.description),
}


def _missing(report: Report, rules: RuleSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    missing: list[str] = []
    applied: list[str] = []
    for rule in rules.required_content:
        if report.channel not in rule.channels or report.kind not in rule.kinds:
            continue
        lacking = [f for f in rule.fields if not _PRESENT[f](report)]
        if lacking:
            applied.append(rule.basis.id)
        missing.extend(f for f in lacking if f not in missing)
    return tuple(missing), tuple(applied)


def _gakkumdu(report: Report, rule: GakkumduRule) -> GakkumduFlag | None:
    if report.election.type not in rule.election_types:
        return None
    reasons: list[str] = []
    if rule.any_of_codes:
        codes = sorted(rule.any_of_codes.intersection(report.alleged_violations))
        if not codes:
            return None
        reasons.append(f"alleged {', '.join(codes)}")
    if rule.any_of_keywords:
        words = _keywords_in(report.incident.description or "", rule.any_of_keywords)
        if not words:
            return None
        reasons.append(f"account mentions {', '.join(repr(w) for w in words)}")
    return GakkumduFlag(rule=rule.basis.id, article=rule.basis.article, reason="; ".join(reasons))


def _keywords_in(text: str, keywords: tuple[str, ...]) -> list[str]:
    # Whole words only: "uang" must not match "ruang" (room), a common word in an account.
    folded = text.casefold()
    return [k for k in keywords if re.search(rf"(?<!\w){re.escape(k)}(?!\w)", folded)]


def _inputs(report: Report) -> dict[str, Any]:
    """The report facts the rules read, as recorded alongside the decision."""
    kind = report.subject.position_kind
    return {
        "channel": report.channel.value,
        "kind": report.kind.value,
        "election_type": report.election.type.value,
        "election_year": report.election.year,
        "employee_type": report.subject.employee_type.value,
        "position_kind": None if kind is None else str(kind),
        "known_at": report.known_at.isoformat(),
        "reported_at": report.reported_at.isoformat(),
        "alleged_violations": list(report.alleged_violations),
    }
