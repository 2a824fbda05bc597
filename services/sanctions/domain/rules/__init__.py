"""The sanctions rules as versioned data: the penalty catalogue, the deadlines of delivery,
force and appeal, the escalation of a PPK who does not act.

Each ``sanctions-<version>.yaml`` beside this module is one rule set, with the article and
the confidence (V/S/R/unknown) of every rule. The set applied to a case is chosen by the
incident date (PP 53/2010 before 31 Aug 2021, PP 94/2021 after) and recorded on every
decision, so a decision can be re-derived under the rules it was made with. A file is
validated whole on load: a typo stops the service at start, not on the first decision.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from services.sanctions.domain.rules.model import (
    DEADLINE_KINDS,
    EMPLOYEE_TYPES,
    KIND,
    OFFICIALS,
    AppealRoute,
    Basis,
    Category,
    DeadlineRule,
    Escalation,
    Level,
    Penalty,
    RuleBook,
    RuleSet,
    RuleSetError,
)
from services.sanctions.domain.rules.reader import Reader
from shared import rulefiles

__all__ = [
    "DEADLINE_KINDS",
    "EMPLOYEE_TYPES",
    "OFFICIALS",
    "AppealRoute",
    "Basis",
    "Category",
    "DeadlineRule",
    "Escalation",
    "Level",
    "Penalty",
    "RuleBook",
    "RuleSet",
    "RuleSetError",
    "default_rule_book",
    "load_rule_book",
    "load_rule_set",
    "parse_rule_set",
]

RULES_DIR = Path(__file__).parent


@cache
def default_rule_book() -> RuleBook:
    """The rule files shipped beside this module, loaded once per process."""
    return load_rule_book(RULES_DIR)


def load_rule_book(directory: Path = RULES_DIR) -> RuleBook:
    """Load and validate every ``sanctions-<version>.yaml`` in ``directory``."""
    return rulefiles.load_rule_book(directory, KIND, parse_rule_set)


def load_rule_set(path: Path) -> RuleSet:
    """Load one rule file (all of a directory's files load with ``load_rule_book``)."""
    return rulefiles.load_rule_file(path, KIND, parse_rule_set)


def parse_rule_set(data: Any, origin: str = "<rules>") -> RuleSet:
    """Validate already-parsed YAML into a RuleSet, naming every problem at once."""
    r = Reader(origin)
    top = r.mapping(data, "top level")
    switches = {
        name: (r.flag(m, "value", f"switches.{name}"), r.basis(m, f"switches.{name}"))
        for name, m in r.mapping(top.get("switches", {}), "switches").items()
    }
    penalties = [r.penalty(m, where) for m, where in r.items(top, "penalties")]
    penalties += [
        r.penalty(m, where, agency=True) for m, where in r.items(top, "agency_pppk_penalties", required=False)
    ]
    rule_set = RuleSet(
        version=r.text(top, "version", ""),
        effective_from=r.day(top, "effective_from", ""),
        selection=r.basis(r.mapping(top.get("selection"), "selection"), "selection"),
        switches=switches,
        penalties=tuple(penalties),
        repeat_allows_heavier=r.switch(top, "repeat_allows_heavier_level"),
        moral_officials=r.officials(top, "moral_sanction_officials"),
        ppk_officials=r.officials(top, "ppk_officials"),
        appeal_routes={
            name: r.basis(m, f"appeal_routes.{name}")
            for name, m in r.mapping(top.get("appeal_routes"), "appeal_routes").items()
        },
        deadlines=r.deadlines(r.mapping(top.get("deadlines"), "deadlines")),
        escalation=tuple(r.escalation(m, where) for m, where in r.items(top, "escalation")),
    )
    _check_whole(r, rule_set)
    r.raise_if_any()
    return rule_set


def _check_whole(r: Reader, rule_set: RuleSet) -> None:
    """Codes unique per agency; every switch a penalty requires exists; every appeal route a
    penalty names is described."""
    seen: set[tuple[str, str | None]] = set()
    for p in rule_set.penalties:
        if p.appeal_route not in rule_set.appeal_routes:
            r.problem(f"penalty {p.code}", f"appeal_route {p.appeal_route} is not under appeal_routes")
        if (p.code, p.agency) in seen:
            r.problem(f"penalty {p.code}", "appears twice")
        seen.add((p.code, p.agency))
        for name in p.requires:
            if name not in rule_set.switches:
                r.problem(f"penalty {p.code}", f"requires unknown switch {name}")
