"""PUT /v1/webhook and GET /v1/webhook/deliveries against a real intake app and database."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services.intake import create_app
from services.intake.store import webhooks as policy
from services.intake.store.webhooks import enqueue_stage_change, open_secret, verify
from services.intake.web.webhooks import RESOLVER, SECRET_KEY_ERASED, destination_policy
from services.intake.webhook_worker import NOT_SENT, SECRET_ERASED, WebhookWorker, build_webhook_worker
from shared.clock import ManualClock
from shared.config import Settings
from shared.keyring import is_sealed
from shared.web.runtime import runtime
from tests.api import test_reports
from tests.api.test_reports import BODY, post
from tests.support.partner_server import HOST, Dns, allow_listed, partner_server

# The report tests' fixtures, shared by name: pytest finds fixtures in the module namespace.
partner = test_reports.partner
token_for = test_reports.token_for

SECRET = "0123456789abcdef-secret"
PARTNER_ID = "Bawaslu Kab. Tabanan"  # the identity of test_reports' partner token
PUBLIC = "93.184.215.14"  # a public address; nothing is sent to it in these tests


@pytest.fixture
def dns() -> Dns:
    """The app's DNS: partner.example is public, the partner server's host is 127.0.0.1, and
    each of the other names is one kind of address a webhook must not reach."""
    return Dns(
        {
            HOST: ["127.0.0.1"],
            "partner.example": [PUBLIC],
            "partner6.example": ["2606:4700::1111"],
            "localhost": ["127.0.0.1", "::1"],
            "intranet.example": ["10.20.30.40"],
            "metadata.example": ["169.254.169.254"],
            "mixed.example": [PUBLIC, "192.168.1.10"],
            "mapped.example": ["::ffff:10.0.0.1"],
            "ula.example": ["fd00::1"],
            "multicast.example": ["224.0.0.1"],
            "sixtofour.example": ["2002:7f00:1::1"],
        }
    )


@pytest.fixture
def intake(api_settings: Settings, clock: ManualClock, dns: Dns) -> Iterator[Flask]:
    """Intake as test_reports builds it (the partner server's host allow-listed), with ``dns``."""
    app = create_app(allow_listed(api_settings), clock=clock)
    app.extensions[RESOLVER] = dns
    yield app
    runtime(app).close()


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
        "/v1/webhook", json={"url": f"http://{HOST}:9/hook", "secret": "x" * 16}, headers=partner
    )
    assert replaced.status_code == 200
    assert "x" * 16 not in replaced.get_data(as_text=True)
    with runtime(intake).engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT partner, url, secret FROM webhooks")).all()
    assert [(r.partner, r.url) for r in rows] == [(PARTNER_ID, f"http://{HOST}:9/hook")]
    # Stored sealed under the partner's own key, which opens it to the replacing secret.
    [row] = rows
    assert is_sealed(row.secret) and row.secret["subject"] == f"webhook/{PARTNER_ID}"
    keys = runtime(intake).keys
    assert open_secret(keys, PARTNER_ID, row.secret, actor="test") == "x" * 16
    assert SECRET not in json.dumps(intake.test_client().get("/openapi.json").json)


# Every kind of URL a partner could use to make Netra POST into its own network, and the
# rule that refuses it. The messages are policy's own; none names an address.
FORBIDDEN = [
    ("https://127.0.0.1/hook", policy.NOT_PUBLIC),
    ("https://localhost/hook", policy.NOT_PUBLIC),
    ("https://[::1]/hook", policy.NOT_PUBLIC),
    ("https://[::]/hook", policy.NOT_PUBLIC),
    ("https://0.0.0.0/hook", policy.NOT_PUBLIC),
    ("https://169.254.169.254/latest/meta-data/", policy.NOT_PUBLIC),
    ("https://10.1.2.3/hook", policy.NOT_PUBLIC),
    ("https://192.168.1.10/hook", policy.NOT_PUBLIC),
    ("https://172.16.0.1/hook", policy.NOT_PUBLIC),
    ("https://172.31.255.254/hook", policy.NOT_PUBLIC),
    ("https://100.64.0.1/hook", policy.NOT_PUBLIC),
    ("https://[::ffff:127.0.0.1]/hook", policy.NOT_PUBLIC),
    ("https://[::ffff:a9fe:a9fe]/hook", policy.NOT_PUBLIC),
    ("https://[fe80::1]/hook", policy.NOT_PUBLIC),
    ("https://[fd00::1]/hook", policy.NOT_PUBLIC),
    ("https://224.0.0.1/hook", policy.NOT_PUBLIC),
    ("https://240.0.0.1/hook", policy.NOT_PUBLIC),
    ("https://255.255.255.255/hook", policy.NOT_PUBLIC),
    ("https://intranet.example/hook", policy.NOT_PUBLIC),
    ("https://metadata.example/hook", policy.NOT_PUBLIC),
    ("https://mixed.example/hook", policy.NOT_PUBLIC),
    ("https://mapped.example/hook", policy.NOT_PUBLIC),
    ("https://ula.example/hook", policy.NOT_PUBLIC),
    ("https://multicast.example/hook", policy.NOT_PUBLIC),
    ("https://sixtofour.example/hook", policy.NOT_PUBLIC),
    ("https://0x7f000001/hook", policy.NUMERIC_HOST),
    ("https://2130706433/hook", policy.NUMERIC_HOST),
    ("https://0177.0.0.1/hook", policy.NUMERIC_HOST),
    ("https://127.1/hook", policy.NUMERIC_HOST),
    ("https://0x7f.0.0.1/hook", policy.NUMERIC_HOST),
    ("https://1.2.3.4.5/hook", policy.NUMERIC_HOST),
    ("https://user:pw@partner.example/hook", policy.NO_USERINFO),
    ("https://user@partner.example/hook", policy.NO_USERINFO),
    ("http://partner.example/hook", policy.NEEDS_HTTPS),
    ("http://127.0.0.1:9/hook", policy.NEEDS_HTTPS),
    ("ftp://partner.example/hook", policy.NEEDS_HTTPS),
    ("https://partner.example/hook#top", policy.NO_FRAGMENT),
    ("https://[fe80::1%25eth0]/hook", policy.BAD_HOST),
    ("https://%31%32%37.0.0.1/hook", policy.BAD_HOST),
    ("https://nowhere.example/hook", policy.UNRESOLVED),
    ("https://partner.example\\@127.0.0.1/hook", policy.NOT_A_URL),
    ("https:///hook", policy.NOT_A_URL),
    ("https://partner.example:0/hook", policy.NOT_A_URL),
]


