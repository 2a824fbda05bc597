"""Who may decide: the officials with power over the subject (PP 94/2021 Ps 17–25) and, for a
finding's level, the deciding one (*Pejabat yang Berwenang Menghukum*, PyBM).

Pure lookups over rule data (docs/law.md §4): the subject's position kind and agency level pick
the rows; the hierarchy data says which posts sit one and two levels above. The deciding
official is the nearest one whose powers include the level (Ps 24(1): the nearest competent
official must act; a superior above the competent one only acts when it does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.adjudication.domain.rules import AuthorityRule, HierarchyRow, RuleSet
from services.adjudication.domain.vocabulary import (
    AgencyLevel,
    Category,
    EmployeeType,
    Level,
    Official,
    PositionKind,
    Relation,
)


@dataclass(frozen=True)
class Profile:
    """The facts of the subject that decide who may punish them."""

    employee_type: EmployeeType
    position_kind: PositionKind | None
    agency_level: AgencyLevel | None
    is_ppk: bool = False

    @classmethod
    def of(cls, subject: Mapping[str, Any]) -> Profile:
        """From the subject as the case records it."""
        kind, level = subject.get("position_kind"), subject.get("agency_level")
        return cls(
            employee_type=EmployeeType(subject.get("employee_type") or EmployeeType.PNS.value),
            position_kind=PositionKind(kind) if kind else None,
            agency_level=AgencyLevel(level) if level else None,
            is_ppk=bool(subject.get("is_ppk")),
        )

    def missing(self) -> list[str]:
        """Which facts are still unknown and needed (PPPK need only the agency level)."""
        needed = (
            ["agency_level"] if self.employee_type is EmployeeType.PPPK else ["position_kind", "agency_level"]
        )
        return [name for name in needed if getattr(self, name) is None]


@dataclass(frozen=True)
class Authority:
    """One official with power over the subject, as docs/events.md records it."""

    official: Official
    relation: Relation | None
    may_impose: tuple[Level, ...]
    basis: str
    rule: str
    penalties: Mapping[Level, tuple[str, ...]] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The contract's shape (plus ``penalties`` narrowing a level, and the rule id)."""
        return {
            "official": self.official.value,
            "relation": self.relation.value if self.relation else None,
            "may_impose": [level.value for level in self.may_impose],
            "penalties": {level.value: list(codes) for level, codes in self.penalties.items()},
            "basis": self.basis,
            "rule": self.rule,
        }


def authorities(profile: Profile, rules: RuleSet) -> list[Authority]:
    """Every official with power over this employee, nearest first."""
    if profile.missing():
        raise ValueError(f"the subject's {', '.join(profile.missing())} is unknown")
    assert profile.agency_level is not None
    if profile.employee_type is EmployeeType.PPPK:
        rule = rules.pppk
        return [
            Authority(
                rule.officials[profile.agency_level], None, rule.may_impose, rule.basis.article, rule.basis.id
            )
        ]
    above = _above(profile, rules.hierarchy)
    return [_authority(row) for row in rules.authority if _applies(row, profile, above)]


def deciding_official(
    profile: Profile, category: Category, level: Level | None, rules: RuleSet
) -> Authority | None:
    """The PyBM for a finding of ``category`` and ``level``; None when no row gives the power
    (then Ps 25 sends it to a higher official, which the data cannot name)."""
    if category is Category.KODE_ETIK:
        assert profile.agency_level is not None
        rule = rules.kode_etik
        official = rule.officials[profile.agency_level]
        return Authority(official, None, (), rule.basis.article, rule.basis.id, {})
    for candidate in authorities(profile, rules):
        if level in candidate.may_impose:
            return candidate
    return None


def _above(profile: Profile, hierarchy: tuple[HierarchyRow, ...]) -> dict[Relation, Official]:
    for row in hierarchy:
        if row.position_kind is profile.position_kind and profile.agency_level in row.agency_levels:
            found = {Relation.ONE_LEVEL_UP: row.one_level_up, Relation.TWO_LEVELS_UP: row.two_levels_up}
            return {rel: official for rel, official in found.items() if official is not None}
    return {}


def _applies(row: AuthorityRule, profile: Profile, above: Mapping[Relation, Official]) -> bool:
    if profile.position_kind not in row.position_kinds or profile.agency_level not in row.agency_levels:
        return False
    if row.subject_is_ppk is not None and row.subject_is_ppk != profile.is_ppk:
        return False
    return row.relation is None or above.get(row.relation) is row.official


def _authority(row: AuthorityRule) -> Authority:
    return Authority(
        row.official, row.relation, row.may_impose, row.basis.article, row.basis.id, row.penalties
    )
