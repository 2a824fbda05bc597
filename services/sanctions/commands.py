"""Carrying out an official's command on a case: one transaction from the pure decider to the
appended events, their deadlines and the read models (shared.handling.carry_out).

The officials' agency is checked here, on the case's own referral: an official acts only for
the agency of the employee (``subject.agency``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from services.sanctions.case import Case
from services.sanctions.readmodel import project
from shared.auth import Identity
from shared.clock import Clock
from shared.envelope import Actor, Context
from shared.handling import Outcome, carry_out, sql_projector
from shared.legaltime import legal_date
from shared.uow import SqlUnitOfWork

Decide = Callable[[Case, date], Outcome]


class CaseNotFound(LookupError):
    """No such case among those the caller may act on."""


@dataclass(frozen=True)
class Done:
    """What a command recorded, and where the case stands after it."""

    case_id: str
    version: int
    state: str
    events: list[str]
    allowed_actions: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def visible(case: Case, identity: Identity) -> bool:
    """Whether ``identity`` may see or act on ``case``: officials only for their own agency."""
    if case.referral is None:
        return False
    return identity.role != "official" or identity.agency == case.referral.agency


def run(
    engine: sa.Engine, clock: Clock, case_id: str, identity: Identity, expected_version: int, decide: Decide
) -> Done:
    """Decide on the case at ``expected_version`` (If-Match) as ``identity`` and record it."""
    today = legal_date(clock.now())
    with SqlUnitOfWork(engine, clock) as uow:
        history = uow.events.load(case_id)
        case = Case.of(history)
        if not visible(case, identity):
            raise CaseNotFound(case_id)
        context = Context(Actor(identity.id, identity.role), correlation_id=case.correlation_id)
        appended = carry_out(
            uow,
            case_id,
            lambda h: decide(Case.of(h), today),
            context=context,
            expected_version=expected_version,
            project=sql_projector(uow, project),
        )
        uow.commit()
    after = Case.of([*history, *appended])
    return Done(
        case_id=case_id,
        version=after.version,
        state=after.state.value,
        events=[e.event_type for e in appended],
        allowed_actions=[a.value for a in after.allowed()],
    )
