"""The sanctions case as a fold of its events: its state and the actions it allows.

Pure: built from the case's own events (``Case.of(history)``); commands and reactions
decide on it and return new events, which ``Case.evolve`` applies to see what follows
(e.g. whether the case can now close).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.referral import Referral
from shared.corrections import withdrawn
from shared.envelope import Envelope, NewEvent
from shared.refusals import STATE_MACHINE, IllegalTransition


class State(enum.StrEnum):
    """Where a case stands in sanctions (docs/law.md §5 rows 6a, 11e-19)."""

    REFERRED = "REFERRED"
    PPK_NONCOMPLIANT = "PPK_NONCOMPLIANT"
    DECIDED = "DECIDED"
    DECREE_ISSUED = "DECREE_ISSUED"
    DELIVERED = "DELIVERED"
    UNDER_KEBERATAN = "UNDER_KEBERATAN"
    UNDER_BANDING = "UNDER_BANDING"
    APPEAL_DECIDED = "APPEAL_DECIDED"
    IN_FORCE = "IN_FORCE"
    EXECUTED = "EXECUTED"
    CLOSED = "CLOSED"


class Action(enum.StrEnum):
    """The commands on a case (services.sanctions.web.api serves each one)."""

    DECISION = "decision"
    DECREE = "decree"
    DELIVERY = "delivery"
    OBJECTION = "objection"
    OBJECTION_DECISION = "objection_decision"
    APPEAL = "appeal"
    OBJECTION_ANSWER = "objection_answer"
    APPEAL_ANSWER = "appeal_answer"
    APPEAL_DECISION = "appeal_decision"
    COMPLETION = "execution_completion"


@dataclass(frozen=True)
class Appeal:
    """A timely keberatan (KEBERATAN) or banding (BANDING) awaiting its decision."""

    kind: str
    filed_on: date
    addressed_to: str
    answered: bool = False


@dataclass(frozen=True)
class Case:
    """Everything a sanctions decider needs to know about one case."""

    version: int = 0
    correlation_id: str = ""
    referral: Referral | None = None
    rule_set: str | None = None
    noncompliant: bool = False
    decision: Mapping[str, Any] | None = None
    # The penalty that stands: the decision's, or the one an appeal decision left.
    penalty: Mapping[str, Any] | None = None
    decree: Mapping[str, Any] | None = None
    received_on: date | None = None
    appeal_limit: date | None = None
    in_force_on: date | None = None
    in_force: bool = False
    appeal: Appeal | None = None
    appeals_filed: frozenset[str] = frozenset()
    appeal_decided: bool = False
    window_closed: bool = False
    execution: Mapping[str, Any] | None = None
    executed: bool = False
    closed: bool = False
    last_at: datetime | None = None
    timeline: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, history: Sequence[Envelope], without: frozenset[str] = frozenset()) -> Case:
        """The case after ``history`` (its events in version order), leaving out the lapses a
        later ``lapse_withdrawn`` withdrew and the events named in ``without``."""
        case = cls(correlation_id=history[0].correlation_id if history else "")
        skipped = without | withdrawn(history)
        for envelope in history:
            if envelope.event_id in skipped:
                continue
            case = case.apply(
                envelope.event_type, envelope.payload, datetime.fromisoformat(envelope.occurred_at)
            )
        return replace(case, version=len(history))

    def evolve(self, new: Iterable[NewEvent]) -> Case:
        """The case after events not yet appended (the version is left as it was)."""
        case = self
        for event in new:
            case = case.apply(event.event_type, event.payload, event.occurred_at)
        return case

    def apply(self, kind: str, p: Mapping[str, Any], at: datetime) -> Case:
        """The case after one event."""
        changes = _APPLY[kind](self, p) if kind in _APPLY else {}
        return replace(self, **changes, last_at=at, timeline=(*self.timeline, kind))

    # --- what the case is and allows -----------------------------------------------------

    @property
    def state(self) -> State:
        """The case's state, derived from its facts."""
        if self.closed:
            return State.CLOSED
        if self.decision is None:
            return State.PPK_NONCOMPLIANT if self.noncompliant else State.REFERRED
        if self.decree is None:
            return State.DECIDED
        if self.received_on is None:
            return State.DECREE_ISSUED
        if self.appeal is not None:
            return State.UNDER_KEBERATAN if self.appeal.kind == "KEBERATAN" else State.UNDER_BANDING
        if self.executed:
            return State.EXECUTED
        if self.in_force:
            return State.IN_FORCE
        return State.APPEAL_DECIDED if self.appeal_decided else State.DELIVERED

    @property
    def moral(self) -> bool:
        """Whether the penalty is a moral sanction (PP 42/2004), declared rather than delivered."""
        return self.penalty is not None and self.penalty["category"] == "KODE_ETIK"

    def allowed(self) -> list[Action]:
        """The commands this case accepts now."""
        if self.closed or self.referral is None:
            return []
        if self.decision is None:
            return [Action.DECISION]
        if self.decree is None:
            return [Action.DECREE]
        if self.received_on is None:
            return [Action.DELIVERY]
        if self.appeal is not None:
            if self.appeal.kind == "KEBERATAN":
                # Only the issuing official under a superior answers (PP 79/2021 Ps 8).
                waiting = self.appeal.addressed_to == "ATASAN_PEJABAT" and not self.appeal.answered
                return (
                    [Action.OBJECTION_ANSWER, Action.OBJECTION_DECISION]
                    if waiting
                    else [Action.OBJECTION_DECISION]
                )
            return (
                [Action.APPEAL_DECISION]
                if self.appeal.answered
                else [Action.APPEAL_ANSWER, Action.APPEAL_DECISION]
            )
        actions = []
        route = self.penalty["appeal_route"] if self.penalty else "NONE"
        # Once an appeal has been decided the next step is the administrative court, outside Netra.
        if not self.appeal_decided and route in ("KEBERATAN", "BANDING") and route not in self.appeals_filed:
            actions.append(Action.OBJECTION if route == "KEBERATAN" else Action.APPEAL)
        if self.in_force and self.execution is not None and not self.executed:
            actions.append(Action.COMPLETION)
        return actions

    def require(self, action: Action, reason: str = "", rule: str = STATE_MACHINE) -> None:
        """Refuse ``action`` with 409 (state and allowed actions, and ``rule`` with its article
        when the law is why) unless the case allows it."""
        allowed = self.allowed()
        if action not in allowed:
            raise IllegalTransition(action.value, self.state.value, [a.value for a in allowed], reason, rule)

    @property
    def closable(self) -> bool:
        """In force, executed, nothing pending, and no appeal can still come in time."""
        settled = self.window_closed or self.appeal_decided or self.moral
        return self.in_force and self.executed and self.appeal is None and settled and not self.closed


