"""A strict reader of untrusted YAML that collects every problem instead of stopping.

The same reader as intake's (services do not import each other's modules), plus ``optional_enum``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)


class RuleSetError(ValueError):
    """A rule file that does not describe a valid rule set; says every problem found."""


class Reader:
    """Reads untrusted YAML, collecting problems instead of stopping at the first."""

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
        self.problem(where or "top level", "must be a mapping")
        return {}

    def items(self, m: Mapping[str, Any], key: str) -> list[tuple[Mapping[str, Any], str]]:
        value = m.get(key, [])
        if not isinstance(value, list):
            self.problem(key, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                where = f"{key}[{item['id']}]"
            out.append((self.mapping(item, where), where))
        return out

    def text(self, m: Mapping[str, Any], key: str, where: str) -> str:
        value = m.get(key)
        if isinstance(value, str) and value.strip():
            return value
        self.problem(_at(where, key), "must be a non-empty string")
        return ""

    def texts(self, m: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[str]:
        value = m.get(key)
        if value is None and not required:
            return []
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return list(value)
        self.problem(_at(where, key), "must be a non-empty list of strings")
        return []

    def day(self, m: Mapping[str, Any], key: str, where: str) -> date:
        value = m.get(key)
        # YAML reads an unquoted 2024-08-24 as a date already; a quoted one is a string.
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.problem(_at(where, key), "must be a date (YYYY-MM-DD)")
        return date.min

    def enum(self, cls: type[E], m: Mapping[str, Any], key: str, where: str) -> E:
        value = m.get(key)
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(str(e.value) for e in cls)
            self.problem(_at(where, key), f"{value!r} is not one of {allowed}")
            return next(iter(cls))

    def enums(
        self, cls: type[E], m: Mapping[str, Any], key: str, where: str, *, required: bool = True
    ) -> frozenset[E]:
        return frozenset(
            self.enum(cls, {key: v}, key, where) for v in self.texts(m, key, where, required=required)
        )


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def optional_enum(reader: Reader, cls: type[E], m: Mapping[str, Any], key: str, where: str) -> E | None:
    """``m[key]`` as a member of ``cls``, or None when absent or null."""
    if m.get(key) is None:
        return None
    return reader.enum(cls, m, key, where)
