"""The examination file as a fold of its events: what the deciders read.

``Case.from_events`` replays a case's history into its current state; it never decides and
never refuses (a recorded fact is a fact). Everything here is plain Python.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.adjudication.domain import events as ev
from shared.corrections import withdrawn
from shared.envelope import Envelope


class State(enum.StrEnum):
    """Where the examination stands (docs/law.md §5 rows 4–11, 19)."""

    AWAITING_REGISTRATION = "AWAITING_REGISTRATION"  # a report was noted; intake has not registered it
    OPENED = "OPENED"
    RECOMMENDATION_REQUESTED = "RECOMMENDATION_REQUESTED"
    RECOMMENDATION_ISSUED = "RECOMMENDATION_ISSUED"
    PPK_ACKNOWLEDGED = "PPK_ACKNOWLEDGED"
    SUMMONS_1_ISSUED = "SUMMONS_1_ISSUED"
    SUMMONS_1_MISSED = "SUMMONS_1_MISSED"
    SUMMONS_2_ISSUED = "SUMMONS_2_ISSUED"
    EXAMINATION = "EXAMINATION"
    DECIDED_ON_EVIDENCE = "DECIDED_ON_EVIDENCE"
    BAP_SIGNED = "BAP_SIGNED"
    REFERRED = "REFERRED"
    CLOSED_NOT_PROVEN = "CLOSED_NOT_PROVEN"


CLOSED = frozenset({State.REFERRED, State.CLOSED_NOT_PROVEN})


@dataclass
class Clock:
    """A legal deadline as the case's events describe it."""

    kind: str
    due_on: date
    day_count: str
    rule: str | None
    started_by: str
    status: str = "PENDING"  # PENDING, MET, MET_LATE (after its last day), MISSED, CANCELLED


