"""The five sample cases of docs/law.md §7 through all three services over the real Kafka: each
partner's report at intake, the examination at adjudication over HTTP, the ruling and what
follows at sanctions over HTTP, to closure or to the state the law leaves the case in. The
steps are netra/samples.py's, played by netra/sample_run.py (as `netra demo load` plays
them); this test moves each service's clock to each step's legal date and runs the sanctions
scheduler itself, and checks §7's dates (with the holiday calendar) at the marked steps and
the stage the partner sees at intake.

  A  PPPK, code of ethics            → M1 declared (moral), CLOSED
  B  PNS sedang, Sekda two levels up → S2L, delivered 3 Apr 2024, in force 18 Apr, executed, CLOSED
  C  PNS berat, Bupati (PPK)         → B2, keberatan inside the window suspends it, confirmed, CLOSED
  D  two linked reports: D1 PNS berat → B3 dismissal, banding to BPASN, confirmed, CLOSED;
     D2 PPPK, code of ethics         → M2 declared, CLOSED
  E  Pilkada 2020 (PP 53/2010)       → KASN, examined and referred under the legacy rules; the
                                       PPK does not act: escalated, PPK_NONCOMPLIANT
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from netra.audit.replay import replay_system
from netra.audit.verify import verify_system
from netra.sample_run import Answer, CaseRun, at, play
from netra.samples import SAMPLE_CASES, Lapse
from services import adjudication, intake, sanctions
from services.sanctions.bootstrap import WIRING as SANCTIONS_WIRING
from shared.bus import make_consumer
from shared.clock import ManualClock
from shared.config import SERVICES, Settings
from shared.processes import build_consumer
from shared.web.runtime import runtime
from tests.api.test_sanctions_support import scheduler
from tests.support.processes import service_processes


@pytest.fixture
def system(settings: Settings) -> Iterator[Settings]:
    """Every service's relay and consumer, as `make run` starts them, but sanctions' consumer,
    which runs here on the test's clock (see ``world``)."""
    modules = [f"services.{s} relay" for s in SERVICES] + [
        "services.intake consumer",
        "services.adjudication consumer",
    ]
    with service_processes(settings, modules, prefix="sc") as running:
        yield running


@pytest.fixture
def world() -> ManualClock:
    """One clock for the whole system, moved to each step's legal date. Sanctions' consumer
    reads it too: the PPK's clock starts when the referral arrives, and a lapse recorded by
    the scheduler must not be recorded before the arrival that started it (audit verify
    checks that a cause never follows its effect)."""
    return ManualClock(at("2024-01-01"))


@pytest.fixture
def sanctions_consumer(system: Settings, world: ManualClock) -> Iterator[None]:
    consumer = build_consumer(system, SANCTIONS_WIRING, world)
    kafka = make_consumer(
        system.kafka_bootstrap, f"{system.topic_prefix}sanctions", [system.topic("adjudication")]
    )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(kafka, stop), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(30)
    kafka.close(autocommit=False)


@dataclass
class ClockTransport:
    """The three apps through their test clients, each on a clock the steps move."""

    settings: Settings
    apps: Mapping[str, Flask]
    clocks: Mapping[str, ManualClock]
    lapsed: list[int]

    def request(
        self, service: str, method: str, path: str, headers: Mapping[str, str], body: Any = None
    ) -> Answer:
        client = self.apps[service].test_client()
        answer = client.open(path, method=method, headers=dict(headers), json=body)
        return Answer(answer.status_code, answer.get_json(silent=True), answer.headers.get("ETag"))

    def moment(self, service: str, instant: datetime) -> None:
        self.clocks[service].set(instant)

    def lapse(self, lapse: Lapse) -> None:
        self.clocks["sanctions"].set(at(lapse.on))
        self.lapsed.append(scheduler(self.apps["sanctions"]).run_once())


