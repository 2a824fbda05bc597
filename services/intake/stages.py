"""The partner-facing stage of a case (partner-api.md: RECEIVED, UNDER_EXAMINATION, DECIDED,
UNDER_APPEAL, IN_FORCE, CLOSED), kept from what adjudication and sanctions publish.

``STAGE_OF`` is the contract with those services: the event types that move a case's public
stage. The adjudication and sanctions workflows (issues 4 and 5) publish these names.
Each stage event received becomes an intake event in the case's stream:
``intake.case_stage_changed`` when it moves the case's stage, ``intake.case_stage_noted``
when it only adds a history row (an older event arriving late, or a second event of the
same stage). The read models follow from those events (services.intake.readmodel), so the
partner's view can be rebuilt from intake's own log; a change also queues one webhook
delivery per partner report on the case.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from services.intake import webhooks
from services.intake.readmodel import CASE_STAGE_CHANGED, CASE_STAGE_NOTED, READ_MODEL
from shared.envelope import Actor, Context, Envelope, NewEvent
from shared.inbox import PoisonRecord
from shared.readmodel import project_all
from shared.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


STAGE_OF = {
    "adjudication.examination_opened": "UNDER_EXAMINATION",
    "adjudication.case_closed_not_proven": "CLOSED",
    "sanctions.decision_issued": "DECIDED",
    "sanctions.objection_filed": "UNDER_APPEAL",
    "sanctions.appeal_filed": "UNDER_APPEAL",
    "sanctions.penalty_in_force": "IN_FORCE",
    "sanctions.case_closed": "CLOSED",
}

CONSUMER = Actor(id="intake-consumer", role="system")
# The services a case passes through after intake, in the order the law sends it.
PIPELINE = ("adjudication", "sanctions")


def on_stage_event(received: Envelope, uow: SqlUnitOfWork) -> None:
    """Record the stage an adjudication or sanctions event puts its case in."""
    conn = uow.connection
    case_id = received.stream_id
    if not is_case_id(case_id):
        raise PoisonRecord(f"case id {case_id!r} is not a UUID")
    previous = conn.execute(
        sa.text("SELECT stage FROM intake_cases WHERE case_id = CAST(:c AS uuid) FOR UPDATE"), {"c": case_id}
    ).scalar()
    if previous is None:
        # Every case starts at intake, so this is another deployment's case or a test event:
        # nothing of ours to update (the inbox still records that we saw it).
        log.warning("stage event for a case intake does not know", extra={"case_id": case_id})
        return
    stage, at = STAGE_OF[received.event_type], datetime.fromisoformat(received.occurred_at)
    history = uow.events.load(case_id)
    cause = {"cause": received.event_type, "cause_version": received.stream_version}
    current = _current_stage(history, stage, causal_order(received.event_type, received.stream_version))
    # Every stage event becomes an intake event, so the read models (the case's stage and
    # its history) are a function of intake's own log: readmodel.project writes them.
    if current != previous:
        new = NewEvent(CASE_STAGE_CHANGED, {"stage": current, "previous": previous, **cause}, at)
    else:
        new = NewEvent(CASE_STAGE_NOTED, {"stage": stage, "current": current, **cause}, at)
    appended = uow.events.append(
        case_id,
        [new],
        expected_version=len(history),
        context=Context(CONSUMER, correlation_id=received.correlation_id, causation_id=received.event_id),
    )
    project_all(conn, READ_MODEL, appended)
    if current != previous:
        webhooks.enqueue_stage_change(conn, case_id=case_id, stage=current, at=at, event_id=received.event_id)


def causal_order(event_type: str, stream_version: int) -> tuple[int, int]:
    """Where a stage event stands in the case's causal order.

    Sanctions acts only on a case adjudication referred, so every sanctions event follows
    every adjudication event of the case; within one service, its stream version is its
    order. Valid times cannot decide this: they are the dates of legal acts, which a case
    entered after the fact (a 2024 ruling recorded in 2026) gives out of step with the
    moment a service opened its file, and the two topics arrive in either order.
    """
    return PIPELINE.index(event_type.split(".", 1)[0]), stream_version


def _current_stage(history: Sequence[Envelope], stage: str, order: tuple[int, int]) -> str:
    """The case's stage once this event joins it: that of the causally latest stage event."""
    latest: tuple[tuple[int, int], str] | None = None
    for event in history:
        if event.event_type in (CASE_STAGE_CHANGED, CASE_STAGE_NOTED):
            seen = (
                causal_order(event.payload["cause"], event.payload["cause_version"]),
                event.payload["stage"],
            )
            latest = seen if latest is None or seen[0] > latest[0] else latest
    return stage if latest is None or order > latest[0] else latest[1]


def is_case_id(value: str) -> bool:
    """Whether ``value`` can name an intake case (a UUID)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
