"""What a lapsed deadline means for the case (the scheduler asks; shared.deadlines).

Every lapse is recorded as ``adjudication.deadline_missed``. A lapsed PPK follow-up is also a
recorded breach, ``adjudication.ppk_noncompliance_recorded`` (docs/law.md §5 row 6a: the data
block and the sanction on the PyBM follow from it, PP 94/2021 Ps 24(2)–(3)).
"""

from __future__ import annotations

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.recommendation import PPK_FOLLOW_UP
from services.adjudication.domain.summons import SECOND_SUMMONS
from shared.envelope import NewEvent
from shared.outcome import DueDeadline, Outcome

# Why each lapse matters, recorded with it so the timeline explains itself.
CONSEQUENCES = {
    PPK_FOLLOW_UP: "the PPK did not follow up the recommendation in time (data block; PP 94/2021 Ps 24(2)–(3))",
    "examination_1": "the direct superior did not examine within 7 working days of the letter (PP 94/2021 Ps 28(1))",
    "examination_2": "the direct superior did not examine within 7 working days of the letter (PP 94/2021 Ps 28(1))",
    SECOND_SUMMONS: "the second summons was not issued within 7 working days of the missed date (PP 94/2021 Ps 26(3))",
}


def lapse(case: Case, due: DueDeadline) -> Outcome:
    """The events recording a lapse; none when the case no longer runs that clock."""
    if not case.is_open or due.kind not in case.pending(due.kind):
        return Outcome([])
    missed = due.missed_event("adjudication", consequence=CONSEQUENCES.get(due.kind))
    events = [missed]
    if due.kind == PPK_FOLLOW_UP:
        payload = {
            "deadline_id": due.deadline_id,
            "due_on": due.due_on.isoformat(),
            "ppk": (case.ppk_acknowledgement or {}).get("ppk"),
            "basis": {
                "rule": "PPK_TIDAK_MENINDAKLANJUTI",
                "article": "PP 94/2021 Ps 24(2)–(3); Perban BKN 1/2023",
                "confidence": "S",
            },
        }
        events.append(
            NewEvent(ev.PPK_NONCOMPLIANCE_RECORDED, payload, missed.occurred_at, rule_set=due.rule_set)
        )
    return Outcome(events)
