"""Structured logging: one JSON object per line on stderr, or a plain line for people.

Every record carries ``timestamp``, ``level``, ``logger`` and ``message``, plus whatever the
caller put in ``extra`` (``case_id``, ``event_id``, ``correlation_id``, ``request_id``...),
so a log search can follow one case or one request across the three services.

What must never be logged: bearer tokens (the ``Authorization`` header is never passed to a
logger anywhere in Netra) and reporter identity (docs/architecture.md §5). Log ids, not contents.
A database error is the one place contents slip in unasked: PostgreSQL quotes the offending
value in its message (``invalid input syntax for type integer: "<the value>"``, ``Key
(nip)=(...) already exists``). ``WithholdDatabaseDetail`` rewrites every such error, in a
message's arguments or a traceback, as ``withheld(error)``: its class, SQLSTATE and statement.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import sqlalchemy as sa
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from shared.config import Settings

# The handler this module installed, so a second call (every create_app does one, and tests
# build many apps) replaces it instead of printing each line twice.
_installed: logging.Handler | None = None


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...``: the JSON fields, readable in a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in RESERVED_ATTRS and k != "message"}
        if not extras:
            return line
        # Keep the traceback (if any) on the lines below the key-values.
        head, sep, tail = line.partition("\n")
        pairs = " ".join(f"{k}={v}" for k, v in extras.items())
        return f"{head} {pairs}{sep}{tail}"


def withheld(error: BaseException) -> str:
    """The message of ``error`` as it may be logged or stored: a database error's by its
    driver class, SQLSTATE and statement (never the server's words, which may quote values)."""
    if not isinstance(error, sa.exc.DBAPIError):
        return str(error)
    orig = error.orig
    state = getattr(orig, "sqlstate", None)
    if state is None:  # no server answer (connection refused, closed): libpq's words, no values
        return str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    statement = " ".join(str(error.statement or "").split())[:200]
    return (
        f"{type(orig).__name__} (SQLSTATE {state}) in [{statement}]; "
        "the database's message is withheld: it may quote the values"
    )


class WithholdDatabaseDetail(logging.Filter):
    """Rewrites database errors in a record's arguments and traceback as ``withheld(error)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(a) for a in record.args)
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and _database_error_in(error):
            frames = "".join(traceback.format_tb(error.__traceback__))
            last = f"{type(error).__name__}: {withheld(error)}"
            record.exc_info, record.exc_text = None, f"Traceback (most recent call last):\n{frames}{last}"
        return True


def _safe_arg(arg: Any) -> Any:
    if isinstance(arg, sa.exc.DBAPIError):
        return f"{type(arg).__name__}: {withheld(arg)}"
    if isinstance(arg, BaseException) and _database_error_in(arg):
        state = getattr(arg, "sqlstate", None)
        return f"{type(arg).__name__} (SQLSTATE {state})" if state else type(arg).__name__
    return arg


def _database_error_in(error: BaseException) -> bool:
    """Whether ``error`` is, or was caused by, a database error (whose text may quote values)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, sa.exc.DBAPIError) or type(seen).__module__.startswith("psycopg"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def json_formatter() -> logging.Formatter:
    """The JSON-lines formatter: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``."""
    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )


def configure_logging(settings: Settings) -> None:
    """Send every logger's records to stderr at ``settings.log_level`` in ``settings.log_format``.

    ``log_format`` is ``json`` (default; for machines) or ``text`` (for people).
    Safe to call more than once: the handler installed last time is replaced.
    """
    global _installed
    fmt = settings.log_format.lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be 'json' or 'text', not {settings.log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(WithholdDatabaseDetail())
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    _installed = handler
    # kafka-python is chatty at INFO (every connection attempt); its warnings still show.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))
