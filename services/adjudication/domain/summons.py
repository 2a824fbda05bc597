"""Written summons, attendance and absence (PP 94/2021 Ps 26).

- The examination is held no later than 7 working days after the summons letter (Ps 26(2)):
  a letter that sets a later date is refused, and the clock runs until the subject is
  examined or found absent.
- After an absence, the second summons is issued no later than 7 working days after the date
  the subject should have been examined (Ps 26(3)); issued late, it is still recorded, marked
  ``late`` and meets its clock late (``met_late``: MET_LATE), whether or not the scheduler has
  recorded the lapse yet.
- Absent again: the PyBM decides on the evidence available (Ps 26(4)).
"""

from __future__ import annotations

from datetime import date

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import Start, decision
from services.adjudication.domain.commands import (
    Deciding,
    IssueSummons,
    RecordAbsence,
    RecordAttendance,
)
from services.adjudication.domain.examination import require_examiner_before
from services.adjudication.domain.lifecycle import guard
from services.adjudication.domain.recommendation import PPK_FOLLOW_UP
from services.adjudication.domain.rules import RuleSet
from shared.outcome import Outcome
from shared.refusals import RuleViolation
from shared.workdays import WorkingCalendar

SECOND_SUMMONS = "second_summons"


def examination_clock(n: int) -> str:
    """The deadline kind of the examination under summons ``n`` (1 or 2)."""
    return f"examination_{n}"


def examination_limit(letter_date: date, rules: RuleSet, calendar: WorkingCalendar) -> date:
    """The last day the examination may be held under a letter dated ``letter_date``."""
    return Start("examination", rules.deadline("examination"), letter_date).due_on(calendar)


def second_summons_limit(missed_on: date, rules: RuleSet, calendar: WorkingCalendar) -> date:
    """The last day the second summons may be issued after an absence on ``missed_on``."""
    return Start(SECOND_SUMMONS, rules.deadline(SECOND_SUMMONS), missed_on).due_on(calendar)


def issue_summons(case: Case, cmd: IssueSummons, d: Deciding) -> Outcome:
    """The first written summons by the direct superior."""
    guard("summons", case)
    return _summons(case, cmd, d, n=1)


def issue_second_summons(case: Case, cmd: IssueSummons, d: Deciding) -> Outcome:
    """The second summons after the first was not answered."""
    guard("second-summons", case)
    return _summons(case, cmd, d, n=2)


def _summons(case: Case, cmd: IssueSummons, d: Deciding, n: int) -> Outcome:
    rules = d.rules_on(cmd.letter_date, "letter_date")
    rule = rules.deadline("examination")
    limit = examination_limit(cmd.letter_date, rules, d.calendar)
    if cmd.examination_date < cmd.letter_date:
        raise RuleViolation("examination_date", "cannot be before the letter date", rule.basis.article)
    if cmd.examination_date > limit:
        raise RuleViolation(
            "examination_date",
            f"must be no later than {limit.isoformat()}: {rule.days} working days after the letter "
            f"of {cmd.letter_date.isoformat()}",
            f"{rule.basis.id}: {rule.basis.article}",
        )
    payload = {
        "summons": n,
        "letter_number": cmd.letter_number,
        "letter_date": cmd.letter_date.isoformat(),
        "examination_date": cmd.examination_date.isoformat(),
        "examination_due_on": limit.isoformat(),
        "signed_by": cmd.signed_by,
        "basis": rule.basis.record(),
    }
    meets, meets_late = case.met_by(cmd.letter_date, PPK_FOLLOW_UP)
    if n == 2:
        # Judged against the clock the absence started (its own rule set and due date).
        due = _second_summons_due(case, rules, d.calendar)
        late = cmd.letter_date > due
        payload["issue_due_on"] = due.isoformat()
        payload["late"] = late
        payload["issue_basis"] = (
            case.absences[-1].get("basis") or rules.deadline(SECOND_SUMMONS).basis.record()
        )
        meets, meets_late = ([], case.pending(SECOND_SUMMONS)) if late else (case.pending(SECOND_SUMMONS), [])
    return decision(
        ev.SUMMONS_ISSUED,
        payload,
        d.at,
        rule_set=rules.name,
        calendar=d.calendar,
        starts=[Start(examination_clock(n), rule, cmd.letter_date)],
        meets=meets,
        meets_late=meets_late,
        judged_on=cmd.letter_date,
    )


def _second_summons_due(case: Case, rules: RuleSet, calendar: WorkingCalendar) -> date:
    """The last day of the second summons: the due date the absence recorded, else counted again."""
    recorded = case.absences[-1].get("second_summons_due_on")
    if recorded:
        return date.fromisoformat(recorded)
    return second_summons_limit(date.fromisoformat(case.absences[-1]["missed_on"]), rules, calendar)


def record_attendance(case: Case, cmd: RecordAttendance, d: Deciding) -> Outcome:
    """The subject came and was examined (closed, in person or virtual: Ps 27(2))."""
    guard("attendance", case)
    n = len(case.summonses)
    letter = case.summonses[-1]
    if cmd.examined_on.isoformat() < letter["letter_date"]:
        raise RuleViolation("examined_on", "cannot be before the summons letter", "PP 94/2021 Ps 26")
    require_examiner_before(case, d.rules_on(cmd.examined_on, "examined_on"), cmd.examined_on, "examiner")
    payload = {
        "summons": n,
        "examined_on": cmd.examined_on.isoformat(),
        "mode": cmd.mode.value,
        "late": cmd.examined_on.isoformat() > letter["examination_due_on"],
    }
    meets, meets_late = case.met_by(cmd.examined_on, examination_clock(n))
    return decision(
        ev.ATTENDANCE_RECORDED, payload, d.at, meets=meets, meets_late=meets_late, judged_on=cmd.examined_on
    )


def record_absence(case: Case, cmd: RecordAbsence, d: Deciding) -> Outcome:
    """The subject did not come: a second summons is due, or, the second time, a decision on
    the evidence (Ps 26(3)–(4))."""
    guard("absence", case)
    n = len(case.summonses)
    letter = case.summonses[-1]
    if cmd.missed_on.isoformat() < letter["letter_date"]:
        raise RuleViolation("missed_on", "cannot be before the summons letter", "PP 94/2021 Ps 26")
    rules = d.rules_on(cmd.missed_on, "missed_on")
    meets, meets_late = case.met_by(cmd.missed_on, examination_clock(n))
    payload: dict[str, object] = {"summons": n, "missed_on": cmd.missed_on.isoformat(), "note": cmd.note}
    starts = []
    if n == 1:
        rule = rules.deadline(SECOND_SUMMONS)
        payload["second_summons_due_on"] = second_summons_limit(cmd.missed_on, rules, d.calendar).isoformat()
        payload["basis"] = rule.basis.record()
        starts = [Start(SECOND_SUMMONS, rule, cmd.missed_on)]
    else:
        payload["decided_on_evidence"] = True
        payload["basis"] = {
            "rule": "PUTUSAN_BERDASARKAN_BUKTI",
            "article": "PP 94/2021 Ps 26(4)",
            "confidence": "V",
        }
    return decision(
        ev.ABSENCE_RECORDED,
        payload,
        d.at,
        rule_set=rules.name,
        calendar=d.calendar,
        starts=starts,
        meets=meets,
        meets_late=meets_late,
        judged_on=cmd.missed_on,
    )
