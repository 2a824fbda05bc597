"""The five sample cases of domain.md §7 through all three services over the real Kafka: each
partner's report at intake, the examination at adjudication over HTTP, the ruling and what
follows at sanctions over HTTP, to closure or to the state the law leaves the case in; the
dates asserted are those of §7's table with the holiday calendar, and the partner sees the
stage change at intake.

  A  PPPK, code of ethics            → M1 declared (moral), CLOSED
  B  PNS sedang, Sekda two levels up → S2L, delivered 3 Apr 2024, in force 18 Apr, executed, CLOSED
  C  PNS berat, Bupati (PPK)         → B2, keberatan inside the window suspends it, confirmed, CLOSED
  D  two linked reports: D1 PNS berat → B3 dismissal, banding to BPASN, confirmed, CLOSED;
     D2 PPPK, code of ethics         → M2 declared, CLOSED
  E  Pilkada 2020 (PP 53/2010)       → the PPK does not act: escalated, PPK_NONCOMPLIANT
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from netra.demo import REPORTS
from services import adjudication, intake, sanctions
from shared.bus import make_producer
from shared.clock import ManualClock
from shared.config import Settings
from shared.runtime import runtime
from tests.api.test_sanctions_support import referral, referred_envelope, scheduler
from tests.support.processes import service_processes
from tests.unit.sanctions.support import PPK_KAB

SHA = "f" * 64
TEAM = [
    {"name": "Atasan langsung", "role": "ATASAN_LANGSUNG"},
    {"name": "Inspektur Pembantu", "role": "PENGAWASAN"},
    {"name": "Kepala BKPSDM", "role": "KEPEGAWAIAN"},
]
SUPERIOR = [{"name": "Atasan langsung", "role": "ATASAN_LANGSUNG"}]


def at(day: str) -> datetime:
    """10:00 WIB on ``day``."""
    return datetime.fromisoformat(f"{day}T03:00:00+00:00")


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Every service's relay and consumer, as `make run` starts them."""
    modules = [
        f"services.{s}.{kind}"
        for s in ("intake", "adjudication", "sanctions")
        for kind in ("relay", "consumer")
    ]
    with service_processes(settings, modules, prefix="sc") as running:
        yield running


