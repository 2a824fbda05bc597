"""The commands of an examination, one ``POST /v1/cases/{case_id}/<action>`` each.

Every command names the case version it was decided on in ``If-Match`` (the ``ETag`` of
``GET /v1/cases/{case_id}``): missing → 428, stale → 412. A command the case's state does not
allow → 409 naming the state and the allowed actions; a broken legal rule or bad input → 422
naming the fields. Supervisors act on every case; an investigator only on cases assigned to
them (403 otherwise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import current_app

from services.adjudication.domain import (
    assignment,
    evidence,
    examination,
    finding,
    recommendation,
    summons,
)
from services.adjudication.domain import commands as c
from services.adjudication.domain.assignment import NotPermitted
from services.adjudication.domain.case import Case
from services.adjudication.domain.lifecycle import allowed_actions
from services.adjudication.handlers import Adjudication, CaseNotFound, Decider
from services.adjudication.web import schemas as s
from shared.auth import abort, current_identity, require_role
from shared.envelope import Actor
from shared.keyring import Erased, SubjectSeal, is_sealed
from shared.web.answers import etag, if_match
from shared.web.inputs import Blueprint
from shared.web.runtime import runtime

blp = Blueprint(
    "examination",
    __name__,
    url_prefix="/v1/cases",
    description=(
        "Work an examination file: assign it, record the recommendation and the PPK's acknowledgement, "
        "summon the subject, examine, record the BAP and the finding. Every command needs "
        '`If-Match: "<version>"` from `GET /v1/cases/{case_id}`; its answer gives the new version and '
        "the actions the case now allows."
    ),
)

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string", "example": '"3"'},
    "description": "The case version you decided on: the ETag of GET /v1/cases/{case_id}.",
}
WORKERS = ("investigator", "supervisor")


def service() -> Adjudication:
    """The app's command side (built in services.adjudication.create_app)."""
    found = current_app.extensions["adjudication"]
    assert isinstance(found, Adjudication)
    return found


@dataclass(frozen=True)
class Command:
    """One command endpoint: its action name (the URL's last segment) and how it is decided."""

    action: str
    schema: type[ma.Schema]
    decide: Decider
    build: Callable[[dict[str, Any], dict[str, str]], Any]
    summary: str
    description: str
    roles: tuple[str, ...] = WORKERS
    path: str | None = None
    # Body fields that may point at a person (a document's or an evidence item's URI): sealed
    # under the subject's data key before the event is recorded (docs/architecture.md §5).
    sealed: tuple[str, ...] = ()


def run(spec: Command, body: dict[str, Any], case_id: uuid.UUID, extra: dict[str, str]) -> Any:
    """Carry out a command and answer with the new version (also as ETag)."""
    identity = current_identity()
    expected = if_match()
    if spec.sealed:
        body = _sealed(body, spec.sealed, str(case_id), identity.id)
    try:
        case, appended = service().handle(
            str(case_id),
            spec.action,
            spec.decide,
            spec.build(body, extra),
            Actor(identity.id, identity.role),
            expected,
        )
    except CaseNotFound:
        abort(404, message=f"no examination file {case_id}")
    except NotPermitted as refused:
        abort(403, message=str(refused))
    result = {
        "case_id": str(case_id),
        "version": case.version,
        "state": case.state.value,
        "events": [e.event_type for e in appended],
        "allowed_actions": allowed_actions(case.state),
    }
    return result, 200, etag(case.version)


def _sealed(body: dict[str, Any], names: tuple[str, ...], case_id: str, actor: str) -> dict[str, Any]:
    """``body`` with ``names`` sealed under the key of the case's subject, so erasing the
    person erases these too; under a key of the case's own when the subject has none."""
    try:
        case, _ = service().load(case_id)
    except CaseNotFound:
        abort(404, message=f"no examination file {case_id}")
    identity = case.subject.get("identity")
    subjects = [identity["subject"]] if is_sealed(identity) else []
    for subject in [*subjects, f"case/{case_id}"]:
        seal = SubjectSeal(
            runtime().keys, subject, owner="adjudication", actor=actor, purpose="seal-evidence"
        )
        try:
            return {**body, **{name: seal.seal(body[name]) for name in names if name in body}}
        except Erased:
            continue  # the person was erased: what is recorded now is the case's own
    raise AssertionError("unreachable: a case key is never erased")


