"""The HTTP edge of a command: the client's ``If-Match`` and the answers to refusals.

Every command on a case names, in ``If-Match``, the case version the client decided on
(docs/architecture.md §2, the lost-update problem); reads send it as the ``ETag``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request

from shared.auth import abort
from shared.refusals import IllegalTransition, RuleViolation, RuleViolations, StaleVersion

_ETAG = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


def if_match() -> int:
    """The case version named by ``If-Match``: 428 when absent, 400 when not a version."""
    raw = request.headers.get("If-Match")
    if raw is None:
        abort(428, message='this command needs If-Match: "<case version>" (the ETag of GET on the case)')
    match = _ETAG.fullmatch(raw)
    if match is None:
        reason = f'If-Match must be a case version such as "3", not {raw[:100]!r}'
        abort(400, message=reason, errors={"If-Match": [reason]})
    return int(match.group(1))


def etag(version: int) -> dict[str, str]:
    """The ETag header naming a case version, for reads and command answers."""
    return {"ETag": f'"{version}"'}


def illegal_transition(error: IllegalTransition) -> Any:
    """409: the state the case is in and what may be done in it."""
    body = {
        "code": 409,
        "status": "Conflict",
        "message": str(error),
        "state": error.state,
        "allowed_actions": list(error.allowed),
    }
    if error.rule:
        body["rules"] = [{"field": "action", "rule": error.rule, "message": error.reason}]
    return body, 409


def stale_version(error: StaleVersion) -> Any:
    """412: the client's view of the case is out of date."""
    body = {
        "code": 412,
        "status": "Precondition Failed",
        "message": str(error),
        "current_version": error.current,
    }
    return body, 412, etag(error.current)


def rule_violation(error: RuleViolation | RuleViolations) -> Any:
    """422 in the validation shape ``{"errors": {field: [message]}}``, plus the rules that refused."""
    violations = error.violations if isinstance(error, RuleViolations) else (error,)
    errors: dict[str, list[str]] = {}
    for v in violations:
        errors.setdefault(v.field, []).append(v.message)
    body = {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "; ".join(str(v) for v in violations),
        "errors": errors,
        "rules": [{"field": v.field, "rule": v.rule, "message": v.message} for v in violations],
    }
    return body, 422
