"""The finding: not proven, or proven with violation codes and levels from the catalogue.

- Several violations: one penalty level, the heaviest (PP 94/2021 Ps 35(1)).
- A repeat of the same kind is flagged, to be punished more heavily (Ps 35(2)).
- A code without a level in law (N1, CALON, SKB-DS: rule data) takes the level a person
  chose, with their written reason; a code the catalogue levels cannot be re-levelled here.
- Proven berat needs the tim pemeriksa that examined (Ps 29(2)), unless decided on the
  evidence after two absences (Ps 26(4)).
The finding records its inputs (the request as given, evidence and BAP hashes) so a replay
can re-derive it byte for byte.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from services.adjudication.domain import events as ev
from services.adjudication.domain.authority import Profile
from services.adjudication.domain.case import Case, State
from services.adjudication.domain.clocks import decision
from services.adjudication.domain.commands import Deciding, RecordFinding, ViolationInput
from services.adjudication.domain.examination import decision_day, require_team
from services.adjudication.domain.lifecycle import guard
from services.adjudication.domain.referral import follow_finding
from services.adjudication.domain.rules import RuleSet
from services.adjudication.domain.vocabulary import Category, EmployeeType, Level
from shared.legaltime import at_start_of, legal_date
from shared.outcome import Outcome
from shared.refusals import NETRA_RULE, RuleViolation, RuleViolations


def record_finding(case: Case, cmd: RecordFinding, d: Deciding) -> Outcome:
    """``adjudication.finding_recorded``, and the closure or referral that follows it
    (services.adjudication.domain.referral), appended together."""
    guard("finding", case)
    rules = d.rules_on(date.fromisoformat(decision_day(case)), "incident.date")
    problems: list[RuleViolation] = []
    violations = [_classify(v, i, rules, problems) for i, v in enumerate(cmd.violations)]
    if cmd.proven and not cmd.violations:
        problems.append(
            RuleViolation(
                "violations", "a proven finding names at least one violation", "PP 94/2021 Ps 33(2)"
            )
        )
    if not cmd.proven and cmd.violations:
        problems.append(
            RuleViolation("violations", "a finding of not proven names no violation", "PP 94/2021 Ps 33(2)")
        )
    if cmd.repeat and not cmd.repeat_of:
        problems.append(
            RuleViolation("repeat_of", "name the earlier decision this repeats", "PP 94/2021 Ps 35(2)")
        )
    if cmd.proven:
        missing = Profile.of(case.subject).missing()
        for name in missing:
            problems.append(
                RuleViolation(
                    f"subject.{name}",
                    "unknown: record it first (the subject-profile action); it decides who may punish",
                    "PP 94/2021 Ps 17–23",
                )
            )
    found_on = cmd.found_on or legal_date(d.at)
    problems += _date_problems(case, found_on, legal_date(d.at))
    if problems:
        raise RuleViolations(problems)
    decided_on_evidence = case.state is State.DECIDED_ON_EVIDENCE
    levels = [v["level"] for v in violations if v["level"]]
    if cmd.proven and not decided_on_evidence:
        require_team(case, rules, "violations", levels)
    category = _category(violations)
    level = (
        max((Level(lv) for lv in levels), key=lambda lv: lv.rank).value
        if category == Category.DISIPLIN.value
        else None
    )
    payload: dict[str, Any] = {
        "proven": cmd.proven,
        "category": category if cmd.proven else None,
        "level": level if cmd.proven else None,
        "violations": violations,
        "repeat": cmd.repeat,
        "repeat_of": cmd.repeat_of,
        "found_on": found_on.isoformat(),
        "decided_on_evidence": decided_on_evidence,
        "reasoning": cmd.reasoning,
        "employee_type": case.subject.get("employee_type") or EmployeeType.PNS.value,
        "inputs": {
            "request": request_record(replace(cmd, found_on=found_on)),
            "bap_sha256": (case.bap or {}).get("sha256"),
            "evidence_sha256": sorted(item["sha256"] for item in case.evidence.values()),
            "examiner_mode": (case.examiner or {}).get("mode"),
            "decided_by": d.actor_id,
        },
    }
    return _with_follow_up(case, payload, rules.name, d)


def _with_follow_up(case: Case, payload: dict[str, Any], rule_set: str, d: Deciding) -> Outcome:
    """The finding and what follows it (closure or referral) as one outcome: the second event
    names the first, so the finding's id is fixed here rather than by the store."""
    found = decision(
        ev.FINDING_RECORDED,
        payload,
        at_start_of(date.fromisoformat(payload["found_on"])),
        rule_set=rule_set,
        cancels=case.pending(),
    )
    finding_id = d.new_event_id()
    finding = replace(found.events[0], event_id=finding_id)
    follow = follow_finding(case, payload, finding_id, rule_set, d.book).events[0]
    return replace(found, events=[finding, replace(follow, caused_by=finding_id)])


