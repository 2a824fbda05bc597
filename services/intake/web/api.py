"""The partner API (docs/partner-api.md): receive a report, read its status.

The views only translate HTTP to commands and back; deciding happens in the domain modules.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Response, current_app, jsonify, make_response, request
from marshmallow import ValidationError

from services.intake.bootstrap import IntakeRules
from services.intake.domain.commands import SubmitReport, SupplementReport
from services.intake.domain.disclosure import CASE_WORKERS, PRIVACY_OFFICER, NotDisclosed, Reader
from services.intake.domain.report import Channel
from services.intake.handlers import (
    IdempotencyConflict,
    NotSupplementable,
    disclose_reporter,
    submit_report,
    supplement_report,
)
from services.intake.store.records import report_view
from services.intake.web.schemas import (
    ReportCreatedSchema,
    ReporterIdentitySchema,
    ReportRequestSchema,
    ReportStatusSchema,
    report_schema,
)
from shared.auth import abort, current_identity, require_role
from shared.keyring import ErasedField
from shared.uow import SqlUnitOfWork
from shared.web.inputs import Blueprint, json_body
from shared.web.runtime import runtime
from shared.web.validation import flatten_errors

IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,128}")

blp = Blueprint("reports", __name__, url_prefix="/v1", description="Reports pushed by partner agencies.")


def intake_rules() -> IntakeRules:
    """The current app's rule book and working-day calendar (services.intake.bootstrap)."""
    found = current_app.extensions["intake"]
    assert isinstance(found, IntakeRules)
    return found


def _channel() -> Channel:
    """The channel the calling partner's token names (reports are judged by channel)."""
    channel = current_identity().channel
    if channel is None:
        abort(403, message="this partner token names no channel; ask for a new one")
    return Channel(channel)


def _report_schema() -> ReportRequestSchema:
    """The report schema for this request: now, the caller's channel, and no ``known_at``
    before the earliest rule set (there would be no law to judge the report by: a 422, not a
    LookupError deep in the handler)."""
    earliest = min(r.effective_from for r in intake_rules().rules.rule_sets)
    return report_schema(now=runtime().clock.now(), channel=_channel(), known_from=earliest)


@blp.route("/reports", methods=["POST"])
@blp.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            "description": "1–128 printable ASCII characters, unique per report for your agency",
        }
    ],
    requestBody={"required": True, "content": {"application/json": {"schema": ReportRequestSchema}}},
)
@blp.response(
    201, ReportCreatedSchema, description="Received: registered, linked, incomplete or out of scope"
)
@blp.alt_response(200, schema=ReportCreatedSchema, description="The same Idempotency-Key and body again")
@blp.alt_response(409, description="The Idempotency-Key was used with a different body")
@blp.alt_response(415, description="The body is not application/json")
@blp.alt_response(422, description="Invalid fields, each named: {errors: {field.path: [messages]}}")
@require_role("partner")
def post_report() -> Response:
    """Push a report of a neutrality violation by a civil servant.

    Lateness is judged on `reported_at` (your register date), never on the time of the push.
    """
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        abort(422, errors={"Idempotency-Key": ["required: 1–128 printable ASCII characters"]})
    if not request.is_json:
        abort(415, message="send the report as application/json")
    raw, data = request.get_data(), json_body()
    identity = current_identity()
    rt = runtime()
    try:
        report = _report_schema().load(data)
    except ValidationError as exc:
        abort(422, errors=flatten_errors(exc.messages))
    deps = intake_rules()
    command = SubmitReport(partner=identity.id, idempotency_key=key, body=raw, report=report)
    try:
        submitted = submit_report(
            command, SqlUnitOfWork(rt.engine, rt.clock), deps.rules, deps.calendar, rt.keys
        )
    except IdempotencyConflict as exc:
        abort(409, message=str(exc))
    # The stored JSON as it was first sent (a Response passes flask-smorest's dump untouched),
    # so a retry gets the original answer to the letter.
    return make_response(jsonify(submitted.response), 200 if submitted.replayed else 201)


@blp.route("/reports/<uuid:report_id>")
@blp.response(200, ReportStatusSchema)
@blp.alt_response(404, description="No such report among yours")
@require_role("partner")
def get_report(report_id: uuid.UUID) -> dict[str, Any]:
    """Your report: its status, its case and the case's public stage with its history."""
    with runtime().engine.connect() as conn:
        view = report_view(conn, report_id, current_identity().id)
    if view is None:
        abort(404, message=f"no report {report_id} among your agency's reports")
    return view


@blp.route("/reports/<uuid:report_id>/reporter")
@blp.response(200, ReporterIdentitySchema)
@blp.alt_response(403, description="The reader may not learn who this reporter is")
@blp.alt_response(404, description="No such report (among yours, for a partner), or it names no reporter")
@blp.alt_response(410, description="The reporter's identity was erased")
@require_role("partner", PRIVACY_OFFICER, *CASE_WORKERS)
def get_reporter(report_id: uuid.UUID) -> dict[str, Any]:
    """Who filed the report: for the partner that filed it and the privacy officer, and for a
    supervisor of the subject's agency when the reporter did not ask for confidentiality.
    Every answer is first recorded on the case (who read it, when)."""
    caller, rt = current_identity(), runtime()
    try:
        shown = disclose_reporter(
            report_id,
            Reader(caller.id, caller.role, caller.agency),
            SqlUnitOfWork(rt.engine, rt.clock),
            rt.keys,
        )
    except NotDisclosed as exc:
        abort(403, message=str(exc))
    if shown is None:
        abort(
            404,
            message=f"tidak ada pelapor untuk laporan {report_id} / no reporter of report {report_id} for you",
        )
    if isinstance(shown.identity, ErasedField):
        abort(
            410,
            message=f"identitas pelapor laporan {report_id} telah dihapus / the reporter's identity was erased",
        )
    return {"report_id": shown.report_id, "confidential": shown.confidential, "reporter": shown.identity}


@blp.route("/reports/<uuid:report_id>/supplements", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}})
@blp.response(
    200, ReportCreatedSchema, description="The report with the supplement: REGISTERED, or still INCOMPLETE"
)
@blp.alt_response(404, description="No such report among yours")
@blp.alt_response(409, description="The report is not INCOMPLETE")
@blp.alt_response(422, description="The completed report is invalid: {errors: {field.path: [messages]}}")
@require_role("partner")
def post_supplement(report_id: uuid.UUID) -> Response:
    """Complete an INCOMPLETE report with the fields it lacks (any fields of the report body;
    objects are merged, other values replaced). The completed report is validated whole."""
    if not request.is_json:
        abort(415, message="send the supplement as application/json")
    supplied = json_body()
    if not isinstance(supplied, dict):
        abort(422, errors={"body": ["a supplement is a JSON object of report fields"]})
    identity = current_identity()
    rt, deps = runtime(), intake_rules()
    schema = _report_schema()
    command = SupplementReport(partner=identity.id, report_id=report_id, supplied=supplied)
    try:
        answer = supplement_report(
            command, SqlUnitOfWork(rt.engine, rt.clock), deps.rules, deps.calendar, schema.load, rt.keys
        )
    except ValidationError as exc:
        abort(422, errors=flatten_errors(exc.messages))
    except NotSupplementable as exc:
        abort(409, message=str(exc))
    if answer is None:
        abort(404, message=f"no report {report_id} among your agency's reports")
    return make_response(jsonify(answer), 200)
