"""The officials' API: rule on a referred case and record what follows.

Every command names the case version it was decided on in ``If-Match`` (428 without it, 412
when stale); a command the case's state does not allow is 409 with the state and the
allowed actions; a command that breaks a legal rule is 422 naming the field, the rule and
its article. A decision signed in an office the caller's token does not hold is 403 naming
the office (services.sanctions.web.capacity). The views only translate HTTP to the pure
deciders and back.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Response, jsonify, make_response

from services.sanctions.domain import appeals, delivery, execution
from services.sanctions.domain.case import Action, Case
from services.sanctions.domain.decision import DecisionRequest, decide
from services.sanctions.domain.rules import default_rule_book
from services.sanctions.handlers import CaseNotFound, Decide, run
from services.sanctions.web.actions import PATHS, paths_of
from services.sanctions.web.capacity import OfficeNotHeld, office_not_held, require_office
from services.sanctions.web.schemas import (
    AnswerRequestSchema,
    AppealDecisionRequestSchema,
    CommandAnswerSchema,
    CompletionRequestSchema,
    DecisionRequestSchema,
    DecreeRequestSchema,
    DeliveryRequestSchema,
    FilingRequestSchema,
)
from shared.auth import abort, current_identity, require_role
from shared.outcome import Outcome
from shared.refusals import IllegalTransition
from shared.web.answers import etag, if_match, illegal_transition
from shared.web.inputs import Blueprint
from shared.web.runtime import runtime
from shared.workdays import WorkingCalendar

blp = Blueprint(
    "sanctions",
    __name__,
    url_prefix="/v1/cases",
    description="The deciding official (PyBM / PPK) rules on a referred case; delivery, keberatan, "
    "banding, force, execution. Walkthrough: docs/sanctions.md.",
)

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string", "example": '"1"'},
    "description": "The case version you decided on: the ETag of GET /v1/cases/{case_id}",
}
CALENDAR = WorkingCalendar()


@blp.errorhandler(IllegalTransition)
def illegal_transition_with_paths(error: IllegalTransition) -> Any:
    """409 as every service answers it, with the allowed actions named by their paths."""
    return illegal_transition(
        IllegalTransition(
            PATHS[Action(error.action)], error.state, paths_of(error.allowed), error.reason, error.rule
        )
    )


@blp.errorhandler(OfficeNotHeld)
def office_not_held_answer(error: OfficeNotHeld) -> Any:
    """403 naming the office the token does not hold."""
    return office_not_held(error)


def _command(case_id: uuid.UUID, decider: Decide, valid_on: date) -> Response:
    """Run ``decider`` on the case; ``valid_on`` is the legal date of the fact it records."""
    rt, identity = runtime(), current_identity()
    try:
        done = run(rt.engine, rt.clock, str(case_id), identity, if_match(), decider, valid_on)
    except CaseNotFound:
        abort(404, message=f"no case {case_id} among {identity.agency or 'your'} cases")
    answer = {**done.as_dict(), "allowed_actions": paths_of(done.allowed_actions)}
    return make_response(jsonify(answer), 200, etag(done.version))


def _documented(summary_schema: Any) -> Any:
    """The decorators every command shares: body, answers, If-Match, role."""

    def wrap(view: Any) -> Any:
        for decorator in reversed(
            [
                # Outermost: who is asking is settled before the body is read.
                require_role("official"),
                blp.arguments(summary_schema),
                blp.response(200, CommandAnswerSchema, description="Recorded; the new version is the ETag"),
                blp.alt_response(404, description="No such case in your agency"),
                blp.alt_response(
                    409, description="Not allowed in the case's state: names state and allowed_actions"
                ),
                blp.alt_response(412, description="If-Match names an old version: reload the case"),
                blp.alt_response(
                    422, description="Breaks a legal rule: errors by field, rules with their article"
                ),
                blp.alt_response(428, description="If-Match is missing"),
                blp.doc(parameters=[IF_MATCH]),
            ]
        ):
            view = decorator(view)
        return view

    return wrap


@blp.route(f"/<uuid:case_id>/{PATHS[Action.DECISION]}", methods=["POST"])
@blp.alt_response(
    403,
    description="Not an official, or signed in an office your token does not hold: `office` names it, "
    "`held_offices` lists the token's",
)
@_documented(DecisionRequestSchema)
def post_decision(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Rule on a referred case: one penalty, within your authority, matching the finding.

    Choose the penalty from the case's `penalty_options` (GET /v1/cases/{case_id}). By default
    you sign as the referral's deciding official; name `signed_as` (and `relation`) to sign in
    another capacity listed in the referral's `authorities`. Either way your token must hold
    that office (`netra token create --office`): otherwise 403 naming it. Refused with 422
    when the penalty is lighter or heavier than the finding's level (a lighter one is itself
    a violation, PP 94/2021 Ps 24), outside the authority of the office over this employee,
    or not one penalty.
    """
    identity, now = current_identity(), runtime().clock.now()
    request = DecisionRequest(
        penalties=body["penalty"],
        decided_on=body["decided_on"],
        official_id=identity.id,
        now=now,
        signed_as=body.get("signed_as"),
        relation=body.get("relation"),
        reason=body.get("reason"),
    )

    def decider(case: Case, _today: date) -> Outcome:
        # The token's offices are checked here, not in the decider: see web/capacity.py.
        require_office(identity, case, request.signed_as)
        return decide(case, default_rule_book(), CALENDAR, request)

    return _command(case_id, decider, request.decided_on)


