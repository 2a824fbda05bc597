"""The retention process on a real intake database and key store: a reporter of a case closed
longer than the rule's period is erased by rule, recorded on the case; nothing else is."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from services.intake.domain.retention import load_retention, parse_retention
from services.intake.retention import RetentionWorker
from services.intake.store.identities import reporter_subject
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine
from shared.inbox import InboxConsumer
from shared.rulefiles import RuleBook, RuleSetError
from shared.web.runtime import runtime
from tests.api import test_intake_stages as stages
from tests.api.test_reports import BODY, body_of, events_of, post
from tests.support.processes import service_processes

intake, partner, token_for, inbox = stages.intake, stages.partner, stages.token_for, stages.inbox

RULES = parse_retention(
    {
        "version": "t.1",
        "effective_from": "2024-01-01",
        "rules": [
            {
                "id": "T",
                "data": "reporter",
                "after_stage": "CLOSED",
                "days": 30,
                "article": "UU 27/2022 Ps 43(1)",
                "confidence": "R",
            }
        ],
    },
    "test",
)


def worker(app: Flask, clock: ManualClock) -> RetentionWorker:
    rt = runtime(app)
    return RetentionWorker(rt.engine, rt.keys, clock, RuleBook("retention", (RULES,)))


def another_case(incident_day: int) -> dict[str, object]:
    """The contract's report about conduct on 2024-10-``incident_day`` (1-8): a case of its own."""
    body = copy.deepcopy(BODY)
    body["incident"]["date"] = f"2024-10-{incident_day:02d}"
    return body


def closed(
    app: Flask, inbox: InboxConsumer, partner: dict[str, str], incident_day: int, day: int
) -> dict[str, str]:
    """A report (a case of its own) whose case sanctions closed on 2024-11-``day``."""
    report = body_of(post(app.test_client(), partner, another_case(incident_day), key=f"k{incident_day}"))
    stages.feed(inbox, stages.upstream(report["case_id"], "sanctions.case_closed", day), offset=day)
    return report


def test_a_reporter_of_a_case_closed_longer_than_the_period_is_erased_by_rule_once(
    intake: Flask, inbox: InboxConsumer, partner: dict[str, str], clock: ManualClock
) -> None:
    old = closed(intake, inbox, partner, incident_day=1, day=1)
    clock.set(datetime(2024, 12, 1, 1, tzinfo=UTC))  # 30 days after 1 Nov in WIB: not yet past
    assert worker(intake, clock).run_once() == 0
    clock.set(clock.now() + timedelta(days=1))
    recent = closed(intake, inbox, partner, incident_day=2, day=20)
    still_open = body_of(
        post(intake.test_client(), partner, {**copy.deepcopy(BODY), "source_ref": "x"}, key="open")
    )
    assert worker(intake, clock).run_once() == 1
    erasure = events_of(intake, old["case_id"])[-1]
    assert erasure["event_type"] == "intake.personal_data_erased"
    assert erasure["actor"] == {"id": "intake-retention", "role": "system"}
    assert "retention rule T: 30 days after CLOSED (UU 27/2022 Ps 43(1))" in erasure["payload"]["reason"]
    keys = runtime(intake).keys
    assert keys.info(reporter_subject(old["report_id"])).erased_at is not None  # type: ignore[union-attr]
    for kept in (recent, still_open):
        assert keys.info(reporter_subject(kept["report_id"])).erased_at is None  # type: ignore[union-attr]
    assert worker(intake, clock).run_once() == 0  # recorded: never erased twice


def test_the_shipped_rules_load_and_a_bad_rule_file_is_refused(tmp_path: Path) -> None:
    book = load_retention()
    assert [r.id for r in book.in_force(datetime(2025, 1, 1).date()).rules] == ["PELAPOR_KASUS_SELESAI"]
    (tmp_path / "retention-9.1.yaml").write_text(
        "version: '9.1'\neffective_from: 2024-01-01\nrules:\n  - {id: X, data: subject, after_stage: OPEN, days: -1}\n"
    )
    with pytest.raises(RuleSetError) as refused:
        load_retention(tmp_path)
    for problem in (
        "data must be one of reporter",
        "after_stage must be one of CLOSED",
        "article",
        "confidence",
    ):
        assert problem in str(refused.value)


def test_the_retention_process_runs_beats_and_stops_cleanly(settings: Settings) -> None:
    with service_processes(settings, ["services.intake retention"], prefix="rt") as running:
        engine = create_engine(running.database_url("intake"), pool_size=1)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    beat = conn.execute(
                        sa.text("SELECT 1 FROM process_heartbeats WHERE process = 'retention'")
                    ).first()
                if beat:
                    break
                time.sleep(0.5)
            assert beat, "the retention process never beat"
        finally:
            engine.dispose()
    # service_processes asserts that SIGTERM stopped it with exit code 0.
