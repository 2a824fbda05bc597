"""Who works a case: a supervisor assigns or reassigns, an investigator recuses (a conflict
of interest, PP 42/2004 Ps 11 c), and only the assigned investigator acts on the case.

Also here: the subject's profile, which the investigator completes when intake's free text
did not name a position kind or agency level the law data knows.
"""

from __future__ import annotations

from dataclasses import asdict

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import decision
from services.adjudication.domain.commands import (
    AssignInvestigator,
    Deciding,
    RecordSubjectProfile,
    Recuse,
)
from services.adjudication.domain.lifecycle import SUPERVISOR_ONLY, guard
from shared.outcome import Outcome
from shared.refusals import NETRA_RULE, RuleViolation


class NotPermitted(Exception):
    """The caller may not act on this case (answered 403 with this message)."""


def authorize(case: Case, actor_id: str, role: str, action: str) -> None:
    """Supervisors act on every case; an investigator only on a case assigned to them."""
    if role == "supervisor":
        return
    if action in SUPERVISOR_ONLY:
        raise NotPermitted(f"only a supervisor may do {action!r}; your role is {role}")
    if role != "investigator":
        raise NotPermitted(
            f"{action!r} is for the assigned investigator or a supervisor; your role is {role}"
        )
    if case.assignee != actor_id:
        holder = f"it is assigned to {case.assignee}" if case.assignee else "it is not assigned to anyone"
        raise NotPermitted(
            f"you are not the investigator of case {case.case_number or case.case_id}: {holder}; "
            "ask a supervisor to assign it to you (the assignment action)"
        )


def assign(case: Case, cmd: AssignInvestigator, d: Deciding) -> Outcome:
    """Assign, or reassign with a reason; a recused investigator cannot be given the case back."""
    guard("assignment", case)
    if cmd.investigator_id == case.assignee:
        raise RuleViolation(
            "investigator_id", f"{cmd.investigator_id} is already assigned", f"ONE_ASSIGNEE ({NETRA_RULE})"
        )
    if cmd.investigator_id in case.recused:
        raise RuleViolation(
            "investigator_id",
            f"{cmd.investigator_id} recused from this case (conflict of interest)",
            "PP 42/2004 Ps 11 c",
        )
    if case.assignee is not None and not cmd.reason:
        raise RuleViolation(
            "reason", "reassigning a case needs a reason", f"REASSIGNMENT_REASON ({NETRA_RULE})"
        )
    payload = {"investigator_id": cmd.investigator_id, "previous": case.assignee, "reason": cmd.reason}
    return decision(ev.INVESTIGATOR_ASSIGNED, payload, d.at)


def recuse(case: Case, cmd: Recuse, d: Deciding) -> Outcome:
    """The assigned investigator steps aside, saying why; the case is unassigned."""
    guard("recusal", case)
    who = cmd.investigator_id or case.assignee
    if who is None or who != case.assignee:
        raise RuleViolation(
            "investigator_id", "only the assigned investigator can recuse", "PP 42/2004 Ps 11 c"
        )
    return decision(ev.INVESTIGATOR_RECUSED, {"investigator_id": who, "reason": cmd.reason}, d.at)


def record_subject_profile(case: Case, cmd: RecordSubjectProfile, d: Deciding) -> Outcome:
    """Record (or correct) the facts of the subject that decide who may punish them."""
    guard("subject-profile", case)
    given = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(cmd).items() if v is not None}
    reason = given.pop("reason", None)
    if not given:
        raise RuleViolation(
            "body", "give at least one field of the subject to record", f"SUBJECT_PROFILE ({NETRA_RULE})"
        )
    previous = {k: case.subject.get(k) for k in given}
    return decision(
        ev.SUBJECT_PROFILE_RECORDED, {"subject": given, "previous": previous, "reason": reason}, d.at
    )