@pytest.mark.parametrize(("url", "reason"), FORBIDDEN, ids=[u for u, _ in FORBIDDEN])
def test_a_url_into_our_own_network_is_refused_at_registration_naming_url(
    intake: Flask, partner: dict[str, str], url: str, reason: str
) -> None:
    response = intake.test_client().put("/v1/webhook", json={"url": url, "secret": SECRET}, headers=partner)
    assert response.status_code == 422, response.data
    body = json_of(response)
    assert body["errors"] == {"url": [reason]}
    # Bahasa Indonesia first, then English; no address any name resolved to.
    indonesian, english = reason.split(" / ", 1)
    assert indonesian and english
    for address in ("127.0.0.1", "10.20.30.40", "169.254.169.254", "192.168.1.10", "::1"):
        assert address not in response.get_data(as_text=True).replace(url, "")
    with runtime(intake).engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM webhooks")).scalar_one() == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://partner.example/netra",
        "https://PARTNER.example:8443/netra?x=1",
        "https://partner6.example/netra",
        "https://93.184.215.14/netra",
        "https://[2606:4700::1111]/netra",
        f"http://{HOST}:9000/hook",  # allow-listed by the administrator, so http and 127.0.0.1
        f"https://{HOST}/hook",
    ],
)
def test_https_to_public_addresses_and_http_to_allow_listed_hosts_are_accepted(
    intake: Flask, partner: dict[str, str], url: str
) -> None:
    response = intake.test_client().put("/v1/webhook", json={"url": url, "secret": SECRET}, headers=partner)
    assert response.status_code == 200, response.data
    assert json_of(response)["url"] == url


def test_an_allow_listed_host_still_may_not_reach_link_local_or_unspecified_addresses(
    intake: Flask, partner: dict[str, str], dns: Dns
) -> None:
    for answer in ("169.254.169.254", "0.0.0.0", "fe80::1", "224.0.0.1"):
        dns.answers[HOST] = [answer]
        response = intake.test_client().put(
            "/v1/webhook", json={"url": f"http://{HOST}:9/hook", "secret": SECRET}, headers=partner
        )
        assert response.status_code == 422, (answer, response.data)
        assert json_of(response)["errors"] == {"url": [policy.NOT_PUBLIC]}


def test_a_bad_url_and_a_bad_secret_are_named_together_without_looking_the_host_up(
    intake: Flask, partner: dict[str, str], dns: Dns
) -> None:
    client = intake.test_client()
    both = client.put(
        "/v1/webhook", json={"url": "https://user:pw@x.example/", "secret": "short"}, headers=partner
    )
    assert both.status_code == 422
    assert json_of(both)["errors"]["url"] == [policy.NO_USERINFO] and "secret" in json_of(both)["errors"]
    only_secret = client.put(
        "/v1/webhook", json={"url": "https://partner.example/", "secret": "s"}, headers=partner
    )
    assert set(json_of(only_secret)["errors"]) == {"secret"}
    assert dns.asked == []  # a request refused anyway costs no DNS lookup


