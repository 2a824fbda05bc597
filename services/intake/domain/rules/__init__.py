"""Admissibility rules as versioned data: load, validate and pick the set in force.

The law behind intake is partly verified (V), partly second-hand (S), recalled (R) or not
found at all (docs/law.md). So every rule lives in ``admissibility-<version>.yaml`` next to this
module, with the article it encodes and its confidence, and an administrator corrects the law
by adding a file, never by changing code. A file is validated completely on load: a rule set
with a typo must fail at start-up, not on the first report that needs the rule.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.intake.domain.report import Channel, ElectionType, EmployeeType, PositionKind, ReportKind
from shared import rulefiles
from shared.rulefiles import Confidence, Reader, RuleSetError, repeated
from shared.workdays import DayCount

RULES_DIR = Path(__file__).parent
KIND = "admissibility"

__all__ = ["Confidence", "RuleBook", "RuleSet", "RuleSetError", "load_rule_book", "load_rule_set"]

# The report fields a content rule may require; the decider knows how to read each one.
CONTENT_FIELDS = frozenset(
    {
        "reporter.name",
        "reporter.address",
        "subject",
        "incident.date",
        "incident.place",
        "incident.description",
    }
)


class RecommendingBody(enum.StrEnum):
    """Who receives Bawaslu's finding and recommends to the PPK."""

    KASN = "KASN"
    BKN = "BKN"


class ForwardTarget(enum.StrEnum):
    """Where an out-of-scope report is forwarded."""

    EMPLOYER = "EMPLOYER"


@dataclass(frozen=True)
class Basis:
    """The legal basis of one rule: its id (recorded in events), article and confidence."""

    id: str
    article: str
    confidence: Confidence
    note: str | None = None


@dataclass(frozen=True)
class ReportingWindow:
    """A report must be filed within ``days`` of ``known_at``, counted as ``count`` says."""

    basis: Basis
    election_types: frozenset[ElectionType]
    channels: frozenset[Channel]
    kinds: frozenset[ReportKind]
    days: int
    count: DayCount


@dataclass(frozen=True)
class ContentRule:
    """The fields a report from these channels and of these kinds must contain."""

    basis: Basis
    channels: frozenset[Channel]
    kinds: frozenset[ReportKind]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class BodyPeriod:
    """``body`` receives recommendations for conduct known in [valid_from, valid_until)."""

    basis: Basis
    body: RecommendingBody
    valid_from: date
    valid_until: date | None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in this period."""
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True)
class OutOfScopeRule:
    """Reports about these people leave ASN discipline and go to ``forward_to``.

    An empty condition is no condition; a rule gives at least one.
    """

    basis: Basis
    employee_types: frozenset[EmployeeType]
    position_kinds: frozenset[PositionKind]
    forward_to: ForwardTarget


@dataclass(frozen=True)
class GakkumduRule:
    """Conduct with a criminal track, flagged for Sentra Gakkumdu.

    Matches when the election type is listed and every non-empty condition holds.
    """

    basis: Basis
    election_types: frozenset[ElectionType]
    any_of_codes: frozenset[str]
    any_of_keywords: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    """One version of the admissibility rules."""

    version: str
    effective_from: date
    sources: tuple[str, ...]
    reporting_windows: tuple[ReportingWindow, ...]
    required_content: tuple[ContentRule, ...]
    recommending_bodies: tuple[BodyPeriod, ...]
    out_of_scope: tuple[OutOfScopeRule, ...]
    gakkumdu: tuple[GakkumduRule, ...]

    @property
    def name(self) -> str:
        """What events record as ``rule_set``: the file's name without ``.yaml``."""
        return f"{KIND}-{self.version}"


RuleBook = rulefiles.RuleBook[RuleSet]


def load_rule_book(directory: Path = RULES_DIR) -> RuleBook:
    """Load and validate every ``admissibility-<version>.yaml`` in ``directory``."""
    return rulefiles.load_rule_book(directory, KIND, parse_rule_set)


def load_rule_set(path: Path) -> RuleSet:
    """Load one rule file (all of a directory's files load with ``load_rule_book``)."""
    return rulefiles.load_rule_file(path, KIND, parse_rule_set)


def parse_rule_set(data: Any, origin: str = "<rules>") -> RuleSet:
    """Validate already-parsed YAML into a RuleSet, naming every problem at once."""
    r = Reader(origin)
    top = r.mapping(data, "")
    rule_set = RuleSet(
        version=r.text(top, "version", ""),
        effective_from=r.day(top, "effective_from", ""),
        sources=tuple(r.texts(top, "sources", "")),
        reporting_windows=tuple(_window(r, m, w) for m, w in r.items(top, "reporting_windows")),
        required_content=tuple(_content(r, m, w) for m, w in r.items(top, "required_content")),
        recommending_bodies=tuple(_body(r, m, w) for m, w in r.items(top, "recommending_bodies")),
        out_of_scope=tuple(_out_of_scope(r, m, w) for m, w in r.items(top, "out_of_scope")),
        gakkumdu=tuple(_gakkumdu(r, m, w) for m, w in r.items(top, "gakkumdu")),
    )
    _check_whole(r, rule_set)
    r.raise_if_any()
    return rule_set


