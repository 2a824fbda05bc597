"""The lifecycle as a table: which action each state allows, and where it leads.

The action names are the domain's own; the web layer (services.adjudication.web.api) serves
each as a command, so the ``allowed_actions`` a refusal names are the commands to send.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.adjudication.domain.case import CLOSED, Case, State
from shared.refusals import IllegalTransition

S = State

OPEN_STATES = frozenset(s for s in State if s not in CLOSED and s is not S.AWAITING_REGISTRATION)
# Until the examination is written up, the examiner can still be named or changed.
BEFORE_BAP = OPEN_STATES - {S.BAP_SIGNED, S.DECIDED_ON_EVIDENCE}


def _stay(states: frozenset[State]) -> dict[State, frozenset[State]]:
    return {s: frozenset({s}) for s in states}


# action -> {state it is allowed in -> states it may lead to}
TRANSITIONS: Mapping[str, Mapping[State, frozenset[State]]] = {
    "assignment": _stay(OPEN_STATES),
    "recusal": _stay(OPEN_STATES),
    "subject-profile": _stay(OPEN_STATES),
    "evidence": _stay(OPEN_STATES),
    # Evidence is still returned to its owner after the case is closed or referred.
    "custody": _stay(OPEN_STATES | CLOSED),
    "recommendation-request": {S.OPENED: frozenset({S.RECOMMENDATION_REQUESTED})},
    "recommendation": {
        S.OPENED: frozenset({S.RECOMMENDATION_ISSUED}),
        S.RECOMMENDATION_REQUESTED: frozenset({S.RECOMMENDATION_ISSUED}),
    },
    "ppk-acknowledgement": {S.RECOMMENDATION_ISSUED: frozenset({S.PPK_ACKNOWLEDGED})},
    # A case that reached the superior without a recommendation (inspectorate, the superior
    # itself) is summoned straight away; one with a recommendation waits for the PPK.
    "summons": {
        S.OPENED: frozenset({S.SUMMONS_1_ISSUED}),
        S.PPK_ACKNOWLEDGED: frozenset({S.SUMMONS_1_ISSUED}),
    },
    "attendance": {
        S.SUMMONS_1_ISSUED: frozenset({S.EXAMINATION}),
        S.SUMMONS_2_ISSUED: frozenset({S.EXAMINATION}),
    },
    "absence": {
        S.SUMMONS_1_ISSUED: frozenset({S.SUMMONS_1_MISSED}),
        S.SUMMONS_2_ISSUED: frozenset({S.DECIDED_ON_EVIDENCE}),
    },
    "second-summons": {S.SUMMONS_1_MISSED: frozenset({S.SUMMONS_2_ISSUED})},
    "examiner": _stay(BEFORE_BAP),
    "temporary-release": _stay(frozenset({S.EXAMINATION, S.BAP_SIGNED, S.DECIDED_ON_EVIDENCE})),
    "bap": {S.EXAMINATION: frozenset({S.BAP_SIGNED})},
    "finding": {
        S.BAP_SIGNED: frozenset({S.REFERRED, S.CLOSED_NOT_PROVEN}),
        S.DECIDED_ON_EVIDENCE: frozenset({S.REFERRED, S.CLOSED_NOT_PROVEN}),
    },
}

ACTIONS = tuple(TRANSITIONS)
# Only a supervisor hands out cases; every other action is for the assigned investigator too.
SUPERVISOR_ONLY = frozenset({"assignment"})


def allowed_actions(state: State) -> list[str]:
    """The actions the case's state allows, in the table's order."""
    return [action for action, table in TRANSITIONS.items() if state in table]


def guard(action: str, case: Case, reason: str = "") -> None:
    """Refuse ``action`` (IllegalTransition: 409) unless the case's state allows it."""
    if case.state not in TRANSITIONS[action]:
        raise IllegalTransition(action, case.state.value, allowed_actions(case.state), reason)
