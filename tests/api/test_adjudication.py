"""The adjudication API against a real app and PostgreSQL: a case worked from opening to
referral over HTTP, its refusals (428, 412, 409, 422, 403), the list's filters and deadlines.
(Who reads which case: tests/api/test_read_scope.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from services.adjudication import create_app
from services.adjudication.bootstrap import WIRING
from services.adjudication.handlers import EVENT_HANDLERS as HANDLERS
from shared.clock import ManualClock
from shared.config import Settings
from shared.deadlines import DeadlineScheduler
from shared.envelope import Actor, Context, NewEvent, seal
from shared.uow import SqlUnitOfWork
from shared.web.runtime import runtime
from tests.conftest import NewDatabase
from tests.unit.adjudication.builders import report

Headers = dict[str, str]
# The subject's agency in tests.unit.adjudication.builders.report(): the supervisors' unit.
AGENCY = "Pemerintah Provinsi Bali"


@pytest.fixture
def adjudication(new_database: NewDatabase, tmp_path: Path) -> Iterator[Flask]:
    urls = {
        "adjudication": new_database("adjudication"),
        "auth": new_database("auth"),
        "keyring": new_database("keyring"),
    }
    # The API never talks to Kafka (the relay does), so these tests need no broker.
    settings = Settings(home=tmp_path, database_urls=urls, kafka_bootstrap="127.0.0.1:1", log_format="text")
    app = create_app(settings, clock=ManualClock(datetime(2024, 3, 6, 2, tzinfo=UTC)))
    yield app
    runtime(app).close()


@pytest.fixture
def client(adjudication: Flask) -> FlaskClient:
    return adjudication.test_client()


@pytest.fixture
def token(adjudication: Flask) -> Callable[..., Headers]:
    def make(identity: str, role: str, agency: str | None = None) -> Headers:
        return {"Authorization": f"Bearer {runtime(adjudication).tokens.create(identity, role, agency)}"}

    return make


@pytest.fixture
def supervisor(token: Callable[..., Headers]) -> Headers:
    return token("sup.made", "supervisor", AGENCY)


@pytest.fixture
def investigator(token: Callable[..., Headers]) -> Headers:
    return token("inv.putu", "investigator")


def register_case(app: Flask, alleged: tuple[str, ...] = ("N2",), **subject: Any) -> str:
    """Feed adjudication's consumer handlers the two intake events of a registered case."""
    case_id, at = str(uuid.uuid4()), datetime(2024, 2, 6, 2, tzinfo=UTC)
    intake = [
        NewEvent("intake.report_received", {"report_id": "r-1", "report": report(alleged, **subject)}, at),
        NewEvent(
            "intake.case_registered",
            {"report_id": "r-1", "case_number": f"NTR-2024-{case_id[:6]}", "late": False},
            at,
        ),
    ]
    prev = "0" * 64
    for version, event in enumerate(intake, start=1):
        envelope = seal(
            event,
            stream_id=case_id,
            stream_version=version,
            prev_hash=prev,
            context=Context(Actor("Bawaslu", "partner"), "r-1"),
            recorded_at=at,
        )
        prev = envelope.hash
        with SqlUnitOfWork(runtime(app).engine, runtime(app).clock) as uow:
            HANDLERS[envelope.event_type](envelope, uow)
            uow.commit()
    return case_id


def command(
    client: FlaskClient,
    headers: Headers,
    case_id: str,
    action: str,
    body: dict[str, Any],
    version: int | None = None,
) -> Any:
    if version is None:
        # The current version, whether or not ``headers`` may read the case.
        with runtime(client.application).engine.connect() as conn:
            version = conn.execute(
                sa.text("SELECT version FROM adjudication_cases WHERE case_id = :c"),
                {"c": uuid.UUID(case_id)},
            ).scalar_one()
    return client.post(
        f"/v1/cases/{case_id}/{action}", json=body, headers={**headers, "If-Match": f'"{version}"'}
    )


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


SUMMONS = {
    "letter_number": "S-1",
    "letter_date": "2024-03-06",
    "examination_date": "2024-03-15",
    "signed_by": "Kadis",
}