@dataclass
class Service:
    """One service's app, its clock, and commands with If-Match read from GET."""

    app: Flask
    clock: ManualClock

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def token(self, who: str, role: str, agency: str | None = None) -> dict[str, str]:
        return {"Authorization": "Bearer " + runtime(self.app).tokens.create(who, role, agency=agency)}

    def wait(self, headers: dict[str, str], case_id: str, until: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = self.client.get(f"/v1/cases/{case_id}", headers=headers)
            if answer.status_code == 200 and (until is None or answer.get_json()["state"] == until):
                return dict(answer.get_json())
            time.sleep(0.3)
        raise AssertionError(f"case {case_id} never reached {self.app.name} in state {until}")

    def do(
        self, headers: dict[str, str], case_id: str, action: str, body: dict[str, Any], on: str
    ) -> dict[str, Any]:
        self.clock.set(at(on))
        etag = self.client.get(f"/v1/cases/{case_id}", headers=headers).headers["ETag"]
        answer = self.client.post(
            f"/v1/cases/{case_id}/{action}", json=body, headers={**headers, "If-Match": etag}
        )
        assert answer.status_code == 200, (action, answer.get_json())
        return dict(answer.get_json())


@pytest.fixture
def services(system: Settings) -> Iterator[dict[str, Service]]:
    built = {}
    intake_clock = ManualClock(at("2024-01-01"))
    built["intake"] = Service(intake.create_app(system, clock=intake_clock), intake_clock)
    for name, module in (("adjudication", adjudication), ("sanctions", sanctions)):
        clock = ManualClock(at("2024-01-01"))
        built[name] = Service(module.create_app(system, clock=clock), clock)
    yield built
    for service in built.values():
        runtime(service.app).close()


class Story:
    """One sample case told across the three services."""

    def __init__(self, services: dict[str, Service], letter: str) -> None:
        self.intake, self.adj, self.san = services["intake"], services["adjudication"], services["sanctions"]
        self.report = next(r for r in REPORTS if r.case == letter)
        partner_token = runtime(self.intake.app).tokens.create(
            self.report.agency, "partner", self.report.agency, self.report.channel
        )
        self.partner = {"Authorization": f"Bearer {partner_token}"}
        # Registered an hour after the partner's register date: the valid times of the three
        # services' events then follow the story, as intake orders the partner's stages by them.
        reported = datetime.fromisoformat(self.report.body["reported_at"])
        self.intake.clock.set(reported + timedelta(hours=1))
        created = self.intake.client.post(
            "/v1/reports",
            json=dict(self.report.body),
            headers={**self.partner, "Idempotency-Key": f"sc-{letter}"},
        ).get_json()
        assert created["status"] == "REGISTERED", created
        self.case_id, self.report_id = created["case_id"], created["report_id"]
        self.sup = self.adj.token(f"sup-{letter}", "supervisor")
        self.inv = self.adj.token(f"inv-{letter}", "investigator")
        self.official = self.san.token(f"pybm-{letter}", "official", self.report.body["subject"]["agency"])

    def examine(self, steps: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
        """Open (over Kafka), assign, then the investigator's steps; return the last answer."""
        self.adj.wait(self.sup, self.case_id)
        answer = self.adj.do(
            self.sup, self.case_id, "assignment", {"investigator_id": self.inv_id}, steps[0][2]
        )
        for action, body, on in steps:
            answer = self.adj.do(self.inv, self.case_id, action, body, on)
        return answer

    @property
    def inv_id(self) -> str:
        return f"inv-{self.report.case}"

    def rule(self, action: str, body: dict[str, Any], on: str) -> dict[str, Any]:
        return self.san.do(self.official, self.case_id, action, body, on)

    def lapse(self, on: str) -> int:
        """Move the sanctions clock to ``on`` and let its scheduler record what lapsed."""
        self.san.clock.set(at(on))
        return scheduler(self.san.app).run_once()

    def sanctions_case(self) -> dict[str, Any]:
        return self.san.wait(self.official, self.case_id)

    def partner_stage(self, expected: str) -> list[str]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = self.intake.client.get(f"/v1/reports/{self.report_id}", headers=self.partner).get_json()
            if status["stage"] == expected:
                return [h["stage"] for h in status["history"]]
            time.sleep(0.5)
        raise AssertionError(f"case {self.report.case}: the partner never saw {expected}: {status}")


def bap(on: str) -> tuple[str, dict[str, Any], str]:
    return (
        "bap",
        {
            "document_uri": "https://dms.example/bap.pdf",
            "sha256": SHA,
            "signed_on": on,
            "signed_by_subject": True,
        },
        on,
    )


def summons(letter: str, exam: str) -> tuple[str, dict[str, Any], str]:
    body = {
        "letter_number": "800/1",
        "letter_date": letter,
        "examination_date": exam,
        "signed_by": "Atasan langsung",
    }
    return ("summons", body, letter)


def finding(codes: list[str], on: str) -> tuple[str, dict[str, Any], str]:
    return (
        "finding",
        {"proven": True, "reasoning": "BAP and evidence", "violations": [{"code": c} for c in codes]},
        on,
    )


def test_the_five_sample_cases_from_report_to_closure(system: Settings, services: dict[str, Service]) -> None:
    case_a(Story(services, "A"))
    case_b(Story(services, "B"))
    case_c(Story(services, "C"))
    case_d1(Story(services, "D1"))
    case_d2(Story(services, "D2"))
    case_e(Story(services, "E"), system)


def case_a(s: Story) -> None:
    """A PPPK shares a pair's campaign post (SKB-KE): a moral sanction, declared by the Gubernur."""
    s.examine(
        [
            summons("2024-10-21", "2024-10-25"),
            ("examiner", {"mode": "ATASAN_LANGSUNG", "members": SUPERIOR}, "2024-10-21"),
            ("attendance", {"examined_on": "2024-10-25", "mode": "TATAP_MUKA"}, "2024-10-25"),
            bap("2024-10-25"),
            finding(["SKB-KE-1", "SKB-KE-4"], "2024-10-28"),
        ]
    )
    case = s.sanctions_case()
    assert [o["code"] for o in case["penalty_options"]] == ["M1", "M2"]
    s.rule("decision", {"penalty": "M1", "decided_on": "2024-11-04"}, "2024-11-04")
    closed = s.rule(
        "decree", {"number": "800/9/BKD", "issued_on": "2024-11-04", "document_sha256": SHA}, "2024-11-04"
    )
    assert closed["state"] == "CLOSED"
    assert s.partner_stage("CLOSED")[-2:] == ["DECIDED", "CLOSED"]


def case_b(s: Story) -> None:
    """B: N2 sedang; KASN's recommendation; the Sekda (two levels up) decides S2L on 1 Apr 2024."""
    s.examine(
        [
            (
                "recommendation",
                {
                    "number": "R-1/KASN/3/2024",
                    "issued_on": "2024-03-04",
                    "category": "DISIPLIN",
                    "level": "SEDANG",
                },
                "2024-03-04",
            ),
            ("ppk-acknowledgement", {"received_on": "2024-03-05", "ppk": "Pj Gubernur Bali"}, "2024-03-05"),
            summons("2024-03-06", "2024-03-15"),
            ("examiner", {"mode": "ATASAN_LANGSUNG", "members": SUPERIOR}, "2024-03-06"),
            ("attendance", {"examined_on": "2024-03-15", "mode": "TATAP_MUKA"}, "2024-03-15"),
            bap("2024-03-15"),
            finding(["N2"], "2024-03-20"),
        ]
    )
    case = s.sanctions_case()
    assert case["referral"]["deciding_official"]["official"] == "JPT_MADYA"
    assert [o["code"] for o in case["penalty_options"]] == ["S1L", "S2L", "S3L"]  # Ps 42: legacy types
    s.rule("decision", {"penalty": "S2L", "decided_on": "2024-04-01"}, "2024-04-01")
    s.rule(
        "decree",
        {"number": "800/45/BKD/2024", "issued_on": "2024-04-01", "document_sha256": SHA},
        "2024-04-01",
    )
    s.rule("delivery", {"received_on": "2024-04-03"}, "2024-04-03")
    case = s.sanctions_case()
    assert case["decision"]["delivery_due_on"] == "2024-04-29"  # Lebaran 8-15 Apr
    assert (case["in_force_on"], case["appeal_limit"]) == ("2024-04-18", "2024-05-02")
    assert s.lapse("2024-04-18") == 1
    assert s.sanctions_case()["state"] == "IN_FORCE"
    assert s.lapse("2024-05-03") == 1  # no keberatan came by 2 May
    end = s.sanctions_case()["execution"]["end_on"]
    assert end == "2025-04-17"
    assert s.rule("execution/completion", {"completed_on": end}, end)["state"] == "CLOSED"
    assert s.partner_stage("CLOSED")[-3:] == ["DECIDED", "IN_FORCE", "CLOSED"]


def case_c(s: Story) -> None:
    """C: N4 + N6 berat; absent at the first summons; the mandatory team; the Bupati decides B2
    on 9 Dec 2024; a keberatan filed after it took effect (27 Dec) but inside the window
    (6 Jan 2025) suspends it; the PPK confirms."""
    s.examine(
        [
            ("subject-profile", {"agency_level": "REGENCY_CITY"}, "2024-11-04"),
            (
                "recommendation",
                {
                    "number": "R-9/BKN/11/2024",
                    "issued_on": "2024-11-04",
                    "category": "DISIPLIN",
                    "level": "BERAT",
                },
                "2024-11-04",
            ),
            (
                "ppk-acknowledgement",
                {"received_on": "2024-11-05", "ppk": "Pj Bupati Tulang Bawang Barat"},
                "2024-11-05",
            ),
            summons("2024-11-06", "2024-11-13"),
            ("absence", {"missed_on": "2024-11-13"}, "2024-11-13"),
            (
                "second-summons",
                {
                    "letter_number": "800/2",
                    "letter_date": "2024-11-15",
                    "examination_date": "2024-11-22",
                    "signed_by": "Kadis PMD",
                },
                "2024-11-15",
            ),
            ("examiner", {"mode": "TIM_PEMERIKSA", "members": TEAM}, "2024-11-15"),
            ("attendance", {"examined_on": "2024-11-22", "mode": "TATAP_MUKA"}, "2024-11-22"),
            bap("2024-11-22"),
            finding(["N4", "N6"], "2024-11-25"),
        ]
    )
    assert s.sanctions_case()["referral"]["deciding_official"]["official"] == "PPK_KABUPATEN_KOTA"
    s.rule("decision", {"penalty": "B2", "decided_on": "2024-12-09"}, "2024-12-09")
    s.rule(
        "decree",
        {"number": "800/77/BKPSDM/2024", "issued_on": "2024-12-09", "document_sha256": SHA},
        "2024-12-09",
    )
    s.rule("delivery", {"received_on": "2024-12-12"}, "2024-12-12")
    case = s.sanctions_case()
    assert case["decision"]["delivery_due_on"] == "2024-12-31"
    assert (case["in_force_on"], case["appeal_limit"]) == ("2024-12-27", "2025-01-06")
    assert s.lapse("2024-12-27") == 1
    filed = s.rule("objection", {"filed_on": "2025-01-03"}, "2025-01-03")
    assert filed["events"] == ["sanctions.objection_filed", "sanctions.penalty_suspended"]
    assert s.partner_stage("UNDER_APPEAL")[-3:] == ["DECIDED", "IN_FORCE", "UNDER_APPEAL"]
    decided = s.rule("objection/decision", {"ruling": "CONFIRM", "decided_on": "2025-01-20"}, "2025-01-20")
    assert decided["state"] == "IN_FORCE"
    end = s.sanctions_case()["execution"]["end_on"]
    assert end == "2026-01-19"
    assert s.rule("execution/completion", {"completed_on": end}, end)["state"] == "CLOSED"
    assert s.partner_stage("CLOSED")[-2:] == ["IN_FORCE", "CLOSED"]


def case_d1(s: Story) -> None:
    """D1: the PNS teacher mobilises colleagues (N3, berat): dismissed (B3); banding to BPASN."""
    s.examine(
        [
            (
                "subject-profile",
                {"position_kind": "JF", "agency_level": "PROVINCIAL", "reason": "guru: JF"},
                "2024-10-21",
            ),
            summons("2024-10-21", "2024-10-25"),
            ("examiner", {"mode": "TIM_PEMERIKSA", "members": TEAM}, "2024-10-21"),
            ("attendance", {"examined_on": "2024-10-25", "mode": "TATAP_MUKA"}, "2024-10-25"),
            bap("2024-10-25"),
            finding(["N3"], "2024-10-28"),
        ]
    )
    assert s.sanctions_case()["referral"]["deciding_official"]["official"] == "PPK_PROVINSI"
    s.rule("decision", {"penalty": "B3", "decided_on": "2024-11-04"}, "2024-11-04")
    s.rule("decree", {"number": "800/3/BKD", "issued_on": "2024-11-04", "document_sha256": SHA}, "2024-11-04")
    s.rule("delivery", {"received_on": "2024-11-05"}, "2024-11-05")
    filed = s.rule("appeal", {"filed_on": "2024-11-12"}, "2024-11-12")
    assert filed["state"] == "UNDER_BANDING"
    s.rule("appeal/answer", {"answered_on": "2024-12-02"}, "2024-12-02")
    decided = s.rule(
        "appeal/decision",
        {"ruling": "CONFIRM", "decided_on": "2025-02-03", "in_force_on": "2025-02-03"},
        "2025-02-03",
    )
    assert decided["events"][1:3] == ["sanctions.penalty_in_force", "sanctions.penalty_executed"]
    assert decided["state"] == "CLOSED"
    assert s.partner_stage("CLOSED")[-3:] == ["UNDER_APPEAL", "IN_FORCE", "CLOSED"]


def case_d2(s: Story) -> None:
    """D2: the PPPK teacher shares the flyers (SKB-KE-4): a public moral statement."""
    s.examine(
        [
            summons("2024-10-21", "2024-10-25"),
            ("examiner", {"mode": "ATASAN_LANGSUNG", "members": SUPERIOR}, "2024-10-21"),
            ("attendance", {"examined_on": "2024-10-25", "mode": "TATAP_MUKA"}, "2024-10-25"),
            bap("2024-10-25"),
            finding(["SKB-KE-4"], "2024-10-28"),
        ]
    )
    s.sanctions_case()
    s.rule("decision", {"penalty": "M2", "decided_on": "2024-11-04"}, "2024-11-04")
    declared = s.rule(
        "decree", {"number": "800/4/BKD", "issued_on": "2024-11-04", "document_sha256": SHA}, "2024-11-04"
    )
    assert declared["events"] == [
        "sanctions.decree_issued",
        "sanctions.moral_sanction_declared",
        "sanctions.case_closed",
    ]
    assert s.partner_stage("CLOSED")[-1] == "CLOSED"


def case_e(s: Story, system: Settings) -> None:
    """E: cash for a pair in Nov 2020, under PP 53/2010. Adjudication holds no PP 53/2010 rule
    data yet, so it refuses to examine (422 naming the gap) and the partner sees the case under
    examination. Sanctions' half is then driven by the referral adjudication would publish:
    the PP 53/2010 catalogue applies, and the PPK who does not act within 14 days is escalated."""
    s.adj.wait(s.sup, s.case_id)
    s.adj.do(s.sup, s.case_id, "assignment", {"investigator_id": s.inv_id}, "2020-12-01")
    s.adj.clock.set(at("2020-12-01"))
    etag = s.adj.client.get(f"/v1/cases/{s.case_id}", headers=s.inv).headers["ETag"]
    refused = s.adj.client.post(
        f"/v1/cases/{s.case_id}/summons",
        json=summons("2020-12-01", "2020-12-08")[1],
        headers={**s.inv, "If-Match": etag},
    )
    # The refusal names the missing rule set for 2020 (its wording is adjudication's).
    assert refused.status_code == 422 and "rule set" in refused.get_json()["errors"]["letter_date"][0]
    assert s.partner_stage("UNDER_EXAMINATION")[-1] == "UNDER_EXAMINATION"

    subject = dict(s.report.body["subject"], agency_level="REGENCY_CITY")
    payload = referral("BERAT", incident_date="2020-11-20", agency=subject["agency"], deciding=PPK_KAB)
    payload["subject"] = {k: subject.get(k) for k in payload["subject"]}
    envelope = referred_envelope(s.case_id, payload, at("2020-12-14"))
    producer = make_producer(system.kafka_bootstrap, "test-adjudication")
    try:
        producer.send(system.topic("adjudication"), key=s.case_id.encode(), value=envelope.to_bytes()).get(30)
    finally:
        producer.close()
    case = s.sanctions_case()
    assert case["rule_set"] == "sanctions-pp53-2010.1"
    assert [o["code"] for o in case["penalty_options"]] == ["B1L", "B2L", "B3L", "B4L"]
    assert case["deadlines"][0]["due_on"] == "2020-12-28"
    assert s.lapse("2020-12-29") == 1
    case = s.sanctions_case()
    assert case["state"] == "PPK_NONCOMPLIANT"
    assert [t["event_type"] for t in case["timeline"]][-3:] == [
        "sanctions.deadline_missed",
        "sanctions.escalation_requested",
        "sanctions.escalation_requested",
    ]
