"""What follows a finding: closure when not proven, or the referral to the deciding official
with everything sanctions needs (docs/events.md).

The finding's decider (domain.finding) returns both events as one outcome; ``conclude``
decides the second again from the events before it, which is how a replay re-derives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.adjudication.domain import events as ev
from services.adjudication.domain.authority import Profile, authorities, deciding_official
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import decision
from services.adjudication.domain.opening import kept_subject
from services.adjudication.domain.rules import RuleBook
from services.adjudication.domain.vocabulary import Category, Level
from shared.legaltime import at_start_of
from shared.outcome import Outcome
from shared.refusals import RuleViolation


def conclude(case: Case, book: RuleBook) -> Outcome:
    """What follows the finding the case has recorded (see ``follow_finding``)."""
    assert case.finding is not None and case.finding_event_id is not None
    assert case.finding_rule_set is not None
    return follow_finding(case, case.finding, case.finding_event_id, case.finding_rule_set, book)


def follow_finding(
    case: Case, finding: Mapping[str, Any], finding_id: str, finding_rule_set: str, book: RuleBook
) -> Outcome:
    """``case_closed_not_proven`` or ``case_referred`` for ``finding`` (event ``finding_id``),
    dated by the finding: sanctions counts the PPK's time and checks the ruling's date from it."""
    at = at_start_of(date.fromisoformat(finding["found_on"]))
    if not finding["proven"]:
        payload = {
            "case_number": case.case_number,
            "finding_event_id": finding_id,
            "reasoning": finding["reasoning"],
        }
        return decision(ev.CASE_CLOSED_NOT_PROVEN, payload, at, rule_set=finding_rule_set)
    rules = book.named(finding_rule_set)
    profile = Profile.of(case.subject)
    category = Category(finding["category"])
    level = Level(finding["level"]) if finding["level"] else None
    pybm = deciding_official(profile, category, level, rules)
    if pybm is None:
        raise RuleViolation(
            "subject.position_kind",
            f"no official in {rules.name} may impose {level} on a {profile.position_kind} at "
            f"{profile.agency_level} level; Ps 25 gives it to a higher official: correct the authority data",
            "PP 94/2021 Ps 25",
        )
    payload = {
        "case_number": case.case_number,
        "subject": kept_subject(case.subject),
        "finding": {
            "finding_event_id": finding_id,
            "category": finding["category"],
            "level": finding["level"],
            "violations": [
                {k: v[k] for k in ("code", "level", "article", "level_reason")} for v in finding["violations"]
            ],
            "repeat": finding["repeat"],
            "repeat_of": finding["repeat_of"],
            "decided_on_evidence": finding["decided_on_evidence"],
        },
        "deciding_official": pybm.record(),
        "authorities": [a.record() for a in authorities(profile, rules)],
        "incident_date": (case.incident or {}).get("date"),
        "election": {k: (case.election or {}).get(k) for k in ("type", "year")},
        "temporarily_released": case.release is not None,
    }
    return decision(ev.CASE_REFERRED, payload, at, rule_set=rules.name)
