"""A small three-service history for the audit tests: real stores, real topics, the real relay.

Two cases. Intake records each case; adjudication's events are caused by intake's, and
sanctions' by adjudication's, so causation crosses services as in production.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from shared.clock import ManualClock
from shared.config import SERVICES, Settings
from shared.db import create_engine
from shared.envelope import Envelope, NewEvent
from shared.processes import build_relay, ensure_system_topics
from shared.uow import SqlUnitOfWork
from tests.support.events import AT, context


@dataclass
class AuditedSystem:
    """The settings of the system and what was recorded, by service."""

    settings: Settings
    clock: ManualClock
    recorded: dict[str, list[Envelope]] = field(default_factory=dict)
    engines: dict[str, sa.Engine] = field(default_factory=dict)

    def engine(self, service: str) -> sa.Engine:
        if service not in self.engines:
            self.engines[service] = create_engine(self.settings.database_url(service))
        return self.engines[service]

    def append(
        self, service: str, case: str, kinds: list[str], cause: Envelope | None = None, **payload: Any
    ) -> list[Envelope]:
        """Append events of ``kinds`` to ``case`` in ``service``'s store, caused by ``cause``."""
        self.clock.advance(timedelta(seconds=1))
        with SqlUnitOfWork(self.engine(service), self.clock) as uow:
            version = len(uow.events.load(case))
            new = [NewEvent(k, {"n": i, **payload}, occurred_at=AT) for i, k in enumerate(kinds)]
            ctx = context(causation_id=cause.event_id if cause else None)
            sealed = uow.events.append(case, new, expected_version=version, context=ctx)
            uow.commit()
        self.recorded.setdefault(service, []).extend(sealed)
        return sealed

    def relay(self, *services: str) -> None:
        """Publish every pending event of ``services`` (default all) with the real relay."""
        for service in services or SERVICES:
            relay = build_relay(self.settings, service)
            while relay.publish_pending().published:
                pass
            relay._drop_producer()

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def build_system(settings: Settings, clock: ManualClock, cases: int = 2) -> AuditedSystem:
    """Record ``cases`` cases across the three services and publish them all."""
    system = AuditedSystem(replace(settings, topic_prefix=f"a{uuid.uuid4().hex[:6]}."), clock)
    ensure_system_topics(system.settings)
    for _ in range(cases):
        case = str(uuid.uuid4())
        received, _registered = system.append(
            "intake", case, ["intake.report_received", "intake.case_registered"]
        )
        [opened] = system.append("adjudication", case, ["adjudication.examination_opened"], cause=received)
        system.append("sanctions", case, ["sanctions.decision_issued"], cause=opened)
        system.append("adjudication", case, ["adjudication.bap_recorded"], cause=opened)
    system.relay()
    return system
