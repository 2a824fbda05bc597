"""Carrying out one decision on one case: the plumbing every command and reaction shares.

The domain is pure: it reads the case's history and returns an ``Outcome`` (shared.outcome:
the events, the legal clocks they start, the clocks they stop). ``carry_out`` does the rest in the caller's
unit of work: checks the client's ``If-Match``, appends after the version it read, writes
the deadlines with the event that started them, resolves the ones met, and projects the new
events into the read models, all in one transaction.

    with SqlUnitOfWork(engine, clock) as uow:
        appended = carry_out(uow, case_id, lambda history: Case.from_events(history).summon(...),
                             context=ctx, expected_version=if_match(), project=project)
        uow.commit()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.envelope import Context, Envelope
from shared.outcome import Outcome
from shared.refusals import StaleVersion
from shared.uow import Deadline, SqlUnitOfWork, UnitOfWork

Decide = Callable[[list[Envelope]], Outcome]
Project = Callable[[Envelope], None]


def carry_out(
    uow: UnitOfWork,
    case_id: str,
    decide: Decide,
    *,
    context: Context,
    expected_version: int | None = None,
    project: Project | None = None,
) -> list[Envelope]:
    """Load the case, decide, and record the outcome in ``uow``; return the appended events.

    ``expected_version`` is the client's ``If-Match`` (None for a reaction to another
    service's event, which always acts on the latest version). Raises StaleVersion when the
    client decided on an older version, and whatever the domain raises when it refuses.
    """
    history = uow.events.load(case_id)
    current = len(history)
    if expected_version is not None and expected_version != current:
        raise StaleVersion(expected_version, current)
    outcome = decide(history)
    if not outcome.events:
        return []
    appended = uow.events.append(case_id, outcome.events, expected_version=current, context=context)
    record_deadlines(uow, case_id, outcome, appended)
    if project is not None:
        for envelope in appended:
            project(envelope)
    return appended


def record_deadlines(uow: UnitOfWork, case_id: str, outcome: Outcome, appended: Sequence[Envelope]) -> None:
    """Write the clocks the outcome starts, reopen the lapses it withdraws and close the
    clocks it meets or makes moot."""
    if outcome.reopens:
        uow.reopen_deadlines(case_id, outcome.reopens)
    for start in outcome.starts:
        started_by = appended[start.started_by].event_id
        uow.schedule(Deadline(case_id, start.kind, start.due_on, start.day_count, started_by, start.rule_set))
    last = appended[-1].event_id
    if outcome.meets:
        uow.resolve_deadlines(case_id, outcome.meets, last, status="MET")
    if outcome.cancels:
        uow.resolve_deadlines(case_id, outcome.cancels, last, status="CANCELLED")


def sql_projector(uow: SqlUnitOfWork, project: Callable[..., None]) -> Project:
    """``project(connection, envelope)`` bound to the unit of work's connection."""
    return lambda envelope: project(uow.connection, envelope)
