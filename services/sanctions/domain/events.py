"""The event types sanctions publishes on ``sanctions.case-events`` (docs/events.md).

Intake moves the partner's stage on five of them (services/intake/domain/stages.py): decision
issued (DECIDED), objection or appeal filed (UNDER_APPEAL), penalty in force (IN_FORCE) and
case closed (CLOSED). The rest are the case's own record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from shared.envelope import NewEvent
from shared.legaltime import at_start_of

REFERRAL_RECEIVED = "sanctions.referral_received"
ESCALATION_REQUESTED = "sanctions.escalation_requested"
DECISION_ISSUED = "sanctions.decision_issued"
DECREE_ISSUED = "sanctions.decree_issued"
DECISION_DELIVERED = "sanctions.decision_delivered"
PENALTY_IN_FORCE = "sanctions.penalty_in_force"
PENALTY_SUSPENDED = "sanctions.penalty_suspended"
APPEAL_WINDOW_CLOSED = "sanctions.appeal_window_closed"
OBJECTION_FILED = "sanctions.objection_filed"  # keberatan
OBJECTION_REJECTED_LATE = "sanctions.objection_rejected_late"  # tidak dapat diterima
OBJECTION_ANSWERED = "sanctions.objection_answered"  # the issuing official's answer to the superior
OBJECTION_DECIDED = "sanctions.objection_decided"
APPEAL_FILED = "sanctions.appeal_filed"  # banding to BPASN
APPEAL_REJECTED_LATE = "sanctions.appeal_rejected_late"
APPEAL_ANSWERED = "sanctions.appeal_answered"  # the PPK's answer to BPASN
APPEAL_DECIDED = "sanctions.appeal_decided"
EXECUTION_STARTED = "sanctions.execution_started"
PENALTY_EXECUTED = "sanctions.penalty_executed"
MORAL_SANCTION_DECLARED = "sanctions.moral_sanction_declared"
CASE_CLOSED = "sanctions.case_closed"
DEADLINE_MISSED = "sanctions.deadline_missed"
# A lapse recorded before a fact dated earlier was entered, withdrawn by valid time.
LAPSE_WITHDRAWN = "sanctions.lapse_withdrawn"

SERVICE = "sanctions"
# The actor of the deadline scheduler: the one writer that acts because time passed.
SCHEDULER = "sanctions-scheduler"


def dated(kind: str, payload: Mapping[str, Any], on: date, rule_set: str | None = None) -> NewEvent:
    """A sanctions event whose valid time is the start of the legal date ``on``."""
    return NewEvent(kind, dict(payload), at_start_of(on), rule_set=rule_set)
