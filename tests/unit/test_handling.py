"""carry_out: the If-Match check, the deadlines started and met, and the projection, on the fake."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.clock import ManualClock
from shared.envelope import Envelope
from shared.handling import carry_out
from shared.outcome import DeadlineStart, Outcome
from shared.refusals import StaleVersion
from shared.uow import InMemoryUnitOfWork
from shared.workdays import DayCount
from tests.support.events import context, event


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(ManualClock(datetime(2024, 3, 6, tzinfo=UTC)))


def summon(_history: list[Envelope]) -> Outcome:
    due = DeadlineStart("examination", date(2024, 3, 19), DayCount.WORKING, "pp94-2021", started_by=1)
    return Outcome([event("t.noted"), event("t.summoned")], starts=[due])


def test_deadlines_are_started_by_the_event_the_domain_names(uow: InMemoryUnitOfWork) -> None:
    with uow:
        appended = carry_out(uow, "case-1", summon, context=context(), expected_version=0)
        uow.commit()
    [deadline] = uow.deadlines
    assert deadline.started_by == appended[1].event_id
    assert (deadline.kind, deadline.due_on, deadline.rule_set) == (
        "examination",
        date(2024, 3, 19),
        "pp94-2021",
    )


def test_a_stale_if_match_is_refused_before_the_domain_decides(uow: InMemoryUnitOfWork) -> None:
    with uow:
        carry_out(uow, "case-1", summon, context=context(), expected_version=0)
        uow.commit()
    with uow, pytest.raises(StaleVersion) as refused:
        carry_out(
            uow,
            "case-1",
            lambda _: pytest.fail("decided on a stale version"),
            context=context(),
            expected_version=1,
        )
    assert (refused.value.expected, refused.value.current) == (1, 2)


def test_an_event_that_meets_a_deadline_resolves_it_and_is_projected(uow: InMemoryUnitOfWork) -> None:
    projected: list[str] = []
    with uow:
        carry_out(uow, "case-1", summon, context=context())
        uow.commit()
    with uow:
        [held] = carry_out(
            uow,
            "case-1",
            lambda _: Outcome([event("t.examined")], meets=["examination"]),
            context=context(),
            project=lambda e: projected.append(e.event_type),
        )
        uow.commit()
    assert list(uow.resolved.values()) == [("MET", held.event_id)]
    assert projected == ["t.examined"]


def test_nothing_to_record_appends_nothing(uow: InMemoryUnitOfWork) -> None:
    with uow:
        assert carry_out(uow, "case-1", lambda _: Outcome([]), context=context()) == []
        uow.commit()
    assert uow.store.load("case-1") == []
