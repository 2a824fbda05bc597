"""Adjudication rules as versioned data: load, validate and pick the set in force.

The law behind adjudication is partly verified (V), partly second-hand (S), recalled (R) or
not found (docs/law.md). Every rule lives in ``adjudication-<version>.yaml`` beside this module
with the article it encodes and its confidence; an administrator corrects the law by adding
a file, never by changing code. A file is validated whole on load, so a typo stops the
service at start-up rather than the first case that needs the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.adjudication.domain.vocabulary import (
    AgencyLevel,
    Category,
    EmployeeType,
    Level,
    Official,
    PositionKind,
    RecommendingBody,
    Relation,
    TeamRole,
)
from shared import rulefiles
from shared.rulefiles import Confidence, Reader, RuleSetError, repeated
from shared.workdays import DayCount

__all__ = ["BodyPeriod", "RuleBook", "RuleSet", "RuleSetError", "load_rule_book"]

RULES_DIR = Path(__file__).parent
KIND = "adjudication"
DEADLINE_KINDS = frozenset({"examination", "second_summons", "ppk_follow_up"})


@dataclass(frozen=True)
class Basis:
    """The legal basis of one rule: its id, the article it encodes and how sure that is."""

    id: str
    article: str
    confidence: Confidence
    note: str | None = None

    def record(self) -> dict[str, Any]:
        """The basis as events record it."""
        return {"rule": self.id, "article": self.article, "confidence": self.confidence.value}


@dataclass(frozen=True)
class BodyPeriod:
    """``body`` issues recommendations on days in [valid_from, valid_until)."""

    basis: Basis
    body: RecommendingBody
    valid_from: date
    valid_until: date | None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in this period."""
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True)
class DeadlineRule:
    """A legal clock: ``days`` after its start, counted as ``count`` says."""

    basis: Basis
    kind: str
    days: int
    count: DayCount
    runs_from: str


@dataclass(frozen=True)
class TeamRule:
    """When an examination needs a tim pemeriksa, and which unsur it must have."""

    basis: Basis
    required_for: frozenset[Level]
    optional_for: frozenset[Level]
    members: frozenset[TeamRole]


@dataclass(frozen=True)
class ReleaseRule:
    """Temporary release from duty is possible when one of these levels is in question."""

    basis: Basis
    for_levels: frozenset[Level]


@dataclass(frozen=True)
class ViolationRule:
    """One catalogue entry; ``level`` None with DISIPLIN means a person must choose it."""

    basis: Basis
    code: str
    category: Category
    level: Level | None


@dataclass(frozen=True)
class HierarchyRow:
    """The posts one and two levels above a subject of ``position_kind``."""

    position_kind: PositionKind
    agency_levels: frozenset[AgencyLevel]
    one_level_up: Official | None
    two_levels_up: Official | None


@dataclass(frozen=True)
class AuthorityRule:
    """A row of docs/law.md §4: ``official`` may impose ``may_impose`` on such subjects."""

    basis: Basis
    official: Official
    relation: Relation | None
    position_kinds: frozenset[PositionKind]
    agency_levels: frozenset[AgencyLevel]
    may_impose: tuple[Level, ...]
    penalties: Mapping[Level, tuple[str, ...]] = field(default_factory=dict)
    subject_is_ppk: bool | None = None


@dataclass(frozen=True)
class PpkRule:
    """A PPK-by-agency-level rule (kode etik sanctions, PPPK discipline)."""

    basis: Basis
    officials: Mapping[AgencyLevel, Official]
    may_impose: tuple[Level, ...]
    penalties: tuple[str, ...]
    employee_types: frozenset[EmployeeType]


