"""A case history built event by event through the real deciders, on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.adjudication.domain.case import Case
from services.adjudication.domain.commands import Deciding
from services.adjudication.domain.opening import note_report, open_examination
from services.adjudication.domain.rules import RuleBook, load_rule_book
from services.adjudication.handlers import CONSUMER
from shared.clock import ManualClock
from shared.envelope import Actor, Context, Envelope
from shared.handling import carry_out
from shared.outcome import Outcome
from shared.uow import InMemoryUnitOfWork
from shared.workdays import WorkingCalendar

BOOK: RuleBook = load_rule_book()
CALENDAR = WorkingCalendar()
CASE_ID = "0b4c6f1e-7c1a-4d59-9a3e-2f0d4c1b9a77"
SUPERVISOR = Actor("sup.made", "supervisor")
INVESTIGATOR = Actor("inv.putu", "investigator")


def report(alleged: tuple[str, ...] = ("N2",), **subject: Any) -> dict[str, Any]:
    """An intake report record as ``intake.report_received`` carries it."""
    return {
        "channel": "BAWASLU",
        "kind": "LAPORAN",
        "source_ref": "001/LP/PB/Prov/17.00/II/2024",
        "election": {"type": "PILEG", "year": 2024, "candidate_determination_date": None},
        "subject": {
            "employee_type": "PNS",
            "nip": "198503122010011004",
            "name": "I Made Contoh",
            "position": "Kepala Bidang",
            "position_kind": "ADMINISTRATOR",
            "agency": "Pemerintah Provinsi Bali",
            "agency_level": "PROVINCIAL",
            "work_unit": "Dinas Pendidikan",
            **subject,
        },
        "incident": {"date": "2024-02-03", "province": "Bali", "regency": "Denpasar", "description": "…"},
        "known_at": "2024-02-03",
        "reported_at": "2024-02-05T09:00:00+08:00",
        "alleged_violations": list(alleged),
        "reporter": {"name": "secret", "address": "secret", "contact": None, "confidential": True},
    }


@dataclass
class Story:
    """One case, told through the deciders; ``history`` is what the store holds."""

    # Commands are recorded after the legal dates they carry, as in life.
    clock: ManualClock = field(default_factory=lambda: ManualClock(datetime(2025, 6, 2, 2, tzinfo=UTC)))
    uow: InMemoryUnitOfWork = field(init=False)

    def __post_init__(self) -> None:
        self.uow = InMemoryUnitOfWork(self.clock)

    @property
    def history(self) -> list[Envelope]:
        return self.uow.store.load(CASE_ID)

    @property
    def case(self) -> Case:
        return Case.from_events(self.history, CASE_ID)

    def record(self, decide: Callable[[Case], Outcome], actor: Actor = INVESTIGATOR) -> list[Envelope]:
        with self.uow:
            appended = carry_out(
                self.uow,
                CASE_ID,
                lambda h: decide(Case.from_events(h, CASE_ID)),
                context=Context(actor, "report-1"),
            )
            self.uow.commit()
        return appended

    def do(
        self, decider: Callable[..., Outcome], command: Any, actor: Actor = INVESTIGATOR
    ) -> list[Envelope]:
        """Run a command's decider and record what it decided."""
        d = Deciding(BOOK, CALENDAR, self.clock.now(), actor.id)
        return self.record(lambda case: decider(case, command, d), actor)

    def opened(self, alleged: tuple[str, ...] = ("N2",), **subject: Any) -> Story:
        at = datetime(2024, 2, 6, 2, tzinfo=UTC)
        body = {"report_id": "report-1", "report": report(alleged, **subject)}
        self.record(lambda _c: note_report(body, at), CONSUMER)
        self.record(
            lambda c: open_examination(c, {"report_id": "report-1", "case_number": "NTR-2024-000001"}, at),
            CONSUMER,
        )
        return self


def d(text: str) -> date:
    return date.fromisoformat(text)
