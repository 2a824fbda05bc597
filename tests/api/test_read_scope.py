"""Who reads which case, at every service (shared.scope): role × (own or other agency,
assigned or not) × (the list, one case, its events) → visible, or absent and 404.

Seeded once per module on the apps of tests/api/apps.py: the subject of each case works for
agency A or B; at adjudication a case is assigned to inv.a, to inv.b, or to no one. A role
that does not read a service at all is refused with 403 whatever the case (its role, not
the case, decides); every other unseen case is absent from the list and its count and
answers 404 exactly as a case that does not exist.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command as alembic
from alembic.config import Config
from flask import Flask

from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.db import migrations_dir
from shared.web.runtime import runtime
from tests.api.apps import Service
from tests.api.test_adjudication import command, register_case
from tests.api.test_sanctions_support import refer
from tests.unit.sanctions.support import referral

A, B = "Pemerintah Provinsi Bali", "Pemerintah Kabupaten Tabanan"
MISSING = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Caller:
    """A token's role, identity and agency; ``sees``: the cases it reads, or None for 403."""

    role: str
    who: str
    agency: str | None
    sees: frozenset[str] | None


def caller(role: str, who: str, agency: str | None, *sees: str, refused: bool = False) -> Caller:
    return Caller(role, who, agency, None if refused else frozenset(sees))


ADJUDICATION_CASES = ("A/inv.a", "A/inv.b", "A/none", "B/inv.a", "B/none")
EVERY_ADJUDICATION_CASE = ADJUDICATION_CASES
ADJUDICATION = [
    caller("investigator", "inv.a", A, "A/inv.a", "B/inv.a"),  # assigned, whatever the agency
    caller("investigator", "inv.b", B, "A/inv.b"),
    caller("investigator", "inv.c", A),  # nothing assigned: nothing, not even its agency's
    caller("supervisor", "sup.a", A, "A/inv.a", "A/inv.b", "A/none"),
    caller("supervisor", "sup.b", B, "B/inv.a", "B/none"),
    caller("supervisor", "sup.nowhere", None),  # a token without an agency reads no case
    caller("official", "pybm.a", A, "A/inv.a", "A/inv.b", "A/none"),
    caller("official", "pybm.b", B, "B/inv.a", "B/none"),
    caller("official", "pybm.nowhere", None),
    # Auditors read through the auditor app, where every read is recorded.
    caller("auditor", "aud", None, refused=True),
    caller("admin", "adm", None, *EVERY_ADJUDICATION_CASE),
    caller("partner", "Bawaslu Kab. Tabanan", "Bawaslu Kab. Tabanan", refused=True),
    caller("privacy_officer", "dpo", None, refused=True),
]

INTAKE = [
    # Intake knows no assignment: investigators read their cases at adjudication.
    caller("investigator", "inv.a", A, refused=True),
    caller("supervisor", "sup.a", A, "A"),
    caller("supervisor", "sup.b", B, "B"),
    caller("supervisor", "sup.nowhere", None),
    caller("official", "pybm.a", A, "A"),
    caller("official", "pybm.b", B, "B"),
    caller("official", "pybm.nowhere", None),
    caller("auditor", "aud", None, refused=True),
    caller("admin", "adm", None, "A", "B"),
    caller("partner", "Bawaslu Kab. Tabanan", "Bawaslu Kab. Tabanan", refused=True),
    caller("privacy_officer", "dpo", None, refused=True),
]

SANCTIONS = [
    caller("official", "pybm.a", A, "A"),
    caller("official", "pybm.b", B, "B"),
    caller("official", "pybm.nowhere", None),
    caller("auditor", "aud", None, refused=True),
    caller("admin", "adm", None, "A", "B"),
    # Sanctions is the officials' service: the examination's roles do not read it.
    caller("investigator", "inv.a", A, refused=True),
    caller("supervisor", "sup.a", A, refused=True),
    caller("partner", "Bawaslu Kab. Tabanan", "Bawaslu Kab. Tabanan", refused=True),
]

MATRIX = [
    *(("adjudication", c) for c in ADJUDICATION),
    *(("intake", c) for c in INTAKE),
    *(("sanctions", c) for c in SANCTIONS),
]


def bearer(app: Flask, who: str, role: str, agency: str | None = None) -> dict[str, str]:
    channel = "BAWASLU" if role == "partner" else None
    return {"Authorization": f"Bearer {runtime(app).tokens.create(who, role, agency, channel)}"}


