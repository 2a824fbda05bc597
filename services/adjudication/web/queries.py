"""Reading examination files: the list (filters, pagination), one case (state, version as
ETag, deadlines, timeline, the actions the caller may take) and its events.

Each caller reads only the files in its scope (shared.scope): an investigator those assigned
to them, a supervisor or an official those of a subject of its agency, an
administrator all; auditors read through the auditor app, which records each read. A file out of scope is absent from the list and its count, and reading it
answers 404, as for a file that does not exist."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_smorest.pagination import PaginationParameters

from services.adjudication.domain.assignment import NotPermitted, authorize
from services.adjudication.domain.case import Case
from services.adjudication.domain.lifecycle import allowed_actions
from services.adjudication.handlers import CaseNotFound
from services.adjudication.web import schemas as s
from services.adjudication.web.api import service
from shared.auth import Identity, abort, current_identity, require_role
from shared.deadlines import last_open_day
from shared.envelope import Envelope
from shared.scope import ReadScope
from shared.web.answers import etag
from shared.web.events import register_case_events
from shared.web.inputs import Blueprint
from shared.web.personal import shown
from shared.web.runtime import runtime

STAFF = ("investigator", "supervisor", "official", "admin")
# The subject's agency as last recorded, and the assigned investigator (store/readmodel.py).
SCOPE = ReadScope(agency="c.agency", assignee="c.assignee")

blp = Blueprint(
    "case-files",
    __name__,
    url_prefix="/v1/cases",
    description="Examination files: find cases, see their state, deadlines and history.",
)


def _filters(args: dict[str, Any], today: Any, identity: Identity) -> tuple[str, dict[str, Any]]:
    """A WHERE clause of fixed column names (values bound, never spliced) and its values,
    within the files ``identity`` may read."""
    scope, params = SCOPE.where(identity)
    clauses = [scope]
    params["today"] = today
    for name in ("state", "province", "regency"):
        if name in args:
            clauses.append(f"c.{name} = :{name}")
            params[name] = args[name]
    if "assignee" in args:
        if args["assignee"] == "none":
            clauses.append("c.assignee IS NULL")
        else:
            clauses.append("c.assignee = :assignee")
            params["assignee"] = args["assignee"]
    if "overdue" in args:
        clauses.append(
            ("" if args["overdue"] else "NOT ") + "EXISTS (SELECT 1 FROM adjudication_deadlines d "
            "WHERE d.case_id = c.case_id AND (d.status = 'MISSED' OR "
            "(d.status = 'PENDING' AND d.due_on < :today)))"
        )
    if "due_within_days" in args:
        clauses.append(
            "EXISTS (SELECT 1 FROM adjudication_deadlines d WHERE d.case_id = c.case_id "
            "AND d.status = 'PENDING' AND d.due_on >= :today AND d.due_on <= :horizon)"
        )
        params["horizon"] = today + timedelta(days=args["due_within_days"])
    return " AND ".join(clauses) or "true", params


@blp.route("")
@require_role(*STAFF)
@blp.arguments(s.CaseFilterSchema, location="query")
@blp.response(200, s.CaseSummarySchema(many=True))
@blp.paginate()
def list_cases(args: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Examination files you may read, the soonest deadline first, filtered by state, assignee, region and deadlines.

    Scope: an investigator reads the files assigned to them; a supervisor or an official the
    files whose subject works for the agency of its token; an administrator every file
    (auditors: the auditor app). Others' files are not listed and not counted in `X-Pagination`.

    `overdue=true`: a deadline lapsed and nothing met it. `due_within_days=N`: a deadline still
    running whose last day is within N days. `assignee=none`: cases waiting for a supervisor.
    """
    today = last_open_day(runtime().clock)
    where, params = _filters(args, today, current_identity())
    page = {"limit": pagination_parameters.page_size, "offset": pagination_parameters.first_item}
    select = (
        "SELECT c.*, c.subject->>'name' AS subject_name, "
        "(SELECT min(d.due_on) FROM adjudication_deadlines d WHERE d.case_id = c.case_id AND d.status = 'PENDING') "
        "AS next_due_on, EXISTS (SELECT 1 FROM adjudication_deadlines d WHERE d.case_id = c.case_id AND "
        "(d.status = 'MISSED' OR (d.status = 'PENDING' AND d.due_on < :today))) AS overdue "
        f"FROM adjudication_cases c WHERE {where}"
    )
    with runtime().engine.connect() as conn:
        total = conn.execute(
            sa.text(f"SELECT count(*) FROM adjudication_cases c WHERE {where}"), params
        ).scalar_one()
        rows = conn.execute(
            sa.text(
                f"{select} ORDER BY next_due_on NULLS LAST, c.opened_at DESC LIMIT :limit OFFSET :offset"
            ),
            {**params, **page},
        ).all()
    pagination_parameters.item_count = int(total)
    return [{**row._asdict(), "case_id": str(row.case_id)} for row in rows]


