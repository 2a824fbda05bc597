"""`netra audit replay` over intake: its read models rebuilt from Kafka alone match the live
ones exactly, and an edited read-model row is reported with its table and key."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from netra.audit.replay import NO_READ_MODEL, load_read_model, replay_service
from netra.demo import load_demo
from services.intake import create_app
from services.intake.handlers import on_stage_event
from shared.clock import SystemClock
from shared.config import Settings
from shared.envelope import Actor, Context, NewEvent, seal
from shared.processes import build_relay, ensure_system_topics
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime


@pytest.fixture
def demo_system(settings: Settings) -> Iterator[Settings]:
    """The demo load through intake's real HTTP API, two stage events from downstream, all
    of intake's events published by the real relay."""
    settings = replace(settings, topic_prefix=f"r{uuid.uuid4().hex[:6]}.")
    ensure_system_topics(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        results = load_demo(f"http://127.0.0.1:{server.server_port}", runtime(app).tokens)
        assert all(r["http_status"] == 201 for r in results), results
        case_id = results[0]["response"]["case_id"]
        engine = runtime(app).engine
        # The sanctions event first, then an older adjudication one: a change and a note.
        for kind, day in (("sanctions.decision_issued", 20), ("adjudication.examination_opened", 1)):
            upstream = seal(
                NewEvent(kind, {}, occurred_at=datetime(2024, 11, day, tzinfo=UTC)),
                stream_id=case_id,
                stream_version=1,
                prev_hash="0" * 64,
                context=Context(Actor("someone", "official"), correlation_id=case_id),
                recorded_at=datetime(2024, 11, day, tzinfo=UTC),
            )
            with SqlUnitOfWork(engine, SystemClock()) as uow:
                on_stage_event(upstream, uow)
                uow.commit()
        relay = build_relay(settings, "intake")
        while relay.publish_pending().published:
            pass
        relay._drop_producer()
        yield settings
    finally:
        server.shutdown()
        thread.join(10)
        runtime(app).close()


def test_replaying_the_demo_load_matches_intakes_live_read_models_exactly(demo_system: Settings) -> None:
    outcome = replay_service(demo_system, "intake")
    assert outcome.ok, outcome.lines()
    rows = {t.table: (t.live_rows, t.replayed_rows) for t in outcome.tables}
    assert rows == {"intake_cases": (6, 6), "intake_reports": (6, 6), "intake_case_stages": (2, 2)}
    assert outcome.events == 14 and outcome.pending == 0


def test_an_edited_read_model_row_is_reported_with_its_table_and_key(demo_system: Settings) -> None:
    engine = sa.create_engine(demo_system.database_url("intake"))
    with engine.begin() as conn:
        case_id = conn.execute(
            sa.text("UPDATE intake_cases SET stage = 'CLOSED' WHERE stage = 'DECIDED' RETURNING case_id")
        ).scalar_one()
    engine.dispose()
    outcome = replay_service(demo_system, "intake")
    assert not outcome.ok
    [difference] = outcome.differences
    assert str(difference).startswith(f"intake_cases (case_id={case_id})")
    assert "stage: live 'CLOSED', replayed 'DECIDED'" in str(difference)


def test_a_service_without_a_read_model_is_skipped_not_failed() -> None:
    assert load_read_model("no_such_service") is None
    assert load_read_model("intake") is not None
    assert NO_READ_MODEL == "no read model declared"
