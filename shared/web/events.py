"""``GET /v1/cases/{case_id}/events``: a service's own events of one case, in order, as
stored, each with its log position and log hash — what an auditor checks a chain against.

Every service serves it the same way; ``register_case_events`` adds it to a blueprint with
the roles that may read it and, where a case is not every reader's, who may see which case.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from shared.auth import Identity, abort, current_identity, require_role
from shared.envelope import Envelope
from shared.web.runtime import runtime

_EVENTS = sa.text(
    "SELECT position, log_hash, envelope FROM events WHERE stream_id = :c ORDER BY stream_version"
)

# Whether ``identity`` may see the case whose history this is (an empty history: no case).
MaySee = Callable[[list[Envelope], Identity], bool]


class CaseEventSchema(ma.Schema):
    """One stored event: its place in the service's log, the log hash there, the envelope."""

    position = ma.fields.Integer()
    log_hash = ma.fields.String()
    envelope = ma.fields.Dict()


def register_case_events(
    blp: Blueprint, service: str, roles: Sequence[str], *, may_see: MaySee | None = None
) -> None:
    """Serve ``GET <blp prefix>/<case_id>/events`` for ``roles``; 404 for an unknown case or
    one ``may_see`` hides from the caller (a hidden case is not admitted to exist)."""

    @blp.route("/<uuid:case_id>/events", endpoint="case_events")
    @blp.doc(
        summary=f"The {service} service's events of the case, in order, as stored, with their hashes",
        description="Only of a case you may read (the scope of the list of cases): any other "
        "answers 404, as a case that does not exist does.",
    )
    @require_role(*roles)
    @blp.response(200, CaseEventSchema(many=True))
    @blp.alt_response(404, description="No such case (among those you may see)")
    def case_events(case_id: uuid.UUID) -> list[dict[str, Any]]:
        identity = current_identity()
        with runtime().engine.connect() as conn:
            rows = conn.execute(_EVENTS, {"c": str(case_id)}).all()
        history = [Envelope.from_bytes(r.envelope.encode()) for r in rows]
        if not history or (may_see is not None and not may_see(history, identity)):
            abort(404, message=f"no case {case_id} among the cases you may see")
        return [
            {"position": r.position, "log_hash": r.log_hash, "envelope": json.loads(r.envelope)} for r in rows
        ]
