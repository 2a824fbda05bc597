"""The HTTP names of the domain's actions (services.sanctions.domain.case.Action).

The domain names what may be done; the web layer serves each action at a path under
``/v1/cases/{case_id}/``, and every answer's ``allowed_actions`` names these paths: the
requests to make next.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.sanctions.domain.case import Action

PATHS: dict[Action, str] = {
    Action.DECISION: "decision",
    Action.DECREE: "decree",
    Action.DELIVERY: "delivery",
    Action.OBJECTION: "objection",
    Action.OBJECTION_DECISION: "objection/decision",
    Action.OBJECTION_ANSWER: "objection/answer",
    Action.APPEAL: "appeal",
    Action.APPEAL_ANSWER: "appeal/answer",
    Action.APPEAL_DECISION: "appeal/decision",
    Action.COMPLETION: "execution/completion",
}


def paths_of(actions: Iterable[str]) -> list[str]:
    """The paths of the domain's actions, in order, for an answer's ``allowed_actions``."""
    return [PATHS[Action(a)] for a in actions]
