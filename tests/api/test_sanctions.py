"""The officials' API against a real sanctions app and PostgreSQL: roles and agency, the
offices a token holds, If-Match, 409 naming the allowed actions, 422 naming the rule and its
article, and the read models."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.clock import ManualClock
from shared.keyring import seal
from shared.web.runtime import runtime
from tests.api.test_sanctions_support import command, js, refer, referral

pytest_plugins = ("tests.api.test_sanctions_support",)


@pytest.fixture
def client(sanctions: Flask) -> FlaskClient:
    """The sanctions app's client (tests/api/conftest.py's ``client`` is intake's)."""
    return sanctions.test_client()


DECISION = {
    "penalty": "B2",
    "decided_on": "2024-12-09",
    "reason": "N4 + N6: state facilities, partisan gathering",
}
SHA = "c" * 64


def test_an_official_sees_the_referred_case_with_its_options_and_version(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    case_id = refer(sanctions)
    answer = client.get(f"/v1/cases/{case_id}", headers=official)
    assert answer.status_code == 200, js(answer)
    body = js(answer)
    assert answer.headers["ETag"] == '"1"'
    assert (body["state"], body["version"], body["allowed_actions"]) == ("REFERRED", 1, ["decision"])
    assert body["rule_set"] == "sanctions-pp94-2021.1"
    options = {o["code"]: o["may_sign"] for o in body["penalty_options"]}
    assert options == {
        "B1": ["PPK_KABUPATEN_KOTA"],
        "B2": ["PPK_KABUPATEN_KOTA"],
        "B3": ["PPK_KABUPATEN_KOTA"],
    }
    assert [d["kind"] for d in body["deadlines"]] == ["ppk_follow_up"]
    assert body["timeline"][0]["event_type"] == "sanctions.referral_received"


def test_only_the_subjects_agency_and_readers_see_a_case(
    sanctions: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    case_id = refer(sanctions)
    other = token_for(agency="Pemerintah Provinsi Lampung", who="bkd.lampung")
    assert client.get(f"/v1/cases/{case_id}", headers=other).status_code == 404
    assert client.get(f"/v1/cases/{case_id}/events", headers=other).status_code == 404
    assert command(client, other, case_id, "decision", DECISION, 1).status_code == 404
    assert js(client.get("/v1/cases", headers=other)) == []
    auditor = token_for(role="auditor", agency=None, who="auditor")
    refused = client.get(f"/v1/cases/{case_id}", headers=auditor)
    assert refused.status_code == 403 and "auditor app" in js(refused)["message"]  # reads there are recorded
    assert command(client, auditor, case_id, "decision", DECISION, 1).status_code == 403
    assert (
        client.get(f"/v1/cases/{case_id}", headers=token_for(role="partner", who="bawaslu")).status_code
        == 403
    )
    assert client.get(f"/v1/cases/{case_id}").status_code == 401


def test_a_command_needs_the_current_version_in_if_match(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    case_id = refer(sanctions)
    assert command(client, official, case_id, "decision", DECISION, None).status_code == 428
    stale = command(client, official, case_id, "decision", DECISION, 0)
    assert (stale.status_code, js(stale)["current_version"], stale.headers["ETag"]) == (412, 1, '"1"')
    done = command(client, official, case_id, "decision", DECISION, 1)
    assert done.status_code == 200, js(done)
    assert done.headers["ETag"] == '"2"'
    assert js(done)["events"] == ["sanctions.decision_issued"]
    assert (js(done)["state"], js(done)["allowed_actions"]) == ("DECIDED", ["decree"])


def test_a_step_out_of_order_is_409_naming_the_state_and_the_allowed_actions(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    case_id = refer(sanctions)
    command(client, official, case_id, "decision", DECISION, 1)
    refused = command(client, official, case_id, "delivery", {"received_on": "2024-12-10"}, 2)
    assert refused.status_code == 409
    assert (js(refused)["state"], js(refused)["allowed_actions"]) == ("DECIDED", ["decree"])
    again = command(client, official, case_id, "decision", DECISION, 2)
    assert again.status_code == 409


def test_a_decision_breaking_the_law_is_422_naming_field_rule_and_article(
    sanctions: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    # Holding both offices, so that signing as JPT_PRATAMA reaches the authority in law.
    official = token_for(offices=("PPK_KABUPATEN_KOTA", "JPT_PRATAMA"))
    case_id = refer(sanctions)
    lighter = command(client, official, case_id, "decision", {**DECISION, "penalty": "S2L"}, 1)
    assert lighter.status_code == 422
    assert list(js(lighter)["errors"]) == ["penalty"]
    assert js(lighter)["rules"][0]["rule"] == "PENALTY_NOT_LIGHTER_THAN_FINDING (PP 94/2021 Ps 24)"
    two = command(client, official, case_id, "decision", {**DECISION, "penalty": ["B2", "B1"]}, 1)
    assert two.status_code == 422 and "Ps 33(2)" in js(two)["rules"][0]["rule"]
    signer = {**DECISION, "signed_as": "JPT_PRATAMA", "relation": "ONE_LEVEL_UP"}
    unauthorised = command(client, official, case_id, "decision", signer, 1)
    assert unauthorised.status_code == 422
    assert list(js(unauthorised)["errors"]) == ["signed_as"]
    assert "may impose RINGAN over this employee, so not B2" in js(unauthorised)["errors"]["signed_as"][0]
    malformed = command(client, official, case_id, "decision", {"penalty": "B2", "decided_on": "9 Dec"}, 1)
    assert malformed.status_code == 422 and list(js(malformed)["errors"]) == ["decided_on"]
    unknown = command(client, official, case_id, "decision", {**DECISION, "fine": 5}, 1)
    assert unknown.status_code == 422 and list(js(unknown)["errors"]) == ["fine"]
    # Nothing was recorded by any refusal.
    assert js(client.get(f"/v1/cases/{case_id}", headers=official))["version"] == 1


# --- the capacity signed in is bound to the token (netra token create --office) ------------


def test_signing_in_an_office_the_token_does_not_hold_is_403_naming_it(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    """The official holds PPK_KABUPATEN_KOTA; JPT_PRATAMA is listed in the referral, not held."""
    case_id = refer(sanctions)
    signer = {**DECISION, "signed_as": "JPT_PRATAMA", "relation": "ONE_LEVEL_UP"}
    refused = command(client, official, case_id, "decision", signer, 1)
    assert refused.status_code == 403, js(refused)
    body = js(refused)
    assert (body["office"], body["held_offices"]) == ("JPT_PRATAMA", ["PPK_KABUPATEN_KOTA"])
    assert body["message"].startswith("Token ini tidak memegang jabatan JPT_PRATAMA; ")
    assert "does not hold the office JPT_PRATAMA; it holds: PPK_KABUPATEN_KOTA" in body["message"]
    assert list(body["errors"]) == ["signed_as"]
    assert body["rules"][0]["field"] == "signed_as" and body["rules"][0]["rule"].startswith("OFFICE_HELD")
    assert js(client.get(f"/v1/cases/{case_id}", headers=official))["version"] == 1


def test_signing_in_an_office_the_token_holds_is_recorded_in_it(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    case_id = refer(sanctions)
    done = command(client, official, case_id, "decision", {**DECISION, "signed_as": "PPK_KABUPATEN_KOTA"}, 1)
    assert done.status_code == 200, js(done)
    decision = js(client.get(f"/v1/cases/{case_id}", headers=official))["decision"]
    assert decision["signed_as"]["official"] == "PPK_KABUPATEN_KOTA"


def test_without_signed_as_the_token_must_hold_the_deciding_officials_office(
    sanctions: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    case_id = refer(sanctions)  # deciding official: PPK_KABUPATEN_KOTA
    superior = token_for(offices=("JPT_PRATAMA",), who="kadis")
    refused = command(client, superior, case_id, "decision", DECISION, 1)
    assert refused.status_code == 403, js(refused)
    assert js(refused)["office"] == "PPK_KABUPATEN_KOTA"
    assert "signed_as kosong" in js(refused)["message"]
    assert "the referral's deciding official, as signed_as is omitted" in js(refused)["message"]
    # A token with no office at all signs nothing.
    clerk = token_for(offices=(), who="staf.bkpsdm")
    bare = command(client, clerk, case_id, "decision", DECISION, 1)
    assert bare.status_code == 403 and js(bare)["held_offices"] == []
    assert "jabatan token ini: tidak ada" in js(bare)["message"]
    # The holder signs it; the other commands are not bound to an office.
    holder = token_for(offices=("JPT_PRATAMA", "PPK_KABUPATEN_KOTA"))
    done = command(client, holder, case_id, "decision", DECISION, 1)
    assert done.status_code == 200, js(done)
    decree = {"number": "800/77/BKPSDM/2024", "issued_on": "2024-12-09", "document_sha256": SHA}
    assert command(client, clerk, case_id, "decree", decree, 2).status_code == 200


def test_the_list_filters_by_state_penalty_and_appeal(
    sanctions: Flask, client: FlaskClient, official: dict[str, str]
) -> None:
    decided, waiting = refer(sanctions), refer(sanctions)
    command(client, official, decided, "decision", DECISION, 1)

    def ids(**query: Any) -> set[str]:
        answer = client.get("/v1/cases", query_string=query, headers=official)
        assert answer.status_code == 200, js(answer)
        return {c["case_id"] for c in js(answer)}

    assert ids() == {decided, waiting}
    assert ids(state="DECIDED") == {decided}
    assert ids(state="REFERRED") == {waiting}
    assert ids(penalty="B2") == {decided}
    assert ids(appeal_pending="true") == set()
    assert ids(in_force="false") == {decided, waiting}
    assert client.get("/v1/cases", query_string={"state": "NOPE"}, headers=official).status_code == 422


def test_the_events_of_a_case_are_served_as_stored(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], sanctions_clock: ManualClock
) -> None:
    case_id = refer(sanctions)
    command(client, official, case_id, "decision", DECISION, 1)
    events = js(client.get(f"/v1/cases/{case_id}/events", headers=official))
    assert [e["envelope"]["event_type"] for e in events] == [
        "sanctions.referral_received",
        "sanctions.decision_issued",
    ]
    decision = events[1]["envelope"]
    assert decision["actor"] == {"id": "kepala.bkpsdm", "role": "official"}
    assert decision["rule_set"] == "sanctions-pp94-2021.1"
    assert decision["payload"]["inputs"]["clock"] == datetime(2024, 12, 10, 3, tzinfo=UTC).isoformat()
    assert decision["causation_id"] is None


def test_the_openapi_document_shows_every_command_with_if_match_and_its_refusals(client: FlaskClient) -> None:
    spec = js(client.get("/openapi.json"))
    paths = spec["paths"]
    for action in (
        "decision",
        "decree",
        "delivery",
        "objection",
        "objection/decision",
        "appeal",
        "objection/answer",
        "appeal/answer",
        "appeal/decision",
        "execution/completion",
    ):
        post = paths[f"/v1/cases/{{case_id}}/{action}"]["post"]
        assert {"409", "412", "422", "428"} <= set(post["responses"]), action
        assert any(p["name"] == "If-Match" and p["required"] for p in post["parameters"]), action
    decision = paths["/v1/cases/{case_id}/decision"]["post"]
    assert "lighter" in decision["description"]
    assert "403" in decision["responses"] and "office" in decision["responses"]["403"]["description"]
    assert {"get"} <= set(paths["/v1/cases"]) and "/v1/cases/{case_id}/events" in paths
    # The shared events view documents itself in each service's OpenAPI.
    assert paths["/v1/cases/{case_id}/events"]["get"]["summary"].startswith(
        "The sanctions service's events of the case"
    )


def test_the_official_reads_who_the_sealed_employee_is_and_an_administrator_does_not(
    sanctions: Flask, client: FlaskClient, official: dict[str, str], token_for: Callable[..., dict[str, str]]
) -> None:
    keys = runtime(sanctions).keys
    subject = "person/bi1:" + "ab" * 32
    who = {"name": "Budi Santoso", "nip": "198503122010011004"}
    payload = referral()
    for name in ("nip", "ni_pppk", "name"):
        del payload["subject"][name]
    payload["subject"]["identity"] = seal(keys.create(subject, owner="intake"), subject, who)
    case_id = refer(sanctions, payload)
    shown = js(client.get(f"/v1/cases/{case_id}", headers=official))
    assert (shown["employee"], shown["employee_name"]) == (who, "Budi Santoso")
    assert [(purpose, actor) for purpose, actor, _ in keys.uses(subject)] == [("read-case", "kepala.bkpsdm")]
    admin = js(client.get(f"/v1/cases/{case_id}", headers=token_for(role="admin", agency=None, who="adm")))
    assert admin["employee"]["sealed"] == "AES-256-GCM" and admin["employee_name"] is None
    assert "Budi Santoso" not in json.dumps(admin)
    keys.erase(subject, actor="dpo", reason="test")
    assert js(client.get(f"/v1/cases/{case_id}", headers=official))["employee"] == {
        "erased": True,
        "subject": subject,
    }