def test_a_registered_host_whose_dns_turns_internal_gets_nothing_and_learns_nothing(
    intake: Flask, partner: dict[str, str], dns: Dns, clock: ManualClock
) -> None:
    """DNS rebinding: the name was public at registration and is 127.0.0.1 at delivery, where
    a server listens. The worker asks the same DNS again, refuses, and sends nothing."""
    client = intake.test_client()
    with partner_server() as server:
        url = f"https://partner.example:{server.port}/hook"
        assert (
            client.put("/v1/webhook", json={"url": url, "secret": SECRET}, headers=partner).status_code == 200
        )
        post(client, partner, BODY)  # queues the RECEIVED notice
        dns.answers["partner.example"] = ["127.0.0.1"]
        worker = WebhookWorker(
            runtime(intake).engine,
            clock,
            keys=runtime(intake).keys,
            timeout=5,
            policy=destination_policy(intake),
        )
        assert worker.run_once() == 1
        assert server.received == []
    [delivery] = json_of(client.get("/v1/webhook/deliveries", headers=partner))
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "FAILED_RETRYING",
        1,
        None,
    )
    assert delivery["last_error"] == f"{NOT_SENT}: {policy.NOT_PUBLIC}"
    assert "127.0.0.1" not in delivery["last_error"]


def test_the_secret_is_never_logged_at_registration(
    intake: Flask, partner: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = intake.test_client()
    with caplog.at_level(logging.DEBUG):
        assert client.put("/v1/webhook", json=GOOD, headers=partner).status_code == 200
        client.put("/v1/webhook", json={"url": "https://127.0.0.1/", "secret": SECRET}, headers=partner)
    assert caplog.records
    assert all(SECRET not in str(r.__dict__) for r in caplog.records)


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


def database_text(engine: sa.Engine) -> str:
    """Every row of every table of a database, as text."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
                "FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                "AND table_type = 'BASE TABLE'"
            )
        ).scalars()
        return "\n".join(
            str(row)
            for table in list(tables)
            for row in conn.execute(sa.text(f"SELECT t::text FROM {table} t"))
        )


def test_the_registered_secret_is_nowhere_in_intakes_database_and_deliveries_are_still_signed(
    intake: Flask, partner: dict[str, str], api_settings: Settings, clock: ManualClock, dns: Dns
) -> None:
    """The worker as `python -m services.intake webhooks` builds it from its settings opens
    the secret the app sealed: same key store, same KEK."""
    client = intake.test_client()
    with partner_server() as server:
        hook = {"url": server.url(), "secret": SECRET}
        assert client.put("/v1/webhook", json=hook, headers=partner).status_code == 200
        post(client, partner, BODY)  # queues the RECEIVED notice
        text = database_text(runtime(intake).engine)
        assert "webhook/" in text  # the sealed value is there ...
        assert SECRET not in text  # ... and the secret is not, in any table
        assert SECRET.encode().hex() not in text
        worker = build_webhook_worker(allow_listed(api_settings), clock, dns)
        try:
            assert worker.run_once() == 1
        finally:
            worker.engine.dispose()
            worker.keys.engine.dispose()
        [got] = server.received
    signature = got.header("X-Netra-Signature")
    assert signature is not None and verify(SECRET, got.body, signature)
    [delivery] = json_of(client.get("/v1/webhook/deliveries", headers=partner))
    assert delivery["status"] == "DELIVERED"
    uses = runtime(intake).keys.uses(f"webhook/{PARTNER_ID}")
    assert [(purpose, actor) for purpose, actor, _ in uses] == [("webhook-sign", "intake-webhooks")]


def test_an_erased_webhook_key_fails_deliveries_with_a_reason_and_registration_with_a_409(
    intake: Flask, partner: dict[str, str], clock: ManualClock
) -> None:
    client = intake.test_client()
    keys = runtime(intake).keys
    with partner_server() as server:
        hook = {"url": server.url(), "secret": SECRET}
        assert client.put("/v1/webhook", json=hook, headers=partner).status_code == 200
        post(client, partner, BODY)
        keys.erase(f"webhook/{PARTNER_ID}", actor="dpo", reason="the partner's secret leaked")
        worker = WebhookWorker(
            runtime(intake).engine, clock, keys=keys, timeout=5, policy=destination_policy(intake)
        )
        assert worker.run_once() == 1
        assert server.received == []

        listed = client.get("/v1/webhook/deliveries", headers=partner)
        assert listed.status_code == 200
        [delivery] = json_of(listed)
        assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
            "FAILED_RETRYING",
            1,
            None,
        )
        assert delivery["last_error"] == f"{NOT_SENT}: {SECRET_ERASED}"

        again = client.put("/v1/webhook", json={**hook, "secret": "a-new-secret-0123"}, headers=partner)
        assert again.status_code == 409, again.data
        assert json_of(again)["message"] == SECRET_KEY_ERASED
        assert "a-new-secret-0123" not in again.get_data(as_text=True)
        with runtime(intake).engine.connect() as conn:
            assert conn.execute(sa.text("SELECT url FROM webhooks")).scalars().all() == [server.url()]