def test_a_case_is_worked_from_opening_to_referral_over_http(
    adjudication: Flask, client: FlaskClient, supervisor: Headers, investigator: Headers
) -> None:
    case_id = register_case(adjudication)
    opened = client.get(f"/v1/cases/{case_id}", headers=supervisor)
    assert opened.status_code == 200 and opened.headers["ETag"] == '"2"'
    assert opened.get_json()["state"] == "OPENED"
    # Not assigned yet: the investigator does not see the case at all.
    assert client.get(f"/v1/cases/{case_id}", headers=investigator).status_code == 404

    ok(command(client, supervisor, case_id, "assignment", {"investigator_id": "inv.putu"}))
    steps: list[tuple[str, dict[str, Any]]] = [
        ("recommendation-request", {"requested_on": "2024-02-13"}),
        (
            "recommendation",
            {"number": "R-1", "issued_on": "2024-03-04", "category": "DISIPLIN", "level": "SEDANG"},
        ),
        ("ppk-acknowledgement", {"received_on": "2024-03-05", "ppk": "Pj Gubernur Bali"}),
        ("summons", SUMMONS),
        (
            "examiner",
            {
                "mode": "ATASAN_LANGSUNG",
                "members": [{"name": "Kadis", "role": "ATASAN_LANGSUNG"}],
                "appointed_on": "2024-03-06",
            },
        ),
        ("evidence", {"kind": "PHOTO", "uri": "https://dms.example/1.jpg", "sha256": "cd" * 32}),
        ("attendance", {"examined_on": "2024-03-15", "mode": "TATAP_MUKA"}),
        (
            "bap",
            {
                "document_uri": "https://dms.example/bap.pdf",
                "sha256": "ab" * 32,
                "signed_on": "2024-03-15",
                "signed_by_subject": True,
            },
        ),
    ]
    for action, body in steps:
        ok(command(client, investigator, case_id, action, body))
    detail = client.get(f"/v1/cases/{case_id}", headers=investigator).get_json()
    assert detail["state"] == "BAP_SIGNED" and "finding" in detail["allowed_actions"]
    assert [(d["kind"], d["due_on"], d["status"]) for d in detail["deadlines"]] == [
        ("ppk_follow_up", "2024-03-19", "MET"),
        ("examination_1", "2024-03-19", "MET"),
    ]
    [item] = detail["evidence"]
    # URIs that may point at a person are recorded sealed and opened for who works the case.
    assert (item["uri"], detail["bap"]["document_uri"]) == (
        "https://dms.example/1.jpg",
        "https://dms.example/bap.pdf",
    )
    recorded = client.get(f"/v1/cases/{case_id}/events", headers=supervisor).get_data(as_text=True)
    assert "dms.example" not in recorded and '"sealed":"AES-256-GCM"' in recorded
    custody = f"evidence/{item['evidence_id']}/custody"
    ok(command(client, investigator, case_id, custody, {"action": "EXAMINED", "on": "2024-03-14"}))

    clock = runtime(adjudication).clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2024, 3, 25, 2, tzinfo=UTC))  # typed in days after the finding
    finding = {
        "proven": True,
        "reasoning": "photos and BAP",
        "violations": [{"code": "N2"}],
        "found_on": "2024-03-22",
    }
    done = ok(command(client, investigator, case_id, "finding", finding))
    assert done["state"] == "REFERRED"
    assert done["events"] == ["adjudication.finding_recorded", "adjudication.case_referred"]
    events = client.get(f"/v1/cases/{case_id}/events", headers=supervisor).get_json()
    referred = events[-1]["envelope"]
    assert referred["payload"]["deciding_official"]["official"] == "JPT_MADYA"
    assert referred["payload"]["finding"]["finding_event_id"] == events[-2]["envelope"]["event_id"]
    # Sanctions counts from the finding's legal date, not from when it was typed in.
    assert datetime.fromisoformat(referred["occurred_at"]).date() == date(2024, 3, 22)
    listed = client.get("/v1/cases?state=REFERRED", headers=supervisor).get_json()
    assert [c["case_id"] for c in listed] == [case_id]


