"""Replay's batched projection (``READ_MODEL.project_many``) leaves exactly the rows the
command side's ``project`` leaves, one event at a time, however the log is cut into batches:
reports opened in the batch or an earlier one, supplements, links, stage changes and notes
on cases opened in the batch, before it, or never."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from netra.audit.diff import Difference, diff_table
from services.intake.domain.receiving import (
    CASE_FORWARDED_OUT_OF_SCOPE,
    CASE_REGISTERED,
    REPORT_LINKED,
    REPORT_MARKED_INCOMPLETE,
    REPORT_RECEIVED,
    report_record,
)
from services.intake.domain.report import Channel
from services.intake.store.readmodel import CASE_STAGE_CHANGED, CASE_STAGE_NOTED, READ_MODEL, TABLES
from services.intake.web.examples import CONTRACT_EXAMPLE
from services.intake.web.schemas import report_schema
from shared.db import create_engine
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal

AT = datetime(2024, 10, 10, 2, 30, tzinfo=UTC)


def _log() -> list[Envelope]:
    report = report_record(report_schema(AT + timedelta(days=400), Channel.BAWASLU).load(CONTRACT_EXAMPLE))
    context = Context(Actor("Bawaslu", "partner"), correlation_id="t")
    versions: dict[str, tuple[int, str]] = {}
    log: list[Envelope] = []

    def add(case: str, kind: str, payload: dict[str, Any], day: int = 0) -> str:
        version, prev = versions.get(case, (0, GENESIS_HASH))
        at = AT + timedelta(days=day)
        causation = str(uuid.uuid4()) if kind in (CASE_STAGE_CHANGED, CASE_STAGE_NOTED) else None
        event = seal(
            NewEvent(kind, payload, occurred_at=at),
            stream_id=case,
            stream_version=version + 1,
            prev_hash=prev,
            context=Context(context.actor, context.correlation_id, causation_id=causation)
            if causation
            else context,
            recorded_at=at,
        )
        versions[case] = (version + 1, event.hash)
        log.append(event)
        return event.event_id

    def received(case: str, n: int, day: int = 0, ref: str | None = None) -> str:
        report_id = str(uuid.uuid4())
        subject = {**report["subject"], "nip": f"19850312{n:010d}"}
        body = {**report, "subject": subject, "source_ref": ref or report["source_ref"]}
        add(
            case,
            REPORT_RECEIVED,
            {
                "report_id": report_id,
                "partner": "Bawaslu",
                "received_at": (AT + timedelta(days=day)).isoformat(),
                "report": body,
            },
            day,
        )
        return report_id

    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))
    ra = received(a, 1)
    add(a, CASE_REGISTERED, {"report_id": ra, "case_number": "NTR-2024-0000001", "late": False})
    rb = received(b, 2)
    add(b, REPORT_MARKED_INCOMPLETE, {"report_id": rb, "case_number": "NTR-2024-0000002", "late": True})
    rs = received(a, 1, day=3, ref="SUPP-1")
    add(a, REPORT_LINKED, {"report_id": rs, "late": True})
    add(a, CASE_STAGE_CHANGED, {"stage": "IN_EXAMINATION"}, 4)
    rc = received(c, 3, day=5)
    add(b, CASE_STAGE_NOTED, {"stage": "IN_EXAMINATION"}, 5)
    add(c, CASE_FORWARDED_OUT_OF_SCOPE, {"report_id": rc, "case_number": "NTR-2024-0000003", "late": False})
    add(c, CASE_STAGE_CHANGED, {"stage": "DECIDED"}, 6)
    rr = received(a, 1, day=7, ref="SUPP-2")
    add(a, CASE_REGISTERED, {"report_id": rr, "case_number": "NTR-2024-0000004", "late": True})  # case open
    add(b, CASE_STAGE_CHANGED, {"stage": "DECIDED"}, 8)
    add(d, CASE_STAGE_NOTED, {"stage": "DECIDED"}, 8)  # a case intake never opened
    add(d, CASE_STAGE_CHANGED, {"stage": "CLOSED"}, 9)
    rd = received(d, 4, day=9)
    add(d, CASE_REGISTERED, {"report_id": rd, "case_number": "NTR-2024-0000005", "late": False})
    add(d, CASE_STAGE_CHANGED, {"stage": "IN_EXAMINATION"}, 10)
    add(a, "intake.something_else", {}, 11)
    return log


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 100])
def test_project_many_in_batches_of_any_size_equals_project_one_by_one(
    new_database: Callable[..., str], size: int
) -> None:
    log = _log()
    live, replayed = create_engine(new_database()), create_engine(new_database())
    try:
        with live.begin() as conn:
            for envelope in log:
                READ_MODEL.project(conn, envelope)
        for start in range(0, len(log), size):
            with replayed.begin() as conn:
                READ_MODEL.project_batch(conn, log[start : start + size])
        found: list[Difference] = []
        rows = {t: diff_table(live, replayed, t, found).live_rows for t in TABLES}
        assert found == []
        assert rows == {"intake_cases": 4, "intake_reports": 6, "intake_case_stages": 7}
        with replayed.connect() as conn:
            stages: dict[str, str] = dict(
                conn.execute(sa.text("SELECT case_number, stage FROM intake_cases")).all()
            )
        assert stages == {
            "NTR-2024-0000001": "IN_EXAMINATION",
            "NTR-2024-0000002": "DECIDED",
            "NTR-2024-0000003": "DECIDED",
            "NTR-2024-0000005": "IN_EXAMINATION",
        }
    finally:
        live.dispose()
        replayed.dispose()