@pytest.fixture
def transport(system: Settings, world: ManualClock, sanctions_consumer: None) -> Iterator[ClockTransport]:
    clocks = dict.fromkeys(("intake", "adjudication", "sanctions"), world)
    apps = {
        name: module.create_app(system, clock=clocks[name])
        for name, module in (("intake", intake), ("adjudication", adjudication), ("sanctions", sanctions))
    }
    yield ClockTransport(system, apps, clocks, [])
    for app in apps.values():
        runtime(app).close()


def test_the_five_sample_cases_from_report_to_closure(transport: ClockTransport) -> None:
    tokens = runtime(transport.apps["intake"]).tokens
    for sample in SAMPLE_CASES:
        run = CaseRun(
            sample, transport, lambda i, r, a, c, o: tokens.create(i, r, agency=a, channel=c, offices=o)
        )
        checks = CHECKS[sample.letter]
        end = play(run, lambda _line: None, observer(checks))
        assert end["sanctions"] == sample.end_state and end["stage"] == sample.partner_stage
        checks["end"](run, {})
    # Every Lapse moved the case: the scheduler recorded something each time.
    assert all(count >= 1 for count in transport.lapsed), transport.lapsed
    assert_history_verifies_and_replays(transport.settings)


def assert_history_verifies_and_replays(settings: Settings) -> None:
    """The auditor's view of the same run: both chains, the stores against Kafka, and every
    service's read models rebuilt from its topic alone, equal to the live ones."""
    deadline = time.monotonic() + 60
    report = verify_system(settings)
    while any(s.pending for s in report.services) and time.monotonic() < deadline:
        time.sleep(0.5)  # the relays are still publishing the last steps
        report = verify_system(settings)
    assert report.ok and not any(s.pending for s in report.services), report.text()
    replay = replay_system(settings)
    assert replay.ok, replay.text()


Check = Callable[[CaseRun, dict[str, Any]], None]


def observer(checks: Mapping[str, Check]) -> Callable[[str, CaseRun, dict[str, Any]], None]:
    """Run the check of each mark the script reaches (a mark without a check fails)."""

    def observe(mark: str, run: CaseRun, answer: dict[str, Any]) -> None:
        checks[mark](run, answer)

    return observe


def history(run: CaseRun) -> list[str]:
    """The partner's stages, oldest first."""
    return [h["stage"] for h in run.partner_status()["history"]]


def a_referred(run: CaseRun, case: dict[str, Any]) -> None:
    assert [o["code"] for o in case["penalty_options"]] == ["M1", "M2"]


def a_declared(run: CaseRun, answer: dict[str, Any]) -> None:
    assert answer["state"] == "CLOSED"


def a_end(run: CaseRun, _: dict[str, Any]) -> None:
    assert history(run)[-2:] == ["DECIDED", "CLOSED"]


def b_referred(run: CaseRun, case: dict[str, Any]) -> None:
    """N2 sedang: the Sekda (two levels up) decides; Ps 42 leaves the legacy sedang types."""
    assert case["referral"]["deciding_official"]["official"] == "JPT_MADYA"
    assert [o["code"] for o in case["penalty_options"]] == ["S1L", "S2L", "S3L"]


def b_delivered(run: CaseRun, _: dict[str, Any]) -> None:
    case = run.case("sanctions")
    assert case["decision"]["delivery_due_on"] == "2024-04-29"  # Lebaran 8-15 Apr
    assert (case["in_force_on"], case["appeal_limit"]) == ("2024-04-18", "2024-05-02")


def b_executing(run: CaseRun, case: dict[str, Any]) -> None:
    assert case["execution"]["end_on"] == "2025-04-17"


def b_end(run: CaseRun, _: dict[str, Any]) -> None:
    assert history(run)[-3:] == ["DECIDED", "IN_FORCE", "CLOSED"]


def c_referred(run: CaseRun, case: dict[str, Any]) -> None:
    assert case["referral"]["deciding_official"]["official"] == "PPK_KABUPATEN_KOTA"


