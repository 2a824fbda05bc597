"""PUT /v1/webhook and GET /v1/webhook/deliveries against a real intake app and database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services.intake.store.webhooks import enqueue_stage_change
from shared.web.runtime import runtime
from tests.api import test_reports
from tests.api.test_reports import BODY, post

# The report tests' fixtures, shared by name: pytest finds fixtures in the module namespace.
intake = test_reports.intake
partner = test_reports.partner
token_for = test_reports.token_for

SECRET = "0123456789abcdef-secret"


def json_of(response: Any) -> Any:
    """A response's JSON body, which these endpoints always send."""
    body = response.get_json()
    assert body is not None, response.data
    return body


GOOD = {"url": "https://partner.example/netra", "secret": SECRET}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"secret": SECRET}, {"url"}),
        ({"url": "https://partner.example/netra"}, {"secret"}),
        ({"url": "ftp://partner.example/netra", "secret": SECRET}, {"url"}),
        ({"url": "not a url", "secret": SECRET}, {"url"}),
        ({"url": "https://partner.example/netra", "secret": "too-short"}, {"secret"}),
        ({"url": 7, "secret": 7}, {"url", "secret"}),
        ({**GOOD, "events": ["all"]}, {"events"}),
        ([GOOD], {"body"}),
    ],
)
def test_an_invalid_registration_names_each_bad_field(
    intake: Flask, partner: dict[str, str], body: Any, fields: set[str]
) -> None:
    response = intake.test_client().put("/v1/webhook", json=body, headers=partner)
    assert response.status_code == 422, response.data
    assert set(json_of(response)["errors"]) == fields
    assert SECRET not in response.get_data(as_text=True)


def test_registration_needs_a_partner_token(intake: Flask, token_for: Callable[..., dict[str, str]]) -> None:
    client = intake.test_client()
    assert client.put("/v1/webhook", json=GOOD).status_code == 401
    assert client.put("/v1/webhook", json=GOOD, headers=token_for("investigator")).status_code == 403
    assert client.get("/v1/webhook/deliveries").status_code == 401
    assert client.get("/v1/webhook/deliveries", headers=token_for("admin")).status_code == 403


def test_a_registration_is_stored_replaced_and_its_secret_never_returned(
    intake: Flask, partner: dict[str, str]
) -> None:
    client = intake.test_client()
    first = client.put("/v1/webhook", json=GOOD, headers=partner)
    assert first.status_code == 200, first.data
    assert json_of(first)["url"] == GOOD["url"]
    assert "secret" not in json_of(first) and SECRET not in first.get_data(as_text=True)

    replaced = client.put(
        "/v1/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "x" * 16}, headers=partner
    )
    assert replaced.status_code == 200
    assert "x" * 16 not in replaced.get_data(as_text=True)
    with runtime(intake).engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT partner, url, secret FROM webhooks")).all()
    assert [(r.url, r.secret) for r in rows] == [("http://127.0.0.1:9/hook", "x" * 16)]
    assert SECRET not in json.dumps(intake.test_client().get("/openapi.json").json)


def stage_change(app: Flask, case_id: str, event_id: str, stage: str) -> int:
    with runtime(app).engine.begin() as conn:
        return enqueue_stage_change(
            conn, case_id=case_id, stage=stage, at=datetime(2024, 10, 11, tzinfo=UTC), event_id=event_id
        )


def test_each_partner_sees_only_its_own_deliveries_newest_first_and_paginated(
    intake: Flask, token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    tabanan = token_for(agency="Bawaslu Kab. Tabanan")
    badung = token_for(agency="Bawaslu Kab. Badung")
    silent = token_for(agency="Bawaslu Kab. Gianyar")  # no webhook
    assert client.put("/v1/webhook", json=GOOD, headers=tabanan).status_code == 200
    assert client.put("/v1/webhook", json=GOOD, headers=badung).status_code == 200
    ours = post(client, tabanan, BODY).json
    theirs = post(client, badung, BODY, key="badung-1").json
    silents = post(client, silent, BODY, key="gianyar-1").json
    # The same person and conduct: all three reports are in one case.
    case = ours["case_id"]
    assert theirs["case_id"] == silents["case_id"] == case

    # One delivery for each report whose partner has a webhook; none for Gianyar's.
    assert stage_change(intake, case, "evt-1", "UNDER_EXAMINATION") == 2
    assert stage_change(intake, case, "evt-1", "UNDER_EXAMINATION") == 0
    assert stage_change(intake, case, "evt-2", "DECIDED") == 2

    listed = client.get("/v1/webhook/deliveries", headers=tabanan)
    assert listed.status_code == 200, listed.data
    assert [(d["report_id"], d["event_id"], d["stage"]) for d in json_of(listed)][:2] == [
        (ours["report_id"], "evt-2", "DECIDED"),
        (ours["report_id"], "evt-1", "UNDER_EXAMINATION"),
    ]
    # ... after the notice that the report was RECEIVED, queued when it was registered.
    assert [(d["report_id"], d["stage"]) for d in json_of(listed)][2:] == [(ours["report_id"], "RECEIVED")]
    first = json_of(listed)[0]
    assert (first["status"], first["attempts"], first["last_status_code"], first["delivered_at"]) == (
        "PENDING",
        0,
        None,
        None,
    )
    assert first["case_id"] == ours["case_id"] and isinstance(first["id"], int)

    page = client.get("/v1/webhook/deliveries?page=2&page_size=1", headers=tabanan)
    assert [d["event_id"] for d in json_of(page)] == ["evt-1"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3

    assert {d["report_id"] for d in json_of(client.get("/v1/webhook/deliveries", headers=badung))} == {
        theirs["report_id"]
    }
    assert json_of(client.get("/v1/webhook/deliveries", headers=silent)) == []
