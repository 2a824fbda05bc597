"""Two copies of a table compared row by row, streamed in key order like a merge join, so
neither copy is held in memory."""

from __future__ import annotations

import json
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
    side_a, side_b = _Side(live, table, key_columns), _Side(replayed, table, key_columns)
    # Each live column's place in the replayed row (None: the replay lacks it).
    where_b = [side_b.names.index(c) if c in side_b.names else None for c in side_a.names]
    same_shape = side_a.names == side_b.names
    try:
        rows_a, rows_b = side_a.rows(), side_b.rows()
        row_a, row_b = next(rows_a, None), next(rows_b, None)
        while row_a is not None or row_b is not None:
            if row_b is None or (row_a is not None and row_a[0] < row_b[0]):
                assert row_a is not None
                _note(
                    found,
                    result,
                    Difference(table, side_a.key(row_a[1]), "in the live read model but not in the replay"),
                )
                result.live_rows += 1
                row_a = next(rows_a, None)
            elif row_a is None or row_b[0] < row_a[0]:
                _note(
                    found,
                    result,
                    Difference(
                        table, side_b.key(row_b[1]), "in the replay but missing from the live read model"
                    ),
                )
                result.replayed_rows += 1
                row_b = next(rows_b, None)
            else:
                # Equal tuples (JSON compared as its text) are equal rows; otherwise compare
                # column by column, JSON as values, as the rows would be read.
                if not (same_shape and row_a[1] == row_b[1]):
                    changed = []
                    for i, name in enumerate(side_a.names):
                        j = where_b[i]
                        value_a = side_a.value(i, row_a[1])
                        value_b = None if j is None else side_b.value(j, row_b[1])
                        if value_a != value_b:
                            changed.append(f"{name}: live {value_a!r}, replayed {value_b!r}")
                    if changed:
                        detail = "; ".join(changed)
                        _note(found, result, Difference(table, side_a.key(row_a[1]), f"differs: {detail}"))
                result.live_rows += 1
                result.replayed_rows += 1
                row_a, row_b = next(rows_a, None), next(rows_b, None)
    finally:
        side_a.close()
        side_b.close()
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


class _Side:
    """One copy of the table, read with a server-side cursor in an order Python and
    PostgreSQL agree on: each key column as text, compared bytewise (COLLATE "C" orders UTF-8
    by code point, as Python does). JSON columns are read as their text and parsed only where
    two rows' texts differ: equal texts are equal values."""

    def __init__(self, engine: sa.Engine, table: str, keys: list[str]) -> None:
        columns = sa.inspect(engine).get_columns(table)
        self.names = [str(c["name"]) for c in columns]
        self._json = {i for i, c in enumerate(columns) if isinstance(c["type"], sa.JSON)}
        self._keys = [self.names.index(k) for k in keys]
        as_text = [f"coalesce(\"{k}\"::text, '')" for k in keys]
        selected = [f'"{n}"::text' if i in self._json else f'"{n}"' for i, n in enumerate(self.names)]
        order = ", ".join(f'{k} COLLATE "C"' for k in as_text)
        self._query = f'SELECT {", ".join(as_text + selected)} FROM "{table}" ORDER BY {order}'
        self._width = len(keys)
        self._raw = engine.raw_connection()

    def rows(self) -> Iterator[tuple[tuple[str, ...], tuple[Any, ...]]]:
        """(sort key, row) in key order."""
        width = self._width
        with self._raw.driver_connection.cursor(name="netra_diff") as cursor:  # type: ignore[union-attr]
            cursor.itersize = 5000
            cursor.execute(self._query)
            for values in cursor:
                yield values[:width], values[width:]

    def value(self, i: int, row: tuple[Any, ...]) -> Any:
        """Column ``i`` as it would be read (JSON parsed)."""
        value = row[i]
        return json.loads(value) if i in self._json and value is not None else value

    def key(self, row: tuple[Any, ...]) -> dict[str, Any]:
        """The row's key, for people."""
        return {self.names[i]: self.value(i, row) for i in self._keys}

    def close(self) -> None:
        self._raw.rollback()
        self._raw.close()
