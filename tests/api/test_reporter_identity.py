"""The reporter's identity at intake: sealed in every event and in the kept body, read only by
the roles domain.disclosure names, each read recorded on the case, unreadable once erased."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services.intake import create_app
from services.intake.handlers import erase_subject
from services.intake.store.identities import reporter_subject
from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.clock import ManualClock
from shared.config import Settings
from shared.envelope import Actor
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.api.test_reports import events_of

NAME, ADDRESS, CONTACT = "Ni Luh Rahasia Sekali", "Jl. Tersembunyi 7, Tabanan", "+62811999000"
FILER = "Bawaslu Kab. Tabanan"


@pytest.fixture
def intake(api_settings: Settings, clock: ManualClock) -> Iterator[Flask]:
    app = create_app(api_settings, clock=clock)
    yield app
    runtime(app).close()


@pytest.fixture
def bearer(intake: Flask) -> Callable[..., dict[str, str]]:
    def make(role: str, who: str = FILER) -> dict[str, str]:
        channel = "BAWASLU" if role == "partner" else None
        token = runtime(intake).tokens.create(who, role, agency=who, channel=channel)
        return {"Authorization": f"Bearer {token}"}

    return make


def report(intake: Flask, bearer: Callable[..., dict[str, str]], *, confidential: bool) -> dict[str, Any]:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["reporter"] = {"name": NAME, "address": ADDRESS, "contact": CONTACT, "confidential": confidential}
    headers = {**bearer("partner"), "Idempotency-Key": uuid.uuid4().hex}
    created = intake.test_client().post("/v1/reports", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert isinstance(answer, dict)
    return answer


def database_text(engine: sa.Engine) -> str:
    """Every row of every table of a database, as text."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        return "\n".join(
            str(row)
            for table in list(tables)
            for row in conn.execute(sa.text(f'SELECT t::text FROM "{table}" t'))
        )


@pytest.mark.parametrize("confidential", [True, False])
def test_the_identity_is_sealed_in_every_event_and_the_kept_body(
    intake: Flask, bearer: Callable[..., dict[str, str]], confidential: bool
) -> None:
    created = report(intake, bearer, confidential=confidential)
    stored = database_text(runtime(intake).engine)
    for value in (NAME, ADDRESS, CONTACT):
        assert value not in stored
    received = events_of(intake, created["case_id"])[0]
    reporter = received["payload"]["report"]["reporter"]
    assert reporter["confidential"] is confidential
    assert reporter["identity"]["sealed"] == "AES-256-GCM"
    assert reporter["identity"]["subject"] == reporter_subject(created["report_id"])
    # The staff read of the case's events shows the ciphertext, never the clear identity.
    shown = intake.test_client().get(
        f"/v1/cases/{created['case_id']}/events",
        # A supervisor of the subject's agency (shared.scope), named by its agency here.
        headers=bearer("supervisor", CONTRACT_EXAMPLE["subject"]["agency"]),
    )
    assert shown.status_code == 200
    assert NAME not in shown.get_data(as_text=True)


# Who may read a reporter's identity (services/intake/domain/disclosure.py). A token's
# holder is also its agency here: the subject works for SUBJECT_AGENCY.
SUBJECT_AGENCY = CONTRACT_EXAMPLE["subject"]["agency"]
MATRIX = [
    # role, who, confidential, status
    ("partner", FILER, True, 200),
    ("partner", "Bawaslu Kab. Badung", True, 404),  # another partner: not even that it exists
    ("privacy_officer", "dpo", True, 200),
    ("supervisor", SUBJECT_AGENCY, True, 403),
    ("supervisor", "Pemerintah Kabupaten Badung", True, 404),  # outside their reads (shared.scope)
    ("investigator", "inv", True, 403),
    ("official", SUBJECT_AGENCY, True, 403),
    ("auditor", "aud", True, 403),
    ("admin", "adm", True, 403),
    ("partner", FILER, False, 200),
    ("partner", "Bawaslu Kab. Badung", False, 404),
    ("privacy_officer", "dpo", False, 200),
    ("supervisor", SUBJECT_AGENCY, False, 200),
    ("supervisor", "Pemerintah Kabupaten Badung", False, 404),
    ("investigator", "inv", False, 403),  # intake knows no assignment: investigators read at adjudication
    ("official", SUBJECT_AGENCY, False, 403),
    ("auditor", "aud", False, 403),
    ("admin", "adm", False, 403),
]


@pytest.mark.parametrize(("role", "who", "confidential", "status"), MATRIX)
def test_who_may_read_the_reporter_and_every_read_is_recorded(
    intake: Flask, bearer: Callable[..., dict[str, str]], role: str, who: str, confidential: bool, status: int
) -> None:
    created = report(intake, bearer, confidential=confidential)
    answer = intake.test_client().get(
        f"/v1/reports/{created['report_id']}/reporter", headers=bearer(role, who)
    )
    assert answer.status_code == status, answer.get_json()
    recorded = [
        e
        for e in events_of(intake, created["case_id"])
        if e["event_type"] == "intake.reporter_identity_disclosed"
    ]
    if status == 200:
        assert answer.get_json() == {
            "report_id": created["report_id"],
            "confidential": confidential,
            "reporter": {"name": NAME, "address": ADDRESS, "contact": CONTACT},
        }
        assert [e["payload"]["reader"] for e in recorded] == [{"id": who, "role": role}]
        assert recorded[0]["actor"] == {"id": who, "role": role}
        uses = runtime(intake).keys.uses(reporter_subject(created["report_id"]))
        assert [(purpose, actor) for purpose, actor, _ in uses] == [("disclose", who)]
    else:
        assert NAME not in answer.get_data(as_text=True)
        assert recorded == []
        assert "message" in answer.get_json()