def test_if_match_missing_is_428_and_stale_is_412(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    missing = client.post(
        f"/v1/cases/{case_id}/assignment", json={"investigator_id": "x"}, headers=supervisor
    )
    assert missing.status_code == 428 and "If-Match" in missing.get_json()["message"]
    stale = command(client, supervisor, case_id, "assignment", {"investigator_id": "x"}, version=1)
    assert stale.status_code == 412 and stale.get_json()["current_version"] == 2


def test_an_illegal_transition_is_409_naming_the_state_and_the_allowed_actions(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    refused = command(
        client,
        supervisor,
        case_id,
        "bap",
        {
            "document_uri": "https://x/b",
            "sha256": "ab" * 32,
            "signed_on": "2024-03-15",
            "signed_by_subject": True,
        },
    )
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["state"] == "OPENED"
    assert "summons" in body["allowed_actions"] and "bap" not in body["allowed_actions"]


def test_invalid_input_and_broken_rules_are_422_naming_the_fields(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    bad = command(
        client, supervisor, case_id, "summons", {"letter_date": "6 March", "examination_date": "2024-03-15"}
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"letter_date", "letter_number", "signed_by"}
    late = command(client, supervisor, case_id, "summons", {**SUMMONS, "examination_date": "2024-03-20"})
    assert late.status_code == 422
    assert "2024-03-19" in late.get_json()["errors"]["examination_date"][0]
    assert "Ps 26(2)" in late.get_json()["rules"][0]["rule"]


def test_only_a_supervisor_assigns_and_an_investigator_acts_only_on_their_cases(
    adjudication: Flask,
    client: FlaskClient,
    supervisor: Headers,
    investigator: Headers,
    token: Callable[..., Headers],
) -> None:
    case_id = register_case(adjudication)
    self_assigned = command(client, investigator, case_id, "assignment", {"investigator_id": "inv.putu"})
    assert self_assigned.status_code == 403
    not_mine = command(client, investigator, case_id, "summons", SUMMONS)
    assert not_mine.status_code == 403 and "not assigned to anyone" in not_mine.get_json()["message"]
    ok(command(client, supervisor, case_id, "assignment", {"investigator_id": "inv.other"}))
    other = command(client, investigator, case_id, "summons", SUMMONS)
    assert other.status_code == 403 and "assigned to inv.other" in other.get_json()["message"]
    auditor = token("aud.komang", "auditor")
    assert command(client, auditor, case_id, "summons", SUMMONS).status_code == 403
    reassigned = command(client, supervisor, case_id, "assignment", {"investigator_id": "inv.putu"})
    assert reassigned.status_code == 422 and "reason" in reassigned.get_json()["errors"]
    ok(command(client, supervisor, case_id, "assignment", {"investigator_id": "inv.putu", "reason": "leave"}))
    ok(command(client, investigator, case_id, "recusal", {"reason": "my cousin"}))
    assert command(client, investigator, case_id, "summons", SUMMONS).status_code == 403
    back = command(client, supervisor, case_id, "assignment", {"investigator_id": "inv.putu", "reason": "x"})
    assert back.status_code == 422 and "recused" in back.get_json()["errors"]["investigator_id"][0]


def test_a_lapsed_ppk_follow_up_is_recorded_once_as_a_breach_and_the_case_lists_as_overdue(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    quiet = register_case(adjudication)
    ok(
        command(
            client,
            supervisor,
            case_id,
            "recommendation",
            {"number": "R-1", "issued_on": "2024-03-04", "category": "DISIPLIN", "level": "SEDANG"},
        )
    )
    ok(
        command(
            client,
            supervisor,
            case_id,
            "ppk-acknowledgement",
            {"received_on": "2024-03-05", "ppk": "Gubernur"},
        )
    )
    soon = client.get("/v1/cases?due_within_days=14", headers=supervisor).get_json()
    assert [c["case_id"] for c in soon] == [case_id] and soon[0]["next_due_on"] == "2024-03-19"

    clock = runtime(adjudication).clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2024, 3, 20, 1, tzinfo=UTC))
    assert WIRING.on_deadline_missed is not None
    schedulers = [
        DeadlineScheduler(runtime(adjudication).engine, clock, WIRING.on_deadline_missed, "adjudication")
        for _ in range(2)
    ]
    assert [s.run_once() for s in schedulers] == [1, 0]
    detail = client.get(f"/v1/cases/{case_id}", headers=supervisor).get_json()
    assert detail["ppk_noncompliant"] is True
    assert [t["event_type"] for t in detail["timeline"][-2:]] == [
        "adjudication.deadline_missed",
        "adjudication.ppk_noncompliance_recorded",
    ]
    overdue = client.get("/v1/cases?overdue=true", headers=supervisor).get_json()
    assert [c["case_id"] for c in overdue] == [case_id]
    assert [c["case_id"] for c in client.get("/v1/cases?overdue=false", headers=supervisor).get_json()] == [
        quiet
    ]
    late = ok(
        command(
            client,
            supervisor,
            case_id,
            "summons",
            {**SUMMONS, "letter_date": "2024-03-21", "examination_date": "2024-03-22"},
        )
    )
    assert late["state"] == "SUMMONS_1_ISSUED"
    statuses = {
        d["kind"]: d["status"]
        for d in client.get(f"/v1/cases/{case_id}", headers=supervisor).get_json()["deadlines"]
    }
    assert statuses == {"ppk_follow_up": "MET_LATE", "examination_1": "PENDING"}


def test_a_summons_dated_inside_the_follow_up_but_entered_after_its_lapse_withdraws_the_breach(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    recommendation = {"number": "R-1", "issued_on": "2024-03-04", "category": "DISIPLIN", "level": "SEDANG"}
    ok(command(client, supervisor, case_id, "recommendation", recommendation))
    acknowledged = {"received_on": "2024-03-05", "ppk": "Gubernur"}
    ok(command(client, supervisor, case_id, "ppk-acknowledgement", acknowledged))
    clock = runtime(adjudication).clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2024, 3, 25, 1, tzinfo=UTC))
    assert WIRING.on_deadline_missed is not None
    scheduler = DeadlineScheduler(
        runtime(adjudication).engine, clock, WIRING.on_deadline_missed, "adjudication"
    )
    assert scheduler.run_once() == 1  # follow-up due 19 Mar: a breach, the PPK non-compliant
    # The summons was signed on the 19th, the last day; the clerk types it in on the 25th.
    in_time = {**SUMMONS, "letter_date": "2024-03-19", "examination_date": "2024-03-26"}
    done = ok(command(client, supervisor, case_id, "summons", in_time))
    assert done["state"] == "SUMMONS_1_ISSUED"
    detail = client.get(f"/v1/cases/{case_id}", headers=supervisor).get_json()
    assert detail["ppk_noncompliant"] is False
    assert {d["kind"]: d["status"] for d in detail["deadlines"]}["ppk_follow_up"] == "MET"
    assert client.get("/v1/cases?overdue=true", headers=supervisor).get_json() == []
    events = [e["envelope"] for e in client.get(f"/v1/cases/{case_id}/events", headers=supervisor).get_json()]
    assert [e["event_type"] for e in events[-4:]] == [
        "adjudication.deadline_missed",
        "adjudication.ppk_noncompliance_recorded",
        "adjudication.lapse_withdrawn",
        "adjudication.summons_issued",
    ]
    correction = events[-2]["payload"]
    assert [w["event_type"] for w in correction["withdrawn"]] == [
        "adjudication.deadline_missed",
        "adjudication.ppk_noncompliance_recorded",
    ]
    assert correction["deadlines"] == [{"kind": "ppk_follow_up", "due_on": "2024-03-19"}]
    assert scheduler.run_once() == 0  # nothing lapses again


def test_the_list_filters_by_assignee_and_region_and_paginates(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    bali = register_case(adjudication)
    lampung = register_case(adjudication, agency_level="REGENCY_CITY")
    ok(command(client, supervisor, lampung, "assignment", {"investigator_id": "inv.putu"}))
    mine = client.get("/v1/cases?assignee=inv.putu", headers=supervisor).get_json()
    assert [c["case_id"] for c in mine] == [lampung]
    assert [c["case_id"] for c in client.get("/v1/cases?assignee=none", headers=supervisor).get_json()] == [
        bali
    ]
    assert len(client.get("/v1/cases?province=Bali", headers=supervisor).get_json()) == 2
    assert client.get("/v1/cases?province=Lampung", headers=supervisor).get_json() == []
    page = client.get("/v1/cases?page=1&page_size=1", headers=supervisor)
    assert len(page.get_json()) == 1 and '"total": 2' in page.headers["X-Pagination"]
    assert client.get("/v1/cases?overdue=maybe", headers=supervisor).status_code == 422


def test_a_late_second_summons_shows_its_clock_met_late_before_the_scheduler_ran(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication)
    clock = runtime(adjudication).clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2025, 1, 9, 2, tzinfo=UTC))
    first = {**SUMMONS, "letter_date": "2024-12-18", "examination_date": "2024-12-27"}
    ok(command(client, supervisor, case_id, "summons", first))
    ok(command(client, supervisor, case_id, "absence", {"missed_on": "2024-12-27"}))
    second = {
        **SUMMONS,
        "letter_number": "S-2",
        "letter_date": "2025-01-09",
        "examination_date": "2025-01-10",
    }
    assert ok(command(client, supervisor, case_id, "second-summons", second))["state"] == "SUMMONS_2_ISSUED"
    detail = client.get(f"/v1/cases/{case_id}", headers=supervisor).get_json()
    assert {d["kind"]: (d["due_on"], d["status"]) for d in detail["deadlines"]} == {
        "examination_1": ("2024-12-31", "MET"),
        "second_summons": ("2025-01-08", "MET_LATE"),
        "examination_2": ("2025-01-20", "PENDING"),
    }
    [issued] = [
        e["envelope"]
        for e in client.get(f"/v1/cases/{case_id}/events", headers=supervisor).get_json()
        if e["envelope"]["event_type"] == "adjudication.summons_issued"
        and e["envelope"]["payload"]["summons"] == 2
    ]
    assert issued["payload"]["deadlines"]["met_late"] == ["second_summons"]
    assert issued["payload"]["issue_basis"]["article"] == "PP 94/2021 Ps 26(3)"


