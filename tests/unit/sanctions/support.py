"""Builders for sanctions unit tests: referrals in the contract's shape and a case story
that records outcomes in memory (sealed envelopes, the deadlines they start)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.lapses import on_lapse
from services.sanctions.domain.reception import receive
from services.sanctions.domain.rules import RuleBook, default_rule_book
from shared.envelope import GENESIS_HASH, Actor, Context, Envelope, NewEvent, seal
from shared.legaltime import at_start_of
from shared.outcome import DeadlineStart, Outcome
from shared.workdays import WorkingCalendar

BOOK = default_rule_book()
CALENDAR = WorkingCalendar()
CONTEXT = Context(Actor("tester", "official"), correlation_id="report-1")
# Lapses are the scheduler's: domain.corrections tells them apart by this actor.
SCHEDULED = Context(Actor(ev.SCHEDULER, "system"), correlation_id="report-1")

PPK_KAB: dict[str, Any] = {
    "official": "PPK_KABUPATEN_KOTA",
    "relation": None,
    "may_impose": ["SEDANG", "BERAT"],
    "basis": "PP 94/2021 Ps 18(3)(c)",
}
PPK_KAB_PTDH: dict[str, Any] = {**PPK_KAB, "may_impose": ["SEDANG", "BERAT", "PTDH"]}
PPK_PROV_LIMITED: dict[str, Any] = {
    "official": "PPK_PROVINSI",
    "relation": None,
    "may_impose": ["RINGAN", "SEDANG", "B1", "B2"],
    "basis": "PP 94/2021 Ps 18(1)(a)",
}
PPK_PROV: dict[str, Any] = {
    "official": "PPK_PROVINSI",
    "relation": None,
    "may_impose": ["RINGAN", "SEDANG", "BERAT", "PTDH"],
    "basis": "PP 94/2021 Ps 18",
}
PRESIDEN_B3: dict[str, Any] = {
    "official": "PRESIDEN",
    "relation": None,
    "may_impose": ["B3"],
    "basis": "PP 94/2021 Ps 17(1)(b)",
}
# As adjudication publishes them: levels, narrowed to types where the law does (Ps 17-18).
PPK_PROV_NARROWED: dict[str, Any] = {
    "official": "PPK_PROVINSI",
    "relation": None,
    "may_impose": ["RINGAN", "SEDANG", "BERAT"],
    "penalties": {"BERAT": ["B1", "B2"]},
    "basis": "PP 94/2021 Ps 18(1)",
}
PRESIDEN_NARROWED: dict[str, Any] = {
    "official": "PRESIDEN",
    "relation": None,
    "may_impose": ["BERAT", "PTDH"],
    "penalties": {"BERAT": ["B3"]},
    "basis": "PP 94/2021 Ps 17(2)",
}
# For a code-of-ethics finding adjudication names the PPK with no levels (PP 42/2004 Ps 15).
PPK_KODE_ETIK: dict[str, Any] = {
    "official": "PPK_PROVINSI",
    "relation": None,
    "may_impose": [],
    "basis": "PP 42/2004 Ps 15",
}
JPT_MADYA_2: dict[str, Any] = {
    "official": "JPT_MADYA",
    "relation": "TWO_LEVELS_UP",
    "may_impose": ["SEDANG"],
    "basis": "PP 94/2021 Ps 20(b)",
}
JPT_PRATAMA_1: dict[str, Any] = {
    "official": "JPT_PRATAMA",
    "relation": "ONE_LEVEL_UP",
    "may_impose": ["RINGAN"],
    "basis": "PP 94/2021 Ps 21(a)",
}

AGENCY = "Pemerintah Kabupaten Tulang Bawang Barat"


def referral(
    level: str | None = "BERAT",
    *,
    category: str = "DISIPLIN",
    employee_type: str = "PNS",
    deciding: dict[str, Any] | None = None,
    authorities: Sequence[dict[str, Any]] | None = None,
    incident_date: str = "2024-10-12",
    repeat: bool = False,
    agency: str = AGENCY,
) -> dict[str, Any]:
    """A validated referral payload as adjudication.case_referred carries it."""
    deciding = deciding or PPK_KAB
    listed = [copy.deepcopy(a) for a in (authorities or [deciding, JPT_PRATAMA_1])]
    return {
        "case_number": "NTR-2024-000007",
        "subject": {
            "employee_type": employee_type,
            "nip": "198503122010011004" if employee_type != "PPPK" else None,
            "ni_pppk": "199001012021212001" if employee_type == "PPPK" else None,
            "name": "Budi Santoso",
            "position": "Kepala Bidang",
            "position_kind": "ADMINISTRATOR",
            "agency": agency,
            "agency_level": "REGENCY_CITY",
        },
        "finding": {
            "finding_event_id": "finding-1",
            "category": category,
            "level": level,
            "violations": [
                {"code": "N4", "level": level, "article": "PP 94/2021 Ps 5 n 4", "level_reason": None}
            ],
            "repeat": repeat,
            "decided_on_evidence": False,
        },
        "deciding_official": copy.deepcopy(deciding),
        "authorities": listed,
        "incident_date": incident_date,
        "election": {"type": "PILKADA_BUP", "year": 2024},
    }


@dataclass
class Story:
    """One case told event by event, in memory."""

    book: RuleBook = field(default_factory=lambda: BOOK)
    history: list[Envelope] = field(default_factory=list)
    starts: list[DeadlineStart] = field(default_factory=list)
    resolved: set[str] = field(default_factory=set)

    @classmethod
    def referred(cls, payload: dict[str, Any], on: date = date(2024, 11, 25), book: RuleBook = BOOK) -> Story:
        story = cls(book=book)
        story.record(receive(Case(), book, CALENDAR, payload, "referral-1", on))
        return story

    @property
    def case(self) -> Case:
        return Case.of(self.history)

    @property
    def types(self) -> list[str]:
        return [e.event_type for e in self.history]

    def record(self, outcome: Outcome, context: Context = CONTEXT) -> list[Envelope]:
        """Seal the outcome's events and keep the deadlines it starts (like carry_out)."""
        sealed = []
        for event in outcome.events:
            prev = self.history[-1].hash if self.history else GENESIS_HASH
            envelope = seal(
                event,
                stream_id="case-1",
                stream_version=len(self.history) + 1,
                prev_hash=prev,
                context=context,
                recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            self.history.append(envelope)
            sealed.append(envelope)
        self.resolved.update(outcome.meets)
        self.resolved.update(outcome.cancels)
        self.starts = [
            s for s in self.starts if s.kind not in outcome.meets and s.kind not in outcome.cancels
        ]
        self.starts.extend(outcome.starts)
        return sealed

    def due(self, kind: str) -> date:
        """The last day of the pending deadline ``kind``."""
        [start] = [s for s in self.starts if s.kind == kind]
        return start.due_on

    def lapse(self, kind: str) -> list[str]:
        """Let the pending deadline ``kind`` lapse, as the scheduler would; return new types."""
        start = next(s for s in self.starts if s.kind == kind)
        self.starts.remove(start)
        breach = NewEvent(
            f"{ev.SERVICE}.deadline_missed",
            {"kind": kind, "due_on": start.due_on.isoformat()},
            at_start_of(start.due_on + timedelta(days=1)),
            rule_set=start.rule_set,
        )
        new = on_lapse(self.case, self.book, kind, start.due_on, breach)
        return [e.event_type for e in self.record(Outcome(new), SCHEDULED)]