def register(spec: Command) -> None:
    """Add the command's route, documented for /docs."""
    path = spec.path or f"/<uuid:case_id>/{spec.action}"

    @blp.doc(summary=spec.summary, description=spec.description, parameters=[IF_MATCH])
    @blp.alt_response(403, description="Not your case, or not your role")
    @blp.alt_response(404, description="No such examination file")
    @blp.alt_response(
        409, description="Not allowed in the case's state: the body names the state and allowed_actions"
    )
    @blp.alt_response(412, description="If-Match is stale: reload the case")
    @blp.alt_response(428, description="If-Match is missing")
    def view(body: dict[str, Any], case_id: uuid.UUID, **extra: uuid.UUID) -> Any:
        return run(spec, body, case_id, {name: str(value) for name, value in extra.items()})

    view.__name__ = spec.action.replace("-", "_")
    decorated = blp.response(200, s.CommandResultSchema)(view)
    decorated = blp.arguments(spec.schema, example=_example(spec.schema))(decorated)
    # Outermost: who is asking is settled before the body is read, so a stranger gets 401,
    # not a list of the fields it got wrong.
    decorated = require_role(*spec.roles)(decorated)
    blp.route(path, methods=["POST"], endpoint=spec.action)(decorated)


def _example(schema: type[ma.Schema]) -> dict[str, Any]:
    """The request example /docs shows, from the fields' own examples."""
    return {
        name: f.metadata["example"] for name, f in schema._declared_fields.items() if "example" in f.metadata
    }


def _opt(body: dict[str, Any], name: str) -> Any:
    return body.get(name)