def test_a_berat_examination_with_no_team_appointed_by_then_is_422_naming_the_rule(
    adjudication: Flask, client: FlaskClient, supervisor: Headers
) -> None:
    case_id = register_case(adjudication, alleged=("N4", "N6"), agency_level="REGENCY_CITY")
    ok(command(client, supervisor, case_id, "summons", SUMMONS))
    attended = {"examined_on": "2024-03-15", "mode": "TATAP_MUKA"}
    refused = command(client, supervisor, case_id, "attendance", attended)
    assert refused.status_code == 422, refused.get_json()
    body = refused.get_json()
    assert "TIM_PEMERIKSA" in body["errors"]["examiner"][0]
    assert body["rules"][0]["rule"] == "TIM_PEMERIKSA_PS_29: PP 94/2021 Ps 29(1)–(3)"
    team = {
        "mode": "TIM_PEMERIKSA",
        "members": [
            {"name": "Kadis PMD", "role": "ATASAN_LANGSUNG"},
            {"name": "Inspektorat", "role": "PENGAWASAN"},
            {"name": "BKPSDM", "role": "KEPEGAWAIAN"},
        ],
    }
    assert "appointed_on" in command(client, supervisor, case_id, "examiner", team).get_json()["errors"]
    ok(command(client, supervisor, case_id, "examiner", {**team, "appointed_on": "2024-03-06"}))
    assert ok(command(client, supervisor, case_id, "attendance", attended))["state"] == "EXAMINATION"
