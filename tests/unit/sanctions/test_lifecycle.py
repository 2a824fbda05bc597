"""The main path after a decision: decree, delivery, in force, execution, closure; a
dismissal is effective at once; a moral sanction is declared and closes the case."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.sanctions.domain import delivery, execution
from services.sanctions.domain.case import State
from services.sanctions.domain.decision import DecisionRequest, decide
from shared.refusals import IllegalTransition, RuleViolations
from tests.unit.sanctions.support import BOOK, CALENDAR, JPT_PRATAMA_1, PPK_KAB, PPK_PROV, Story, referral

SHA = "b" * 64
TODAY = date(2026, 1, 1)


def decided(
    level: str | None,
    penalty: str,
    *,
    category: str = "DISIPLIN",
    signer: dict[str, Any] = PPK_KAB,
    employee_type: str = "PNS",
) -> Story:
    payload = referral(
        level,
        category=category,
        deciding=signer,
        authorities=[signer, JPT_PRATAMA_1],
        employee_type=employee_type,
    )
    story = Story.referred(payload, on=date(2024, 11, 25))
    story.record(
        decide(
            story.case,
            BOOK,
            CALENDAR,
            DecisionRequest((penalty,), date(2024, 12, 9), "pybm", datetime(2024, 12, 9, tzinfo=UTC)),
        )
    )
    return story


def delivered(level: str, penalty: str, **kw: object) -> Story:
    story = decided(level, penalty, **kw)  # type: ignore[arg-type]
    story.record(
        delivery.issue_decree(
            story.case, delivery.Decree("800/77/BKPSDM/2024", date(2024, 12, 9), SHA), TODAY
        )
    )
    story.record(delivery.deliver(story.case, BOOK, CALENDAR, date(2024, 12, 12), "IN_PERSON", TODAY))
    return story


def test_a_timed_penalty_runs_from_its_in_force_date_and_closes_on_recorded_completion() -> None:
    story = delivered("BERAT", "B2")
    assert story.case.state is State.DELIVERED
    assert story.lapse("takes_effect") == ["sanctions.penalty_in_force", "sanctions.execution_started"]
    started = story.history[-1].payload
    assert (started["start_on"], started["end_on"]) == ("2024-12-27", "2025-12-26")
    assert story.case.state is State.IN_FORCE
    assert story.lapse("appeal_window") == ["sanctions.appeal_window_closed"]  # still executing
    with pytest.raises(RuleViolations) as early:
        execution.complete(story.case, date(2025, 12, 25), TODAY)
    assert early.value.violations[0].field == "completed_on"
    done = story.record(execution.complete(story.case, date(2025, 12, 26), TODAY))
    assert [e.event_type for e in done] == ["sanctions.penalty_executed", "sanctions.case_closed"]
    assert done[-1].payload == {"reason": "EXECUTED", "closed_on": "2025-12-26"}
    assert story.case.state is State.CLOSED and story.case.allowed() == []


def test_a_dismissal_is_effective_at_once_and_the_case_closes_when_no_banding_can_come() -> None:
    story = delivered("BERAT", "B3")
    assert story.history[-1].payload["appeal_route"] == "BANDING"
    assert story.lapse("takes_effect") == ["sanctions.penalty_in_force", "sanctions.penalty_executed"]
    assert story.history[-1].payload["how"] == "DISMISSAL_EFFECTIVE"
    assert story.case.state is State.EXECUTED
    assert story.lapse("appeal_window") == ["sanctions.appeal_window_closed", "sanctions.case_closed"]
    assert story.history[-1].occurred_at.startswith("2025-01-07")


def test_a_reprimand_is_executed_when_it_takes_effect() -> None:
    story = delivered("RINGAN", "R2", signer=JPT_PRATAMA_1)
    story.lapse("takes_effect")
    assert story.history[-1].payload["how"] == "ON_TAKING_EFFECT"
    assert story.lapse("appeal_window")[-1] == "sanctions.case_closed"


def test_a_moral_sanction_is_declared_with_its_decree_and_closes_the_case() -> None:
    story = decided(None, "M2", category="KODE_ETIK", signer=PPK_PROV, employee_type="PPPK")
    assert story.starts == []  # no delivery clock for a moral statement
    new = story.record(
        delivery.issue_decree(story.case, delivery.Decree("800/5/2024", date(2024, 12, 9), SHA), TODAY)
    )
    assert [e.event_type for e in new] == [
        "sanctions.decree_issued",
        "sanctions.moral_sanction_declared",
        "sanctions.case_closed",
    ]
    assert new[1].payload["form"] == "TERBUKA"
    assert new[2].payload["reason"] == "MORAL_SANCTION_DECLARED"


def test_steps_out_of_order_are_409_naming_the_allowed_actions() -> None:
    story = decided("BERAT", "B2")
    with pytest.raises(IllegalTransition) as refused:
        delivery.deliver(story.case, BOOK, CALENDAR, date(2024, 12, 12), "MAIL", TODAY)
    assert (refused.value.state, refused.value.allowed) == ("DECIDED", ("decree",))
    with pytest.raises(IllegalTransition):
        decide(
            story.case,
            BOOK,
            CALENDAR,
            DecisionRequest(("B1",), date(2024, 12, 9), "p", datetime(2024, 12, 9, tzinfo=UTC)),
        )


def test_a_decree_dated_before_its_decision_is_refused() -> None:
    story = decided("BERAT", "B2")
    with pytest.raises(RuleViolations) as refused:
        delivery.issue_decree(story.case, delivery.Decree("1", date(2024, 12, 8), SHA), TODAY)
    assert refused.value.violations[0].field == "issued_on"