@dataclass(frozen=True)
class RuleSet:
    """One version of the adjudication rules."""

    version: str
    effective_from: date
    recommending_bodies: tuple[BodyPeriod, ...]
    deadlines: Mapping[str, DeadlineRule]
    team: TeamRule
    release: ReleaseRule
    violations: Mapping[str, ViolationRule]
    not_findings: Mapping[str, Basis]
    hierarchy_basis: Basis
    hierarchy: tuple[HierarchyRow, ...]
    authority: tuple[AuthorityRule, ...]
    kode_etik: PpkRule
    pppk: PpkRule

    @property
    def name(self) -> str:
        """What events record as ``rule_set``."""
        return f"{KIND}-{self.version}"

    def body_on(self, day: date) -> BodyPeriod:
        """The body that issues recommendations on ``day``."""
        for period in self.recommending_bodies:
            if period.covers(day):
                return period
        raise LookupError(f"no recommending body is known for {day.isoformat()}")

    def deadline(self, kind: str) -> DeadlineRule:
        """The clock of ``kind`` (examination, second_summons, ppk_follow_up)."""
        return self.deadlines[kind]


RuleBook = rulefiles.RuleBook[RuleSet]


def load_rule_book(directory: Path = RULES_DIR) -> RuleBook:
    """Load and validate every ``adjudication-<version>.yaml`` in ``directory``."""
    return rulefiles.load_rule_book(directory, KIND, parse_rule_set)


def load_rule_set(path: Path) -> RuleSet:
    """Load one rule file (all of a directory's files load with ``load_rule_book``)."""
    return rulefiles.load_rule_file(path, KIND, parse_rule_set)


