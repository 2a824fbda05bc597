"""Re-derived decisions are compared byte for byte; intake's recorded report reads back whole but who."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from netra.audit.replay import compare_decision
from services.intake.domain.receiving import report_of_record, report_record
from services.intake.domain.report import Channel, Reporter
from services.intake.web.examples import CONTRACT_EXAMPLE
from services.intake.web.schemas import report_schema
from shared.envelope import NewEvent
from tests.support.events import envelope


def test_a_decision_that_reproduces_has_no_problem_and_one_that_drifts_is_named() -> None:
    recorded = envelope("case-1", n=1)
    same = NewEvent(recorded.event_type, {"n": 1}, occurred_at=datetime.fromisoformat(recorded.occurred_at))
    assert compare_decision(recorded, same).problem == ""
    drifted = NewEvent(
        recorded.event_type, {"n": 2}, occurred_at=datetime.fromisoformat(recorded.occurred_at)
    )
    mismatch = compare_decision(recorded, drifted)
    assert recorded.event_id == mismatch.event_id and '"n":2' in mismatch.problem


def test_the_report_recorded_in_report_received_reads_back_as_the_same_report_but_who() -> None:
    report = report_schema(datetime(2025, 1, 1, tzinfo=UTC), Channel.BAWASLU).load(CONTRACT_EXAMPLE)
    assert report.reporter is not None
    # Who the subject and the reporter are is recorded sealed, apart from the facts.
    anonymous = replace(
        report,
        subject=replace(report.subject, name=None, nip=None, ni_pppk=None),
        reporter=Reporter(confidential=report.reporter.confidential),
    )
    assert report_of_record(report_record(report)) == anonymous
