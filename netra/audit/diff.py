"""Two copies of a table compared row by row, streamed in key order like a merge join, so
neither copy is held in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

MAX_REPORTED = 50  # per table: past it only the count grows


@dataclass(frozen=True)
class Difference:
    """One row that differs between the live read model and its replay."""

    table: str
    key: dict[str, Any]
    problem: str

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.table} ({key}): {self.problem}"


@dataclass
class TableDiff:
    """What comparing one table found."""

    table: str
    live_rows: int = 0
    replayed_rows: int = 0
    differences: int = 0

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def diff_table(live: sa.Engine, replayed: sa.Engine, table: str, found: list[Difference]) -> TableDiff:
    """Compare ``table`` in both databases, appending what differs to ``found``."""
    key_columns = _key_columns(replayed, table)
    result = TableDiff(table)
    with live.connect() as a, replayed.connect() as b:
        rows_a, rows_b = _rows(a, table, key_columns), _rows(b, table, key_columns)
        row_a, row_b = next(rows_a, None), next(rows_b, None)
        while row_a is not None or row_b is not None:
            if row_b is None or (row_a is not None and row_a[0] < row_b[0]):
                assert row_a is not None
                _note(
                    found, result, Difference(table, row_a[2], "in the live read model but not in the replay")
                )
                result.live_rows += 1
                row_a = next(rows_a, None)
            elif row_a is None or row_b[0] < row_a[0]:
                _note(
                    found,
                    result,
                    Difference(table, row_b[2], "in the replay but missing from the live read model"),
                )
                result.replayed_rows += 1
                row_b = next(rows_b, None)
            else:
                changed = [c for c in row_a[1] if row_a[1][c] != row_b[1].get(c)]
                if changed:
                    detail = "; ".join(
                        f"{c}: live {row_a[1][c]!r}, replayed {row_b[1].get(c)!r}" for c in changed
                    )
                    _note(found, result, Difference(table, row_a[2], f"differs: {detail}"))
                result.live_rows += 1
                result.replayed_rows += 1
                row_a, row_b = next(rows_a, None), next(rows_b, None)
    return result


def _note(found: list[Difference], result: TableDiff, difference: Difference) -> None:
    result.differences += 1
    if result.differences <= MAX_REPORTED:
        found.append(difference)


def _key_columns(engine: sa.Engine, table: str) -> list[str]:
    """The primary key, or a unique constraint, or else every column: what orders the rows."""
    inspector = sa.inspect(engine)
    primary = inspector.get_pk_constraint(table).get("constrained_columns") or []
    if primary:
        return list(primary)
    for unique in inspector.get_unique_constraints(table):
        return list(unique["column_names"])
    for index in inspector.get_indexes(table):
        if index.get("unique"):
            return [str(c) for c in index["column_names"]]
    return [c["name"] for c in inspector.get_columns(table)]


def _rows(
    conn: sa.Connection, table: str, keys: list[str]
) -> Iterator[tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]]:
    """(sort key, row, key for people) in an order Python and PostgreSQL agree on: each key
    column as text, compared bytewise (COLLATE "C" orders UTF-8 by code point, as Python does)."""
    quoted = [f'"{k}"' for k in keys]
    as_text = [f"coalesce({k}::text, '')" for k in quoted]
    selected = ", ".join(f"{k} AS __key{i}" for i, k in enumerate(as_text))
    order = ", ".join(f'{k} COLLATE "C"' for k in as_text)
    query = sa.text(f'SELECT {selected}, t.* FROM "{table}" t ORDER BY {order}')
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
    width = len(keys)
    names = list(result.keys())[width:]
    for raw in result:
        values = tuple(raw)
        row = dict(zip(names, values[width:], strict=True))
        yield tuple(values[:width]), row, {k: row[k] for k in keys}
