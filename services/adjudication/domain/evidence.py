"""Evidence items and their chain of custody: received (on adding), examined, returned.

An item is identified by the SHA-256 of its content, so a later copy can be checked against
what was received; custody steps are events, so the chain cannot be edited afterwards.
"""

from __future__ import annotations

from services.adjudication.domain import events as ev
from services.adjudication.domain.case import Case
from services.adjudication.domain.clocks import decision
from services.adjudication.domain.commands import AddEvidence, Deciding, RecordCustody
from services.adjudication.domain.lifecycle import guard
from services.adjudication.domain.vocabulary import CustodyAction
from shared.outcome import Outcome
from shared.refusals import NETRA_RULE, RuleViolation

# The evidence register is Netra's own: no article of PP 94/2021 sets its steps.
CUSTODY = f"CHAIN_OF_CUSTODY ({NETRA_RULE})"


def add_evidence(case: Case, cmd: AddEvidence, d: Deciding) -> Outcome:
    """Receive an item: its kind, where it is, its hash, when it was captured."""
    guard("evidence", case)
    duplicate = [i for i, item in case.evidence.items() if item["sha256"] == cmd.sha256.lower()]
    if duplicate:
        raise RuleViolation(
            "sha256", f"this content was already received as evidence {duplicate[0]}", CUSTODY
        )
    payload = {
        "evidence_id": cmd.evidence_id,
        "kind": cmd.kind,
        "uri": cmd.uri,
        "sha256": cmd.sha256.lower(),
        "captured_at": cmd.captured_at.isoformat() if cmd.captured_at else None,
        "description": cmd.description,
        "received_at": d.at.isoformat(),
    }
    return decision(ev.EVIDENCE_ADDED, payload, d.at)


def record_custody(case: Case, cmd: RecordCustody, d: Deciding) -> Outcome:
    """An item was examined or returned; a returned item takes no further step."""
    guard("custody", case)
    item = case.evidence.get(cmd.evidence_id)
    if item is None:
        raise RuleViolation("evidence_id", f"no evidence {cmd.evidence_id} on this case", CUSTODY)
    if cmd.action is CustodyAction.RECEIVED:
        raise RuleViolation("action", "an item is received when it is added (POST .../evidence)", CUSTODY)
    if item["custody"][-1]["action"] == CustodyAction.RETURNED.value:
        raise RuleViolation("action", "the item was already returned", CUSTODY)
    payload = {
        "evidence_id": cmd.evidence_id,
        "action": cmd.action.value,
        "at": cmd.on.isoformat(),
        "note": cmd.note,
    }
    return decision(ev.EVIDENCE_CUSTODY_RECORDED, payload, d.at)