@dataclass
class Case:
    """The current state of one examination file."""

    case_id: str
    version: int = 0
    state: State = State.AWAITING_REGISTRATION
    case_number: str | None = None
    report_id: str | None = None
    correlation_id: str | None = None
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    subject: dict[str, Any] = field(default_factory=dict)
    election: dict[str, Any] | None = None
    incident: dict[str, Any] | None = None
    alleged_violations: list[str] = field(default_factory=list)
    opened_at: str | None = None
    assignee: str | None = None
    recused: list[str] = field(default_factory=list)
    recommendation_request: dict[str, Any] | None = None
    recommendation: dict[str, Any] | None = None
    ppk_acknowledgement: dict[str, Any] | None = None
    ppk_noncompliant: bool = False
    summonses: list[dict[str, Any]] = field(default_factory=list)
    absences: list[dict[str, Any]] = field(default_factory=list)
    attendance: dict[str, Any] | None = None
    examiner: dict[str, Any] | None = None
    release: dict[str, Any] | None = None
    bap: dict[str, Any] | None = None
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    finding: dict[str, Any] | None = None
    finding_event_id: str | None = None
    finding_rule_set: str | None = None
    clocks: list[Clock] = field(default_factory=list)

    @classmethod
    def from_events(cls, history: Sequence[Envelope], case_id: str | None = None) -> Case:
        """The case after every event of ``history`` (its own stream, in version order) but the
        breaches a later ``lapse_withdrawn`` withdrew."""
        case = cls(case_id=case_id or (history[0].stream_id if history else ""))
        gone = withdrawn(history)
        for envelope in history:
            if envelope.event_id in gone:
                case.version = envelope.stream_version  # withdrawn, but still a version
                continue
            case.apply(envelope)
        return case

    def apply(self, envelope: Envelope) -> None:
        """One event's effect on the state."""
        self.version = envelope.stream_version
        apply = _APPLY.get(envelope.event_type)
        if apply is not None:
            apply(self, envelope)
        self.state = state_after(self.state, envelope.event_type, envelope.payload)
        self._track_clocks(envelope)

    @property
    def is_open(self) -> bool:
        """Registered and not yet finished in adjudication."""
        return self.state not in CLOSED and self.state is not State.AWAITING_REGISTRATION

    def pending(self, *kinds: str) -> list[str]:
        """Which of ``kinds`` (all when none given) have a clock still running or lapsed unmet."""
        return [
            c.kind
            for c in self.clocks
            if c.status in ("PENDING", "MISSED") and (not kinds or c.kind in kinds)
        ]

    def met_by(self, on: date, *kinds: str) -> tuple[list[str], list[str]]:
        """The clocks of ``kinds`` still open that a fact dated ``on`` meets: in time (on or
        before their last day) and late, judged by the fact's legal date, not by when it is
        entered or whether the scheduler has run."""
        open_ = [c for c in self.clocks if c.kind in kinds and c.status in ("PENDING", "MISSED")]
        return [c.kind for c in open_ if on <= c.due_on], [c.kind for c in open_ if on > c.due_on]

    def levels_in_question(self, violations: Mapping[str, Any]) -> set[str]:
        """Levels the case may end in: the alleged codes' catalogue levels and the recommendation's."""
        levels = {str(violations[c]) for c in self.alleged_violations if violations.get(c)}
        if self.recommendation and self.recommendation.get("level"):
            levels.add(str(self.recommendation["level"]))
        return levels

    def _track_clocks(self, envelope: Envelope) -> None:
        clocks = envelope.payload.get("deadlines")
        if isinstance(clocks, Mapping):
            for started in clocks.get("started", []):
                self.clocks.append(
                    Clock(
                        started["kind"],
                        date.fromisoformat(started["due_on"]),
                        started["day_count"],
                        started.get("rule"),
                        envelope.event_id,
                    )
                )
            self._resolve(clocks.get("met", []), met=True)
            self._resolve(clocks.get("met_late", []), met=True, late=True)
            self._resolve(clocks.get("cancelled", []), met=False)
        if envelope.event_type == ev.DEADLINE_MISSED:
            for clock in self.clocks:
                if clock.kind == envelope.payload.get("kind") and clock.status == "PENDING":
                    clock.status = "MISSED"

    def _resolve(self, kinds: Sequence[str], *, met: bool, late: bool = False) -> None:
        for clock in self.clocks:
            if clock.kind in kinds and clock.status in ("PENDING", "MISSED"):
                if met:
                    clock.status = "MET" if clock.status == "PENDING" and not late else "MET_LATE"
                else:
                    clock.status = "CANCELLED" if clock.status == "PENDING" else clock.status


def _report_noted(case: Case, e: Envelope) -> None:
    case.reports[e.payload["report_id"]] = dict(e.payload["report"])
    case.correlation_id = case.correlation_id or e.correlation_id


def _supplement_noted(case: Case, e: Envelope) -> None:
    case.reports[e.payload["report_id"]] = dict(e.payload["report"])


def _opened(case: Case, e: Envelope) -> None:
    p = e.payload
    case.case_number, case.report_id = p["case_number"], p["report_id"]
    case.subject = dict(p["subject"])
    case.election, case.incident = p.get("election"), p.get("incident")
    case.alleged_violations = list(p.get("alleged_violations", []))
    case.opened_at = e.occurred_at
    case.correlation_id = e.correlation_id


def _assigned(case: Case, e: Envelope) -> None:
    case.assignee = e.payload["investigator_id"]


def _recused(case: Case, e: Envelope) -> None:
    case.recused.append(e.payload["investigator_id"])
    if case.assignee == e.payload["investigator_id"]:
        case.assignee = None


def _profile(case: Case, e: Envelope) -> None:
    case.subject = {**case.subject, **e.payload["subject"]}


def _summons(case: Case, e: Envelope) -> None:
    case.summonses.append(dict(e.payload))


def _absence(case: Case, e: Envelope) -> None:
    case.absences.append(dict(e.payload))


