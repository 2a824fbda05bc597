"""Staff views of intake's cases: a filtered, paginated list, one case, and its events.

Who reads which case (shared.scope): a supervisor or an official the cases whose subject works
for the agency of its token, an administrator all; auditors read through the auditor app,
which records each read. Investigators do not read
here (403): they read the cases assigned to them at adjudication, the only service that knows
assignments. A case out of scope is absent from the list and its count, and reading it
answers 404, as for a case that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest.pagination import PaginationParameters

from services.intake.store.readmodel import READ_SCOPE
from shared.auth import Identity, abort, current_identity, require_role
from shared.envelope import Envelope
from shared.web.events import register_case_events
from shared.web.inputs import Blueprint
from shared.web.runtime import runtime

STAFF = ("supervisor", "official", "admin")
SCOPE = READ_SCOPE  # by the subject's agency as the report named it (store.readmodel)
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


def _filters(args: dict[str, Any], identity: Identity) -> tuple[str, dict[str, Any]]:
    """A WHERE clause of fixed column names (values are bound, never spliced) and its values,
    within the cases ``identity`` may read."""
    columns = {
        "stage": "stage",
        "province": "province",
        "regency": "regency",
        "agency": "agency",
        "late": "late",
    }
    scope, params = SCOPE.where(identity)
    clauses = [scope] + [f"{column} = :{name}" for name, column in columns.items() if name in args]
    if "election" in args:
        clauses.append("election_type = :election")
    if "opened_from" in args:
        clauses.append("opened_at >= CAST(:opened_from AS date)")
    if "opened_to" in args:
        clauses.append("opened_at < CAST(:opened_to AS date) + 1")
    return " AND ".join(clauses), {**args, **params}


@blp.route("")
@require_role(*STAFF)
@blp.arguments(CaseFilterSchema, location="query")
@blp.response(200, CaseSummarySchema(many=True))
@blp.paginate()
def list_cases(args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Cases you may read, newest first, filtered by stage, region, agency, election, lateness and date.

    Scope: a supervisor or an official reads the cases whose subject works for the agency of
    its token; an administrator every case. Others' cases are not listed and not
    counted in `X-Pagination`. Investigators read their assigned cases at adjudication."""
    where, params = _filters(args, current_identity())
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
@blp.alt_response(404, description="No such case among those you may read")
def get_case(case_id: uuid.UUID) -> dict[str, Any]:
    """One case with the reports that opened or joined it.

    404 for a case out of your scope (see the list), as for one that does not exist."""
    with runtime().engine.connect() as conn:
        row = _case_row(conn, case_id)
        if row is None or not SCOPE.admits(current_identity(), agency=row.agency):
            abort(404, message=f"no case {case_id} among the cases you may read")
        reports = conn.execute(
            sa.text("SELECT * FROM intake_reports WHERE case_id = :c ORDER BY received_at"), {"c": case_id}
        ).all()
    return {**row._asdict(), "reports": [r._asdict() for r in reports]}


def _case_row(conn: sa.Connection, case_id: uuid.UUID) -> sa.Row[Any] | None:
    return conn.execute(sa.text("SELECT * FROM intake_cases WHERE case_id = :c"), {"c": case_id}).first()


def _may_see(history: list[Envelope], identity: Identity) -> bool:
    """Whether ``identity`` may read the case whose intake events these are: its case row in
    scope (a report not yet registered has no case row, so only admins see it)."""
    with runtime().engine.connect() as conn:
        row = _case_row(conn, uuid.UUID(history[0].stream_id))
    return SCOPE.admits(identity, agency=row.agency if row is not None else None)


register_case_events(blp, "intake", STAFF, may_see=_may_see)
