"""Upaya administratif (PP 79/2021): the keberatan against a penalty, the banding to BPASN
against a dismissal or a PPPK termination, and the decisions that leave a penalty standing.

Filing: within the window fixed at delivery (14 working days, as data). A late filing is
recorded as *tidak dapat diterima* and changes nothing else. A timely one suspends the
penalty if it is already in force (it can be: day 15 after receipt comes before the end of
14 working days, docs/law.md §7) and starts the clocks of the body that decides:
  - keberatan to the PPK (Ps 3(2)), or to the superior of another issuing official (Ps 3(3),
    who answers within 6 working days, Ps 8); decided within 21 working days (Ps 5, 9);
  - banding to BPASN (Ps 10–18): the PPK answers within 21 working days, BPASN decides
    within 65.
Decision: confirm, lighten, aggravate, change, revoke or annul. The penalty that results is
re-validated against the catalogue and the referral's authorities; it takes effect on the
date the decision sets (PP 94/2021 Ps 38(2)).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Action, Case
from services.sanctions.domain.catalogue import penalty_record
from services.sanctions.domain.delivery import APPEAL_WINDOW, TAKES_EFFECT, filing_rule, keberatan_addressee
from services.sanctions.domain.execution import take_effect
from services.sanctions.domain.rules import Category, RuleBook, RuleSet
from shared.legaltime import require_dated
from shared.outcome import DeadlineStart, Outcome
from shared.refusals import RuleViolation, RuleViolations
from shared.workdays import DayCount, WorkingCalendar

KEBERATAN, BANDING = "KEBERATAN", "BANDING"


class Ruling(enum.StrEnum):
    """What the body deciding a keberatan or banding may do with the penalty."""

    CONFIRM = "CONFIRM"
    LIGHTEN = "LIGHTEN"
    AGGRAVATE = "AGGRAVATE"
    CHANGE = "CHANGE"
    REVOKE = "REVOKE"
    ANNUL = "ANNUL"


@dataclass(frozen=True)
class AppealDecision:
    """A keberatan or banding decision as recorded: the ruling, the penalty it leaves, dates."""

    ruling: Ruling
    decided_on: date
    penalty: str | None = None
    in_force_on: date | None = None


@dataclass(frozen=True)
class _Kind:
    action: Action
    decision_action: Action
    filed: str
    rejected: str
    decided: str
    clocks: tuple[str, ...]
    basis: str


_KINDS = {
    KEBERATAN: _Kind(
        Action.OBJECTION,
        Action.OBJECTION_DECISION,
        ev.OBJECTION_FILED,
        ev.OBJECTION_REJECTED_LATE,
        ev.OBJECTION_DECIDED,
        ("keberatan_decision", "official_answer"),
        "PP 79/2021 Ps 4(2)",
    ),
    BANDING: _Kind(
        Action.APPEAL,
        Action.APPEAL_DECISION,
        ev.APPEAL_FILED,
        ev.APPEAL_REJECTED_LATE,
        ev.APPEAL_DECIDED,
        ("bpasn_decision", "ppk_answer"),
        "PP 79/2021 Ps 11(3)",
    ),
}


# What a refusal of the other kind of appeal says each route allows (its article: rule data).
_ALLOWED = {
    "KEBERATAN": "a keberatan to the official who decided",
    "BANDING": "a banding to BPASN",
    "NONE": "no administrative appeal",
}


def _route_refusal(book: RuleBook, case: Case, route: str) -> tuple[str, str]:
    """Why the other kind of appeal is refused, and the rule: what the penalty allows."""
    basis = book.named(case.rule_set).appeal_routes.get(route) if case.rule_set else None
    cited = f" ({basis.cite()})" if basis else ""
    return (
        f"this penalty is contested by {_ALLOWED.get(route, route)}, the only appeal the law gives it",
        f"APPEAL_ROUTE_{route}{cited}",
    )


def file(
    kind: str, case: Case, book: RuleBook, calendar: WorkingCalendar, filed_on: date, today: date
) -> Outcome:
    """A keberatan (``KEBERATAN``) or banding (``BANDING``) filed by the employee on ``filed_on``."""
    spec = _KINDS[kind]
    route = case.penalty["appeal_route"] if case.penalty else "NONE"
    if route != kind:
        case.require(spec.action, *_route_refusal(book, case, route))
    case.require(spec.action)
    assert case.received_on is not None and case.appeal_limit is not None and case.rule_set is not None
    require_dated("filed_on", filed_on, not_before=case.received_on, today=today)
    limit = case.appeal_limit
    rule_set = book.named(case.rule_set)
    filing = filing_rule(case, rule_set, kind)
    basis = filing.basis.cite() if filing else spec.basis
    base = {"filed_on": filed_on.isoformat(), "appeal_limit": limit.isoformat(), "basis": basis}
    if filed_on > limit:
        # Tidak dapat diterima: recorded, and nothing else changes (PP 79/2021 Ps 4(2), 12).
        return Outcome([ev.dated(spec.rejected, {**base, "ruling": "TIDAK_DAPAT_DITERIMA"}, filed_on)])
    addressed_to, starts = _route(kind, case, rule_set, calendar, filed_on)
    filed = ev.dated(
        spec.filed,
        {**base, "addressed_to": addressed_to, **{f"{s.kind}_due_on": s.due_on.isoformat() for s in starts}},
        filed_on,
        rule_set.name,
    )
    events = [filed]
    if case.in_force:
        events.append(
            ev.dated(
                ev.PENALTY_SUSPENDED,
                {"penalty": case.penalty["code"] if case.penalty else None, "by": kind},
                filed_on,
            )
        )
    return Outcome(events, starts=starts, meets=[APPEAL_WINDOW], cancels=[TAKES_EFFECT])


def answer(kind: str, case: Case, answered_on: date, today: date) -> Outcome:
    """The PPK's answer to BPASN on a banding (PP 79/2021 Ps 13), or the issuing official's
    answer to the superior deciding a keberatan (Ps 8)."""
    action, event_type, clock = (
        (Action.APPEAL_ANSWER, ev.APPEAL_ANSWERED, "ppk_answer")
        if kind == BANDING
        else (Action.OBJECTION_ANSWER, ev.OBJECTION_ANSWERED, "official_answer")
    )
    case.require(action)
    assert case.appeal is not None
    require_dated("answered_on", answered_on, not_before=case.appeal.filed_on, today=today)
    event = ev.dated(event_type, {"answered_on": answered_on.isoformat()}, answered_on)
    return Outcome([event], meets=[clock])


def decide(kind: str, case: Case, book: RuleBook, decision: AppealDecision, today: date) -> Outcome:
    """The keberatan or banding decision, the penalty that then stands and what follows."""
    spec = _KINDS[kind]
    case.require(spec.decision_action)
    assert case.appeal is not None and case.rule_set is not None and case.penalty is not None
    require_dated("decided_on", decision.decided_on, not_before=case.appeal.filed_on, today=today)
    rule_set = book.named(case.rule_set)
    standing = standing_penalty(rule_set, case, decision)
    in_force_on = decision.in_force_on or decision.decided_on
    if decision.in_force_on is not None and decision.in_force_on < decision.decided_on:
        raise RuleViolations(
            [
                RuleViolation(
                    "in_force_on", "must not be before decided_on", "APPEAL_IN_FORCE_ON (PP 94/2021 Ps 38(2))"
                )
            ]
        )
    payload = {
        "ruling": decision.ruling.value,
        "decided_on": decision.decided_on.isoformat(),
        "decided_by": case.appeal.addressed_to,
        "previous_penalty": case.penalty["code"],
        "penalty": standing,
        "in_force_on": None if standing is None else in_force_on.isoformat(),
    }
    events = [ev.dated(spec.decided, payload, decision.decided_on, rule_set.name)]
    clocks = list(spec.clocks)
    if standing is None:
        closed = {"reason": "REVOKED" if decision.ruling is Ruling.REVOKE else "ANNULLED"}
        events.append(
            ev.dated(
                ev.CASE_CLOSED, {**closed, "closed_on": decision.decided_on.isoformat()}, decision.decided_on
            )
        )
        return Outcome(events, meets=clocks[:1], cancels=clocks[1:])
    if in_force_on <= today:
        return Outcome(
            events + take_effect(case.evolve(events), in_force_on), meets=clocks[:1], cancels=clocks[1:]
        )
    timer = DeadlineStart(TAKES_EFFECT, in_force_on - timedelta(days=1), DayCount.CALENDAR, rule_set.name)
    return Outcome(events, starts=[timer], meets=clocks[:1], cancels=clocks[1:])


def standing_penalty(rule_set: RuleSet, case: Case, decision: AppealDecision) -> dict[str, Any] | None:
    """The penalty a ruling leaves, re-validated; None when revoked or annulled."""
    assert case.penalty is not None and case.referral is not None
    current, ruling = case.penalty, decision.ruling
    if ruling in (Ruling.REVOKE, Ruling.ANNUL):
        _refuse_if(decision.penalty is not None, "penalty", f"{ruling.value} leaves no penalty: omit it")
        return None
    if ruling is Ruling.CONFIRM:
        _refuse_if(
            decision.penalty not in (None, current["code"]), "penalty", "CONFIRM keeps the penalty as it was"
        )
        return dict(current)
    _refuse_if(decision.penalty is None, "penalty", f"{ruling.value} needs the penalty that will stand")
    assert decision.penalty is not None
    penalty = rule_set.penalty(decision.penalty, case.referral.agency)
    referral = case.referral
    if (
        penalty is None
        or referral.employee_type not in penalty.employee_types
        or not rule_set.available(penalty)
    ):
        raise RuleViolations(
            [
                RuleViolation(
                    "penalty",
                    f"{decision.penalty} is not a penalty for this employee under {rule_set.name}",
                    f"PENALTY_CATALOGUE ({rule_set.name}; {rule_set.selection.cite()})",
                )
            ]
        )
    direction = {
        Ruling.LIGHTEN: (penalty.severity < current["severity"], "lighter than"),
        Ruling.AGGRAVATE: (penalty.severity > current["severity"], "heavier than"),
        Ruling.CHANGE: (penalty.code != current["code"], "different from"),
    }
    ok, words = direction[ruling]
    _refuse_if(not ok, "penalty", f"{ruling.value} needs a penalty {words} {current['code']}")
    _refuse_if(
        penalty.category is not Category(current["category"]),
        "penalty",
        "the category of the sanction cannot change",
    )
    if penalty.category is Category.DISIPLIN and not referral.who_may_impose(penalty):
        raise RuleViolations(
            [
                RuleViolation(
                    "penalty",
                    f"no official with power over this employee may impose {penalty.code}",
                    "PYBM_AUTHORITY (PP 94/2021 Ps 17-25)",
                )
            ]
        )
    return penalty_record(penalty)


def _route(
    kind: str, case: Case, rule_set: RuleSet, calendar: WorkingCalendar, filed_on: date
) -> tuple[str, list[DeadlineStart]]:
    """Who decides, and the clocks the filing starts."""

    def clock(name: str) -> DeadlineStart:
        rule = rule_set.deadline(name)
        return DeadlineStart(
            name, calendar.add_days(filed_on, rule.days, rule.count), rule.count, rule_set.name
        )

    if kind == BANDING:
        return "BPASN", [clock("ppk_answer"), clock("bpasn_decision")]
    if keberatan_addressee(case, rule_set) == "PPK":
        return "PPK", [clock("keberatan_decision")]
    return "ATASAN_PEJABAT", [clock("keberatan_decision"), clock("official_answer")]


def _refuse_if(condition: bool, field: str, message: str) -> None:
    if condition:
        raise RuleViolations([RuleViolation(field, message, "APPEAL_RULINGS (PP 79/2021 Ps 5, 9, 16)")])


def late_filing(kind: str) -> str:
    """The event type recording a late filing of ``kind`` (tidak dapat diterima)."""
    return _KINDS[kind].rejected
