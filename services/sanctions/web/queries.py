"""Reading cases: a filtered list, one case with its dates, deadlines, timeline, allowed
actions and penalty options, and its events as stored. Officials see their agency's cases
only; administrators see all; auditors read through the auditor app (shared.scope). A case
out of scope is absent from the list and its count, and reading it answers 404, as for a case that does not exist."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify, make_response
from flask_smorest.pagination import PaginationParameters

from services.sanctions.domain.case import Case
from services.sanctions.domain.catalogue import options
from services.sanctions.domain.rules import default_rule_book
from services.sanctions.store.readmodel import OBLIGATIONS
from services.sanctions.web.actions import paths_of
from services.sanctions.web.api import blp as commands_blp
from services.sanctions.web.schemas import (
    CaseDetailSchema,
    CaseFilterSchema,
    CaseSummarySchema,
)
from shared.auth import Identity, abort, current_identity, require_role
from shared.eventstore import SqlEventStore
from shared.legaltime import legal_date
from shared.scope import ReadScope
from shared.web.answers import etag
from shared.web.events import register_case_events
from shared.web.inputs import Blueprint
from shared.web.personal import shown
from shared.web.runtime import runtime

READERS = ("official", "admin")
# The referred subject's agency; sanctions knows no assignment (investigators work adjudication).
SCOPE = ReadScope(agency="c.agency")
blp: Blueprint = commands_blp

# Overdue: an obligation lapsed unmet (a recorded breach still open), or lapsed and not yet
# recorded by the scheduler.
OVERDUE = (
    "(json_array_length(c.breaches) > 0 OR EXISTS (SELECT 1 FROM deadlines d "
    "WHERE d.stream_id = c.case_id AND d.status = 'PENDING' AND d.due_on < :today "
    f"AND d.kind IN ({', '.join(repr(k) for k in OBLIGATIONS)})))"
)
SUMMARY_COLUMNS = (
    "c.case_id, c.case_number, c.agency, c.employee_name, c.employee_type, c.finding_level, c.state, "
    "c.version, c.rule_set, c.penalty, c.decided_on, c.received_on, c.in_force_on, c.appeal_limit, "
    f"c.in_force, c.appeal_pending, c.closed_on, {OVERDUE} AS overdue"
)


def _scope(identity: Identity, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A WHERE clause of fixed column names (values are bound) and its parameters."""
    scope, params = SCOPE.where(identity)
    clauses = [scope]
    params.update(args)
    for name in ("state", "penalty", "in_force", "appeal_pending"):
        if name in args:
            clauses.append(f"c.{name} = :{name}")
    if "overdue" in args:
        clauses.append(OVERDUE if args["overdue"] else f"NOT {OVERDUE}")
    return " AND ".join(clauses), params


def may_read(case: Case, identity: Identity) -> bool:
    """Whether ``identity`` may read ``case``: a referred case in its scope (shared.scope)."""
    return case.referral is not None and SCOPE.admits(identity, agency=case.referral.agency)


@blp.route("", methods=["GET"])
@require_role(*READERS)
@blp.arguments(CaseFilterSchema, location="query")
@blp.response(200, CaseSummarySchema(many=True))
@blp.paginate()
def list_cases(args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Cases you may read, most recently changed first: filter by state, penalty, in_force, appeal_pending, overdue.

    Scope: an official reads the cases whose subject works for the agency of its token; an
    administrator every case (auditors: the auditor app). Others' cases are not listed and not counted in
    `X-Pagination`."""
    rt = runtime()
    where, params = _scope(current_identity(), args)
    params["today"] = legal_date(rt.clock.now())
    page = {"limit": pagination_parameters.page_size, "offset": pagination_parameters.first_item}
    with rt.engine.connect() as conn:
        total = conn.execute(
            sa.text(f"SELECT count(*) FROM sanctions_cases c WHERE {where}"), params
        ).scalar_one()
        rows = conn.execute(
            sa.text(
                f"SELECT {SUMMARY_COLUMNS} FROM sanctions_cases c WHERE {where} "
                "ORDER BY c.updated_at DESC, c.case_id LIMIT :limit OFFSET :offset"
            ),
            {**params, **page},
        ).all()
    pagination_parameters.item_count = int(total)
    return [row._asdict() for row in rows]


@blp.route("/<uuid:case_id>", methods=["GET"])
@require_role(*READERS)
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="No such case among those you may read")
def get_case(case_id: uuid.UUID) -> Response:
    """One case: state, version (also the ETag), penalty, dates, deadlines, timeline, allowed
    actions, and the penalty options that fit the finding with who may sign each.

    404 for a case out of your scope (see the list), as for one that does not exist."""
    rt, identity, stream = runtime(), current_identity(), str(case_id)
    with rt.engine.connect() as conn:
        history = SqlEventStore(conn, runtime().clock).load(stream)
        case = Case.of(history)
        if not may_read(case, identity):
            abort(404, message=f"no case {case_id} among the cases you may read")
        params = {"c": stream, "today": legal_date(rt.clock.now())}
        row = conn.execute(
            sa.text(
                f"SELECT {SUMMARY_COLUMNS}, c.employee_identity, c.referral, c.decision, c.decree, c.execution, c.breaches "
                "FROM sanctions_cases c WHERE c.case_id = :c"
            ),
            params,
        ).one()
        deadlines = conn.execute(
            sa.text(
                "SELECT kind, due_on, day_count, status, rule_set FROM deadlines WHERE stream_id = :c ORDER BY due_on, kind"
            ),
            params,
        ).all()
        timeline = conn.execute(
            sa.text(
                "SELECT version, event_type, occurred_at, event_id FROM sanctions_timeline WHERE case_id = :c ORDER BY version"
            ),
            params,
        ).all()
    fields = row._asdict()
    # The official names the employee in the decree: to them (each time recorded) the sealed
    # identity is opened; an administrator sees it sealed.
    employee = shown(fields.pop("employee_identity"), readers=("official",), purpose="read-case")
    if isinstance(employee, dict) and isinstance(employee.get("name"), str):
        fields["employee_name"] = employee["name"]
    body = {
        **fields,
        "employee": employee,
        "version": case.version,
        "state": case.state.value,
        "allowed_actions": paths_of(a.value for a in case.allowed()),
        "penalty_options": _options(case),
        # due_on is a deadline's last day; lapses_on the day its lapse takes effect (for
        # takes_effect, the day the penalty is in force: in_force_on).
        "deadlines": [
            dict(
                d._asdict(), due_on=d.due_on.isoformat(), lapses_on=(d.due_on + timedelta(days=1)).isoformat()
            )
            for d in deadlines
        ],
        "timeline": [dict(t._asdict(), occurred_at=t.occurred_at.isoformat()) for t in timeline],
    }
    return make_response(jsonify(CaseDetailSchema().dump(body)), 200, etag(case.version))


register_case_events(
    blp, "sanctions", READERS, may_see=lambda history, identity: may_read(Case.of(history), identity)
)


def _options(case: Case) -> list[dict[str, Any]]:
    if case.referral is None or case.rule_set is None or case.decision is not None:
        return []
    return options(default_rule_book().named(case.rule_set), case.referral)