def parse_rule_set(data: Any, origin: str = "<rules>") -> RuleSet:
    """Validate already-parsed YAML into a RuleSet, naming every problem at once."""
    r = Reader(origin)
    top = r.mapping(data, "")
    hierarchy = r.mapping(top.get("hierarchy"), "hierarchy")
    rule_set = RuleSet(
        version=r.text(top, "version", ""),
        effective_from=r.day(top, "effective_from", ""),
        recommending_bodies=tuple(_body(r, m, w) for m, w in r.items(top, "recommending_bodies")),
        deadlines={d.kind: d for d in (_deadline(r, m, w) for m, w in r.items(top, "deadlines"))},
        team=_team(r, r.mapping(top.get("examination_team"), "examination_team")),
        release=_release(r, r.mapping(top.get("temporary_release"), "temporary_release")),
        violations={v.code: v for v in (_violation(r, m, w) for m, w in r.items(top, "violations"))},
        not_findings={
            r.text(m, "code", w): _basis(r, {**m, "id": m.get("code")}, w)
            for m, w in r.items(top, "not_findings")
        },
        hierarchy_basis=_basis(r, hierarchy, "hierarchy"),
        hierarchy=tuple(_hierarchy(r, m, w) for m, w in r.items(hierarchy, "rows")),
        authority=tuple(_authority(r, m, w) for m, w in r.items(top, "authority")),
        kode_etik=_ppk_rule(r, r.mapping(top.get("kode_etik"), "kode_etik"), "kode_etik"),
        pppk=_ppk_rule(r, r.mapping(top.get("pppk"), "pppk"), "pppk", EmployeeType.PPPK),
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


def _body(r: Reader, m: Mapping[str, Any], where: str) -> BodyPeriod:
    until = r.day(m, "until", where) if m.get("until") is not None else None
    return BodyPeriod(
        _basis(r, m, where), r.enum(RecommendingBody, m, "body", where), r.day(m, "from", where), until
    )


def _deadline(r: Reader, m: Mapping[str, Any], where: str) -> DeadlineRule:
    days = m.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        r.problem(where, "days must be a whole number, 1 or more")
        days = 1
    kind = r.text(m, "kind", where)
    if kind and kind not in DEADLINE_KINDS:
        r.problem(where, f"unknown kind {kind!r} (known: {', '.join(sorted(DEADLINE_KINDS))})")
    return DeadlineRule(
        _basis(r, m, where), kind, days, r.enum(DayCount, m, "count", where), r.text(m, "from", where)
    )


def _levels(
    r: Reader, m: Mapping[str, Any], key: str, where: str, *, required: bool = True
) -> tuple[Level, ...]:
    found = r.enums(Level, m, key, where, required=required)
    return tuple(sorted(found, key=lambda level: level.rank))


def _team(r: Reader, m: Mapping[str, Any]) -> TeamRule:
    return TeamRule(
        basis=_basis(r, m, "examination_team"),
        required_for=frozenset(_levels(r, m, "required_for_levels", "examination_team")),
        optional_for=frozenset(_levels(r, m, "optional_for_levels", "examination_team", required=False)),
        members=r.enums(TeamRole, m, "members", "examination_team"),
    )


def _release(r: Reader, m: Mapping[str, Any]) -> ReleaseRule:
    return ReleaseRule(
        _basis(r, m, "temporary_release"), frozenset(_levels(r, m, "for_levels", "temporary_release"))
    )


def _violation(r: Reader, m: Mapping[str, Any], where: str) -> ViolationRule:
    code = r.text(m, "code", where)
    rule = ViolationRule(
        basis=_basis(r, {**m, "id": code}, where),
        code=code,
        category=r.enum(Category, m, "category", where),
        level=r.optional_enum(Level, m, "level", where),
    )
    if rule.category is Category.KODE_ETIK and rule.level is not None:
        r.problem(where, "a kode etik violation has no level (moral sanction, PP 42/2004 Ps 15)")
    return rule


def _hierarchy(r: Reader, m: Mapping[str, Any], where: str) -> HierarchyRow:
    return HierarchyRow(
        position_kind=r.enum(PositionKind, m, "position_kind", where),
        agency_levels=r.enums(AgencyLevel, m, "agency_levels", where),
        one_level_up=r.optional_enum(Official, m, "one_level_up", where),
        two_levels_up=r.optional_enum(Official, m, "two_levels_up", where),
    )


def _authority(r: Reader, m: Mapping[str, Any], where: str) -> AuthorityRule:
    raw_penalties = r.mapping(m.get("penalties", {}), f"{where}.penalties")
    penalties = {
        r.enum(Level, {"level": k}, "level", f"{where}.penalties"): tuple(r.texts(raw_penalties, k, where))
        for k in raw_penalties
    }
    is_ppk = m.get("subject_is_ppk")
    if is_ppk is not None and not isinstance(is_ppk, bool):
        r.problem(where, "subject_is_ppk must be true or false")
    return AuthorityRule(
        basis=_basis(r, m, where),
        official=r.enum(Official, m, "official", where),
        relation=r.optional_enum(Relation, m, "relation", where),
        position_kinds=r.enums(PositionKind, m, "position_kinds", where),
        agency_levels=r.enums(AgencyLevel, m, "agency_levels", where),
        may_impose=_levels(r, m, "may_impose", where),
        penalties=penalties,
        subject_is_ppk=is_ppk if isinstance(is_ppk, bool) else None,
    )


def _ppk_rule(r: Reader, m: Mapping[str, Any], where: str, *types: EmployeeType) -> PpkRule:
    officials = r.mapping(m.get("officials"), f"{where}.officials")
    return PpkRule(
        basis=_basis(r, m, where),
        officials={
            r.enum(AgencyLevel, {"k": k}, "k", where): r.enum(Official, officials, k, where)
            for k in officials
        },
        may_impose=_levels(r, m, "may_impose", where, required=False),
        penalties=tuple(r.texts(m, "penalties", where, required=False)),
        employee_types=frozenset(types),
    )


def _check_whole(r: Reader, rule_set: RuleSet) -> None:
    """Checks across rules: every clock present, bodies without gaps, unique authority ids."""
    for missing in sorted(DEADLINE_KINDS - set(rule_set.deadlines)):
        r.problem("deadlines", f"no rule for the {missing} deadline")
    periods = sorted(rule_set.recommending_bodies, key=lambda p: p.valid_from)
    if not periods:
        r.problem("recommending_bodies", "at least one period is needed")
    for before, after in pairwise(periods):
        if before.valid_until != after.valid_from:
            r.problem(after.basis.id, f"must start where {before.basis.id} ends (no gap, no overlap)")
    for dup in repeated(a.basis.id for a in rule_set.authority):
        r.problem("authority", f"rule id {dup} appears twice")
    for level in AgencyLevel:
        for rule in (rule_set.kode_etik, rule_set.pppk):
            if level not in rule.officials:
                r.problem(rule.basis.id, f"no official for {level.value}")
