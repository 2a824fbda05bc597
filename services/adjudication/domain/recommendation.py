"""The recommendation (Bawaslu's finding forwarded to KASN or BKN, who recommend to the PPK)
and the PPK's acknowledgement, with its follow-up clock (docs/law.md §5 rows 4–6a).

Which body recommends is data by date (KASN until 24 Aug 2024, BKN after); the follow-up
period is data marked R (10 vs 14 days, OQ4). Recommendation deadlines themselves are
unknown in the law read, so none is kept.
"""

from __future__ import annotations

from datetime import date

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import Start, decision
from services.adjudication.domain.commands import (
    AcknowledgeRecommendation,
    Deciding,
    RecordRecommendation,
    RequestRecommendation,
)
from services.adjudication.domain.lifecycle import guard
from services.adjudication.domain.rules import BodyPeriod, RuleSet
from services.adjudication.domain.vocabulary import RecommendationCategory
from shared.outcome import Outcome
from shared.refusals import NETRA_RULE, RuleViolation, RuleViolations

PPK_FOLLOW_UP = "ppk_follow_up"


def request_recommendation(case: Case, cmd: RequestRecommendation, d: Deciding) -> Outcome:
    """Record that the finding went to the body in force on the request date."""
    guard("recommendation-request", case)
    rules = d.rules_on(cmd.requested_on, "requested_on")
    period = _body_on(rules, cmd.requested_on, "requested_on")
    payload = {
        "requested_on": cmd.requested_on.isoformat(),
        "body": period.body.value,
        "reference": cmd.reference,
        "basis": period.basis.record(),
    }
    return decision(ev.RECOMMENDATION_REQUESTED, payload, d.at, rule_set=rules.name)


def _body_on(rules: RuleSet, day: date, field_name: str) -> BodyPeriod:
    """The recommending body on ``day``; a 422 when the rule data knows none (PP 53/2010
    before KASN existed, 2010–2013: not in docs/law.md, so refused rather than guessed)."""
    try:
        return rules.body_on(day)
    except LookupError as exc:
        raise RuleViolation(field_name, f"{exc} in {rules.name}", "UU 5/2014 Ps 31(1)(a)") from exc


def record_recommendation(case: Case, cmd: RecordRecommendation, d: Deciding) -> Outcome:
    """Record the recommendation issued: number, date, category and, for disiplin, its level."""
    guard("recommendation", case)
    rules = d.rules_on(cmd.issued_on, "issued_on")
    period = _body_on(rules, cmd.issued_on, "issued_on")
    problems = []
    if cmd.issuer is not None and cmd.issuer is not period.body:
        problems.append(
            RuleViolation(
                "issuer",
                f"on {cmd.issued_on.isoformat()} recommendations were issued by {period.body.value}, "
                f"not {cmd.issuer.value}",
                f"{period.basis.id}: {period.basis.article}",
            )
        )
    if cmd.category is RecommendationCategory.DISIPLIN and cmd.level is None:
        problems.append(
            RuleViolation("level", "a disiplin recommendation names its level", "docs/law.md §5 row 5")
        )
    if cmd.category is not RecommendationCategory.DISIPLIN and cmd.level is not None:
        problems.append(
            RuleViolation(
                "level", f"a {cmd.category.value} recommendation has no level", "docs/law.md §5 row 5"
            )
        )
    requested = case.recommendation_request
    if requested and cmd.issued_on.isoformat() < requested["requested_on"]:
        problems.append(
            RuleViolation("issued_on", "cannot be before the request", f"STEPS_IN_ORDER ({NETRA_RULE})")
        )
    if problems:
        raise RuleViolations(problems)
    payload = {
        "issuer": period.body.value,
        "number": cmd.number,
        "issued_on": cmd.issued_on.isoformat(),
        "category": cmd.category.value,
        "level": cmd.level.value if cmd.level else None,
        "basis": period.basis.record(),
    }
    return decision(ev.RECOMMENDATION_ISSUED, payload, d.at, rule_set=rules.name)


def acknowledge(case: Case, cmd: AcknowledgeRecommendation, d: Deciding) -> Outcome:
    """The PPK received the recommendation: the follow-up clock starts on that date."""
    guard("ppk-acknowledgement", case)
    issued = (case.recommendation or {}).get("issued_on", "")
    if cmd.received_on.isoformat() < issued:
        raise RuleViolation(
            "received_on", f"cannot be before the recommendation was issued ({issued})", "docs/law.md §5"
        )
    rules = d.rules_on(cmd.received_on, "received_on")
    rule = rules.deadline(PPK_FOLLOW_UP)
    payload = {
        "ppk": cmd.ppk,
        "received_on": cmd.received_on.isoformat(),
        "letter_number": cmd.letter_number,
        "basis": rule.basis.record(),
    }
    return decision(
        ev.PPK_ACKNOWLEDGED,
        payload,
        d.at,
        rule_set=rules.name,
        calendar=d.calendar,
        starts=[Start(PPK_FOLLOW_UP, rule, cmd.received_on)],
    )
