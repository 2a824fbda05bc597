"""Rule sets as versioned data files: the loading every service shares.

Each service keeps its law in ``<kind>-<version>.yaml`` files beside its ``rules`` package,
one rule set per file, each rule citing the article it encodes and how sure docs/law.md is of
it (``Confidence``). An administrator corrects the law by adding a file, never by changing
code. Files are untrusted input: ``Reader`` collects every problem in a file, and a file
with any problem stops the service at start-up rather than on the first case that needs it.
The set applied to a case is the one in force on the case's date (``RuleBook.in_force``),
and a recorded decision names its set so a replay finds it again (``RuleBook.version``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import yaml

E = TypeVar("E", bound=enum.Enum)


class RuleSetError(ValueError):
    """A rule file that does not describe a valid rule set; says every problem found."""


class Confidence(enum.StrEnum):
    """How sure docs/law.md is of the law a rule encodes."""

    V = "V"  # verified in the primary text
    S = "S"  # secondary sources only
    R = "R"  # recalled, unverified
    UNKNOWN = "unknown"  # not found; the rule is Netra's practice


class Versioned(Protocol):
    """What every rule set declares in its header."""

    @property
    def version(self) -> str: ...

    @property
    def effective_from(self) -> date: ...


R = TypeVar("R", bound=Versioned)


@dataclass(frozen=True)
class RuleBook(Generic[R]):
    """Every known rule set of one kind, oldest first."""

    kind: str
    rule_sets: tuple[R, ...]

    def in_force_or_none(self, on: date) -> R | None:
        """The rule set with the latest ``effective_from`` not after ``on``; None before the
        earliest (for a caller that records the missing law rather than refusing)."""
        candidates = [r for r in self.rule_sets if r.effective_from <= on]
        return max(candidates, key=lambda r: r.effective_from) if candidates else None

    def in_force(self, on: date) -> R:
        """The rule set with the latest ``effective_from`` not after ``on``."""
        found = self.in_force_or_none(on)
        if found is None:
            first = min(r.effective_from for r in self.rule_sets)
            raise LookupError(
                f"no {self.kind} rule set is in force on {on.isoformat()}; the earliest takes "
                f"effect on {first.isoformat()} (an administrator adds the older law as a rule file)"
            )
        return found

    def version(self, version: str) -> R:
        """The rule set named ``version`` (to replay a recorded decision)."""
        for rule_set in self.rule_sets:
            if rule_set.version == version:
                return rule_set
        raise LookupError(f"no {self.kind} rule set has version {version!r}")

    def named(self, name: str) -> R:
        """The rule set an event recorded as ``rule_set`` in the form ``<kind>-<version>``."""
        prefix = f"{self.kind}-"
        if not name.startswith(prefix):
            raise LookupError(f"{name!r} does not name a {self.kind} rule set")
        return self.version(name.removeprefix(prefix))


def load_rule_book(directory: Path, kind: str, parse: Callable[[Any, str], R]) -> RuleBook[R]:
    """Load and validate every ``<kind>-<version>.yaml`` in ``directory`` with ``parse``
    (already-parsed YAML and the file name in, a rule set out or RuleSetError)."""
    rule_sets = [load_rule_file(path, kind, parse) for path in sorted(directory.glob(f"{kind}-*.yaml"))]
    if not rule_sets:
        raise RuleSetError(f"{directory}: no {kind}-<version>.yaml files")
    problems = [
        f"two rule sets take effect on {day}" for day in repeated(r.effective_from for r in rule_sets)
    ]
    problems += [f"version {v} appears twice" for v in repeated(r.version for r in rule_sets)]
    if problems:
        raise RuleSetError(f"{directory}: " + "; ".join(problems))
    return RuleBook(kind, tuple(sorted(rule_sets, key=lambda r: r.effective_from)))


def load_rule_file(path: Path, kind: str, parse: Callable[[Any, str], R]) -> R:
    """Load one ``<kind>-<version>.yaml``; its header version must match its name."""
    match = re.fullmatch(rf"{re.escape(kind)}-(?P<version>[0-9A-Za-z.\-]+)\.yaml", path.name)
    if match is None:
        raise RuleSetError(f"{path.name}: name must be {kind}-<version>.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{path.name}: not YAML: {exc}") from exc
    rule_set = parse(data, path.name)
    if rule_set.version != match["version"]:
        raise RuleSetError(f"{path.name}: header version {rule_set.version!r} does not match the name")
    return rule_set


def repeated(values: Iterable[Any]) -> list[Any]:
    """The values that appear more than once, each named once, in order of first repeat."""
    seen: set[Any] = set()
    twice: list[Any] = []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


class Reader:
    """Reads untrusted YAML, collecting problems instead of stopping at the first."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        """Note one problem at ``where`` (a dotted path in the file)."""
        self.problems.append(f"{where}: {message}" if where else message)

    def raise_if_any(self) -> None:
        """RuleSetError naming every problem noted, if there were any."""
        if self.problems:
            raise RuleSetError(f"{self.origin}: " + "; ".join(self.problems))

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        """``value`` if it is a mapping, else a problem and an empty one."""
        if isinstance(value, Mapping):
            return value
        self.problem(where or "top level", "must be a mapping")
        return {}

    def items(
        self, m: Mapping[str, Any], key: str, *, required: bool = True
    ) -> list[tuple[Mapping[str, Any], str]]:
        """The mappings listed under ``key``, each with where it is (named by its ``id``)."""
        value = m.get(key)
        if value is None and not required:
            return []
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
        """A non-empty string."""
        value = m.get(key)
        if isinstance(value, str) and value.strip():
            return value
        self.problem(_at(where, key), "must be a non-empty string")
        return ""

    def texts(self, m: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[str]:
        """A non-empty list of non-empty strings (or nothing, when not required and absent)."""
        value = m.get(key)
        if value is None and not required:
            return []
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return list(value)
        self.problem(_at(where, key), "must be a non-empty list of strings")
        return []

    def flag(self, m: Mapping[str, Any], key: str, where: str) -> bool:
        """true or false, nothing else."""
        value = m.get(key)
        if isinstance(value, bool):
            return value
        self.problem(_at(where, key), "must be true or false")
        return False

    def count(self, m: Mapping[str, Any], key: str, where: str) -> int:
        """A whole number, 0 or more."""
        value = m.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.problem(_at(where, key), "must be a whole number, 0 or more")
        return 0

    def optional_count(self, m: Mapping[str, Any], key: str, where: str) -> int | None:
        """A whole number, 0 or more, or None when absent or null."""
        return None if m.get(key) is None else self.count(m, key, where)

    def day(self, m: Mapping[str, Any], key: str, where: str) -> date:
        """A date, written YYYY-MM-DD."""
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
        """A member of ``cls``, by value."""
        value = m.get(key)
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(str(e.value) for e in cls)
            self.problem(_at(where, key), f"{value!r} is not one of {allowed}")
            return next(iter(cls))

    def optional_enum(self, cls: type[E], m: Mapping[str, Any], key: str, where: str) -> E | None:
        """A member of ``cls``, or None when absent or null."""
        return None if m.get(key) is None else self.enum(cls, m, key, where)

    def enums(
        self, cls: type[E], m: Mapping[str, Any], key: str, where: str, *, required: bool = True
    ) -> frozenset[E]:
        """Members of ``cls`` listed under ``key``."""
        return frozenset(
            self.enum(cls, {key: v}, key, where) for v in self.texts(m, key, where, required=required)
        )


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
