"""Staff views of intake's cases: a filtered, paginated list, one case, and its events."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest.pagination import PaginationParameters

from shared.auth import abort, require_role
from shared.web.events import register_case_events
from shared.web.inputs import Blueprint
from shared.web.runtime import runtime

STAFF = ("investigator", "supervisor", "official", "auditor", "admin")
STAGES = ("RECEIVED", "UNDER_EXAMINATION", "DECIDED", "UNDER_APPEAL", "IN_FORCE", "CLOSED")
ELECTIONS = ("PILPRES", "PILEG", "PILKADA_GUB", "PILKADA_BUP", "PILKADA_WAKO")

blp = Blueprint(
    "cases", __name__, url_prefix="/v1/cases", description="Cases as intake registered them (staff)."
)


class CaseFilterSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    stage = ma.fields.String(validate=ma.validate.OneOf(STAGES))
    province = ma.fields.String()
    regency = ma.fields.String()
    agency = ma.fields.String()
    election = ma.fields.String(validate=ma.validate.OneOf(ELECTIONS))
    late = ma.fields.Boolean()
    opened_from = ma.fields.Date(metadata={"description": "opened on or after this date (UTC)"})
    opened_to = ma.fields.Date(metadata={"description": "opened on or before this date (UTC)"})


class CaseSummarySchema(ma.Schema):
    case_id = ma.fields.UUID()
    case_number = ma.fields.String(metadata={"example": "NTR-2024-000123"})
    stage = ma.fields.String(metadata={"example": "RECEIVED"})
    province = ma.fields.String(allow_none=True)
    regency = ma.fields.String(allow_none=True)
    agency = ma.fields.String(allow_none=True)
    election_type = ma.fields.String()
    election_year = ma.fields.Integer()
    late = ma.fields.Boolean()
    opened_at = ma.fields.DateTime()


class CaseReportSchema(ma.Schema):
    report_id = ma.fields.UUID()
    partner = ma.fields.String()
    status = ma.fields.String()
    late = ma.fields.Boolean()
    received_at = ma.fields.DateTime()


class CaseDetailSchema(CaseSummarySchema):
    reports = ma.fields.List(ma.fields.Nested(CaseReportSchema))


def _filters(args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A WHERE clause of fixed column names (values are bound, never spliced) and its values."""
    columns = {
        "stage": "stage",
        "province": "province",
        "regency": "regency",
        "agency": "agency",
        "late": "late",
    }
    clauses = [f"{column} = :{name}" for name, column in columns.items() if name in args]
    if "election" in args:
        clauses.append("election_type = :election")
    if "opened_from" in args:
        clauses.append("opened_at >= CAST(:opened_from AS date)")
    if "opened_to" in args:
        clauses.append("opened_at < CAST(:opened_to AS date) + 1")
    return " AND ".join(clauses) or "true", dict(args)


@blp.route("")
@require_role(*STAFF)
@blp.arguments(CaseFilterSchema, location="query")
@blp.response(200, CaseSummarySchema(many=True))
@blp.paginate()
def list_cases(args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Cases, newest first, filtered by stage, region, agency, election, lateness and date."""
    where, params = _filters(args)
    page = {"limit": pagination_parameters.page_size, "offset": pagination_parameters.first_item}
    with runtime().engine.connect() as conn:
        total = conn.execute(sa.text(f"SELECT count(*) FROM intake_cases WHERE {where}"), params).scalar_one()
        rows = conn.execute(
            sa.text(
                f"SELECT * FROM intake_cases WHERE {where} "
                "ORDER BY opened_at DESC, case_number DESC LIMIT :limit OFFSET :offset"
            ),
            {**params, **page},
        ).all()
    pagination_parameters.item_count = int(total)
    return [row._asdict() for row in rows]


@blp.route("/<uuid:case_id>")
@require_role(*STAFF)
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="No such case")
def get_case(case_id: uuid.UUID) -> dict[str, Any]:
    """One case with the reports that opened or joined it."""
    with runtime().engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM intake_cases WHERE case_id = :c"), {"c": case_id}).first()
        if row is None:
            abort(404, message=f"no case {case_id}")
        reports = conn.execute(
            sa.text("SELECT * FROM intake_reports WHERE case_id = :c ORDER BY received_at"), {"c": case_id}
        ).all()
    return {**row._asdict(), "reports": [r._asdict() for r in reports]}


register_case_events(blp, "intake", STAFF)