def c_delivered(run: CaseRun, _: dict[str, Any]) -> None:
    case = run.case("sanctions")
    assert case["decision"]["delivery_due_on"] == "2024-12-31"
    assert (case["in_force_on"], case["appeal_limit"]) == ("2024-12-27", "2025-01-06")


def c_objection(run: CaseRun, answer: dict[str, Any]) -> None:
    assert answer["events"] == ["sanctions.objection_filed", "sanctions.penalty_suspended"]
    assert run.wait_partner_stage("UNDER_APPEAL") and history(run)[-3:] == [
        "DECIDED",
        "IN_FORCE",
        "UNDER_APPEAL",
    ]


def c_confirmed(run: CaseRun, answer: dict[str, Any]) -> None:
    assert answer["state"] == "IN_FORCE"
    assert run.case("sanctions")["execution"]["end_on"] == "2026-01-19"


def c_end(run: CaseRun, _: dict[str, Any]) -> None:
    assert history(run)[-2:] == ["IN_FORCE", "CLOSED"]


def d1_referred(run: CaseRun, case: dict[str, Any]) -> None:
    assert case["referral"]["deciding_official"]["official"] == "PPK_PROVINSI"


def d1_confirmed(run: CaseRun, answer: dict[str, Any]) -> None:
    assert answer["events"][1:3] == ["sanctions.penalty_in_force", "sanctions.penalty_executed"]
    assert answer["state"] == "CLOSED"


def d1_end(run: CaseRun, _: dict[str, Any]) -> None:
    assert history(run)[-3:] == ["UNDER_APPEAL", "IN_FORCE", "CLOSED"]


def d2_declared(run: CaseRun, answer: dict[str, Any]) -> None:
    assert answer["events"] == [
        "sanctions.decree_issued",
        "sanctions.moral_sanction_declared",
        "sanctions.case_closed",
    ]


def e_referred(run: CaseRun, case: dict[str, Any]) -> None:
    """Adjudication examined E under PP 53/2010 and referred it: sanctions applies PP 53/2010
    too, and the PPK's 14 days run from the referral of 23 Dec 2020."""
    assert case["rule_set"] == "sanctions-pp53-2010.1"
    referral = case["referral"]
    assert referral["deciding_official"]["official"] == "PPK_KABUPATEN_KOTA"
    assert referral["finding"]["level"] == "BERAT" and referral["finding"]["violations"][0]["level_reason"]
    assert [o["code"] for o in case["penalty_options"]] == ["B1L", "B2L", "B3L", "B4L"]
    assert case["deadlines"][0]["due_on"] == "2021-01-06"
    events = run.transport.request(
        "adjudication", "GET", f"/v1/cases/{run.case_id}/events", run.headers["supervisor"]
    )
    referred = [
        e["envelope"] for e in events.body if e["envelope"]["event_type"] == "adjudication.case_referred"
    ]
    assert [e["rule_set"] for e in referred] == ["adjudication-pp53-2010.1"]


def e_escalated(run: CaseRun, case: dict[str, Any]) -> None:
    assert [t["event_type"] for t in case["timeline"]][-3:] == [
        "sanctions.deadline_missed",
        "sanctions.escalation_requested",
        "sanctions.escalation_requested",
    ]


def nothing(run: CaseRun, _: dict[str, Any]) -> None:
    """No check at this mark."""


CHECKS: dict[str, dict[str, Check]] = {
    "A": {"referred": a_referred, "declared": a_declared, "end": a_end},
    "B": {
        "referred": b_referred,
        "delivered": b_delivered,
        "in_force": nothing,
        "executing": b_executing,
        "end": b_end,
    },
    "C": {
        "referred": c_referred,
        "delivered": c_delivered,
        "in_force": nothing,
        "objection": c_objection,
        "confirmed": c_confirmed,
        "end": c_end,
    },
    "D1": {"referred": d1_referred, "banding": nothing, "confirmed": d1_confirmed, "end": d1_end},
    "D2": {"referred": nothing, "declared": d2_declared, "end": nothing},
    "E": {"referred": e_referred, "escalated": e_escalated, "end": nothing},
}
