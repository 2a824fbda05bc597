"""The partner-facing stage, kept from adjudication and sanctions events by intake's inbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from services.intake.handlers import EVENT_HANDLERS as HANDLERS
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal
from shared.inbox import InboxConsumer, Record
from shared.web.runtime import runtime
from tests.api import test_reports as reports
from tests.api.test_reports import BODY, body_of, post

# The intake app and partner fixtures of the report tests, shared by name.
intake, partner, token_for = reports.intake, reports.partner, reports.token_for


def upstream(case_id: str, kind: str, day: int, version: int = 1) -> Envelope:
    """An event as adjudication or sanctions would publish it for ``case_id``."""
    return seal(
        NewEvent(kind, {}, occurred_at=datetime(2024, 11, day, 3, tzinfo=UTC)),
        stream_id=case_id,
        stream_version=version,
        prev_hash=GENESIS_HASH,
        context=Context(Actor("someone", "official"), correlation_id="report"),
        recorded_at=datetime(2024, 11, day, 3, tzinfo=UTC),
    )


@pytest.fixture
def inbox(intake: Flask) -> InboxConsumer:
    rt = runtime(intake)
    return InboxConsumer(
        "intake-inbox", rt.engine, rt.clock, HANDLERS, dlq_producer=_no_dlq, service="intake"
    )


def _no_dlq() -> None:
    raise AssertionError("nothing here should be parked")


@pytest.fixture
def registered(intake: Flask, partner: dict[str, str]) -> dict[str, str]:
    return body_of(post(intake.test_client(), partner, BODY))


def feed(inbox: InboxConsumer, envelope: Envelope, offset: int) -> str:
    topic = (
        "sanctions.case-events" if envelope.event_type.startswith("sanctions") else "adjudication.case-events"
    )
    return inbox.handle(Record(topic, 0, offset, envelope.stream_id.encode(), envelope.to_bytes()))


def partner_view(intake: Flask, partner: dict[str, str], report_id: str) -> dict:
    return body_of(intake.test_client().get(f"/v1/reports/{report_id}", headers=partner))


def test_stage_events_move_the_case_and_record_the_history(
    intake: Flask,
    inbox: InboxConsumer,
    registered: dict[str, str],
    partner: dict[str, str],
) -> None:
    case_id = registered["case_id"]
    assert feed(inbox, upstream(case_id, "adjudication.examination_opened", 1), 0) == "handled"
    assert feed(inbox, upstream(case_id, "sanctions.decision_issued", 20), 1) == "handled"
    view = partner_view(intake, partner, registered["report_id"])
    assert view["stage"] == "DECIDED"
    assert [h["stage"] for h in view["history"]] == ["RECEIVED", "UNDER_EXAMINATION", "DECIDED"]
    with runtime(intake).engine.connect() as conn:
        changes = conn.execute(
            sa.text(
                "SELECT envelope::json->'payload'->>'stage' FROM events "
                "WHERE stream_id = :c AND event_type = 'intake.case_stage_changed' ORDER BY stream_version"
            ),
            {"c": case_id},
        ).scalars()
        assert list(changes) == ["UNDER_EXAMINATION", "DECIDED"]


def test_an_older_event_arriving_late_from_the_other_topic_does_not_move_the_stage_back(
    intake: Flask,
    inbox: InboxConsumer,
    registered: dict[str, str],
    partner: dict[str, str],
) -> None:
    case_id = registered["case_id"]
    feed(inbox, upstream(case_id, "sanctions.decision_issued", 20), 0)
    feed(inbox, upstream(case_id, "adjudication.examination_opened", 1), 1)
    view = partner_view(intake, partner, registered["report_id"])
    assert view["stage"] == "DECIDED"
    assert sorted(h["stage"] for h in view["history"]) == ["DECIDED", "RECEIVED", "UNDER_EXAMINATION"]


def test_the_stage_follows_causal_order_not_valid_time_for_a_case_entered_after_the_fact(
    intake: Flask,
    inbox: InboxConsumer,
    registered: dict[str, str],
    partner: dict[str, str],
) -> None:
    # A 2024 ruling recorded today: adjudication opened its file on the 25th, the ruling is
    # dated the 20th, and the penalty came into force on the 22nd. Each later in its own
    # stream, and sanctions after adjudication, whatever the dates say.
    case_id = registered["case_id"]
    feed(inbox, upstream(case_id, "adjudication.examination_opened", 25), 0)
    feed(inbox, upstream(case_id, "sanctions.decision_issued", 20, version=2), 1)
    assert partner_view(intake, partner, registered["report_id"])["stage"] == "DECIDED"
    feed(inbox, upstream(case_id, "sanctions.penalty_in_force", 22, version=5), 2)
    feed(inbox, upstream(case_id, "sanctions.objection_filed", 21, version=3), 3)  # arrives late
    assert partner_view(intake, partner, registered["report_id"])["stage"] == "IN_FORCE"


def test_the_same_stage_event_twice_changes_nothing(
    intake: Flask, inbox: InboxConsumer, registered: dict[str, str]
) -> None:
    event = upstream(registered["case_id"], "adjudication.examination_opened", 1)
    assert feed(inbox, event, 0) == "handled"
    assert feed(inbox, event, 1) == "duplicate"


def test_a_stage_event_for_a_case_intake_never_registered_is_noted_and_ignored(
    inbox: InboxConsumer, intake: Flask
) -> None:
    stranger = "0191f9d4-0000-7000-8000-000000000000"
    assert feed(inbox, upstream(stranger, "sanctions.case_closed", 3), 0) == "handled"
    with runtime(intake).engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM intake_case_stages")).scalar_one() == 0


def test_unrelated_events_are_only_recorded_in_the_inbox(
    inbox: InboxConsumer, registered: dict[str, str]
) -> None:
    assert feed(inbox, upstream(registered["case_id"], "adjudication.summons_issued", 2), 0) == "handled"
