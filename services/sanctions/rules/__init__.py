"""The sanctions rules as versioned data: the penalty catalogue, the deadlines of delivery,
force and appeal, the escalation of a PPK who does not act.

Each ``sanctions-<version>.yaml`` beside this module is one rule set, with the article and
the confidence (V/S/R/unknown) of every rule. The set applied to a case is chosen by the
incident date (PP 53/2010 before 31 Aug 2021, PP 94/2021 after) and recorded on every
decision, so a decision can be re-derived under the rules it was made with. A file is
validated whole on load: a typo stops the service at start, not on the first decision.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from shared.workdays import DayCount

RULES_DIR = Path(__file__).parent
FILE_PATTERN = re.compile(r"^sanctions-(?P<version>[0-9A-Za-z.\-]+)\.yaml$")
EMPLOYEE_TYPES = frozenset({"PNS", "CPNS", "PPPK"})
OFFICIALS = frozenset(
    {
        "PRESIDEN",
        "PPK_PUSAT",
        "PPK_PROVINSI",
        "PPK_KABUPATEN_KOTA",
        "JPT_MADYA",
        "JPT_PRATAMA",
        "ADMINISTRATOR",
        "PENGAWAS",
    }
)
# Every deadline a rule set must define (domain.md §5 rows 6-16).
DEADLINE_KINDS = (
    "ppk_follow_up",
    "delivery",
    "takes_effect",
    "keberatan_filing",
    "keberatan_decision",
    "official_answer",
    "banding_filing",
    "ppk_answer",
    "bpasn_decision",
)


class RuleSetError(ValueError):
    """A rule file that does not describe a valid rule set; says every problem found."""


class Level(enum.StrEnum):
    """The level of a disciplinary finding, lightest first (PP 94/2021 Ps 8)."""

    RINGAN = "RINGAN"
    SEDANG = "SEDANG"
    BERAT = "BERAT"
    PTDH = "PTDH"

    @property
    def rank(self) -> int:
        """Its place in the order of severity."""
        return list(Level).index(self)


class Category(enum.StrEnum):
    """Discipline (PP 94/2021, PP 49/2018) or the code of ethics (PP 42/2004, moral)."""

    DISIPLIN = "DISIPLIN"
    KODE_ETIK = "KODE_ETIK"


class AppealRoute(enum.StrEnum):
    """How the employee may contest the penalty (PP 79/2021)."""

    KEBERATAN = "KEBERATAN"
    BANDING = "BANDING"
    NONE = "NONE"


@dataclass(frozen=True)
class Basis:
    """Where a rule comes from and how sure domain.md is of it."""

    article: str
    confidence: str
    note: str | None = None

    def cite(self) -> str:
        """The article with its confidence, as refusals quote it."""
        return f"{self.article} [{self.confidence}]"


@dataclass(frozen=True)
class Penalty:
    """One penalty type of the catalogue."""

    code: str
    name: str
    english: str
    category: Category
    level: Level | None
    employee_types: frozenset[str]
    severity: int
    duration_months: int | None
    dismissal: bool
    appeal_route: AppealRoute
    basis: Basis
    requires: Mapping[str, bool]
    moral_form: str | None = None
    agency: str | None = None

    @property
    def timed(self) -> bool:
        """Whether it runs for a period whose end must be recorded as completed."""
        return self.duration_months is not None


@dataclass(frozen=True)
class DeadlineRule:
    """A legal deadline: ``days`` counted as ``count``."""

    kind: str
    days: int
    count: DayCount
    basis: Basis


@dataclass(frozen=True)
class Escalation:
    """One step requested when a PPK does not act on a referral."""

    id: str
    action: str
    basis: Basis


@dataclass(frozen=True)
class RuleSet:
    """One version of the sanctions rules."""

    version: str
    effective_from: date
    selection: Basis
    switches: Mapping[str, tuple[bool, Basis]]
    penalties: tuple[Penalty, ...]
    repeat_allows_heavier: tuple[bool, Basis]
    moral_officials: tuple[frozenset[str], Basis]
    ppk_officials: tuple[frozenset[str], Basis]
    deadlines: Mapping[str, DeadlineRule]
    escalation: tuple[Escalation, ...]

    def available(self, penalty: Penalty) -> bool:
        """Whether the switches this penalty depends on are set as it requires (PP 94 Ps 42)."""
        return all(self.switches[name][0] == wanted for name, wanted in penalty.requires.items())

    def penalty(self, code: str, agency: str | None = None) -> Penalty | None:
        """The catalogue entry ``code`` (an agency's own PPPK penalty only for that agency)."""
        for p in self.penalties:
            if p.code == code and (p.agency is None or p.agency == agency):
                return p
        return None

    def deadline(self, kind: str) -> DeadlineRule:
        """The rule of deadline ``kind`` (every kind is required on load)."""
        return self.deadlines[kind]


@dataclass(frozen=True)
class RuleBook:
    """Every known rule set: the one in force on a date, or a version to replay."""

    rule_sets: tuple[RuleSet, ...]

    def in_force(self, on: date) -> RuleSet | None:
        """The rule set with the latest ``effective_from`` not after ``on``."""
        candidates = [r for r in self.rule_sets if r.effective_from <= on]
        return max(candidates, key=lambda r: r.effective_from) if candidates else None

    def version(self, version: str) -> RuleSet:
        """The rule set named ``version`` (to re-derive a recorded decision)."""
        for rule_set in self.rule_sets:
            if rule_set.version == version:
                return rule_set
        raise LookupError(f"no sanctions rule set has version {version!r}")


@cache
def default_rule_book() -> RuleBook:
    """The rule files shipped beside this module, loaded once per process."""
    return load_rule_book(RULES_DIR)


def load_rule_book(directory: Path = RULES_DIR) -> RuleBook:
    """Load and validate every ``sanctions-<version>.yaml`` in ``directory``."""
    rule_sets = [load_rule_set(p) for p in sorted(directory.glob("sanctions-*.yaml"))]
    if not rule_sets:
        raise RuleSetError(f"{directory}: no sanctions-<version>.yaml files")
    days = [r.effective_from for r in rule_sets]
    versions = [r.version for r in rule_sets]
    if len(set(days)) != len(days) or len(set(versions)) != len(versions):
        raise RuleSetError(f"{directory}: two rule sets share a version or an effective_from date")
    return RuleBook(tuple(sorted(rule_sets, key=lambda r: r.effective_from)))


def load_rule_set(path: Path) -> RuleSet:
    """Load one rule file; its header version must match the version in its name."""
    match = FILE_PATTERN.match(path.name)
    if match is None:
        raise RuleSetError(f"{path.name}: name must be sanctions-<version>.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{path.name}: not YAML: {exc}") from exc
    rule_set = parse_rule_set(data, origin=path.name)
    if rule_set.version != match["version"]:
        raise RuleSetError(f"{path.name}: header version {rule_set.version!r} does not match the name")
    return rule_set


def parse_rule_set(data: Any, origin: str = "<rules>") -> RuleSet:
    """Validate already-parsed YAML into a RuleSet, naming every problem at once."""
    r = _Reader(origin)
    top = r.mapping(data, "top level")
    switches = {
        name: (r.flag(m, "value", f"switches.{name}"), r.basis(m, f"switches.{name}"))
        for name, m in r.mapping(top.get("switches", {}), "switches").items()
    }
    penalties = [r.penalty(m, f"penalties[{i}]") for i, m in enumerate(r.seq(top, "penalties"))]
    penalties += [
        r.penalty(m, f"agency_pppk_penalties[{i}]", agency=True)
        for i, m in enumerate(r.seq(top, "agency_pppk_penalties", required=False))
    ]
    rule_set = RuleSet(
        version=r.text(top, "version", ""),
        effective_from=r.day(top, "effective_from"),
        selection=r.basis(r.mapping(top.get("selection"), "selection"), "selection"),
        switches=switches,
        penalties=tuple(penalties),
        repeat_allows_heavier=r.switch(top, "repeat_allows_heavier_level"),
        moral_officials=r.officials(top, "moral_sanction_officials"),
        ppk_officials=r.officials(top, "ppk_officials"),
        deadlines=r.deadlines(r.mapping(top.get("deadlines"), "deadlines")),
        escalation=tuple(r.escalation(m, f"escalation[{i}]") for i, m in enumerate(r.seq(top, "escalation"))),
    )
    _check_whole(r, rule_set)
    r.raise_if_any()
    return rule_set


def _check_whole(r: _Reader, rule_set: RuleSet) -> None:
    """Codes unique per agency; every switch a penalty requires exists."""
    seen: set[tuple[str, str | None]] = set()
    for p in rule_set.penalties:
        if (p.code, p.agency) in seen:
            r.problem(f"penalty {p.code}", "appears twice")
        seen.add((p.code, p.agency))
        for name in p.requires:
            if name not in rule_set.switches:
                r.problem(f"penalty {p.code}", f"requires unknown switch {name}")


class _Reader:
    """Reads untrusted YAML, collecting every problem instead of stopping at the first."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise RuleSetError(f"{self.origin}: " + "; ".join(self.problems))

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.problem(where, "must be a mapping")
        return {}

    def seq(self, m: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
        value = m.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list")
            return []
        return [self.mapping(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def text(self, m: Mapping[str, Any], key: str, where: str) -> str:
        value = m.get(key)
        if isinstance(value, str) and value.strip():
            return value
        self.problem(f"{where}.{key}" if where else key, "must be a non-empty string")
        return ""

    def flag(self, m: Mapping[str, Any], key: str, where: str) -> bool:
        value = m.get(key)
        if isinstance(value, bool):
            return value
        self.problem(f"{where}.{key}", "must be true or false")
        return False

    def day(self, m: Mapping[str, Any], key: str) -> date:
        value = m.get(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problem(key, "must be a date (YYYY-MM-DD)")
            return date.min

    def count(self, m: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> int | None:
        value = m.get(key)
        if value is None and optional:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.problem(f"{where}.{key}", "must be a whole number, 0 or more")
        return 0

    def choice(self, cls: type[enum.StrEnum], m: Mapping[str, Any], key: str, where: str) -> Any:
        value = m.get(key)
        try:
            return cls(str(value))
        except ValueError:
            self.problem(f"{where}.{key}", f"must be one of {', '.join(cls)}, not {value!r}")
            return next(iter(cls))

    def basis(self, m: Mapping[str, Any], where: str) -> Basis:
        note = m.get("note")
        confidence = self.text(m, "confidence", where)
        if confidence and confidence not in ("V", "S", "R", "unknown"):
            self.problem(f"{where}.confidence", "must be V, S, R or unknown")
        return Basis(self.text(m, "article", where), confidence, str(note) if note is not None else None)

    def switch(self, top: Mapping[str, Any], key: str) -> tuple[bool, Basis]:
        m = self.mapping(top.get(key), key)
        return self.flag(m, "value", key), self.basis(m, key)

    def officials(self, top: Mapping[str, Any], key: str) -> tuple[frozenset[str], Basis]:
        m = self.mapping(top.get(key), key)
        names = m.get("officials")
        if not isinstance(names, list) or not set(names) <= OFFICIALS:
            self.problem(f"{key}.officials", f"must be a list among {', '.join(sorted(OFFICIALS))}")
            names = []
        return frozenset(names), self.basis(m, key)

    def penalty(self, m: Mapping[str, Any], where: str, *, agency: bool = False) -> Penalty:
        types = m.get("employee_types", ["PPPK"] if agency else None)
        if not isinstance(types, list) or not types or not set(types) <= EMPLOYEE_TYPES:
            self.problem(
                f"{where}.employee_types", f"must be a list among {', '.join(sorted(EMPLOYEE_TYPES))}"
            )
            types = []
        requires = self.mapping(m.get("requires", {}), f"{where}.requires")
        level = m.get("level")
        return Penalty(
            code=self.text(m, "code", where),
            name=self.text(m, "name", where),
            english=self.text(m, "english", where),
            category=self.choice(Category, {"c": m.get("category", "DISIPLIN")}, "c", f"{where}.category"),
            level=None if level is None else self.choice(Level, m, "level", where),
            employee_types=frozenset(types),
            severity=self.count(m, "severity", where) or 0,
            duration_months=self.count(m, "duration_months", where, optional=True),
            dismissal=bool(m.get("dismissal", False)),
            appeal_route=self.choice(AppealRoute, m, "appeal_route", where),
            basis=self.basis(m, where),
            requires={str(k): bool(v) for k, v in requires.items()},
            moral_form=m.get("moral_form"),
            agency=self.text(m, "agency", where) if agency else None,
        )

    def deadlines(self, m: Mapping[str, Any]) -> dict[str, DeadlineRule]:
        found = {}
        for kind in DEADLINE_KINDS:
            entry = self.mapping(m.get(kind), f"deadlines.{kind}")
            found[kind] = DeadlineRule(
                kind,
                self.count(entry, "days", f"deadlines.{kind}") or 0,
                self.choice(DayCount, entry, "count", f"deadlines.{kind}"),
                self.basis(entry, f"deadlines.{kind}"),
            )
        return found

    def escalation(self, m: Mapping[str, Any], where: str) -> Escalation:
        return Escalation(self.text(m, "id", where), self.text(m, "action", where), self.basis(m, where))
