"""One shape for every invalid-input answer: ``{"errors": {"dotted.path": [messages]}}``,
as docs/partner-api.md promises for reports and as every other endpoint answers too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow.exceptions import SCHEMA

# The key for a problem with the body as a whole (e.g. not an object).
BODY = "body"


def flatten_errors(messages: Any, root: str = BODY) -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into ``{"dotted.path": [messages]}``.

    List indexes become path segments (``evidence.0.sha256``); marshmallow's ``_schema`` key
    names the object that holds it, and at the top level the body itself, as ``root``.
    """
    flat: dict[str, list[str]] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, path if key == SCHEMA else (*path, str(key)))
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child, path)
        else:
            flat.setdefault(".".join(path) or root, []).append(str(node))

    walk(messages, ())
    return flat


def flatten_located_errors(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """webargs' ``{"json": {...}, "query": {...}, "headers": {...}}`` as one flat mapping: body
    fields by their path, query parameters and headers by their name."""
    flat: dict[str, list[str]] = {}
    for messages in errors.values():
        for path, texts in flatten_errors(messages).items():
            flat.setdefault(path, []).extend(texts)
    return flat
