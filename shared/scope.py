"""Which cases a caller may read: one rule for the read endpoints of every service.

- ``admin``: every case.
- ``auditor``: none here: auditors read through the auditor app (netra/audit_app), which
  records every read as a hash-chained event; a read at a service's own endpoints would not be.
- ``official``, ``supervisor``: the cases whose subject works for the token's agency (the
  ``--agency`` of ``netra token create``), compared exactly as the report or a recorded
  subject profile spells it. A supervisor's *unit* is that agency: the examination is the
  subject's own agency's business (PP 94/2021), and a token names no smaller unit. A token
  without an agency reads no case.
- ``investigator``: the cases assigned to them (``assignee`` equal to the token's identity),
  where the service knows assignments (adjudication). A service that does not know them
  declares no assignee column and an investigator reads no case there.
- Any other role: no case (a partner reads its own reports elsewhere).

Each service says where the subject's agency and the assignee are in its read model
(``ReadScope``); ``where`` filters a list in SQL, so a count never includes a case the caller
may not see, and ``admits`` decides one case, whose read then answers 404 when it is out of
scope: the caller does not learn that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.auth import Identity

EVERY_CASE = frozenset({"admin"})
BY_AGENCY = frozenset({"official", "supervisor"})
BY_ASSIGNMENT = frozenset({"investigator"})


@dataclass(frozen=True)
class ReadScope:
    """Where a service's read model holds what scoping needs.

    ``agency`` and ``assignee`` are SQL expressions of fixed column names (never input),
    e.g. ``"c.agency"``; ``assignee`` is None where the service does not know assignments.
    """

    agency: str
    assignee: str | None = None

    def where(self, identity: Identity) -> tuple[str, dict[str, Any]]:
        """A WHERE condition for the cases ``identity`` may read, and its bound values."""
        if identity.role in EVERY_CASE:
            return "true", {}
        if identity.role in BY_AGENCY and identity.agency:
            return f"{self.agency} = :scope_agency", {"scope_agency": identity.agency}
        if identity.role in BY_ASSIGNMENT and self.assignee is not None:
            return f"{self.assignee} = :scope_assignee", {"scope_assignee": identity.id}
        return "false", {}

    def admits(self, identity: Identity, *, agency: str | None, assignee: str | None = None) -> bool:
        """Whether ``identity`` may read a case of a subject of ``agency`` assigned to ``assignee``."""
        if identity.role in EVERY_CASE:
            return True
        if identity.role in BY_AGENCY:
            return bool(identity.agency) and agency == identity.agency
        if identity.role in BY_ASSIGNMENT and self.assignee is not None:
            return assignee is not None and assignee == identity.id
        return False
