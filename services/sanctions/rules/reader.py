"""A strict reader of untrusted rule YAML that collects every problem instead of stopping."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.sanctions.rules.model import (
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
    RuleSetError,
)
from shared.workdays import DayCount


class Reader:
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
