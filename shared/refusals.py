"""Why a command was refused, as the pure domain says it: no Flask, no HTTP codes here.

``shared.web`` turns each into its answer: an illegal transition is 409 naming the case's
state and the actions it allows, a stale ``If-Match`` is 412, and a broken legal rule is 422
naming the field and the rule (with the article it encodes) that refused it.
"""

from __future__ import annotations

from collections.abc import Sequence

# The rule of a step taken out of order: the case's state machine, whose rows cite the law.
STATE_MACHINE = "CASE_STATE_MACHINE (docs/law.md §5)"
# Said of a rule that is Netra's own record-keeping, so that no refusal pretends to an article.
NETRA_RULE = "Netra rule, no article of law"


class Refused(Exception):
    """A command the domain will not carry out."""


class IllegalTransition(Refused):
    """The action is not allowed in the case's current state."""

    def __init__(
        self, action: str, state: str, allowed: Sequence[str], reason: str = "", rule: str = STATE_MACHINE
    ) -> None:
        self.action, self.state, self.allowed = action, state, tuple(allowed)
        # The legal rule behind the refusal with its article: the state machine unless a
        # rule of its own says why.
        self.reason, self.rule = reason, rule
        detail = f": {reason}" if reason else ""
        now = ", ".join(self.allowed) or "nothing"
        super().__init__(f"{action} is not allowed while the case is {state}{detail}; allowed now: {now}")


class StaleVersion(Refused):
    """The client decided on a version of the case that is no longer current."""

    def __init__(self, expected: int, current: int) -> None:
        self.expected, self.current = expected, current
        super().__init__(
            f"If-Match names version {expected} but the case is at version {current}; "
            "reload the case and decide again"
        )


class RuleViolation(Refused):
    """The command breaks a legal rule: ``rule`` names it and the article it encodes."""

    def __init__(self, field: str, message: str, rule: str) -> None:
        self.field, self.message, self.rule = field, message, rule
        super().__init__(f"{field}: {message} ({rule})")


class RuleViolations(Refused):
    """Several rules refused one command; every one is reported at once."""

    def __init__(self, violations: Sequence[RuleViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(str(v) for v in self.violations))
