"""The shape of a sanctions rule set: penalties, deadlines, escalation steps, switches."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# Level and Category are the service's copy of the wire vocabulary; imported here so that
# ``from services.sanctions.domain.rules import Level`` (and ``.model``) keeps working.
from services.sanctions.domain.vocabulary import Category as Category
from services.sanctions.domain.vocabulary import Level as Level
from shared import rulefiles
from shared.rulefiles import RuleSetError as RuleSetError
from shared.workdays import DayCount

KIND = "sanctions"

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
# Every deadline a rule set must define (docs/law.md §5 rows 6-16).
DEADLINE_KINDS = (
    "ppk_follow_up",
    "delivery",
    "takes_effect",
    "keberatan_filing",
    "keberatan_filing_superior",
    "keberatan_decision",
    "official_answer",
    "banding_filing",
    "ppk_answer",
    "bpasn_decision",
)


class AppealRoute(enum.StrEnum):
    """How the employee may contest the penalty (PP 79/2021)."""

    KEBERATAN = "KEBERATAN"
    BANDING = "BANDING"
    NONE = "NONE"


@dataclass(frozen=True)
class Basis:
    """Where a rule comes from and how sure docs/law.md is of it."""

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
    # How each appeal route is contested (KEBERATAN, BANDING, NONE), with its article.
    appeal_routes: Mapping[str, Basis]
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

    @property
    def name(self) -> str:
        """What events record as ``rule_set``: the file's name without ``.yaml``."""
        return f"{KIND}-{self.version}"

    def deadline(self, kind: str) -> DeadlineRule:
        """The rule of deadline ``kind`` (every kind is required on load)."""
        return self.deadlines[kind]


RuleBook = rulefiles.RuleBook[RuleSet]
