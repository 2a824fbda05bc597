"""The decision (hukuman disiplin or sanksi moral): refused unless it is valid in law, and
recorded with every input it was made from, so a replay re-derives it byte for byte.

A decision is refused (422, every broken rule named with its article) when:
  - more than one penalty is given (PP 94/2021 Ps 33(2): one, the heaviest, per case);
  - the penalty does not exist for this employee under the case's rule set, or the Ps 42
    switch excludes it (S1–S3 versus the PP 53/2010 sedang types S1L–S3L);
  - its category or level does not match the finding: a lighter penalty is itself a
    violation by the official (PP 94/2021 Ps 24), a heavier one needs a repeat (Ps 35);
  - the signing official has no power over this employee, or not for this penalty
    (PP 94/2021 Ps 17–25 as adjudication published it in the referral's ``authorities``);
  - its date lies in the future or before the referral.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.sanctions.domain import events as ev
from services.sanctions.domain.case import Action, Case
from services.sanctions.domain.catalogue import fits_finding, fitting, penalty_record
from services.sanctions.domain.referral import Authority, Referral
from services.sanctions.domain.rules import Category, Penalty, RuleBook, RuleSet
from shared import legaltime
from shared.envelope import Envelope, NewEvent
from shared.outcome import DeadlineStart, Outcome
from shared.refusals import NETRA_RULE, RuleViolation, RuleViolations
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class DecisionRequest:
    """What the official decided, as they sent it, and when it was recorded."""

    penalties: tuple[str, ...]
    decided_on: date
    official_id: str
    now: datetime
    # The capacity the official signs in; None means the referral's deciding official.
    signed_as: str | None = None
    relation: str | None = None
    reason: str | None = None

    def inputs(self) -> dict[str, Any]:
        """The request as the decision event records it."""
        return {
            "penalties": list(self.penalties),
            "decided_on": self.decided_on.isoformat(),
            "official": self.official_id,
            "clock": self.now.isoformat(),
            "signed_as": self.signed_as,
            "relation": self.relation,
            "reason": self.reason,
        }

    @classmethod
    def of(cls, inputs: Mapping[str, Any]) -> DecisionRequest:
        """Back from the recorded inputs (to re-derive the decision)."""
        return cls(
            penalties=tuple(inputs["penalties"]),
            decided_on=date.fromisoformat(inputs["decided_on"]),
            official_id=inputs["official"],
            now=datetime.fromisoformat(inputs["clock"]),
            signed_as=inputs.get("signed_as"),
            relation=inputs.get("relation"),
            reason=inputs.get("reason"),
        )


def decide(case: Case, book: RuleBook, calendar: WorkingCalendar, request: DecisionRequest) -> Outcome:
    """Issue the decision on a referred case, or refuse it naming every rule it breaks."""
    case.require(Action.DECISION)
    assert case.referral is not None  # require() allows a decision only on a referred case
    referral = case.referral
    rule_set = book.named(case.rule_set) if case.rule_set else None
    if rule_set is None:
        raise RuleViolation(
            "penalty",
            f"no penalty catalogue covers an incident on {referral.incident_date}; an administrator must add one",
            "RULE_SET_IN_FORCE (PP 94/2021 Ps 40(3)-(4), R: the rules in force on the incident date)",
        )
    penalty, signer = validate(rule_set, referral, request)
    return Outcome(
        [decision_event(rule_set, referral, request, penalty, signer, calendar)],
        starts=[]
        if penalty.category is Category.KODE_ETIK
        else [_delivery_start(rule_set, request, calendar)],
        meets=["ppk_follow_up"],
    )


def validate(rule_set: RuleSet, referral: Referral, request: DecisionRequest) -> tuple[Penalty, Authority]:
    """The penalty and the signing authority, or RuleViolations naming every broken rule."""
    problems: list[RuleViolation] = []
    problems += _date_problems(referral, request)
    if len(request.penalties) != 1:
        problems.append(
            RuleViolation(
                "penalty",
                f"{len(request.penalties)} penalties given: one case gets one penalty, the heaviest "
                "for several violations",
                "ONE_PENALTY_PER_CASE (PP 94/2021 Ps 33(2))",
            )
        )
        raise RuleViolations(problems)
    penalty, found = _penalty(rule_set, referral, request.penalties[0])
    problems += found
    signer, found = _signer(rule_set, referral, request, penalty)
    problems += found
    if problems or penalty is None or signer is None:
        raise RuleViolations(problems)
    return penalty, signer


def decision_event(
    rule_set: RuleSet,
    referral: Referral,
    request: DecisionRequest,
    penalty: Penalty,
    signer: Authority,
    calendar: WorkingCalendar,
) -> NewEvent:
    """``sanctions.decision_issued``: the penalty, the signer, and every input it came from."""
    moral = penalty.category is Category.KODE_ETIK
    delivery = None if moral else _delivery_start(rule_set, request, calendar).due_on.isoformat()
    payload = {
        "case_number": referral.case_number,
        "penalty": penalty_record(penalty),
        "decided_on": request.decided_on.isoformat(),
        "signed_as": signer.as_dict(),
        "finding": {
            "category": referral.category.value,
            "level": referral.level.value if referral.level else None,
            "repeat": referral.repeat,
            "violations": list(referral.violations),
        },
        "delivery_due_on": delivery,
        "inputs": {
            **request.inputs(),
            "finding_event_id": referral.finding_event_id,
            "referral_event_id": referral.referral_event_id,
            "rule_set": rule_set.name,
        },
    }
    return NewEvent(
        ev.DECISION_ISSUED, payload, legaltime.at_start_of(request.decided_on), rule_set=rule_set.name
    )


def rederive_decision(
    recorded: Envelope, prior: Sequence[Envelope], book: RuleBook, calendar: WorkingCalendar
) -> NewEvent:
    """The decision event recomputed from the events before it and its recorded inputs."""
    case = Case.of(prior)
    assert case.referral is not None, "a decision follows its referral"
    inputs = recorded.payload["inputs"]
    rule_set = book.named(inputs["rule_set"])
    request = DecisionRequest.of(inputs)
    penalty, signer = validate(rule_set, case.referral, request)
    return decision_event(rule_set, case.referral, request, penalty, signer, calendar)


def _delivery_start(rule_set: RuleSet, request: DecisionRequest, calendar: WorkingCalendar) -> DeadlineStart:
    rule = rule_set.deadline("delivery")
    due = calendar.add_days(request.decided_on, rule.days, rule.count)
    return DeadlineStart("delivery", due, rule.count, rule_set.name)


def _date_problems(referral: Referral, request: DecisionRequest) -> list[RuleViolation]:
    today = legaltime.legal_date(request.now)
    if request.decided_on > today:
        return [
            RuleViolation(
                "decided_on",
                f"{request.decided_on} is after today ({today})",
                f"NO_FUTURE_DATES ({NETRA_RULE})",
            )
        ]
    if request.decided_on < referral.referred_on:
        return [
            RuleViolation(
                "decided_on",
                f"{request.decided_on} is before the case was referred ({referral.referred_on})",
                "DECISION_AFTER_FINDING (PP 94/2021 Ps 33(1))",
            )
        ]
    return []


def _penalty(rule_set: RuleSet, referral: Referral, code: str) -> tuple[Penalty | None, list[RuleViolation]]:
    """The catalogue entry for ``code``, checked against the employee and the finding. Every
    problem is named (too light for the finding, Ps 24, as well as a switch that hides the
    penalty), and the last says what would be allowed: the penalties that fit the finding."""
    penalty = rule_set.penalty(code, referral.agency)
    allowed = ", ".join(p.code for p in fitting(rule_set, referral)) or "none"
    if penalty is None or referral.employee_type not in penalty.employee_types:
        return None, [_no_such_penalty(rule_set, referral, code, allowed)]
    problems = (
        [] if fits_finding(rule_set, referral, penalty) else [_level_problem(rule_set, referral, penalty)]
    )
    available = rule_set.available(penalty)
    if not available:
        switches = "; ".join(f"{name}={rule_set.switches[name][0]}" for name in penalty.requires)
        article = rule_set.switches[next(iter(penalty.requires))][1]
        problems.append(
            RuleViolation(
                "penalty",
                f"{code} is not available while {switches} (rule set {rule_set.name})",
                f"PS42_SEDANG_TYPES ({article.cite()})",
            )
        )
    if problems:
        last = problems[-1]
        problems[-1] = RuleViolation(last.field, f"{last.message}; allowed: {allowed}", last.rule)
    return (penalty if available else None), problems


def _no_such_penalty(rule_set: RuleSet, referral: Referral, code: str, known: str) -> RuleViolation:
    if referral.employee_type == "PPPK":
        reason = (
            f"no penalty {code} for PPPK of {referral.agency}: PPPK penalties below termination are set by "
            "each PPK and an administrator must list the agency's own in the rule data"
        )
        return RuleViolation("penalty", f"{reason}; available: {known}", "PPPK_PENALTIES (PP 49/2018 Ps 52)")
    return RuleViolation(
        "penalty",
        f"{code} is not a penalty for a {referral.employee_type} under rule set {rule_set.name}; "
        f"available: {known}",
        f"PENALTY_CATALOGUE ({rule_set.name}; {rule_set.selection.cite()})",
    )


def _level_problem(rule_set: RuleSet, referral: Referral, penalty: Penalty) -> RuleViolation:
    if referral.category is not penalty.category:
        return RuleViolation(
            "penalty",
            f"{penalty.code} is a {penalty.category.value} sanction but the finding is {referral.category.value}",
            "CATEGORY_MATCH (PP 42/2004 Ps 15; PP 94/2021 Ps 8)",
        )
    level = referral.level.value if referral.level else "none"
    given = penalty.level.value if penalty.level else "none"
    if referral.level and penalty.level and penalty.level.rank < referral.level.rank:
        return RuleViolation(
            "penalty",
            f"{penalty.code} is {given}, lighter than the finding's level {level}: an official who imposes "
            "a lighter penalty than the law requires commits a violation himself",
            "PENALTY_NOT_LIGHTER_THAN_FINDING (PP 94/2021 Ps 24)",
        )
    repeat = rule_set.repeat_allows_heavier[1]
    return RuleViolation(
        "penalty",
        f"{penalty.code} is {given} but the finding's level is {level}; a heavier level needs a repeat "
        f"of the same kind ({repeat.cite()})",
        "PENALTY_LEVEL_MATCHES_FINDING (PP 94/2021 Ps 8, 13, 14)",
    )


def _signer(
    rule_set: RuleSet, referral: Referral, request: DecisionRequest, penalty: Penalty | None
) -> tuple[Authority | None, list[RuleViolation]]:
    """The authority the official signs as, if it has power over the employee and the penalty."""
    if request.signed_as is None:
        official, relation = referral.deciding_official.official, referral.deciding_official.relation
    else:
        official, relation = request.signed_as, request.relation
    authority = referral.authority(official, relation)
    listed = ", ".join(a.label() for a in referral.authorities)
    named = f"{official} ({relation})" if relation else official
    if authority is None:
        return None, [
            RuleViolation(
                "signed_as",
                f"{named} has no disciplinary power over this employee; the officials who do: {listed}",
                "PYBM_AUTHORITY (PP 94/2021 Ps 17-25; the referral's authorities)",
            )
        ]
    if penalty is None:
        return authority, []
    if penalty.category is Category.KODE_ETIK:
        officials, basis = rule_set.moral_officials
        if authority.official in officials or "KODE_ETIK" in authority.may_impose:
            return authority, []
        return authority, [
            RuleViolation(
                "signed_as",
                f"{named} may not declare a moral sanction",
                f"MORAL_SANCTION_OFFICIAL ({basis.cite()})",
            )
        ]
    if authority.covers(penalty):
        return authority, []
    who = referral.who_may_impose(penalty)
    able = ", ".join(f"{a.label()} ({a.basis})" for a in who) or "no official listed in the referral"
    # The signer's own article, and the article of whoever holds the power instead.
    articles = ", ".join(dict.fromkeys([authority.basis or "PP 94/2021 Ps 17-25", *(a.basis for a in who)]))
    return authority, [
        RuleViolation(
            "signed_as",
            f"{named} may impose {authority.powers()} over this employee, so not {penalty.code} "
            f"({penalty.level.value if penalty.level else '-'}); who may: {able}",
            f"PYBM_AUTHORITY ({articles})",
        )
    ]
