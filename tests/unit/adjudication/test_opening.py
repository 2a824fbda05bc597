"""Opening an examination file from intake's events, including a supplemented report."""

from __future__ import annotations

from datetime import UTC, datetime

from services.adjudication.domain.case import State
from services.adjudication.domain.opening import note_report, note_supplement, open_examination

from .builders import CONSUMER, Story, report

AT = datetime(2024, 2, 6, 2, tzinfo=UTC)


def test_a_supplemented_report_opens_the_file_with_the_report_intake_sent_whole() -> None:
    story = Story()
    first = report(position_kind=None)
    story.record(lambda _c: note_report({"report_id": "report-1", "report": first}, AT), CONSUMER)
    # Intake sends the whole report as the supplement left it: adjudication keeps that, and
    # never merges the supplied fields itself.
    completed = {**first, "subject": {**first["subject"], "position_kind": "JPT_PRATAMA"}}
    supplemented = {"report_id": "report-1", "supplied": {"subject": {"position_kind": "JPT_PRATAMA"}}}
    story.record(lambda _c: note_supplement({**supplemented, "report": completed}, AT), CONSUMER)
    story.record(
        lambda c: open_examination(c, {"report_id": "report-1", "case_number": "NTR-2024-000001"}, AT),
        CONSUMER,
    )
    assert story.case.state is State.OPENED
    assert story.case.subject["position_kind"] == "JPT_PRATAMA"
    assert story.history[1].payload["report"]["subject"]["position_kind"] == "JPT_PRATAMA"
