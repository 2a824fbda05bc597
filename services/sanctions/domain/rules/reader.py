"""A strict reader of untrusted rule YAML that collects every problem instead of stopping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.sanctions.domain.rules.model import (
    DEADLINE_KINDS,
    EMPLOYEE_TYPES,
    OFFICIALS,
    AppealRoute,
    Basis,
    Category,
    DeadlineRule,
    Escalation,
    Level,
    Penalty,
)
from shared import rulefiles
from shared.workdays import DayCount


class Reader(rulefiles.Reader):
    """The shared reader plus the shapes of the sanctions rules."""

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
            category=self.enum(Category, {"c": m.get("category", "DISIPLIN")}, "c", f"{where}.category"),
            level=None if level is None else self.enum(Level, m, "level", where),
            employee_types=frozenset(types),
            severity=self.count(m, "severity", where),
            duration_months=self.optional_count(m, "duration_months", where),
            dismissal=bool(m.get("dismissal", False)),
            appeal_route=self.enum(AppealRoute, m, "appeal_route", where),
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
                self.count(entry, "days", f"deadlines.{kind}"),
                self.enum(DayCount, entry, "count", f"deadlines.{kind}"),
                self.basis(entry, f"deadlines.{kind}"),
            )
        return found

    def escalation(self, m: Mapping[str, Any], where: str) -> Escalation:
        return Escalation(self.text(m, "id", where), self.text(m, "action", where), self.basis(m, where))
