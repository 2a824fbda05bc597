"""Two processes appending to one case at the same version: exactly one wins; and appends
run at READ COMMITTED, the isolation netra_append needs, or not at all."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shared.clock import ManualClock, SystemClock
from shared.db import create_engine
from shared.eventstore import ConcurrencyError, SqlEventStore
from shared.uow import SqlUnitOfWork
from shared.verify import verify_store
from tests.support.events import context, event


def _append_at(url: str, version: int, barrier, results) -> None:  # runs in a child process
    engine = create_engine(url)
    try:
        with SqlUnitOfWork(engine, SystemClock()) as uow:
            new = [event(writer=mp.current_process().name, part=i) for i in range(3)]
            barrier.wait(timeout=30)
            uow.events.append("case-1", new, expected_version=version, context=context())
            uow.commit()
        results.put("won")
    except ConcurrencyError:
        results.put("conflict")
    finally:
        engine.dispose()


def test_concurrent_appenders_from_two_processes_one_wins_one_conflicts(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 10, 10, tzinfo=UTC))
    with SqlUnitOfWork(engine, clock) as uow:
        uow.events.append("case-1", [event()], expected_version=0, context=context())
        uow.commit()
    url = engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    writers = [ctx.Process(target=_append_at, args=(url, 1, barrier, results)) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    assert sorted(results.get(timeout=5) for _ in writers) == ["conflict", "won"]
    with SqlUnitOfWork(engine, clock) as uow:
        stored = uow.events.load("case-1")
    assert [e.stream_version for e in stored] == [1, 2, 3, 4]
    assert len({e.actor["id"] for e in stored}) == 1
    assert len({e.payload.get("writer") for e in stored[1:]}) == 1  # all three from the winner
    assert verify_store(engine).ok


def test_every_engine_runs_read_committed_whatever_the_database_default(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                f'ALTER DATABASE "{engine.url.database}" SET default_transaction_isolation = "repeatable read"'
            )
        )
        conn.commit()
    fresh = create_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        with fresh.connect() as conn:
            assert conn.execute(sa.text("SHOW transaction_isolation")).scalar() == "read committed"
    finally:
        fresh.dispose()


def test_a_session_at_repeatable_read_cannot_append_on_a_stale_snapshot(engine: sa.Engine) -> None:
    clock = ManualClock(datetime(2024, 10, 10, tzinfo=UTC))
    stale = sa.create_engine(engine.url, isolation_level="REPEATABLE READ", poolclass=sa.pool.NullPool)
    with stale.connect() as conn:
        conn.execute(sa.text("SELECT count(*) FROM events"))  # the snapshot is taken here
        with SqlUnitOfWork(engine, clock) as uow:  # another writer appends and commits
            uow.events.append("case-1", [event()], expected_version=0, context=context())
            uow.commit()
        with pytest.raises(sa.exc.DBAPIError, match="netra_append needs READ COMMITTED, not repeatable read"):
            SqlEventStore(conn, clock).append("case-2", [event()], expected_version=0, context=context())
    stale.dispose()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT stream_id FROM events ORDER BY position")).scalars().all() == [
            "case-1"
        ]
    assert verify_store(engine).ok
