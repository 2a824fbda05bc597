"""The partner-facing stage of a case (docs/partner-api.md: RECEIVED, UNDER_EXAMINATION,
DECIDED, UNDER_APPEAL, IN_FORCE, CLOSED), decided from what adjudication and sanctions publish.

``STAGE_OF`` is the contract with those services: the event types that move a case's public
stage. Each stage event received becomes an intake event in the case's stream:
``intake.case_stage_changed`` when it moves the case's stage, ``intake.case_stage_noted``
when it only adds a history row (an older event arriving late, or a second event of the
same stage). The read models follow from those events (services.intake.store.readmodel), so
the partner's view can be rebuilt from intake's own log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.intake.domain.events import CASE_STAGE_CHANGED, CASE_STAGE_NOTED
from shared.envelope import Envelope, NewEvent

RECEIVED = "RECEIVED"  # the first partner-facing stage of every case, and of every report row

STAGE_OF = {
    "adjudication.examination_opened": "UNDER_EXAMINATION",
    "adjudication.case_closed_not_proven": "CLOSED",
    "sanctions.decision_issued": "DECIDED",
    "sanctions.objection_filed": "UNDER_APPEAL",
    "sanctions.appeal_filed": "UNDER_APPEAL",
    "sanctions.penalty_in_force": "IN_FORCE",
    "sanctions.case_closed": "CLOSED",
}

# The services a case passes through after intake, in the order the law sends it.
PIPELINE = ("adjudication", "sanctions")


def note_stage(history: Sequence[Envelope], previous: str, received: Envelope) -> NewEvent:
    """The intake event a stage event becomes, given the case's history and its stage now.

    ``case_stage_changed`` when the event moves the case (it is the causally latest stage
    event), ``case_stage_noted`` when it only joins the history.
    """
    stage, at = STAGE_OF[received.event_type], datetime.fromisoformat(received.occurred_at)
    cause = {"cause": received.event_type, "cause_version": received.stream_version}
    current = current_stage(history, stage, causal_order(received.event_type, received.stream_version))
    if current != previous:
        return NewEvent(CASE_STAGE_CHANGED, {"stage": current, "previous": previous, **cause}, at)
    return NewEvent(CASE_STAGE_NOTED, {"stage": stage, "current": current, **cause}, at)


def causal_order(event_type: str, stream_version: int) -> tuple[int, int]:
    """Where a stage event stands in the case's causal order.

    Sanctions acts only on a case adjudication referred, so every sanctions event follows
    every adjudication event of the case; within one service, its stream version is its
    order. Valid times cannot decide this: they are the dates of legal acts, which a case
    entered after the fact (a 2024 ruling recorded in 2026) gives out of step with the
    moment a service opened its file, and the two topics arrive in either order.
    """
    return PIPELINE.index(event_type.split(".", 1)[0]), stream_version


def current_stage(history: Sequence[Envelope], stage: str, order: tuple[int, int]) -> str:
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