@blp.route(f"/<uuid:case_id>/{PATHS[Action.DECREE]}", methods=["POST"])
@_documented(DecreeRequestSchema)
def post_decree(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record the signed decree: its number, date and the SHA-256 of the signed document.

    For a moral sanction (M1 pernyataan tertutup, M2 terbuka) this declares it and closes the case.
    """
    decree = delivery.Decree(body["number"], body["issued_on"], body["document_sha256"])
    return _command(case_id, lambda case, today: delivery.issue_decree(case, decree, today), decree.issued_on)


@blp.route(f"/<uuid:case_id>/{PATHS[Action.DELIVERY]}", methods=["POST"])
@_documented(DeliveryRequestSchema)
def post_delivery(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record the day the employee received the decision (due within 14 working days of it).

    Fixes `in_force_on` (day 15 after receipt) and `appeal_limit` (14 working days for a
    keberatan, or a banding against a dismissal).
    """
    received_on: date = body["received_on"]

    def decider(case: Case, today: date) -> Outcome:
        return delivery.deliver(case, default_rule_book(), CALENDAR, received_on, body["method"], today)

    return _command(case_id, decider, received_on)


@blp.route(f"/<uuid:case_id>/{PATHS[Action.OBJECTION]}", methods=["POST"])
@_documented(FilingRequestSchema)
def post_objection(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record a keberatan filed by the employee (to the PPK, or the issuing official's superior).

    After `appeal_limit` it is recorded as *tidak dapat diterima* and changes nothing else; in
    time, it suspends the penalty until decided (within 21 working days).
    """
    return _filing(appeals.KEBERATAN, case_id, body["filed_on"])


@blp.route(f"/<uuid:case_id>/{PATHS[Action.APPEAL]}", methods=["POST"])
@_documented(FilingRequestSchema)
def post_appeal(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record a banding to BPASN: only against a dismissal (B3, PTDH) or a PPPK termination (K1, K2)."""
    return _filing(appeals.BANDING, case_id, body["filed_on"])


def _filing(kind: str, case_id: uuid.UUID, filed_on: date) -> Response:
    def decider(case: Case, today: date) -> Outcome:
        return appeals.file(kind, case, default_rule_book(), CALENDAR, filed_on, today)

    return _command(case_id, decider, filed_on)


@blp.route(f"/<uuid:case_id>/{PATHS[Action.OBJECTION_DECISION]}", methods=["POST"])
@_documented(AppealDecisionRequestSchema)
def post_objection_decision(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record the keberatan decision: CONFIRM, LIGHTEN, AGGRAVATE, CHANGE, REVOKE or ANNUL.

    The penalty that stands is re-validated; it takes effect on `in_force_on` (default: the
    decision date). REVOKE and ANNUL close the case.
    """
    return _appeal_decision(appeals.KEBERATAN, case_id, body)


@blp.route(f"/<uuid:case_id>/{PATHS[Action.OBJECTION_ANSWER]}", methods=["POST"])
@_documented(AnswerRequestSchema)
def post_objection_answer(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record the issuing official's answer to the superior deciding a keberatan (due within
    6 working days, PP 79/2021 Ps 8); only for a keberatan addressed to the superior."""
    return _command(
        case_id,
        lambda case, today: appeals.answer(appeals.KEBERATAN, case, body["answered_on"], today),
        body["answered_on"],
    )


@blp.route(f"/<uuid:case_id>/{PATHS[Action.APPEAL_ANSWER]}", methods=["POST"])
@_documented(AnswerRequestSchema)
def post_appeal_answer(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record the PPK's answer to BPASN on a banding (due within 21 working days)."""
    return _command(
        case_id,
        lambda case, today: appeals.answer(appeals.BANDING, case, body["answered_on"], today),
        body["answered_on"],
    )


@blp.route(f"/<uuid:case_id>/{PATHS[Action.APPEAL_DECISION]}", methods=["POST"])
@_documented(AppealDecisionRequestSchema)
def post_appeal_decision(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record BPASN's decision on a banding; the penalty takes effect on the date it sets."""
    return _appeal_decision(appeals.BANDING, case_id, body)


def _appeal_decision(kind: str, case_id: uuid.UUID, body: dict[str, Any]) -> Response:
    ruling = appeals.AppealDecision(
        appeals.Ruling(body["ruling"]), body["decided_on"], body.get("penalty"), body.get("in_force_on")
    )
    return _command(
        case_id,
        lambda case, today: appeals.decide(kind, case, default_rule_book(), ruling, today),
        ruling.decided_on,
    )


@blp.route(f"/<uuid:case_id>/{PATHS[Action.COMPLETION]}", methods=["POST"])
@_documented(CompletionRequestSchema)
def post_completion(body: dict[str, Any], case_id: uuid.UUID) -> Response:
    """Record that a timed penalty has run its course (not before its end date); closes the case."""
    completed_on: date = body["completed_on"]
    return _command(case_id, lambda case, today: execution.complete(case, completed_on, today), completed_on)