# --- how each event changes the case ---------------------------------------------------------


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _referral(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
    return {"referral": Referral.of(p), "rule_set": p.get("rule_set")}


def _decision(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
    return {"decision": p, "penalty": p["penalty"]}


def _delivered(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "received_on": _day(p["received_on"]),
        "appeal_limit": _day(p.get("appeal_limit")),
        "in_force_on": _day(p["in_force_on"]),
    }


def _appeal_filed(kind: str) -> Any:
    def apply(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
        appeal = Appeal(kind, date.fromisoformat(p["filed_on"]), p["addressed_to"])
        return {"appeal": appeal, "appeals_filed": case.appeals_filed | {kind}}

    return apply


def _answered(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
    return {"appeal": replace(case.appeal, answered=True) if case.appeal else None}


def _appeal_decided(case: Case, p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "appeal": None,
        "appeal_decided": True,
        "penalty": p.get("penalty"),
        "in_force_on": _day(p.get("in_force_on")),
        "in_force": False,
        "execution": None,
        "executed": False,
    }


_APPLY: dict[str, Any] = {
    ev.REFERRAL_RECEIVED: _referral,
    ev.ESCALATION_REQUESTED: lambda case, p: {"noncompliant": True},
    ev.DECISION_ISSUED: _decision,
    ev.DECREE_ISSUED: lambda case, p: {"decree": p},
    ev.DECISION_DELIVERED: _delivered,
    ev.PENALTY_IN_FORCE: lambda case, p: {"in_force": True, "in_force_on": _day(p["in_force_on"])},
    # A timely keberatan or banding suspends the penalty and undoes its execution until decided.
    ev.PENALTY_SUSPENDED: lambda case, p: {"in_force": False, "execution": None, "executed": False},
    ev.APPEAL_WINDOW_CLOSED: lambda case, p: {"window_closed": True},
    ev.OBJECTION_FILED: _appeal_filed("KEBERATAN"),
    ev.APPEAL_FILED: _appeal_filed("BANDING"),
    ev.APPEAL_ANSWERED: _answered,
    ev.OBJECTION_ANSWERED: _answered,
    ev.OBJECTION_DECIDED: _appeal_decided,
    ev.APPEAL_DECIDED: _appeal_decided,
    ev.EXECUTION_STARTED: lambda case, p: {"execution": p},
    ev.PENALTY_EXECUTED: lambda case, p: {"executed": True},
    ev.CASE_CLOSED: lambda case, p: {"closed": True},
}