COMMANDS = [
    Command(
        "assignment",
        s.AssignmentSchema,
        assignment.assign,
        lambda b, _: c.AssignInvestigator(b["investigator_id"], b.get("reason")),
        "Assign or reassign the investigator (supervisor)",
        "Gives the case to an investigator. Reassigning needs a `reason`; an investigator who recused "
        "cannot be given the case back.",
        roles=("supervisor",),
    ),
    Command(
        "recusal",
        s.RecusalSchema,
        assignment.recuse,
        lambda b, _: c.Recuse(b["reason"]),
        "Recuse from the case (conflict of interest)",
        "The assigned investigator steps aside with a written reason (PP 42/2004 Ps 11 c); the case "
        "becomes unassigned until a supervisor assigns it again.",
    ),
    Command(
        "subject-profile",
        s.SubjectProfileSchema,
        assignment.record_subject_profile,
        lambda b, _: c.RecordSubjectProfile(**b),
        "Record the subject's position kind, agency level and type",
        "Who may punish the subject depends on these (PP 94/2021 Ps 17–23). When intake's report used "
        "words outside the vocabulary, `GET` shows `needs_subject_profile: true`: record them here "
        "before the finding.",
    ),
    Command(
        "recommendation-request",
        s.RecommendationRequestSchema,
        recommendation.request_recommendation,
        lambda b, _: c.RequestRecommendation(b["requested_on"], b.get("reference")),
        "Record that a recommendation was requested (KASN or BKN by date)",
        "The body is chosen by the request date from the rule data: KASN until 23 Aug 2024, BKN from "
        "24 Aug 2024.",
    ),
    Command(
        "recommendation",
        s.RecommendationSchema,
        recommendation.record_recommendation,
        lambda b, _: c.RecordRecommendation(
            b["number"], b["issued_on"], b["category"], b.get("level"), b.get("issuer")
        ),
        "Record the recommendation issued to the PPK",
        "Number, date and category: `KODE_ETIK`, `DISIPLIN` (with its `level`) or `NOT_PROVEN`. "
        "An `issuer` other than the body in force on `issued_on` is refused.",
    ),
    Command(
        "ppk-acknowledgement",
        s.PpkAcknowledgementSchema,
        recommendation.acknowledge,
        lambda b, _: c.AcknowledgeRecommendation(b["received_on"], b["ppk"], b.get("letter_number")),
        "Record that the PPK received the recommendation",
        "Starts the PPK's follow-up deadline (rule data: 14 calendar days, disputed 10 vs 14, "
        "confidence R). The first summons meets it; when it lapses a PPK breach is recorded.",
    ),
    Command(
        "summons",
        s.SummonsSchema,
        summons.issue_summons,
        lambda b, _: c.IssueSummons(
            b["letter_number"], b["letter_date"], b["examination_date"], b["signed_by"]
        ),
        "Issue the first written summons",
        "By the direct superior, in writing (PP 94/2021 Ps 26(1)). The examination date must be no "
        "later than 7 working days after the letter date (Ps 26(2)); holidays and cuti bersama do "
        "not count. Starts the `examination_1` deadline.",
    ),
    Command(
        "attendance",
        s.AttendanceSchema,
        summons.record_attendance,
        lambda b, _: c.RecordAttendance(b["examined_on"], b["mode"]),
        "Record that the subject attended and was examined",
        "Closed examination, in person (`TATAP_MUKA`) or `VIRTUAL` (Ps 27(2)). Meets the examination deadline. "
        "Where a berat violation is in question (alleged or recommended), the tim pemeriksa examines: "
        "refused (422 on `examiner`, rule TIM_PEMERIKSA_PS_29) unless one was appointed on or before "
        "`examined_on` (the examiner action). Otherwise the direct superior examines (Ps 27(1)) and may "
        "be named later, before the BAP; an examiner already named must have been appointed on or "
        "before `examined_on`.",
    ),
    Command(
        "absence",
        s.AbsenceSchema,
        summons.record_absence,
        lambda b, _: c.RecordAbsence(b["missed_on"], b.get("note")),
        "Record that the subject did not attend",
        "After the first summons: the second summons is due within 7 working days of `missed_on` "
        "(Ps 26(3); starts `second_summons`). After the second: the case is decided on the evidence "
        "(Ps 26(4)); record the finding next.",
    ),
    Command(
        "second-summons",
        s.SummonsSchema,
        summons.issue_second_summons,
        lambda b, _: c.IssueSummons(
            b["letter_number"], b["letter_date"], b["examination_date"], b["signed_by"]
        ),
        "Issue the second summons after an absence",
        "Due within 7 working days of the missed date (Ps 26(3), rule PANGGILAN_KEDUA_7_HARI_KERJA, "
        "confidence V; holidays and cuti bersama do not count). A late one is still recorded, with "
        "`late: true`, and meets the `second_summons` deadline late: the event lists it under "
        "`deadlines.met_late` and the case shows it MET_LATE. The examination date again must be "
        "within 7 working days of the letter.",
    ),
    Command(
        "examiner",
        s.ExaminerSchema,
        examination.appoint_examiner,
        lambda b, _: c.AppointExaminer(
            b["mode"],
            tuple(c.TeamMember(m["name"], m["role"]) for m in b["members"]),
            b["appointed_on"],
            b.get("decree_number"),
        ),
        "Name who examines: the direct superior or a tim pemeriksa",
        "`ATASAN_LANGSUNG` with the one superior, or `TIM_PEMERIKSA` with members of the roles "
        "ATASAN_LANGSUNG, PENGAWASAN and KEPEGAWAIAN (Ps 29(3)). A team is mandatory when a berat "
        "violation is in question (Ps 29(2)). `appointed_on` (required) is the date of the "
        "appointment: not in the future and, once the examination is recorded, on or before its date "
        "(the examiner exists before it examines, Ps 27, 29); the rule set in force on it applies.",
    ),
    Command(
        "temporary-release",
        s.TemporaryReleaseSchema,
        examination.release_temporarily,
        lambda b, _: c.ReleaseTemporarily(b["from_date"], b["decree_number"], b["reason"]),
        "Release the subject temporarily from duty",
        "From the examination until the decision, when a berat penalty is possible (PP 94/2021 Ps 31). "
        "Not a penalty: the subject keeps their rights.",
    ),
    Command(
        "bap",
        s.BapSchema,
        examination.record_bap,
        lambda b, _: c.RecordBap(
            b["document_uri"], b["sha256"], b["signed_on"], b["signed_by_subject"], b.get("copy_given_on")
        ),
        "Record the BAP (berita acara pemeriksaan) with its SHA-256",
        "Valid even if the subject would not sign (Ps 32(2)); the subject is owed a copy (Ps 32(3)). "
        "`document_uri` is recorded sealed: it may name the person.",
        sealed=("document_uri",),
    ),
    Command(
        "finding",
        s.FindingSchema,
        finding.record_finding,
        lambda b, _: c.RecordFinding(
            b["proven"],
            b["reasoning"],
            tuple(
                c.ViolationInput(v["code"], v.get("level"), v.get("level_reason")) for v in b["violations"]
            ),
            b["repeat"],
            b.get("repeat_of"),
            b.get("found_on"),
        ),
        "Record the finding: proven (violations) or not proven",
        "Not proven closes the case. Proven names the violation codes (docs/law.md §2); levels come from "
        "the catalogue, the heaviest for several (Ps 35(1)); N1 and other codes without a level in law "
        "need `level` and `level_reason`. The case is then referred to the deciding official (PyBM) "
        "with `adjudication.case_referred`.",
    ),
    Command(
        "evidence",
        s.EvidenceSchema,
        evidence.add_evidence,
        lambda b, _: c.AddEvidence(
            str(uuid.uuid4()), b["kind"], b["uri"], b["sha256"], b.get("captured_at"), b.get("description")
        ),
        "Add an evidence item (received)",
        "Kind, URI and the SHA-256 of its content; the chain of custody starts with RECEIVED. "
        "`uri` is recorded sealed: it may point at a person.",
        sealed=("uri",),
    ),
    Command(
        "custody",
        s.CustodySchema,
        evidence.record_custody,
        lambda b, extra: c.RecordCustody(extra["evidence_id"], b["action"], b["on"], b.get("note")),
        "Record a chain-of-custody step of an evidence item",
        "`EXAMINED` or `RETURNED` (a returned item takes no further step).",
        path="/<uuid:case_id>/evidence/<uuid:evidence_id>/custody",
    ),
]

for _spec in COMMANDS:
    register(_spec)

__all__ = ["COMMANDS", "Case", "blp"]
