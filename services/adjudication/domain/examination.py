"""Who examines, temporary release from duty, and the BAP (PP 94/2021 Ps 27–32).

A tim pemeriksa is optional for sedang and mandatory for berat (Ps 29(1)–(2)) and is made of
the direct superior, supervision and HR (Ps 29(3)); which levels need it is rule data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import decision
from services.adjudication.domain.commands import (
    AppointExaminer,
    Deciding,
    RecordBap,
    ReleaseTemporarily,
)
from services.adjudication.domain.lifecycle import guard
from services.adjudication.domain.rules import RuleSet
from services.adjudication.domain.vocabulary import ExaminerMode, TeamRole
from shared.legaltime import legal_date
from shared.outcome import Outcome
from shared.refusals import RuleViolation


def decision_day(case: Case) -> str:
    """The date whose rules classify the conduct: the incident's, else the file's opening."""
    incident = (case.incident or {}).get("date")
    return str(incident or (case.opened_at or "")[:10])


def catalogue_levels(rules: RuleSet) -> dict[str, str | None]:
    """Code -> catalogue level (None where the law sets none)."""
    return {code: (v.level.value if v.level else None) for code, v in rules.violations.items()}


def appoint_examiner(case: Case, cmd: AppointExaminer, d: Deciding) -> Outcome:
    """The direct superior examines alone, or the PPK forms a tim pemeriksa."""
    guard("examiner", case)
    if cmd.appointed_on > legal_date(d.at):
        raise RuleViolation(
            "appointed_on", f"{cmd.appointed_on.isoformat()} is in the future", "PP 94/2021 Ps 27(1), 29"
        )
    examined_on = (case.attendance or {}).get("examined_on")
    if examined_on and cmd.appointed_on.isoformat() > examined_on:
        raise RuleViolation(
            "appointed_on",
            f"the examination was held on {examined_on}: an examiner appointed after it did not examine; "
            f"record the appointment of who examined, dated on or before {examined_on}",
            "PP 94/2021 Ps 27(1), 29",
        )
    rules = d.rules_on(cmd.appointed_on, "appointed_on")
    team = rules.team
    if cmd.mode is ExaminerMode.TIM_PEMERIKSA:
        missing = sorted(r.value for r in team.members - {m.role for m in cmd.members})
        if missing:
            raise RuleViolation(
                "members",
                f"a tim pemeriksa includes {', '.join(sorted(r.value for r in team.members))}; missing {', '.join(missing)}",
                f"{team.basis.id}: PP 94/2021 Ps 29(3)",
            )
    elif len(cmd.members) != 1 or cmd.members[0].role is not TeamRole.ATASAN_LANGSUNG:
        raise RuleViolation(
            "members", "name the one direct superior (role ATASAN_LANGSUNG)", "PP 94/2021 Ps 27(1)"
        )
    if cmd.mode is ExaminerMode.ATASAN_LANGSUNG:
        _require_team_unless(case, rules, cmd.mode, "mode")
    payload = {
        "mode": cmd.mode.value,
        "members": [{"name": m.name, "role": m.role.value} for m in cmd.members],
        "appointed_on": cmd.appointed_on.isoformat(),
        "decree_number": cmd.decree_number,
        "basis": team.basis.record(),
    }
    return decision(ev.EXAMINER_APPOINTED, payload, d.at, rule_set=rules.name)


def _require_team_unless(
    case: Case, rules: RuleSet, mode: ExaminerMode, field: str, levels: Iterable[str] = ()
) -> None:
    """Refuse a lone superior when a level that needs a team is in question."""
    needing = levels_needing_team(case, rules, levels)
    if needing and mode is not ExaminerMode.TIM_PEMERIKSA:
        raise RuleViolation(
            field,
            f"a {'/'.join(needing).lower()} violation is in question: the examination is by a tim pemeriksa "
            "(the examiner action with mode TIM_PEMERIKSA)",
            f"{rules.team.basis.id}: {rules.team.basis.article}",
        )


def levels_needing_team(case: Case, rules: RuleSet, levels: Iterable[str] = ()) -> list[str]:
    """The levels in question (alleged, recommended, or ``levels``) that need a tim pemeriksa."""
    in_question = set(levels) | case.levels_in_question(catalogue_levels(rules))
    return sorted(lv for lv in in_question if lv in {level.value for level in rules.team.required_for})


def require_examiner_before(case: Case, rules: RuleSet, examined_on: date, field: str) -> None:
    """The examination rule at the attendance: whoever examines exists by then (Ps 27, 29).

    Where berat is in question the tim pemeriksa examines, so it must have been appointed on or
    before the examination. Otherwise the direct superior examines by law (Ps 27(1)) and need
    not be named yet (the BAP needs it); a named examiner must predate the examination."""
    team = rules.team
    needing = levels_needing_team(case, rules)
    if case.examiner is None:
        if needing:
            raise RuleViolation(
                field,
                f"a {'/'.join(needing).lower()} violation is in question and no tim pemeriksa was appointed: "
                "appoint it first (the examiner action with mode TIM_PEMERIKSA and appointed_on on or "
                f"before {examined_on.isoformat()})",
                f"{team.basis.id}: {team.basis.article}",
            )
        return
    appointed_on = case.examiner.get("appointed_on")  # absent from appointments recorded before it was asked
    if appointed_on and appointed_on > examined_on.isoformat():
        raise RuleViolation(
            field,
            f"the examiner was appointed on {appointed_on}, after an examination on {examined_on.isoformat()}: "
            f"an examination on or after {appointed_on} may be recorded, or an appointment dated on or before "
            "the examination (the examiner action)",
            f"{team.basis.id}: {team.basis.article}" if needing else "PP 94/2021 Ps 27(1), 29",
        )
    require_team(case, rules, field)


def require_team(case: Case, rules: RuleSet, field: str, levels: Iterable[str] = ()) -> None:
    """The examination rule at the BAP and the finding: berat needs the team that examined."""
    mode = ExaminerMode((case.examiner or {}).get("mode", ExaminerMode.ATASAN_LANGSUNG.value))
    _require_team_unless(case, rules, mode, field, levels)


def release_temporarily(case: Case, cmd: ReleaseTemporarily, d: Deciding) -> Outcome:
    """Release from duty while examined, when a berat penalty is possible (Ps 31)."""
    guard("temporary-release", case)
    if case.release is not None:
        raise RuleViolation(
            "from_date", f"already released from {case.release['from_date']}", "PP 94/2021 Ps 31(2)"
        )
    rules = d.rules_on(cmd.from_date, "from_date")
    rule = rules.release
    possible = case.levels_in_question(catalogue_levels(rules)) & {lv.value for lv in rule.for_levels}
    if not possible:
        raise RuleViolation(
            "reason",
            "temporary release needs a possible berat penalty; no alleged violation or recommendation is berat",
            f"{rule.basis.id}: {rule.basis.article}",
        )
    payload = {
        "from_date": cmd.from_date.isoformat(),
        "until": "the decision on the penalty (Ps 31(2))",
        "decree_number": cmd.decree_number,
        "reason": cmd.reason,
        "basis": rule.basis.record(),
    }
    return decision(ev.TEMPORARILY_RELEASED, payload, d.at, rule_set=rules.name)


def record_bap(case: Case, cmd: RecordBap, d: Deciding) -> Outcome:
    """The berita acara pemeriksaan, identified by its SHA-256; valid even if unsigned (Ps 32(2))."""
    guard("bap", case)
    if case.examiner is None:
        raise RuleViolation(
            "examiner",
            "name who examined first (the examiner action)",
            "PP 94/2021 Ps 27(1), 29",
        )
    rules = d.rules_on(cmd.signed_on, "signed_on")
    require_team(case, rules, "examiner")
    payload = {
        "document_uri": cmd.document_uri,
        "sha256": cmd.sha256.lower(),
        "signed_on": cmd.signed_on.isoformat(),
        "signed_by_subject": cmd.signed_by_subject,
        "copy_given_on": cmd.copy_given_on.isoformat() if cmd.copy_given_on else None,
        "examiner": case.examiner,
        "basis": {"rule": "BAP_PS_27_32", "article": "PP 94/2021 Ps 27(2), 32", "confidence": "V"},
    }
    return decision(ev.BAP_RECORDED, payload, d.at, rule_set=rules.name)