def intake_report(app: Flask, agency: str, nip: str) -> str:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    body["subject"].update(agency=agency, nip=nip)
    body["source_ref"] = f"scope-{nip}"
    partner = bearer(app, "Bawaslu Kab. Tabanan", "partner", "Bawaslu Kab. Tabanan")
    answer = app.test_client().post(
        "/v1/reports", json=body, headers={**partner, "Idempotency-Key": f"scope-{nip}"}
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "REGISTERED"
    return str(answer.get_json()["case_id"])


@pytest.fixture(scope="module")
def cases(services: dict[str, Service]) -> dict[str, dict[str, str]]:
    """Each service's seeded cases by label ("A/inv.a": agency A, assigned to inv.a)."""
    adjudication = services["adjudication"].app
    # Any supervisor may assign (commands are not scoped by unit: see docs/adjudication.md).
    assigner = bearer(adjudication, "sup.a", "supervisor", A)
    seeded: dict[str, str] = {}
    for label in ADJUDICATION_CASES:
        agency, assignee = label.split("/")
        case_id = register_case(adjudication, agency=A if agency == "A" else B)
        if assignee != "none":
            client = adjudication.test_client()
            answer = command(client, assigner, case_id, "assignment", {"investigator_id": assignee})
            assert answer.status_code == 200, answer.get_json()
        seeded[label] = case_id
    intake = services["intake"].app
    sanctions = services["sanctions"].app
    return {
        "adjudication": seeded,
        "intake": {
            "A": intake_report(intake, A, "198503122010011004"),
            "B": intake_report(intake, B, "199001012015031002"),
        },
        "sanctions": {
            "A": refer(sanctions, referral("BERAT", agency=A)),
            "B": refer(sanctions, referral("BERAT", agency=B)),
        },
    }


def _hidden_message(answer: Any, case_id: str) -> str:
    """The 404's message with the id taken out: the same for an unseen and a missing case."""
    return str(answer.get_json()["message"]).replace(case_id, "<id>")


@pytest.mark.parametrize(("service", "who"), MATRIX, ids=[f"{s}-{c.role}-{c.who}" for s, c in MATRIX])
def test_each_role_reads_only_the_cases_in_its_scope(
    services: dict[str, Service], cases: Mapping[str, Mapping[str, str]], service: str, who: Caller
) -> None:
    app = services[service].app
    client, headers = app.test_client(), bearer(app, who.who, who.role, who.agency)
    seeded = cases[service]
    listed = client.get("/v1/cases?page_size=100", headers=headers)
    if who.sees is None:
        assert listed.status_code == 403, listed.get_json()
        for case_id in [*seeded.values(), MISSING]:
            assert client.get(f"/v1/cases/{case_id}", headers=headers).status_code == 403
            assert client.get(f"/v1/cases/{case_id}/events", headers=headers).status_code == 403
        return
    assert listed.status_code == 200, listed.get_json()
    by_id = {case_id: label for label, case_id in seeded.items()}
    assert {by_id[c["case_id"]] for c in listed.get_json()} == who.sees
    # The count is of the caller's cases only: nobody learns how many others there are.
    assert json.loads(listed.headers["X-Pagination"])["total"] == len(who.sees)
    missing = {
        path: _hidden_message(client.get(path.format(MISSING), headers=headers), MISSING)
        for path in ("/v1/cases/{}", "/v1/cases/{}/events")
    }
    for label, case_id in seeded.items():
        for path, unseen in missing.items():
            answer = client.get(path.format(case_id), headers=headers)
            if label in who.sees:
                assert answer.status_code == 200, (label, path, answer.get_json())
            else:
                assert answer.status_code == 404, (label, path, answer.get_json())
                assert _hidden_message(answer, case_id) == unseen, (label, path)


def test_a_filter_never_widens_the_scope(
    services: dict[str, Service], cases: Mapping[str, Mapping[str, str]]
) -> None:
    intake, adjudication = services["intake"].app, services["adjudication"].app
    sup_a = bearer(intake, "sup.a", "supervisor", A)
    asked = intake.test_client().get(f"/v1/cases?agency={B}", headers=sup_a)
    assert asked.get_json() == [] and json.loads(asked.headers["X-Pagination"])["total"] == 0
    inv_a = bearer(adjudication, "inv.a", "investigator", A)
    theirs = adjudication.test_client().get("/v1/cases?assignee=inv.b", headers=inv_a)
    assert theirs.get_json() == [] and json.loads(theirs.headers["X-Pagination"])["total"] == 0


def test_the_agency_a_subject_profile_records_moves_the_case_to_that_agency(
    services: dict[str, Service],
) -> None:
    app = services["adjudication"].app
    client = app.test_client()
    sup_a, sup_b = bearer(app, "sup.a", "supervisor", A), bearer(app, "sup.b", "supervisor", B)
    case_id = register_case(app, agency=A)
    assert client.get(f"/v1/cases/{case_id}", headers=sup_a).status_code == 200
    corrected = command(client, sup_a, case_id, "subject-profile", {"agency": B, "reason": "BKD letter"})
    assert corrected.status_code == 200, corrected.get_json()
    assert client.get(f"/v1/cases/{case_id}", headers=sup_a).status_code == 404
    assert client.get(f"/v1/cases/{case_id}/events", headers=sup_a).status_code == 404
    assert case_id not in [c["case_id"] for c in client.get("/v1/cases", headers=sup_a).get_json()]
    assert client.get(f"/v1/cases/{case_id}", headers=sup_b).status_code == 200
    assert case_id in [c["case_id"] for c in client.get("/v1/cases", headers=sup_b).get_json()]


def test_the_migration_fills_the_agency_column_from_the_events(services: dict[str, Service]) -> None:
    """Adjudication migration 0004 gives existing files the agency replay would project."""
    app = services["adjudication"].app
    client, sup_a = app.test_client(), bearer(app, "sup.a", "supervisor", A)
    kept, moved = register_case(app, agency=A), register_case(app, agency=A)
    answer = command(client, sup_a, moved, "subject-profile", {"agency": B, "reason": "BKD letter"})
    assert answer.status_code == 200, answer.get_json()
    engine = runtime(app).engine
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir("adjudication")))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    engine.dispose()
    alembic.downgrade(cfg, "0003")
    alembic.upgrade(cfg, "head")
    with engine.connect() as conn:
        agencies: dict[uuid.UUID, str] = dict(
            conn.execute(
                sa.text("SELECT case_id, agency FROM adjudication_cases WHERE case_id = ANY(:ids)"),
                {"ids": [uuid.UUID(kept), uuid.UUID(moved)]},
            ).all()
        )
    assert agencies == {uuid.UUID(kept): A, uuid.UUID(moved): B}
