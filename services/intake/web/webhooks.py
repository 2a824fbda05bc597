"""The partner's webhook endpoints: register a callback, read the deliveries made to it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, current_app, request
from flask_smorest.pagination import PaginationParameters

from services.intake.store.webhooks import (
    MAX_URL_CHARS,
    STATUSES,
    DestinationPolicy,
    RefusedDestination,
    deliveries_of,
    register_webhook,
    seal_secret,
    system_resolver,
)
from shared.auth import abort, current_identity, require_role
from shared.keyring import Erased
from shared.web.inputs import Blueprint, json_body
from shared.web.runtime import runtime
from shared.web.validation import flatten_errors

blp = Blueprint(
    "webhooks", __name__, url_prefix="/v1/webhook", description="Signed callbacks on every stage change."
)


class WebhookRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    # A string here; what a webhook URL may be is DestinationPolicy's to say (put_webhook).
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=MAX_URL_CHARS),
        metadata={
            "format": "url",
            "example": "https://partner.example/netra-webhook",
            "description": (
                "https (http only to a host the administrator allow-lists). Refused: user:pw@, "
                "a #fragment, a host spelt as a number other than a dotted quad (2130706433, "
                "0x7f000001, 0177.0.0.1), and a host any of whose addresses is not public "
                "(loopback, private, link-local, shared 100.64/10, multicast, reserved, "
                "unspecified, or IPv4-mapped forms of those). Checked again before each delivery."
            ),
        },
    )
    secret = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=16, max=256),
        metadata={
            "description": (
                "16–256 characters; signs each body (HMAC-SHA256). Stored sealed; never returned."
            )
        },
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


SECRET_KEY_ERASED = (
    "kunci rahasia webhook identitas ini telah dihapus oleh administrator Netra; webhook tidak "
    "dapat didaftarkan lagi / the key of this identity's webhook secret was erased by a Netra "
    "administrator; the webhook cannot be registered again"
)

# Where an app finds the resolver its webhook URLs are checked with (default: the system's);
# tests put their own DNS here, as they give the worker its own.
RESOLVER = "intake.webhook_resolver"


def destination_policy(app: Flask | None = None) -> DestinationPolicy:
    """The policy ``app`` registers webhooks under: its settings' allow-list
    (NETRA_WEBHOOK_HTTP_HOSTS) and its resolver."""
    app = app or current_app
    resolver = app.extensions.get(RESOLVER, system_resolver)
    return DestinationPolicy.of(runtime(app).settings.webhook_http_hosts, resolver)


@blp.route("", methods=["PUT"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": WebhookRequestSchema}}})
@blp.response(200, WebhookSchema)
@blp.alt_response(
    409,
    description=(
        "A Netra administrator erased the key of this identity's webhook secret: it cannot be "
        "registered again"
    ),
)
@blp.alt_response(415, description="The body is not application/json")
@blp.alt_response(
    422,
    description=(
        "Invalid fields, each named: {errors: {field: [messages]}}; a url that is not https, "
        "carries user:pw@ or a fragment, or whose host resolves to a non-public address "
        "(the message does not say which) is refused under url"
    ),
)
@require_role("partner")
def put_webhook() -> dict[str, Any]:
    """Register or replace your callback URL and signing secret."""
    if not request.is_json:
        abort(415, message="send the webhook as application/json")
    errors: dict[str, list[str]] = {}
    try:
        loaded = WebhookRequestSchema().load(json_body())
    except ma.ValidationError as exc:
        errors = flatten_errors(exc.messages)
        loaded = exc.valid_data if isinstance(exc.valid_data, dict) else {}
    url = loaded.get("url")
    if isinstance(url, str) and "url" not in errors:
        policy = destination_policy()
        try:
            target = policy.parse(url)
            # The host is looked up only for a request that is otherwise valid.
            if not errors:
                policy.resolve(target)
        except RefusedDestination as refused:
            errors["url"] = [str(refused)]
    if errors:
        abort(422, errors=errors)
    rt = runtime()
    partner = current_identity().id
    try:
        # Sealed first, so the key is committed (in the key store) before the row using it.
        sealed = seal_secret(rt.keys, partner, loaded["secret"])
    except Erased:
        abort(409, message=SECRET_KEY_ERASED)
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        register_webhook(conn, partner=partner, url=loaded["url"], sealed_secret=sealed, now=now)
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
