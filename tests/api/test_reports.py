"""POST /v1/reports and GET /v1/reports/{id} against a real intake app and database."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from services.intake import create_app
from services.intake.store.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from services.intake.web.examples import CONTRACT_EXAMPLE
from services.intake.web.webhooks import RESOLVER, destination_policy
from services.intake.webhook_worker import WebhookWorker
from shared.auth import TokenRegistry
from shared.clock import ManualClock
from shared.config import Settings
from shared.web import MAX_BODY_BYTES
from shared.web.runtime import runtime
from tests.support.partner_server import Dns, allow_listed, partner_server

BODY: dict[str, Any] = copy.deepcopy(CONTRACT_EXAMPLE)


@pytest.fixture
def intake(api_settings: Settings, clock: ManualClock) -> Iterator[Flask]:
    # Webhooks may go to the local partner server: its host allow-listed, and in the app's DNS.
    app = create_app(allow_listed(api_settings), clock=clock)
    app.extensions[RESOLVER] = Dns()
    yield app
    runtime(app).close()


@pytest.fixture
def token_for(intake: Flask) -> Callable[..., dict[str, str]]:
    registry: TokenRegistry = runtime(intake).tokens

    def make(
        role: str = "partner", agency: str = "Bawaslu Kab. Tabanan", channel: str | None = "BAWASLU"
    ) -> dict[str, str]:
        token = registry.create(agency, role, agency=agency, channel=channel if role == "partner" else None)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def partner(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for()


def post(client: FlaskClient, headers: dict[str, str], body: Any, key: str = "key-1") -> Any:
    return client.post("/v1/reports", json=body, headers={**headers, "Idempotency-Key": key})


def body_of(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict), response.data
    return body


def events_of(app: Flask, case_id: str) -> list[dict[str, Any]]:
    with runtime(app).engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT envelope FROM events WHERE stream_id = :c ORDER BY stream_version"),
            {"c": case_id},
        ).scalars()
        return [json.loads(r) for r in rows]


def test_a_complete_report_is_registered_as_a_new_numbered_case(
    intake: Flask, partner: dict[str, str]
) -> None:
    response = post(intake.test_client(), partner, BODY)
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["status"], body["case_number"], body["late"]) == ("REGISTERED", "NTR-2024-000001", False)
    assert body["links"] == {
        "self": f"/v1/reports/{body['report_id']}",
        "case": f"/v1/cases/{body['case_id']}",
    }
    kinds = [e["event_type"] for e in events_of(intake, body["case_id"])]
    assert kinds == ["intake.report_received", "intake.case_registered"]
    registered = events_of(intake, body["case_id"])[1]
    assert registered["rule_set"] == "admissibility-2024.1"
    assert (
        registered["payload"]["assessment"]["recommending_body"]["body"] == "BKN"
    )  # known after 24 Aug 2024


def test_the_same_key_and_body_answer_the_original_response_again(
    intake: Flask, partner: dict[str, str]
) -> None:
    client = intake.test_client()
    first = post(client, partner, BODY)
    again = post(client, partner, BODY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json


PEMILU_DEADLINE = {
    "due_on": "2024-02-21",
    "days": 7,
    "count": "WORKING",
    "rule": "PEMILU_LAPORAN_7_HARI_KERJA",
    "article": "UU 7/2017 Ps 454(6)",
}


def pemilu_body() -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    body["election"] = {"type": "PILPRES", "year": 2024}
    body["incident"]["date"] = body["known_at"] = "2024-02-07"
    body["reported_at"] = "2024-02-09T10:00:00+07:00"
    return body


def test_the_answer_and_the_report_name_its_reporting_deadline(
    intake: Flask, partner: dict[str, str]
) -> None:
    # 7 working days from 7 Feb 2024: the 8th (Isra Mi'raj), 9th (cuti bersama), 10th
    # (Imlek) and 14th (election day) do not count.
    client = intake.test_client()
    first = post(client, partner, pemilu_body())
    assert first.status_code == 201, first.json
    assert body_of(first)["reporting_deadline"] == PEMILU_DEADLINE
    again = post(client, partner, pemilu_body())
    assert (again.status_code, again.data) == (200, first.data)
    shown = body_of(client.get(f"/v1/reports/{body_of(first)['report_id']}", headers=partner))
    assert shown["reporting_deadline"] == PEMILU_DEADLINE


def test_no_reporting_deadline_is_given_where_no_window_applies(
    intake: Flask, token_for: Callable[..., dict[str, str]]
) -> None:
    bkn = token_for(agency="BKN Kantor Regional X", channel="BKN")
    client = intake.test_client()
    created = body_of(post(client, bkn, BODY))
    assert created["reporting_deadline"] is None
    shown = body_of(client.get(f"/v1/reports/{created['report_id']}", headers=bkn))
    assert shown["reporting_deadline"] is None


def test_the_same_key_with_another_body_is_a_conflict(intake: Flask, partner: dict[str, str]) -> None:
    client = intake.test_client()
    post(client, partner, BODY)
    changed = copy.deepcopy(BODY)
    changed["incident"]["description"] = "Something else"
    response = post(client, partner, changed)
    assert response.status_code == 409
    assert "Idempotency-Key" in body_of(response)["message"]


def test_concurrent_requests_with_one_key_create_one_report(intake: Flask, partner: dict[str, str]) -> None:
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(post(intake.test_client(), partner, BODY).status_code))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 200, 200, 201]
    with runtime(intake).engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM intake_reports")).scalar_one() == 1


def test_a_second_report_on_the_same_person_and_conduct_joins_the_case(
    intake: Flask, partner: dict[str, str]
) -> None:
    client = intake.test_client()
    first = post(client, partner, BODY).json
    second_body = {**BODY, "source_ref": "024/LP/PB/Kab/17.03/X/2024"}
    second = post(client, partner, second_body, key="key-2")
    assert second.status_code == 201
    assert (second.json["status"], second.json["case_id"], second.json["case_number"]) == (
        "LINKED",
        first["case_id"],
        first["case_number"],
    )
    kinds = [e["event_type"] for e in events_of(intake, first["case_id"])]
    assert kinds[-2:] == ["intake.report_received", "intake.report_linked"]


def test_a_partner_reads_its_own_report_and_never_another_partners(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    created = post(client, partner, BODY).json
    mine = client.get(f"/v1/reports/{created['report_id']}", headers=partner)
    assert mine.status_code == 200
    assert (body_of(mine)["status"], body_of(mine)["case_number"], body_of(mine)["stage"]) == (
        "REGISTERED",
        created["case_number"],
        "RECEIVED",
    )
    assert [h["stage"] for h in body_of(mine)["history"]] == ["RECEIVED"]
    other = token_for(agency="Bawaslu Kab. Badung")
    assert client.get(f"/v1/reports/{created['report_id']}", headers=other).status_code == 404


def test_a_report_filed_after_the_pilkada_window_is_late_but_registered(
    intake: Flask, partner: dict[str, str]
) -> None:
    late = {**BODY, "incident": {**BODY["incident"], "date": "2024-09-28"}, "known_at": "2024-09-28"}
    response = post(intake.test_client(), partner, late)
    assert response.status_code == 201
    assert (body_of(response)["status"], body_of(response)["late"]) == ("REGISTERED", True)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["subject"].update(nip="198513122010011004"), "subject.nip"),
        (
            lambda b: b.update(known_at="2024-10-01", incident={**b["incident"], "date": "2024-10-05"}),
            "known_at",
        ),
        (lambda b: b["election"].update(type="PILKADES"), "election.type"),
        # Sample case C's value: accepted as text until issue 13, null at adjudication.
        (lambda b: b["subject"].update(agency_level="REGENCY"), "subject.agency_level"),
        (lambda b: b["subject"].update(position_kind="FUNGSIONAL"), "subject.position_kind"),
    ],
)
def test_invalid_fields_answer_422_naming_each_field(
    intake: Flask, partner: dict[str, str], mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    body = copy.deepcopy(BODY)
    mutate(body)
    response = post(intake.test_client(), partner, body)
    assert response.status_code == 422, response.json
    assert field in body_of(response)["errors"]


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The body of an error answer, after checking it has the one shape every error has
    (shared.web): JSON ``{"code", "status", "message"}`` (422 adds ``errors``: field -> [messages]),
    never an HTML page or a stack trace."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json", (response.headers.get("Content-Type"), response.data)
    text = response.get_data(as_text=True)
    for leak in ("<html", "<!doctype", "Traceback", 'File "'):
        assert leak.lower() not in text.lower(), text
    body = json.loads(text)
    assert isinstance(body, dict), text
    assert body["code"] == status, body
    assert body["status"] == HTTPStatus(status).phrase, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    if status == 422:
        errors = body["errors"]
        assert isinstance(errors, dict) and errors, body
        for field, messages in errors.items():
            assert isinstance(field, str) and field, body
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(m, str) and m.strip() for m in messages), body
    return body


def test_request_errors_answer_json(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    stranger = client.post("/v1/reports", json=BODY)
    assert stranger.status_code == 401
    assert error_of(stranger, 401)["message"] == "missing bearer token"
    assert stranger.headers["WWW-Authenticate"].startswith("Bearer")
    staff = post(client, token_for(role="investigator"), BODY)
    assert staff.status_code == 403
    assert "partner" in error_of(staff, 403)["message"]
    no_key = client.post("/v1/reports", json=BODY, headers=partner)
    assert no_key.status_code == 422 and "Idempotency-Key" in body_of(no_key)["errors"]
    assert list(error_of(no_key, 422)["errors"]) == ["Idempotency-Key"]
    text = client.post(
        "/v1/reports", data="x", content_type="text/plain", headers={**partner, "Idempotency-Key": "k"}
    )
    assert text.status_code == 415
    assert "application/json" in error_of(text, 415)["message"]
    broken = client.post(
        "/v1/reports",
        data="{oops",
        content_type="application/json",
        headers={**partner, "Idempotency-Key": "k"},
    )
    assert broken.status_code == 400
    assert error_of(broken, 400)["message"].startswith("malformed JSON")
    huge_number = client.post(
        "/v1/reports",
        data='{"known_at": ' + "1" * 5000 + "}",
        content_type="application/json",
        headers={**partner, "Idempotency-Key": "k"},
    )
    assert huge_number.status_code == 400
    assert error_of(huge_number, 400)["message"].startswith("malformed JSON")
    # Invalid fields: one list of messages per dotted field name.
    invalid = copy.deepcopy(BODY)
    invalid["election"]["type"] = "PILKADES"
    invalid["subject"]["nip"] = "198513122010011004"
    assert set(error_of(post(client, partner, invalid, key="bad"), 422)["errors"]) >= {
        "election.type",
        "subject.nip",
    }
    # Errors werkzeug raises before any view runs answer in the same shape.
    too_large = client.post(
        "/v1/reports",
        data=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
        content_type="application/json",
        headers={**partner, "Idempotency-Key": "k"},
    )
    error_of(too_large, 413)
    error_of(client.get("/v1/no-such-route", headers=partner), 404)
    wrong_method = client.delete("/v1/reports", headers=partner)
    error_of(wrong_method, 405)
    assert "POST" in wrong_method.headers["Allow"]
    error_of(client.get("/v1/reports/00000000-0000-0000-0000-000000000000", headers=partner), 404)


def test_staff_list_cases_with_filters_and_pagination(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    nips = ["198503122010011004", "199001012015031002", "198812252012122001"]
    for n, nip in enumerate(nips):
        body = copy.deepcopy(BODY)
        body["subject"]["nip"] = nip
        body["source_ref"] = f"ref-{n}"
        if n == 2:
            body["incident"]["regency"] = "Badung"
        assert post(client, partner, body, key=f"k{n}").status_code == 201
    # A supervisor of the subject's agency (shared.scope; the matrix: tests/api/test_read_scope.py).
    staff = token_for(role="supervisor", agency=BODY["subject"]["agency"])
    everything = client.get("/v1/cases?page_size=2", headers=staff)
    assert everything.status_code == 200
    assert len(everything.get_json()) == 2
    assert json.loads(everything.headers["X-Pagination"])["total"] == 3
    badung = client.get("/v1/cases?regency=Badung", headers=staff).get_json()
    assert [c["regency"] for c in badung] == ["Badung"]
    assert client.get("/v1/cases?stage=NOPE", headers=staff).status_code == 422
    assert client.get("/v1/cases", headers=partner).status_code == 403


def test_staff_read_one_case_and_its_hash_chained_events(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    created = body_of(post(client, partner, BODY))
    staff = token_for(role="supervisor", agency=BODY["subject"]["agency"])
    case = client.get(f"/v1/cases/{created['case_id']}", headers=staff)
    assert case.status_code == 200
    assert body_of(case)["case_number"] == created["case_number"]
    assert [r["report_id"] for r in body_of(case)["reports"]] == [created["report_id"]]
    events = client.get(f"/v1/cases/{created['case_id']}/events", headers=staff).get_json()
    envelopes = [e["envelope"] for e in events]
    assert [e["stream_version"] for e in envelopes] == [1, 2]
    assert envelopes[1]["prev_hash"] == envelopes[0]["hash"]
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/v1/cases/{missing}", headers=staff).status_code == 404


def incomplete_body() -> dict[str, Any]:
    body = copy.deepcopy(BODY)
    del body["reporter"]["address"]  # a Bawaslu laporan must name the reporter's address
    return body


def test_an_incomplete_report_is_completed_by_a_supplement_and_registered(
    intake: Flask, partner: dict[str, str]
) -> None:
    client = intake.test_client()
    created = body_of(post(client, partner, incomplete_body()))
    assert created["status"] == "INCOMPLETE"
    assert created["missing"] == ["reporter.address"]
    url = f"/v1/reports/{created['report_id']}/supplements"
    completed = client.post(url, json={"reporter": {"address": "Jl. Contoh 1, Tabanan"}}, headers=partner)
    assert completed.status_code == 200, completed.get_json()
    assert (body_of(completed)["status"], body_of(completed)["case_number"]) == (
        "REGISTERED",
        created["case_number"],
    )
    assert body_of(completed)["reporting_deadline"] == created["reporting_deadline"]
    assert created["reporting_deadline"]["due_on"] == "2024-10-15"
    kinds = [e["event_type"] for e in events_of(intake, created["case_id"])]
    assert kinds == [
        "intake.report_received",
        "intake.report_marked_incomplete",
        "intake.report_supplemented",
        "intake.case_registered",
    ]
    assert (
        body_of(client.get(f"/v1/reports/{created['report_id']}", headers=partner))["status"] == "REGISTERED"
    )
    again = client.post(url, json={"reporter": {"contact": "x"}}, headers=partner)
    assert again.status_code == 409


def test_a_supplement_is_refused_when_it_makes_the_report_invalid_or_is_not_ours(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    client = intake.test_client()
    created = body_of(post(client, partner, incomplete_body()))
    url = f"/v1/reports/{created['report_id']}/supplements"
    invalid = client.post(url, json={"known_at": "2030-01-01"}, headers=partner)
    assert invalid.status_code == 422 and "known_at" in body_of(invalid)["errors"]
    assert (
        client.post(url, json={"reporter": {"address": "x"}}, headers=token_for(agency="Other")).status_code
        == 404
    )
    assert client.post(url, json=["not", "an", "object"], headers=partner).status_code == 422


def test_a_partner_with_a_webhook_is_told_its_report_was_received(
    intake: Flask, partner: dict[str, str], token_for: Callable[..., dict[str, str]], clock: ManualClock
) -> None:
    client = intake.test_client()
    other = token_for(agency="Inspektorat Provinsi Bali", channel="INSPEKTORAT")
    secrets = {"Bawaslu Kab. Tabanan": "s" * 24, "Inspektorat Provinsi Bali": "i" * 24}
    paths = {"Bawaslu Kab. Tabanan": "/hooks/bawaslu", "Inspektorat Provinsi Bali": "/hooks/inspektorat?x=1"}
    with partner_server() as server:
        hook = {"url": server.url(paths["Bawaslu Kab. Tabanan"]), "secret": secrets["Bawaslu Kab. Tabanan"]}
        assert client.put("/v1/webhook", json=hook, headers=partner).status_code == 200
        first = body_of(post(client, partner, BODY))
        hook = {
            "url": server.url(paths["Inspektorat Provinsi Bali"]),
            "secret": secrets["Inspektorat Provinsi Bali"],
        }
        assert client.put("/v1/webhook", json=hook, headers=other).status_code == 200
        linked = body_of(post(client, other, {**BODY, "source_ref": "INSP-1"}, key="other-1"))
        assert linked["status"] == "LINKED"
        with runtime(intake).engine.connect() as conn:
            queued = conn.execute(
                sa.text("SELECT id, partner, report_id, stage FROM webhook_deliveries ORDER BY id")
            ).all()
        assert [(q.partner, str(q.report_id), q.stage) for q in queued] == [
            ("Bawaslu Kab. Tabanan", first["report_id"], "RECEIVED"),
            ("Inspektorat Provinsi Bali", linked["report_id"], "RECEIVED"),  # only the new report's partner
        ]
        # The real delivery worker sends the queue to the partner's real HTTP server.
        assert server.received == []
        worker = WebhookWorker(
            runtime(intake).engine,
            clock,
            timeout=5,
            policy=destination_policy(intake),
            keys=runtime(intake).keys,
        )
        assert worker.run_once() == 2
        received = list(server.received)

    # What each partner's server got: one signed POST about its own report, nothing else.
    assert len(received) == 2, received
    received_of = {
        "Bawaslu Kab. Tabanan": (first, received[0], queued[0].id),
        "Inspektorat Provinsi Bali": (linked, received[1], queued[1].id),
    }
    for name, (report, request, delivery_id) in received_of.items():
        assert (request.method, request.path) == ("POST", paths[name])
        assert request.header("Content-Type") == "application/json"
        assert json.loads(request.body) == {
            "report_id": report["report_id"],
            "case_id": report["case_id"],
            "stage": "RECEIVED",
            "at": clock.now().isoformat(),
            "event_id": received_event_id(intake, report),
        }
        signature = request.header(SIGNATURE_HEADER)
        assert signature is not None and signature.startswith("sha256=")
        assert verify(secrets[name], request.body, signature)
        assert not verify(secrets[next(n for n in secrets if n != name)], request.body, signature)
        assert request.header(DELIVERY_HEADER) == str(delivery_id)
    # Both reports are on one case: the partners learn that case, each of its own report.
    assert first["case_id"] == linked["case_id"] and first["report_id"] != linked["report_id"]
    # The partner's own view of its deliveries says the server took it.
    [mine] = client.get("/v1/webhook/deliveries", headers=partner).get_json()
    assert (mine["id"], mine["status"], mine["attempts"], mine["last_status_code"]) == (
        queued[0].id,
        "DELIVERED",
        1,
        200,
    )


def received_event_id(app: Flask, report: dict[str, Any]) -> str:
    """The id of the ``intake.report_received`` event that recorded ``report``."""
    [found] = [
        e["event_id"]
        for e in events_of(app, report["case_id"])
        if e["event_type"] == "intake.report_received"
        and e["payload"].get("report_id") == report["report_id"]
    ]
    return str(found)
