"""Bearer tokens: the registry on its own, and require_role in front of a view."""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from shared.auth import CACHE_TTL, Identity, TokenRegistry, require_role
from shared.clock import ManualClock
from shared.config import Settings
from shared.db import create_engine
from tests.conftest import NewDatabase


@pytest.fixture
def auth_engine(new_database: NewDatabase) -> Iterator[sa.Engine]:
    engine = create_engine(new_database("auth"))
    yield engine
    engine.dispose()


@pytest.fixture
def registry(auth_engine: sa.Engine, clock: ManualClock) -> TokenRegistry:
    return TokenRegistry(auth_engine, clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the registry -------------------------------------------------------------------------


def test_created_token_verifies_to_its_identity(registry: TokenRegistry) -> None:
    token = registry.create("bawaslu-jabar", "partner", agency="Bawaslu Jawa Barat", channel="BAWASLU")
    assert token.startswith("ntr_") and len(token) > 40
    assert registry.verify(token) == Identity("bawaslu-jabar", "partner", "Bawaslu Jawa Barat", "BAWASLU")


def test_an_official_may_act_for_an_agency_without_a_channel(registry: TokenRegistry) -> None:
    token = registry.create("pybm-kab-bogor", "official", agency="Pemkab Bogor")
    assert registry.verify(token) == Identity("pybm-kab-bogor", "official", "Pemkab Bogor", None)


def test_an_officials_token_carries_the_offices_it_holds(registry: TokenRegistry) -> None:
    token = registry.create(
        "kepala.bkpsdm",
        "official",
        agency="Pemkab Bogor",
        offices=["PPK_KABUPATEN_KOTA", "JPT_PRATAMA", "PPK_KABUPATEN_KOTA"],
    )
    identity = registry.verify(token)
    assert identity is not None and identity.offices == ("PPK_KABUPATEN_KOTA", "JPT_PRATAMA")
    [info] = registry.list()
    assert info.offices == ("PPK_KABUPATEN_KOTA", "JPT_PRATAMA")


def test_two_tokens_for_one_identity_are_different(registry: TokenRegistry) -> None:
    assert registry.create("ina", "investigator") != registry.create("ina", "investigator")


def test_tokens_are_stored_hashed(registry: TokenRegistry, auth_engine: sa.Engine) -> None:
    token = registry.create("ina", "investigator")
    with auth_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM tokens")).all()
    dump = repr([tuple(r) for r in rows])
    assert token not in dump
    assert token.removeprefix("ntr_") not in dump
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "partner", "channel": "BAWASLU"}, "partner token needs an agency"),
        ({"role": "partner", "agency": "BKN"}, "partner token needs a channel"),
        ({"role": "partner", "agency": "BKN", "channel": "EMAIL"}, "unknown channel 'EMAIL'"),
        ({"role": "janitor"}, "unknown role 'janitor'"),
        ({"role": "investigator", "channel": "BKN"}, "only partner tokens have a channel"),
        ({"role": "supervisor", "offices": ["PPK_PUSAT"]}, "only official tokens hold offices"),
        ({"role": "official", "offices": ["ppk pusat"]}, "'ppk pusat' is not an office name"),
        ({"role": "official", "offices": "PPK_PUSAT"}, "a list of office names"),
    ],
)
def test_a_token_that_could_not_be_used_correctly_is_rejected(
    registry: TokenRegistry, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        registry.create("someone", **kwargs)
    assert registry.list() == []


def test_unknown_and_foreign_tokens_verify_to_nobody(registry: TokenRegistry) -> None:
    assert registry.verify("ntr_" + "A" * 43) is None
    assert registry.verify("Basic dXNlcjpwYXNz") is None


def test_a_revoked_token_verifies_to_nobody(registry: TokenRegistry) -> None:
    token = registry.create("ina", "investigator")
    assert registry.verify(token) is not None  # now cached
    registry.revoke(token)
    assert registry.verify(token) is None


def test_revocation_reaches_other_processes_within_the_cache_ttl(
    auth_engine: sa.Engine, clock: ManualClock
) -> None:
    server = TokenRegistry(auth_engine, clock)  # a service process
    admin = TokenRegistry(auth_engine, clock)  # the CLI revoking from elsewhere
    token = admin.create("ina", "investigator")
    assert server.verify(token) is not None

    admin.revoke(token)
    clock.advance(CACHE_TTL - timedelta(seconds=1))
    assert server.verify(token) is not None  # the documented window
    clock.advance(timedelta(seconds=2))
    assert server.verify(token) is None


def test_a_token_is_revoked_by_a_prefix_of_its_hash(registry: TokenRegistry) -> None:
    token = registry.create("ina", "investigator")
    digest = registry.revoke(registry.list()[0].token_hash[:10])
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert registry.verify(token) is None
    [info] = registry.list()
    assert info.revoked_at is not None


def test_revoking_again_keeps_the_first_revocation_time(registry: TokenRegistry, clock: ManualClock) -> None:
    token = registry.create("ina", "investigator")
    registry.revoke(token)
    first = registry.list()[0].revoked_at
    clock.advance(timedelta(hours=1))
    registry.revoke(token)
    assert registry.list()[0].revoked_at == first


@pytest.mark.parametrize(("given", "message"), [("abc", "at least 8 hex digits"), ("ffffffffff", "no token")])
def test_revoke_refuses_a_short_or_unknown_prefix(registry: TokenRegistry, given: str, message: str) -> None:
    registry.create("ina", "investigator")
    with pytest.raises(ValueError, match=message):
        registry.revoke(given)


def test_list_shows_who_and_when_but_never_the_token(registry: TokenRegistry, clock: ManualClock) -> None:
    token = registry.create("bkn-pusat", "partner", agency="BKN", channel="BKN")
    [info] = registry.list()
    assert (info.identity, info.role, info.agency, info.channel) == ("bkn-pusat", "partner", "BKN", "BKN")
    assert info.offices == ()
    assert info.created_at == clock.now()
    assert info.revoked_at is None
    assert token not in repr(info)


def test_require_role_refuses_a_role_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="investigatr"):
        require_role("investigatr")