@blp.route("/<uuid:case_id>")
@require_role(*STAFF)
@blp.response(200, s.CaseDetailSchema)
@blp.alt_response(404, description="No such examination file among those you may read")
def get_case(case_id: uuid.UUID) -> Any:
    """One examination file: its state and version (also the ETag to send as If-Match), every
    deadline with its due date and status, the timeline, and the actions you may take now.

    404 for a file out of your scope (see the list), as for one that does not exist."""
    identity, hidden = current_identity(), f"no examination file {case_id} among those you may read"
    try:
        case, history = service().load(str(case_id))
    except CaseNotFound:
        abort(404, message=hidden)
    if not may_read(case, identity):
        abort(404, message=hidden)
    body = detail(case, history, identity)
    return body, 200, etag(case.version)


# Who examines, supervises and decides needs to know whom: to them (each read recorded) the
# subject's sealed identity is opened; an administrator sees it sealed.
IDENTITY_READERS = ("investigator", "supervisor", "official")


def _subject(subject: dict[str, Any]) -> dict[str, Any]:
    if "identity" not in subject:
        return subject
    return {**subject, "identity": shown(subject["identity"], readers=IDENTITY_READERS, purpose="read-case")}


def _opened(item: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """``item`` with its sealed ``name`` (a URI that may point at a person) opened for readers."""
    if item is None or name not in item:
        return item
    return {**item, name: shown(item[name], readers=IDENTITY_READERS, purpose="read-case")}


def detail(case: Case, history: list[Envelope], identity: Identity) -> dict[str, Any]:
    """The case as GET shows it to ``identity``."""
    return {
        "case_id": case.case_id,
        "case_number": case.case_number,
        "state": case.state.value,
        "version": case.version,
        "assignee": case.assignee,
        "subject": _subject(case.subject),
        "needs_subject_profile": not case.subject.get("position_kind")
        or not case.subject.get("agency_level"),
        "election": case.election,
        "incident": case.incident,
        "alleged_violations": case.alleged_violations,
        "recommendation": case.recommendation,
        "ppk_acknowledgement": case.ppk_acknowledgement,
        "ppk_noncompliant": case.ppk_noncompliant,
        "summonses": case.summonses,
        "absences": case.absences,
        "examiner": case.examiner,
        "temporary_release": case.release,
        "bap": _opened(case.bap, "document_uri"),
        "evidence": [_opened({"evidence_id": k, **v}, "uri") for k, v in case.evidence.items()],
        "finding": case.finding,
        "deadlines": [
            {
                "kind": c.kind,
                "due_on": c.due_on,
                "day_count": c.day_count,
                "rule": c.rule,
                "article": None,
                "status": c.status,
            }
            for c in case.clocks
        ],
        "timeline": [
            {
                "version": e.stream_version,
                "event_type": e.event_type,
                "occurred_at": e.occurred_at,
                "actor": e.actor,
                "rule_set": e.rule_set,
                "event_id": e.event_id,
            }
            for e in history
        ],
        "allowed_actions": [a for a in allowed_actions(case.state) if _permitted(case, identity, a)],
    }


def may_read(case: Case, identity: Identity) -> bool:
    """Whether ``identity`` may read ``case`` (shared.scope), from the folded case itself."""
    return SCOPE.admits(identity, agency=case.subject.get("agency"), assignee=case.assignee)


def _permitted(case: Case, identity: Identity, action: str) -> bool:
    try:
        authorize(case, identity.id, identity.role, action)
    except NotPermitted:
        return False
    return True


register_case_events(
    blp,
    "adjudication",
    STAFF,
    may_see=lambda history, identity: may_read(Case.from_events(history), identity),
)
