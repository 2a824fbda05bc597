"""Every service's copy of the shared wire vocabulary says what docs/events.md says.

The services share infrastructure, not payload classes: each keeps its own enums in
``services/<service>/domain/vocabulary.py``. This test reads the tables of docs/events.md
("## Shared vocabulary", one ``### `Enum` `` table each) and holds every copy to them: the same
members (names and values), the same rank of ``Level``, and no copy the document does not list.
"""

from __future__ import annotations

import enum
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
SECTION = "## Shared vocabulary"
SERVICES = ("intake", "adjudication", "sanctions")
# The enums the document must table (more may be added; each is then tested too).
REQUIRED = ("Level", "Category", "EmployeeType", "AgencyLevel", "PositionKind")


@dataclass(frozen=True)
class Row:
    """One documented member: its name, value, rank (``Level`` only) and the services holding it."""

    name: str
    value: str
    rank: int | None
    holders: frozenset[str]


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def parse(text: str) -> dict[str, list[Row]]:
    """The tables under ``SECTION``, by enum name (the ``### `Name` `` heading above each)."""
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        return {}
    section = text[start + len(SECTION) + 2 :]
    end = re.search(r"^## ", section, flags=re.MULTILINE)
    section = section[: end.start()] if end else section
    tables: dict[str, list[Row]] = {}
    current: str | None = None
    header: list[str] | None = None
    for line in section.splitlines():
        heading = re.fullmatch(r"###\s+`?(\w+)`?\s*", line)
        if heading:
            current, header = heading.group(1), None
            tables[current] = []
            continue
        if current is None or not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        rank = row.get("rank")
        tables[current].append(
            Row(
                name=row.get("name", ""),
                value=row.get("value", ""),
                rank=int(rank) if rank not in (None, "", "—", "-") else None,
                holders=frozenset(h.strip() for h in row.get("held by", "").split(",") if h.strip()),
            )
        )
    return tables


TABLES = parse(DOC.read_text(encoding="utf-8"))


def vocabulary(service: str) -> ModuleType:
    return importlib.import_module(f"services.{service}.domain.vocabulary")


def copy_of(service: str, name: str) -> type[enum.Enum] | None:
    found = getattr(vocabulary(service), name, None)
    return found if isinstance(found, type) and issubclass(found, enum.Enum) else None


def where(service: str, name: str) -> str:
    return f"{service}: services/{service}/domain/vocabulary.py {name}"


def test_the_document_tables_the_shared_vocabulary() -> None:
    assert TABLES, f"{DOC} has no {SECTION!r} section with ### `Enum` tables"
    problems = [f"{name}: no table under {SECTION!r}" for name in REQUIRED if not TABLES.get(name)]
    for name, rows in TABLES.items():
        names = [r.name for r in rows]
        if len(set(names)) != len(names):
            problems.append(f"{name}: a member is listed twice: {names}")
        for r in rows:
            if not r.name or not r.value:
                problems.append(f"{name}: a row without a Name or Value: {r}")
            if not r.holders:
                problems.append(f"{name}.{r.name}: no service in its 'Held by' column")
            if unknown := r.holders - set(SERVICES):
                problems.append(f"{name}.{r.name}: 'Held by' names unknown services {sorted(unknown)}")
    level = TABLES.get("Level", [])
    if any(r.rank is None for r in level):
        problems.append("Level: every row needs its Rank")
    assert not problems, "docs/events.md, Shared vocabulary:\n  " + "\n  ".join(problems)


def test_every_service_has_a_vocabulary_module() -> None:
    for service in SERVICES:
        module = vocabulary(service)
        assert module.__doc__ and "docs/events.md" in module.__doc__, (
            f"{service}: services/{service}/domain/vocabulary.py should say it is held to docs/events.md"
        )


@pytest.mark.parametrize("name", sorted(TABLES))
@pytest.mark.parametrize("service", SERVICES)
def test_each_copy_has_the_documented_members(service: str, name: str) -> None:
    documented = {r.name: r.value for r in TABLES[name] if service in r.holders}
    copy = copy_of(service, name)
    if not documented:
        if copy is not None:
            pytest.fail(
                f"{where(service, name)} exists ({[m.name for m in copy]}), but docs/events.md does "
                f"not list {service} in the 'Held by' column of {name}"
            )
        return
    assert copy is not None, (
        f"{where(service, name)}: missing; docs/events.md says {service} holds a copy of {name} "
        f"with {sorted(documented)}"
    )
    actual = {m.name: m.value for m in copy}
    problems = [f"{n} = {v!r} is not documented" for n, v in actual.items() if n not in documented]
    problems += [f"{n} = {v!r} is documented but missing" for n, v in documented.items() if n not in actual]
    problems += [
        f"{n}: the code has {actual[n]!r}, docs/events.md has {v!r}"
        for n, v in documented.items()
        if n in actual and actual[n] != v
    ]
    assert not problems, f"{where(service, name)} differs from docs/events.md:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_each_copy_of_level_ranks_as_documented(service: str) -> None:
    documented = {r.name: r.rank for r in TABLES.get("Level", []) if service in r.holders}
    copy = copy_of(service, "Level")
    if not documented or copy is None:
        return  # whether the copy exists at all is the members test's to say
    actual = {m.name: getattr(m, "rank", None) for m in copy}
    problems = [
        f"{n}: rank {actual[n]!r} in the code, {rank!r} in docs/events.md"
        for n, rank in documented.items()
        if n in actual and actual[n] != rank
    ]
    order = " < ".join(sorted(actual, key=lambda n: (actual[n] is None, actual[n] or 0)))
    assert not problems, (
        f"{where(service, 'Level')} ranks levels differently from docs/events.md "
        f"(the code: {order}):\n  " + "\n  ".join(problems)
    )
