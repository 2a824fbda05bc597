"""Delivery limits, appeal windows and in-force dates across weekends and Indonesian holidays
(docs/law.md §7, the table with the holiday calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.sanctions.domain import delivery
from services.sanctions.domain.decision import DecisionRequest, decide
from tests.unit.sanctions.support import BOOK, CALENDAR, JPT_MADYA_2, JPT_PRATAMA_1, Story, referral

SHA = "a" * 64


def delivered(level: str, penalty: str, signer: dict[str, Any], decided: date, received: date) -> Story:
    story = Story.referred(
        referral(level, deciding=signer, authorities=[signer, JPT_PRATAMA_1], incident_date="2024-02-03"),
        on=date(2024, 3, 20),
    )
    now = datetime(2025, 6, 1, tzinfo=UTC)
    request = DecisionRequest((penalty,), decided, "pybm", now)
    story.record(decide(story.case, BOOK, CALENDAR, request))
    story.record(
        delivery.issue_decree(story.case, delivery.Decree("800/1/2024", decided, SHA), date(2025, 6, 1))
    )
    story.record(delivery.deliver(story.case, BOOK, CALENDAR, received, "IN_PERSON", date(2025, 6, 1)))
    return story


@pytest.mark.parametrize(
    (
        "name",
        "level",
        "penalty",
        "signer",
        "decided",
        "received",
        "delivery_limit",
        "keberatan_limit",
        "in_force",
    ),
    [
        # B: Lebaran 8-15 Apr 2024 (with cuti bersama) inside both windows.
        (
            "B",
            "SEDANG",
            "S2L",
            JPT_MADYA_2,
            date(2024, 4, 1),
            date(2024, 4, 3),
            date(2024, 4, 29),
            date(2024, 5, 2),
            date(2024, 4, 18),
        ),
        # C: Christmas 25-26 Dec 2024 and New Year 1 Jan 2025.
        (
            "C",
            "BERAT",
            "B2",
            {
                "official": "PPK_KABUPATEN_KOTA",
                "relation": None,
                "may_impose": ["SEDANG", "BERAT"],
                "basis": "Ps 18(3)(c)",
            },
            date(2024, 12, 9),
            date(2024, 12, 12),
            date(2024, 12, 31),
            date(2025, 1, 6),
            date(2024, 12, 27),
        ),
    ],
)
def test_sample_case_dates_with_the_holiday_calendar(
    name: str,
    level: str,
    penalty: str,
    signer: dict[str, Any],
    decided: date,
    received: date,
    delivery_limit: date,
    keberatan_limit: date,
    in_force: date,
) -> None:
    story = delivered(level, penalty, signer, decided, received)
    decision = story.case.decision
    assert decision is not None
    assert decision["delivery_due_on"] == delivery_limit.isoformat()
    delivered_event = story.history[-1].payload
    assert delivered_event["appeal_limit"] == keberatan_limit.isoformat()
    assert delivered_event["in_force_on"] == in_force.isoformat()
    assert delivered_event["late"] is False
    # Both are recorded, and the in-force date falls before the keberatan window closes (OQ5).
    assert in_force < keberatan_limit
    assert story.due("takes_effect") == date.fromordinal(in_force.toordinal() - 1)
    assert story.due("appeal_window") == keberatan_limit


def test_delivery_after_its_limit_is_recorded_late() -> None:
    story = delivered("SEDANG", "S2L", JPT_MADYA_2, date(2024, 4, 1), date(2024, 4, 30))
    assert story.history[-1].payload["late"] is True


def test_a_missed_delivery_deadline_is_a_recorded_breach() -> None:
    story = Story.referred(
        referral("SEDANG", deciding=JPT_MADYA_2, authorities=[JPT_MADYA_2]), on=date(2024, 3, 20)
    )
    story.record(
        decide(
            story.case,
            BOOK,
            CALENDAR,
            DecisionRequest(("S2L",), date(2024, 4, 1), "p", datetime(2024, 4, 1, tzinfo=UTC)),
        )
    )
    assert story.due("delivery") == date(2024, 4, 29)
    assert story.lapse("delivery") == ["sanctions.deadline_missed"]
    assert "PP 94/2021 Ps 37(3)" in story.history[-1].payload["consequence"]