def _basis(r: Reader, m: Mapping[str, Any], where: str) -> Basis:
    note = m.get("note")
    return Basis(
        id=r.text(m, "id", where),
        article=r.text(m, "article", where),
        confidence=r.enum(Confidence, m, "confidence", where),
        note=str(note) if note is not None else None,
    )


def _window(r: Reader, m: Mapping[str, Any], where: str) -> ReportingWindow:
    days = m.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        r.problem(where, "days must be a whole number, 0 or more")
        days = 0
    return ReportingWindow(
        basis=_basis(r, m, where),
        election_types=r.enums(ElectionType, m, "election_types", where),
        channels=r.enums(Channel, m, "channels", where),
        kinds=r.enums(ReportKind, m, "kinds", where),
        days=days,
        count=r.enum(DayCount, m, "count", where),
    )


def _content(r: Reader, m: Mapping[str, Any], where: str) -> ContentRule:
    fields = r.texts(m, "fields", where)
    for unknown in sorted(set(fields) - CONTENT_FIELDS):
        r.problem(where, f"unknown field {unknown!r} (known: {', '.join(sorted(CONTENT_FIELDS))})")
    return ContentRule(
        basis=_basis(r, m, where),
        channels=r.enums(Channel, m, "channels", where),
        kinds=r.enums(ReportKind, m, "kinds", where),
        fields=tuple(fields),
    )


def _body(r: Reader, m: Mapping[str, Any], where: str) -> BodyPeriod:
    until = r.day(m, "until", where) if m.get("until") is not None else None
    return BodyPeriod(
        basis=_basis(r, m, where),
        body=r.enum(RecommendingBody, m, "body", where),
        valid_from=r.day(m, "from", where),
        valid_until=until,
    )


def _out_of_scope(r: Reader, m: Mapping[str, Any], where: str) -> OutOfScopeRule:
    rule = OutOfScopeRule(
        basis=_basis(r, m, where),
        employee_types=r.enums(EmployeeType, m, "employee_types", where, required=False),
        position_kinds=r.enums(PositionKind, m, "position_kinds", where, required=False),
        forward_to=r.enum(ForwardTarget, m, "forward_to", where),
    )
    if not rule.employee_types and not rule.position_kinds:
        r.problem(where, "give employee_types or position_kinds: a rule without conditions matches all")
    return rule


def _gakkumdu(r: Reader, m: Mapping[str, Any], where: str) -> GakkumduRule:
    rule = GakkumduRule(
        basis=_basis(r, m, where),
        election_types=r.enums(ElectionType, m, "election_types", where),
        any_of_codes=frozenset(r.texts(m, "any_of_codes", where, required=False)),
        any_of_keywords=tuple(k.casefold() for k in r.texts(m, "any_of_keywords", where, required=False)),
    )
    if not rule.any_of_codes and not rule.any_of_keywords:
        r.problem(where, "give any_of_codes or any_of_keywords: a rule without conditions flags all")
    return rule


def _check_whole(r: Reader, rule_set: RuleSet) -> None:
    """Checks across rules: unique ids, no two windows for one case, bodies without gaps."""
    ids = [
        rule.basis.id
        for group in (
            rule_set.reporting_windows,
            rule_set.required_content,
            rule_set.recommending_bodies,
            rule_set.out_of_scope,
            rule_set.gakkumdu,
        )
        for rule in group
    ]
    for dup in repeated(ids):
        r.problem("", f"rule id {dup} appears twice")
    seen: set[tuple[ElectionType, Channel, ReportKind]] = set()
    for window in rule_set.reporting_windows:
        for key in _product(window.election_types, window.channels, window.kinds):
            if key in seen:
                r.problem(window.basis.id, f"a second window for {'/'.join(key)}: which applies is ambiguous")
            seen.add(key)
    periods = sorted(rule_set.recommending_bodies, key=lambda p: p.valid_from)
    if not periods:
        r.problem("recommending_bodies", "at least one period is needed")
    for before, after in pairwise(periods):
        if before.valid_until != after.valid_from:
            r.problem(after.basis.id, f"must start where {before.basis.id} ends (no gap, no overlap)")


def _product(
    types: Iterable[ElectionType], channels: Iterable[Channel], kinds: Iterable[ReportKind]
) -> Iterable[tuple[ElectionType, Channel, ReportKind]]:
    return ((t, c, k) for t in types for c in channels for k in kinds)
