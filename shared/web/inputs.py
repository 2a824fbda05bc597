"""What a request must be before any view reads it: a JSON body Python and PostgreSQL can
hold, a query string and a page number without traps.

Checked once here for every service, so no endpoint can forget: a body nested deeper than
``MAX_DEPTH``, an integer over Python's 4,300-digit limit or a non-finite number is a 400 on
``body``; text with NUL (PostgreSQL cannot store it) or an unpaired surrogate (not UTF-8) is a
422 naming the field by its dotted path, as every other invalid input is named
(shared.web.validation). flask-smorest parses the body again afterwards; by then it is safe.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, NoReturn

import marshmallow as ma
from flask import g, request
from flask_smorest import Blueprint as _SmorestBlueprint
from webargs.flaskparser import FlaskParser

from shared.auth import abort
from shared.web.validation import BODY

# Netra's deepest body (a report: report → subject → allegations → item) is 4 levels deep.
MAX_DEPTH = 32
# OFFSET = (page - 1) × page_size must stay far inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
TOO_DEEP = f"the body nests deeper than {MAX_DEPTH} levels"


def check_request() -> None:
    """Refuse a query string or JSON body that would break a view, before any view runs."""
    _check_query()
    raw = request.get_data(cache=True) if request.is_json else b""
    if raw:
        g.json_body = _check_body(raw)


def json_body() -> Any:
    """The request's JSON body, parsed and checked once by ``check_request`` (None if empty)."""
    return g.get("json_body")


def _check_query() -> None:
    errors = {
        name: [_unstorable_message(value)]
        for name, value in request.args.items(multi=True)
        if _UNSTORABLE.search(name) or _UNSTORABLE.search(value)
    }
    if errors:
        _refuse(422, errors)


def _check_body(raw: bytes) -> Any:
    try:
        body = json.loads(raw, parse_constant=_non_finite, parse_float=_finite)
    except RecursionError:
        _malformed(TOO_DEEP)
    except ValueError as error:
        # Malformed JSON, bytes that are not UTF-8, an integer over Python's digit limit.
        _malformed(str(error).splitlines()[0][:200])
    errors: dict[str, list[str]] = {}
    for path, value, depth in _walk(body):
        if depth > MAX_DEPTH:
            _malformed(TOO_DEEP)
        if isinstance(value, str) and _UNSTORABLE.search(value):
            errors.setdefault(".".join(path) or BODY, []).append(_unstorable_message(value))
    if errors:
        _refuse(422, errors)
    return body


def _walk(node: Any) -> Iterator[tuple[tuple[str, ...], Any, int]]:
    """Every value and every object key in ``node`` with its path and depth, iteratively (a
    recursive walk is what the depth limit guards against)."""
    stack: list[tuple[tuple[str, ...], Any, int]] = [((), node, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, Mapping):
            for key, child in value.items():
                yield path, key, depth + 1
                stack.append(((*path, key), child, depth + 1))
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), child, depth + 1) for i, child in enumerate(value))


def _unstorable_message(value: str) -> str:
    if "\x00" in value:
        return "text may not contain the NUL character (U+0000)"
    return "text may not contain an unpaired surrogate (not valid UTF-8)"


def _non_finite(literal: str) -> NoReturn:
    raise ValueError(f"{literal} is not a number JSON allows")


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError(f"{literal[:20]} is too large for a number")
    return number


def _malformed(reason: str) -> NoReturn:
    abort(400, message=f"malformed JSON: {reason}", errors={BODY: [reason]})


def _refuse(status: int, errors: dict[str, list[str]]) -> NoReturn:
    abort(status, message="invalid input: " + ", ".join(sorted(errors)), errors=errors)


class _BoundedPageParser(FlaskParser):
    """flask-smorest's pagination parser, with ``page`` bounded by ``MAX_PAGE``."""

    def parse(self, argmap: Any, req: Any = None, **kwargs: Any) -> Any:
        return super().parse(_bounded(argmap), req, **kwargs)


@cache
def _bounded(schema: type[ma.Schema]) -> type[ma.Schema]:
    default = schema._declared_fields["page"].load_default

    class BoundedPagination(schema):  # type: ignore[valid-type,misc]
        page = ma.fields.Integer(load_default=default, validate=ma.validate.Range(min=1, max=MAX_PAGE))

    return BoundedPagination


class Blueprint(_SmorestBlueprint):
    """The blueprint every service uses: flask-smorest's, with pages bounded by ``MAX_PAGE``."""

    PAGINATION_ARGUMENTS_PARSER = _BoundedPageParser()