# --- require_role in front of a view -------------------------------------------------------


def test_missing_token_answers_401_with_www_authenticate(client: FlaskClient) -> None:
    response = client.get("/probe/casework")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["message"] == "missing bearer token"


def test_unknown_token_answers_401_with_www_authenticate(client: FlaskClient) -> None:
    response = client.get("/probe/casework", headers=bearer("ntr_" + "A" * 43))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json() == {
        "code": 401,
        "status": "Unauthorized",
        "message": "unknown or revoked token",
    }


def test_another_scheme_answers_401(client: FlaskClient) -> None:
    response = client.get("/probe/casework", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


def test_wrong_role_answers_403(client: FlaskClient, tokens: TokenRegistry) -> None:
    token = tokens.create("bawaslu-jabar", "partner", agency="Bawaslu Jawa Barat", channel="BAWASLU")
    response = client.get("/probe/casework", headers=bearer(token))
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == 403 and "investigator or supervisor" in body["message"]


def test_an_allowed_role_reaches_the_view_as_its_identity(client: FlaskClient, tokens: TokenRegistry) -> None:
    token = tokens.create("sari", "supervisor", agency="BKN")
    response = client.get("/probe/casework", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json() == {"id": "sari", "role": "supervisor", "agency": "BKN"}


def test_scheme_name_is_case_insensitive(client: FlaskClient, tokens: TokenRegistry) -> None:
    token = tokens.create("ina", "investigator")
    assert client.get("/probe/casework", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_revoked_token_answers_401(client: FlaskClient, tokens: TokenRegistry) -> None:
    token = tokens.create("ina", "investigator")
    assert client.get("/probe/casework", headers=bearer(token)).status_code == 200
    tokens.revoke(token)
    assert client.get("/probe/casework", headers=bearer(token)).status_code == 401


def test_the_token_never_reaches_the_log(
    client: FlaskClient, tokens: TokenRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    token = tokens.create("ina", "investigator")
    with caplog.at_level(logging.DEBUG):
        client.get("/probe/casework", headers=bearer(token))
        client.get("/probe/boom", headers=bearer(token))
        client.get(f"/healthz?token={token}", headers=bearer(token))
    assert caplog.records  # the requests were logged...
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged  # ...without the token


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("adjudication", "/v1/cases/5d2a8e94-7b0c-4b8e-8f0e-6c1f2a3b4c5d/assignment"),
        ("sanctions", "/v1/cases/5d2a8e94-7b0c-4b8e-8f0e-6c1f2a3b4c5d/decision"),
        ("adjudication", "/v1/cases?state=NOT_A_STATE"),
    ],
)
def test_a_stranger_is_told_401_before_anything_about_the_body_or_query(
    api_settings: Settings, new_database: NewDatabase, service: str, path: str
) -> None:
    urls = {**api_settings.database_urls, service: new_database(service)}
    app = importlib.import_module(f"services.{service}").create_app(replace(api_settings, database_urls=urls))
    client = app.test_client()
    answer = client.open(path, method="GET" if "?" in path else "POST", json={}, headers={"If-Match": '"1"'})
    assert answer.status_code == 401, answer.get_json()
