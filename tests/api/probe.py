"""A test-only blueprint whose endpoints fail on purpose or need a role, so the tests can
reach error paths that no real endpoint should have."""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint
from psycopg.errors import DeadlockDetected
from sqlalchemy.exc import OperationalError

from shared.auth import current_identity, require_role
from shared.eventstore import ConcurrencyError

SECRET_DETAIL = "do-not-leak-this-detail"


class EchoSchema(ma.Schema):
    text = ma.fields.String(required=True)


def probe_blueprint() -> Blueprint:
    """A fresh blueprint (Flask keeps per-app state on registration, so one per app)."""
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError(SECRET_DETAIL)

    @blp.route("/race")
    def race() -> dict[str, str]:
        raise ConcurrencyError("case-1", expected=3, actual=4)

    @blp.route("/db-down")
    def db_down() -> dict[str, str]:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @blp.route("/deadlock")
    def deadlock() -> dict[str, str]:
        raise OperationalError("UPDATE deadlines", {}, DeadlockDetected("deadlock detected"))

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(EchoSchema)
    @blp.response(200, EchoSchema)
    def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @blp.route("/raw", methods=["POST"])
    def raw() -> dict[str, object]:
        # Flask's own JSON parsing: 415 for a non-JSON body, 400 for malformed JSON.
        return {"got": request.get_json()}

    @blp.route("/casework")
    @blp.response(200)
    @require_role("investigator", "supervisor")
    def casework() -> dict[str, str | None]:
        who = current_identity()
        return {"id": who.id, "role": who.role, "agency": who.agency}

    return blp
