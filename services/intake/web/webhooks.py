"""The partner's webhook endpoints: register a callback, read the deliveries made to it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest.pagination import PaginationParameters

from services.intake.store.webhooks import STATUSES, deliveries_of, register_webhook
from shared.auth import abort, current_identity, require_role
from shared.web.inputs import Blueprint, json_body
from shared.web.runtime import runtime
from shared.web.validation import flatten_errors

blp = Blueprint(
    "webhooks", __name__, url_prefix="/v1/webhook", description="Signed callbacks on every stage change."
)


class WebhookRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    # No TLD required: partners test against hosts such as localhost or an intranet name.
    url = ma.fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=ma.validate.Length(max=2048),
        metadata={"example": "https://partner.example/netra-webhook"},
    )
    secret = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=16, max=256),
        metadata={"description": "16–256 characters; signs each body (HMAC-SHA256). Never returned."},
    )


class WebhookSchema(ma.Schema):
    """A registration as answered: the secret is deliberately absent."""

    url = ma.fields.String()
    updated_at = ma.fields.DateTime()


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "also sent as the X-Netra-Delivery header"})
    report_id = ma.fields.UUID()
    case_id = ma.fields.UUID()
    stage = ma.fields.String()
    event_id = ma.fields.String(metadata={"description": "the same on every retry: dedupe on it"})
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    attempts = ma.fields.Integer()
    last_status_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)


@blp.route("", methods=["PUT"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": WebhookRequestSchema}}})
@blp.response(200, WebhookSchema)
@blp.alt_response(415, description="The body is not application/json")
@blp.alt_response(422, description="Invalid fields, each named: {errors: {field: [messages]}}")
@require_role("partner")
def put_webhook() -> dict[str, Any]:
    """Register or replace your callback URL and signing secret."""
    if not request.is_json:
        abort(415, message="send the webhook as application/json")
    try:
        loaded = WebhookRequestSchema().load(json_body())
    except ma.ValidationError as exc:
        abort(422, errors=flatten_errors(exc.messages))
    rt = runtime()
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        register_webhook(
            conn, partner=current_identity().id, url=loaded["url"], secret=loaded["secret"], now=now
        )
    return {"url": loaded["url"], "updated_at": now}


@blp.route("/deliveries")
@blp.response(200, DeliverySchema(many=True))
@blp.paginate()
@require_role("partner")
def list_deliveries(pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Webhook deliveries to you, newest first, with each one's status and last attempt."""
    with runtime().engine.connect() as conn:
        total, rows = deliveries_of(
            conn,
            current_identity().id,
            limit=pagination_parameters.page_size,
            offset=pagination_parameters.first_item,
        )
    pagination_parameters.item_count = total
    return rows
