"""``/v1/audit``: a case's history across the services, for auditors, every read recorded."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma

from netra.audit.history import CaseHistory, case_history, parse_instant
from shared.auth import abort, current_identity, require_role
from shared.envelope import Actor, Context, NewEvent
from shared.eventstore import ConcurrencyError
from shared.uow import SqlUnitOfWork
from shared.web.inputs import Blueprint
from shared.web.runtime import runtime

CASE_HISTORY_READ = "audit.case_history_read"
RETRIES = 5  # two reads by one auditor at once: the later one re-reads its version and retries

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/v1/audit",
    description="Read-only history for auditors; every read is itself recorded as an event.",
)


class HistoryQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    as_of = ma.fields.String(
        metadata={"description": "an ISO 8601 instant with its offset, e.g. 2024-11-01T00:00:00+07:00"}
    )
    time = ma.fields.String(
        load_default="record",
        validate=ma.validate.OneOf(("record", "valid")),
        metadata={
            "description": "cut as_of by record time (what Netra knew) or valid time (what had happened)"
        },
    )


class HistoryEventSchema(ma.Schema):
    service = ma.fields.String()
    position = ma.fields.Integer(metadata={"description": "place in the service's log"})
    envelope = ma.fields.Dict(metadata={"description": "the stored event, hashes included"})


class HistorySchema(ma.Schema):
    case_id = ma.fields.String()
    as_of = ma.fields.String(allow_none=True)
    time = ma.fields.String()
    state = ma.fields.Dict()
    events = ma.fields.List(ma.fields.Nested(HistoryEventSchema))


@blp.route("/cases/<uuid:case_id>/history")
@blp.arguments(HistoryQuerySchema, location="query")
@blp.response(200, HistorySchema)
@blp.alt_response(404, description="No service has events of this case")
@blp.alt_response(422, description="as_of is not an instant with an offset")
@require_role("auditor")
def get_history(args: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """The case's events from intake, adjudication and sanctions in causal order, and its
    state, optionally as of an instant. The read is recorded before it is answered."""
    try:
        as_of = parse_instant(args["as_of"]) if "as_of" in args else None
    except ValueError as exc:
        abort(422, message=str(exc), errors={"as_of": [str(exc)]})
    history = case_history(runtime().settings, str(case_id), as_of=as_of, time=args["time"])
    record_read(history)
    if not history.known:
        abort(404, message=f"no service has events of case {case_id}")
    return history.as_json()


def record_read(history: CaseHistory) -> None:
    """Append the read to the auditor's own stream in the audit store (one stream per auditor)."""
    who = current_identity()
    event = NewEvent(
        CASE_HISTORY_READ,
        {
            "auditor": who.id,
            "case_id": history.case_id,
            "as_of": history.as_of.isoformat() if history.as_of else None,
            "time": history.time,
            "events_shown": len(history.events),
            "found": history.known,
        },
        occurred_at=runtime().clock.now(),
    )
    stream = f"auditor:{who.id}"
    context = Context(Actor(who.id, who.role), correlation_id=history.case_id)
    for attempt in range(RETRIES):
        try:
            with SqlUnitOfWork(runtime().engine, runtime().clock) as uow:
                version = len(uow.events.load(stream))
                uow.events.append(stream, [event], expected_version=version, context=context)
                uow.commit()
            return
        except ConcurrencyError:
            if attempt == RETRIES - 1:
                raise