def test_a_supplement_completes_a_sealed_reporter(
    intake: Flask, bearer: Callable[..., dict[str, str]]
) -> None:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["reporter"] = {"name": NAME, "confidential": True}  # a Bawaslu laporan needs the address too
    partner = bearer("partner")
    created = intake.test_client().post(
        "/v1/reports", json=body, headers={**partner, "Idempotency-Key": "k1"}
    )
    assert created.get_json()["missing"] == ["reporter.address"]
    report_id = created.get_json()["report_id"]
    supplemented = intake.test_client().post(
        f"/v1/reports/{report_id}/supplements", json={"reporter": {"address": ADDRESS}}, headers=partner
    )
    assert supplemented.get_json()["status"] == "REGISTERED", supplemented.get_json()
    assert ADDRESS not in database_text(runtime(intake).engine)
    read = intake.test_client().get(f"/v1/reports/{report_id}/reporter", headers=partner)
    assert read.get_json()["reporter"] == {"name": NAME, "address": ADDRESS}


def test_an_erased_reporter_reads_as_erased_and_the_erasure_is_recorded(
    intake: Flask, bearer: Callable[..., dict[str, str]], clock: ManualClock
) -> None:
    created = report(intake, bearer, confidential=True)
    rt = runtime(intake)
    before = events_of(intake, created["case_id"])
    case_ids = erase_subject(
        reporter_subject(created["report_id"]),
        actor=Actor("admin.privasi", "admin"),
        reason="permintaan subjek data (UU 27/2022 Ps 8)",
        uow=SqlUnitOfWork(rt.engine, clock),
        keys=rt.keys,
    )
    assert case_ids == [created["case_id"]]
    after = events_of(intake, created["case_id"])
    assert after[: len(before)] == before  # no event was touched
    assert after[-1]["event_type"] == "intake.personal_data_erased"
    assert after[-1]["payload"]["subject"] == reporter_subject(created["report_id"])
    info = rt.keys.info(reporter_subject(created["report_id"]))
    assert info is not None and info.erased_by == "admin.privasi" and info.kek_id is None
    for role, who in (("partner", FILER), ("privacy_officer", "dpo")):
        gone = intake.test_client().get(
            f"/v1/reports/{created['report_id']}/reporter", headers=bearer(role, who)
        )
        assert gone.status_code == 410, gone.get_json()
    with rt.keys.engine.connect() as conn:
        wrapped = conn.execute(
            sa.text("SELECT wrapped FROM data_keys WHERE subject = :s"), {"s": info.subject}
        )
        assert wrapped.scalar() is None


def test_a_person_is_found_by_the_blind_index_of_their_number_and_erased_across_their_cases(
    intake: Flask, bearer: Callable[..., dict[str, str]], clock: ManualClock
) -> None:
    rt = runtime(intake)
    first = report(intake, bearer, confidential=False)
    later = copy.deepcopy(CONTRACT_EXAMPLE)
    later["alleged_violations"] = []  # the same person again: joins the open case
    joined = (
        intake.test_client()
        .post("/v1/reports", json=later, headers={**bearer("partner"), "Idempotency-Key": "again"})
        .get_json()
    )
    assert (joined["status"], joined["case_id"]) == ("LINKED", first["case_id"])
    nip = CONTRACT_EXAMPLE["subject"]["nip"]
    blind = rt.keys.blind_index(f"NIP:{nip}")
    assert nip not in database_text(rt.engine) and blind in database_text(rt.engine)
    subject = f"person/{blind}"
    erased = erase_subject(
        subject,
        actor=Actor("admin.privasi", "admin"),
        reason="retensi",
        uow=SqlUnitOfWork(rt.engine, clock),
        keys=rt.keys,
    )
    assert erased == [first["case_id"]]
    recorded = events_of(intake, first["case_id"])[-1]
    assert (recorded["event_type"], recorded["payload"]["subject"]) == (
        "intake.personal_data_erased",
        subject,
    )
    assert recorded["payload"]["fields"] == ["subject.identity"]
    # Who the subject was can no longer be opened; a new report about them is sealed afresh.
    sealed = events_of(intake, first["case_id"])[0]["payload"]["report"]["subject"]["identity"]
    assert sealed["subject"] == subject
    assert rt.keys.open(sealed, purpose="test", actor="t").as_dict() == {"erased": True, "subject": subject}
    again = copy.deepcopy(CONTRACT_EXAMPLE)
    again["incident"]["date"] = "2024-10-01"
    after = intake.test_client().post(
        "/v1/reports", json=again, headers={**bearer("partner"), "Idempotency-Key": "new"}
    )
    assert after.status_code == 201, after.get_json()
    resealed = events_of(intake, after.get_json()["case_id"])
    sealed_again = [e for e in resealed if e["event_type"] == "intake.report_received"][-1]["payload"][
        "report"
    ]
    assert sealed_again["subject"]["identity"]["subject"] == f"subject/{after.get_json()['report_id']}"
    assert (
        erase_subject(
            "person/bi1:" + "0" * 64,
            actor=Actor("a", "admin"),
            reason="x",
            uow=SqlUnitOfWork(rt.engine, clock),
            keys=rt.keys,
        )
        is None
    )
