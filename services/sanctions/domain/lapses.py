"""What a lapsed deadline means for a case (pure; the scheduler's handler calls it).

Two kinds are timers that move the case on: ``takes_effect`` (the penalty comes into force,
PP 94/2021 Ps 38) and ``appeal_window`` (no keberatan or banding can now come in time). The
others are obligations whose lapse is a breach recorded as ``sanctions.deadline_missed``,
with its consequence; ``ppk_follow_up`` also escalates (services.sanctions.domain.escalation).
A lapse the case has moved past records nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Case
from services.sanctions.domain.delivery import APPEAL_WINDOW, TAKES_EFFECT
from services.sanctions.domain.escalation import FOLLOW_UP, escalate
from services.sanctions.domain.execution import closing, take_effect
from services.sanctions.domain.rules import RuleBook
from shared.envelope import NewEvent

# Windows that close with nobody bound to act: their lapse is no one's breach (EXPIRED).
WINDOWS = frozenset({TAKES_EFFECT, APPEAL_WINDOW})
# Obligation -> what its breach means.
CONSEQUENCES = {
    "delivery": "the decision was not delivered within its deadline (PP 94/2021 Ps 37(3))",
    "keberatan_decision": "no keberatan decision in time: the employee may go to the PTUN (PP 79/2021 Ps 6)",
    "official_answer": "the issuing official did not answer the keberatan in time (PP 79/2021 Ps 8)",
    "ppk_answer": "the PPK did not answer BPASN in time (PP 79/2021 Ps 13)",
    "bpasn_decision": "BPASN did not decide in time: the employee may go to the PT TUN (PP 79/2021 Ps 18)",
}


def on_lapse(case: Case, book: RuleBook, kind: str, due_on: date, breach: NewEvent) -> list[NewEvent]:
    """The events a lapsed deadline of ``kind`` (last day ``due_on``) adds to ``case``."""
    lapsed_on = due_on + timedelta(days=1)
    if case.closed:
        return []
    if kind == TAKES_EFFECT:
        awaiting = case.penalty is not None and not case.in_force and case.appeal is None
        return take_effect(case, lapsed_on) if awaiting and case.in_force_on == lapsed_on else []
    if kind == APPEAL_WINDOW:
        if case.appeal is not None or case.window_closed:
            return []
        closed = ev.dated(ev.APPEAL_WINDOW_CLOSED, {"appeal_limit": due_on.isoformat()}, lapsed_on)
        return [closed, *closing(case.evolve([closed]), lapsed_on)]
    if kind == FOLLOW_UP:
        rule_set = book.named(case.rule_set) if case.rule_set else None
        return escalate(case, rule_set, _with(breach), lapsed_on) if rule_set else [_with(breach)]
    if kind in CONSEQUENCES and _unmet(case, kind):
        return [_with(breach, CONSEQUENCES[kind])]
    return []


def _unmet(case: Case, kind: str) -> bool:
    appeal = case.appeal
    return {
        "delivery": case.decision is not None and case.received_on is None,
        "keberatan_decision": appeal is not None and appeal.kind == "KEBERATAN",
        "official_answer": appeal is not None and appeal.kind == "KEBERATAN" and not appeal.answered,
        "ppk_answer": appeal is not None and appeal.kind == "BANDING" and not appeal.answered,
        "bpasn_decision": appeal is not None and appeal.kind == "BANDING",
    }[kind]


def _with(breach: NewEvent, consequence: str | None = None) -> NewEvent:
    if consequence is None:
        consequence = "no decision on the referral within the follow-up deadline (docs/law.md §5 6a)"
    return NewEvent(
        breach.event_type,
        {**breach.payload, "consequence": consequence},
        breach.occurred_at,
        rule_set=breach.rule_set,
    )
