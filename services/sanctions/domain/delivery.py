"""After the decision: the decree (number, date, hash of the signed document) and its
delivery to the employee, which fixes the dates that follow (PP 94/2021 Ps 37–38, PP 79/2021).

On delivery the case learns two dates, both recorded (docs/law.md §7, open question 5):
  - ``in_force_on``: day 15 after receipt (calendar days as data), unless appealed;
  - ``appeal_limit``: the last day to file a keberatan, or a banding against a dismissal.
The first can fall before the second; a timely keberatan then suspends a penalty in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Action, Case
from services.sanctions.domain.rules import DeadlineRule, RuleBook, RuleSet
from shared.legaltime import require_dated
from shared.outcome import DeadlineStart, Outcome
from shared.workdays import DayCount, WorkingCalendar

DELIVERY_METHODS = ("IN_PERSON", "MAIL")
# Timers, not obligations: when they lapse the case moves on by itself.
TAKES_EFFECT = "takes_effect"
APPEAL_WINDOW = "appeal_window"
FILING_RULE = {"KEBERATAN": "keberatan_filing", "BANDING": "banding_filing"}
# A keberatan against an official other than the PPK goes to that official's superior
# (PP 79/2021 Ps 3(3)), whose window has its own article (Ps 7).
SUPERIOR_FILING_RULE = "keberatan_filing_superior"


@dataclass(frozen=True)
class Decree:
    """The signed decision document: its number, date and SHA-256."""

    number: str
    issued_on: date
    document_sha256: str


def issue_decree(case: Case, decree: Decree, today: date) -> Outcome:
    """Record the decree; a moral sanction is thereby declared and its case closes
    (PP 42/2004 Ps 15–16: a written statement, with no appeal route in that PP)."""
    case.require(Action.DECREE)
    assert case.decision is not None and case.penalty is not None
    decided_on = date.fromisoformat(case.decision["decided_on"])
    require_dated("issued_on", decree.issued_on, not_before=decided_on, today=today)
    on = decree.issued_on
    events = [
        ev.dated(
            ev.DECREE_ISSUED,
            {
                "number": decree.number,
                "issued_on": decree.issued_on.isoformat(),
                "document_sha256": decree.document_sha256,
                "penalty": case.penalty["code"],
            },
            on,
        )
    ]
    if case.moral:
        form = case.penalty["moral_form"]
        events.append(
            ev.dated(
                ev.MORAL_SANCTION_DECLARED,
                {"penalty": case.penalty["code"], "form": form, "declared_on": decree.issued_on.isoformat()},
                on,
            )
        )
        events.append(
            ev.dated(
                ev.CASE_CLOSED,
                {"reason": "MORAL_SANCTION_DECLARED", "closed_on": decree.issued_on.isoformat()},
                on,
            )
        )
    return Outcome(events)


def keberatan_addressee(case: Case, rule_set: RuleSet) -> str:
    """``PPK`` when the PPK decided (PP 79/2021 Ps 3(2)), else ``ATASAN_PEJABAT`` (Ps 3(3))."""
    signer = case.decision["signed_as"]["official"] if case.decision else None
    return "PPK" if signer in rule_set.ppk_officials[0] else "ATASAN_PEJABAT"


def filing_rule(case: Case, rule_set: RuleSet, route: str) -> DeadlineRule | None:
    """The rule of the window for contesting the penalty by ``route``, None if it has none."""
    if route == "KEBERATAN" and keberatan_addressee(case, rule_set) == "ATASAN_PEJABAT":
        return rule_set.deadline(SUPERIOR_FILING_RULE)
    return rule_set.deadline(FILING_RULE[route]) if route in FILING_RULE else None


def deliver(
    case: Case, book: RuleBook, calendar: WorkingCalendar, received_on: date, method: str, today: date
) -> Outcome:
    """Record receipt by the employee; start the in-force timer and the appeal window."""
    case.require(Action.DELIVERY)
    assert case.decision is not None and case.penalty is not None and case.rule_set is not None
    decided_on = date.fromisoformat(case.decision["decided_on"])
    require_dated("received_on", received_on, not_before=decided_on, today=today)
    rule_set = book.named(case.rule_set)
    takes = rule_set.deadline("takes_effect")
    in_force_on = calendar.add_days(received_on, takes.days, takes.count)
    route = case.penalty["appeal_route"]
    filing = filing_rule(case, rule_set, route)
    limit = calendar.add_days(received_on, filing.days, filing.count) if filing else None
    due = date.fromisoformat(case.decision["delivery_due_on"])
    payload = {
        "received_on": received_on.isoformat(),
        "method": method,
        "delivery_due_on": due.isoformat(),
        "late": received_on > due,
        "in_force_on": in_force_on.isoformat(),
        "in_force_basis": takes.basis.cite(),
        "appeal_route": route,
        "appeal_limit": limit.isoformat() if limit else None,
        "appeal_basis": filing.basis.cite() if filing else None,
    }
    starts = [
        # Lapses at the start of in_force_on: the day before is its last day.
        DeadlineStart(TAKES_EFFECT, in_force_on - timedelta(days=1), DayCount.CALENDAR, rule_set.name)
    ]
    if filing and limit:
        starts.append(DeadlineStart(APPEAL_WINDOW, limit, filing.count, rule_set.name))
    event = ev.dated(ev.DECISION_DELIVERED, payload, received_on, rule_set.name)
    return Outcome([event], starts=starts, meets=["delivery"])
