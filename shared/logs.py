"""Structured logging: one JSON object per line on stderr, or a plain line for people.

Every record carries ``timestamp``, ``level``, ``logger`` and ``message``, plus whatever the
caller put in ``extra`` (``case_id``, ``event_id``, ``correlation_id``, ``request_id``...),
so a log search can follow one case or one request across the three services.

What must never be logged: bearer tokens (the ``Authorization`` header is never passed to a
logger anywhere in Netra) and reporter identity (docs/architecture.md §5). Log ids, not contents.
"""

from __future__ import annotations

import logging
import sys

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
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    _installed = handler
    # kafka-python is chatty at INFO (every connection attempt); its warnings still show.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, root.level))
