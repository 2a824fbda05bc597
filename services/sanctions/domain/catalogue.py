"""The penalty catalogue applied to one case: which penalties exist for this employee under
the rule set chosen for the case, and how a penalty is recorded in an event."""

from __future__ import annotations

from typing import Any

from services.sanctions.domain.referral import Referral
from services.sanctions.domain.rules import Category, Penalty, RuleBook, RuleSet


def rule_set_for(book: RuleBook, referral: Referral) -> RuleSet | None:
    """The rule set for the case: the one in force on the incident date (None before the
    earliest rule file: a decision then names the missing law instead of guessing it)."""
    return book.in_force_or_none(referral.incident_date)


def penalties_for(rule_set: RuleSet, referral: Referral) -> list[Penalty]:
    """The penalties that exist for this employee: their type, their agency's own PPPK
    penalties, and the Ps 42 switches as the rule set has them."""
    return [
        p
        for p in rule_set.penalties
        if referral.employee_type in p.employee_types
        and (p.agency is None or p.agency == referral.agency)
        and rule_set.available(p)
    ]


def fitting(rule_set: RuleSet, referral: Referral) -> list[Penalty]:
    """The penalties whose category and level fit the finding (what a decision may choose,
    before the signing official's authority is checked)."""
    return [p for p in penalties_for(rule_set, referral) if fits_finding(rule_set, referral, p)]


def fits_finding(rule_set: RuleSet, referral: Referral, penalty: Penalty) -> bool:
    """Same category; for discipline, the finding's level (or heavier for a repeat, Ps 35)."""
    if penalty.category is not referral.category:
        return False
    if referral.category is Category.KODE_ETIK:
        return True
    if penalty.level is None or referral.level is None:
        return False
    if penalty.level is referral.level:
        return True
    heavier_allowed = referral.repeat and rule_set.repeat_allows_heavier[0]
    return heavier_allowed and penalty.level.rank > referral.level.rank


def penalty_record(penalty: Penalty) -> dict[str, Any]:
    """A penalty as events carry it: the catalogue entry in full, so readers need no rules."""
    return {
        "code": penalty.code,
        "name": penalty.name,
        "english": penalty.english,
        "category": penalty.category.value,
        "level": penalty.level.value if penalty.level else None,
        "severity": penalty.severity,
        "duration_months": penalty.duration_months,
        "dismissal": penalty.dismissal,
        "appeal_route": penalty.appeal_route.value,
        "moral_form": penalty.moral_form,
        "agency": penalty.agency,
        "article": penalty.basis.article,
        "confidence": penalty.basis.confidence,
    }


def options(rule_set: RuleSet, referral: Referral) -> list[dict[str, Any]]:
    """The penalties a decision may choose, each with the officials who may sign it."""
    moral_officials = rule_set.moral_officials[0]
    found = []
    for penalty in fitting(rule_set, referral):
        if penalty.category is Category.KODE_ETIK:
            listed = (*referral.authorities, referral.deciding_official)
            signers = list({a.label(): a for a in listed if a.official in moral_officials}.values())
        else:
            signers = list(referral.who_may_impose(penalty))
        found.append({**penalty_record(penalty), "may_sign": [a.label() for a in signers]})
    return found
