"""Sample ``POST /v1/reports`` bodies: the contract's example, complete and valid at ``RECEIVED``."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from services.intake.web.examples import CONTRACT_EXAMPLE, EVIDENCE_SHA256

# Re-exported: the tests import the contract example from here with the other bodies.
__all__ = ["CONTRACT_EXAMPLE", "DROP", "EVIDENCE_SHA256", "MINIMAL", "RECEIVED", "WITA", "a_body"]

WITA = timezone(timedelta(hours=8))

# Two days after the contract example's register time: every date in the body is in the past.
RECEIVED = datetime(2024, 10, 12, 9, 0, tzinfo=WITA)


# The least a body may carry: everything else is optional at validation (admissibility then
# decides whether the report is complete).
MINIMAL: dict[str, Any] = {
    "election": {"type": "PILEG", "year": 2024},
    "subject": {"employee_type": "NON_ASN"},
    "known_at": "2024-10-08",
}


def a_body(**changes: Any) -> dict[str, Any]:
    """The contract example with dotted-path changes: ``a_body(**{"subject.nip": None})``.

    A value of ``DROP`` removes the key instead of setting it.
    """
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DROP:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return body


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()
