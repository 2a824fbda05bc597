"""A recorded decision is re-derived byte for byte from the events before it (replay)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.sanctions.domain.decision import DecisionRequest, decide
from services.sanctions.store.readmodel import READ_MODEL
from shared.envelope import canonical_json
from tests.unit.sanctions.support import BOOK, CALENDAR, Story, referral


def test_the_decision_is_rederived_exactly_from_its_recorded_inputs() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    request = DecisionRequest(
        ("B2",), date(2024, 12, 9), "kepala.bkpsdm", datetime(2024, 12, 9, 4, 5, tzinfo=UTC)
    )
    [recorded] = story.record(decide(story.case, BOOK, CALENDAR, request))
    rederived = READ_MODEL.rederive["sanctions.decision_issued"](recorded, story.history[:-1])
    assert canonical_json(dict(rederived.payload)) == canonical_json(dict(recorded.payload))
    assert rederived.occurred_at.isoformat(timespec="microseconds") == recorded.occurred_at
    assert rederived.rule_set == recorded.rule_set == "sanctions-pp94-2021.1"
    inputs = recorded.payload["inputs"]
    assert (inputs["finding_event_id"], inputs["referral_event_id"]) == ("finding-1", "referral-1")
    assert inputs["clock"] == "2024-12-09T04:05:00+00:00"


def test_an_edited_decision_no_longer_rederives() -> None:
    story = Story.referred(referral("BERAT"), on=date(2024, 11, 25))
    request = DecisionRequest(("B2",), date(2024, 12, 9), "x", datetime(2024, 12, 9, tzinfo=UTC))
    [recorded] = story.record(decide(story.case, BOOK, CALENDAR, request))
    forged = replace(
        recorded, payload={**recorded.payload, "inputs": {**recorded.payload["inputs"], "penalties": ["R1"]}}
    )
    rederived = READ_MODEL.rederive["sanctions.decision_issued"](forged, story.history[:-1])
    assert rederived.event_type == "sanctions.decision_not_rederived"
    assert "lighter than the finding's level BERAT" in rederived.payload["refused"]
