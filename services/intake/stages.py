"""The partner-facing stage of a case (partner-api.md: RECEIVED, UNDER_EXAMINATION, DECIDED,
UNDER_APPEAL, IN_FORCE, CLOSED), kept from what adjudication and sanctions publish.

``STAGE_OF`` is the contract with those services: the event types that move a case's public
stage. The adjudication and sanctions workflows (issues 4 and 5) publish these names.
A stage change is recorded three ways in one transaction: a history row, an
``intake.case_stage_changed`` event in the case's stream (so the partner's view can be
rebuilt from intake's own log), and one webhook delivery per partner report on the case.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import sqlalchemy as sa

from services.intake import webhooks
from shared.envelope import Actor, Context, Envelope, NewEvent
from shared.inbox import PoisonRecord
from shared.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

CASE_STAGE_CHANGED = "intake.case_stage_changed"

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
    conn.execute(
        sa.text(
            "INSERT INTO intake_case_stages (case_id, stage, at, event_id) "
            "VALUES (CAST(:c AS uuid), :s, :at, :e) ON CONFLICT (event_id) DO NOTHING"
        ),
        {"c": case_id, "s": stage, "at": at, "e": received.event_id},
    )
    # Topics are ordered per case only within one topic: the current stage is the latest in
    # valid time, so an adjudication event arriving after a sanctions one changes nothing.
    current = conn.execute(
        sa.text(
            "SELECT stage FROM intake_case_stages WHERE case_id = CAST(:c AS uuid) ORDER BY at DESC LIMIT 1"
        ),
        {"c": case_id},
    ).scalar_one()
    if current == previous:
        return
    conn.execute(
        sa.text("UPDATE intake_cases SET stage = :s WHERE case_id = CAST(:c AS uuid)"),
        {"s": current, "c": case_id},
    )
    webhooks.enqueue_stage_change(conn, case_id=case_id, stage=current, at=at, event_id=received.event_id)
    uow.events.append(
        case_id,
        [
            NewEvent(
                CASE_STAGE_CHANGED,
                {"stage": current, "previous": previous, "cause": received.event_type},
                occurred_at=at,
            )
        ],
        expected_version=len(uow.events.load(case_id)),
        context=Context(CONSUMER, correlation_id=received.correlation_id, causation_id=received.event_id),
    )


def is_case_id(value: str) -> bool:
    """Whether ``value`` can name an intake case (a UUID)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