def _date_problems(case: Case, found_on: date, today: date) -> list[RuleViolation]:
    """A finding follows the examination it rests on and is not dated ahead of today."""
    problems = []
    if found_on > today:
        problems.append(
            RuleViolation("found_on", f"{found_on} is in the future", f"NO_FUTURE_DATES ({NETRA_RULE})")
        )
    signed_on = (case.bap or {}).get("signed_on")
    if signed_on and found_on < date.fromisoformat(signed_on):
        problems.append(
            RuleViolation(
                "found_on", f"{found_on} is before the BAP it rests on ({signed_on})", "PP 94/2021 Ps 33"
            )
        )
    return problems


def request_record(cmd: RecordFinding) -> dict[str, Any]:
    """The command as recorded, so a replay can decide again from it."""
    return {
        "proven": cmd.proven,
        "reasoning": cmd.reasoning,
        "violations": [
            {"code": v.code, "level": v.level.value if v.level else None, "level_reason": v.level_reason}
            for v in cmd.violations
        ],
        "repeat": cmd.repeat,
        "repeat_of": cmd.repeat_of,
        "found_on": cmd.found_on.isoformat() if cmd.found_on else None,
    }


def command_of(request: dict[str, Any]) -> RecordFinding:
    """``request_record``'s inverse."""
    return RecordFinding(
        proven=request["proven"],
        reasoning=request["reasoning"],
        violations=tuple(
            ViolationInput(v["code"], Level(v["level"]) if v["level"] else None, v["level_reason"])
            for v in request["violations"]
        ),
        repeat=request["repeat"],
        repeat_of=request["repeat_of"],
        found_on=date.fromisoformat(request["found_on"]) if request.get("found_on") else None,
    )


def _classify(given: ViolationInput, i: int, rules: RuleSet, problems: list[RuleViolation]) -> dict[str, Any]:
    """One violation with its catalogue level (or the person's), article and confidence."""
    where = f"violations.{i}"
    if given.code in rules.not_findings:
        basis = rules.not_findings[given.code]
        problems.append(
            RuleViolation(f"{where}.code", f"{given.code} is not ASN discipline: {basis.note}", basis.article)
        )
        return {"code": given.code, "level": None}
    entry = rules.violations.get(given.code)
    if entry is None:
        problems.append(
            RuleViolation(
                f"{where}.code",
                f"unknown code {given.code!r} in the catalogue of {rules.name}",
                "docs/law.md §2",
            )
        )
        return {"code": given.code, "level": None}
    level, reason = (entry.level.value if entry.level else None), None
    rule = f"{given.code}: {entry.basis.article} ({entry.basis.confidence.value})"
    if entry.category is Category.KODE_ETIK:
        if given.level is not None:
            problems.append(
                RuleViolation(f"{where}.level", "a kode etik violation has no level (moral sanction)", rule)
            )
    elif entry.level is not None:
        if given.level is not None and given.level is not entry.level:
            problems.append(
                RuleViolation(
                    f"{where}.level", f"the catalogue sets {entry.level.value}; it is not chosen here", rule
                )
            )
    else:
        level, reason = (
            (given.level.value if given.level else None),
            (given.level_reason or "").strip() or None,
        )
        if level is None:
            problems.append(
                RuleViolation(f"{where}.level", f"the law sets no level for {given.code}: choose one", rule)
            )
        if reason is None:
            problems.append(
                RuleViolation(f"{where}.level_reason", "a chosen level needs a written reason", rule)
            )
    return {
        "code": given.code,
        "category": entry.category.value,
        "level": level,
        "level_reason": reason,
        "level_chosen": entry.level is None and entry.category is Category.DISIPLIN,
        "article": entry.basis.article,
        "confidence": entry.basis.confidence.value,
    }


def _category(violations: list[dict[str, Any]]) -> str | None:
    """DISIPLIN when any violation is disciplinary (the heavier track), else KODE_ETIK."""
    categories = {v.get("category") for v in violations}
    if Category.DISIPLIN.value in categories:
        return Category.DISIPLIN.value
    return Category.KODE_ETIK.value if categories else None