def _set(attribute: str) -> Callable[[Case, Envelope], None]:
    def apply(case: Case, e: Envelope) -> None:
        setattr(case, attribute, dict(e.payload))

    return apply


def _noncompliant(case: Case, _e: Envelope) -> None:
    case.ppk_noncompliant = True


def _evidence(case: Case, e: Envelope) -> None:
    item = {k: v for k, v in e.payload.items() if k != "deadlines"}
    item["custody"] = [
        {"action": "RECEIVED", "at": e.payload["received_at"], "by": e.actor["id"], "note": None}
    ]
    case.evidence[e.payload["evidence_id"]] = item


def _custody(case: Case, e: Envelope) -> None:
    item = case.evidence.get(e.payload["evidence_id"])
    if item is not None:
        item["custody"].append(
            {
                "action": e.payload["action"],
                "at": e.payload["at"],
                "by": e.actor["id"],
                "note": e.payload.get("note"),
            }
        )


def _finding(case: Case, e: Envelope) -> None:
    case.finding = {k: v for k, v in e.payload.items() if k != "deadlines"}
    case.finding_event_id = e.event_id
    case.finding_rule_set = e.rule_set


_APPLY: dict[str, Callable[[Case, Envelope], None]] = {
    ev.REPORT_NOTED: _report_noted,
    ev.SUPPLEMENT_NOTED: _supplement_noted,
    ev.EXAMINATION_OPENED: _opened,
    ev.INVESTIGATOR_ASSIGNED: _assigned,
    ev.INVESTIGATOR_RECUSED: _recused,
    ev.SUBJECT_PROFILE_RECORDED: _profile,
    ev.RECOMMENDATION_REQUESTED: _set("recommendation_request"),
    ev.RECOMMENDATION_ISSUED: _set("recommendation"),
    ev.PPK_ACKNOWLEDGED: _set("ppk_acknowledgement"),
    ev.PPK_NONCOMPLIANCE_RECORDED: _noncompliant,
    ev.SUMMONS_ISSUED: _summons,
    ev.ABSENCE_RECORDED: _absence,
    ev.ATTENDANCE_RECORDED: _set("attendance"),
    ev.EXAMINER_APPOINTED: _set("examiner"),
    ev.TEMPORARILY_RELEASED: _set("release"),
    ev.BAP_RECORDED: _set("bap"),
    ev.EVIDENCE_ADDED: _evidence,
    ev.EVIDENCE_CUSTODY_RECORDED: _custody,
    ev.FINDING_RECORDED: _finding,
}


def state_after(state: State, event_type: str, payload: Mapping[str, Any]) -> State:
    """The state an event leaves the case in: one function for the fold and the read model."""
    if event_type == ev.EXAMINATION_OPENED and state is State.AWAITING_REGISTRATION:
        return State.OPENED
    if event_type == ev.SUMMONS_ISSUED:
        return State.SUMMONS_1_ISSUED if payload["summons"] == 1 else State.SUMMONS_2_ISSUED
    if event_type == ev.ABSENCE_RECORDED:
        return State.SUMMONS_1_MISSED if payload["summons"] == 1 else State.DECIDED_ON_EVIDENCE
    return _STATE_OF.get(event_type, state)


_STATE_OF = {
    ev.RECOMMENDATION_REQUESTED: State.RECOMMENDATION_REQUESTED,
    ev.RECOMMENDATION_ISSUED: State.RECOMMENDATION_ISSUED,
    ev.PPK_ACKNOWLEDGED: State.PPK_ACKNOWLEDGED,
    ev.ATTENDANCE_RECORDED: State.EXAMINATION,
    ev.BAP_RECORDED: State.BAP_SIGNED,
    ev.CASE_CLOSED_NOT_PROVEN: State.CLOSED_NOT_PROVEN,
    ev.CASE_REFERRED: State.REFERRED,
}
