"""Marshmallow schemas of the adjudication API: each command's body (with the example
``/docs`` shows) and the answers. Unknown fields are refused, so a misspelt optional field
is a 422 naming it rather than silently ignored."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from services.adjudication.domain.lifecycle import ACTIONS
from services.adjudication.domain.vocabulary import (
    AgencyLevel,
    AttendanceMode,
    CustodyAction,
    EmployeeType,
    ExaminerMode,
    Level,
    PositionKind,
    RecommendationCategory,
    RecommendingBody,
    TeamRole,
)

SHA256 = validate.Regexp(
    re.compile(r"[0-9a-fA-F]{64}\Z"), error="Must be 64 hexadecimal characters (a SHA-256)."
)
NOT_BLANK = validate.Length(min=1, max=2000)


def text(example: str, required: bool = True, **kwargs: object) -> fields.String:
    """A non-empty string field with its example."""
    if required:
        return fields.String(required=True, validate=NOT_BLANK, metadata={"example": example, **kwargs})
    return fields.String(
        load_default=None, allow_none=True, validate=NOT_BLANK, metadata={"example": example, **kwargs}
    )


# Deadlines are counted forward from these dates (working days, a PPK's follow-up); from a
# date near the end of Python's calendar (9999-12-31) the count overflows mid-command, a 500.
# No examination file is dated anywhere near it: a later date is a typo, refused as input.
LATEST_DAY = date(2999, 12, 31)
NOT_AFTER_LATEST_DAY = validate.Range(max=LATEST_DAY, error=f"Must not be after {LATEST_DAY.isoformat()}.")


def day(example: str, description: str, required: bool = True) -> fields.Date:
    """An ISO date field, no later than ``LATEST_DAY``."""
    meta = {"example": example, "description": description}
    return (
        fields.Date(required=True, validate=NOT_AFTER_LATEST_DAY, metadata=meta)
        if required
        else fields.Date(load_default=None, allow_none=True, validate=NOT_AFTER_LATEST_DAY, metadata=meta)
    )


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class AssignmentSchema(Strict):
    investigator_id = text("inv.putu", description="the investigator's identity (as in their token)")
    reason = text("workload rebalanced", required=False, description="required when reassigning")


class RecusalSchema(Strict):
    reason = text("related by marriage to the subject")


class SubjectProfileSchema(Strict):
    position_kind = fields.Enum(
        PositionKind, load_default=None, allow_none=True, metadata={"example": "ADMINISTRATOR"}
    )
    agency_level = fields.Enum(
        AgencyLevel, load_default=None, allow_none=True, metadata={"example": "PROVINCIAL"}
    )
    employee_type = fields.Enum(EmployeeType, load_default=None, allow_none=True, metadata={"example": "PNS"})
    is_ppk = fields.Boolean(load_default=None, allow_none=True, metadata={"example": False})
    position = text("Kepala Bidang Pendapatan", required=False)
    agency = text("Pemerintah Provinsi Bali", required=False)
    reason = text("intake's report said 'Kabid'; confirmed with the BKD", required=False)


class RecommendationRequestSchema(Strict):
    requested_on = day("2024-02-13", "when Bawaslu forwarded its finding")
    reference = text("023/LP/PB/Prov/17.00/II/2024", required=False)


class RecommendationSchema(Strict):
    number = text("R-123/KASN/3/2024")
    issued_on = day("2024-03-04", "the recommendation's date; it decides KASN or BKN")
    category = fields.Enum(RecommendationCategory, required=True, metadata={"example": "DISIPLIN"})
    level = fields.Enum(Level, load_default=None, allow_none=True, metadata={"example": "SEDANG"})
    issuer = fields.Enum(RecommendingBody, load_default=None, allow_none=True, metadata={"example": "KASN"})


class PpkAcknowledgementSchema(Strict):
    received_on = day("2024-03-05", "when the PPK received the recommendation: the follow-up clock starts")
    ppk = text("Pj Gubernur Bali")
    letter_number = text("800/123/BKD", required=False)


class SummonsSchema(Strict):
    letter_number = text("800/45/Disdik/2024")
    letter_date = day("2024-03-06", "the date of the summons letter")
    examination_date = day("2024-03-15", "at most 7 working days after the letter (PP 94/2021 Ps 26(2))")
    signed_by = text("Kepala Dinas (atasan langsung)")


class AttendanceSchema(Strict):
    examined_on = day("2024-03-15", "the date of the examination")
    mode = fields.Enum(AttendanceMode, required=True, metadata={"example": "TATAP_MUKA"})


class AbsenceSchema(Strict):
    missed_on = day("2024-11-13", "the date the subject should have been examined")
    note = text("no answer, no reason given", required=False)


class MemberSchema(Strict):
    name = text("Drs. I Ketut Contoh")
    role = fields.Enum(TeamRole, required=True, metadata={"example": "ATASAN_LANGSUNG"})


class ExaminerSchema(Strict):
    mode = fields.Enum(ExaminerMode, required=True, metadata={"example": "TIM_PEMERIKSA"})
    members = fields.List(
        fields.Nested(MemberSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "example": [
                {"name": "Kepala Dinas PMD", "role": "ATASAN_LANGSUNG"},
                {"name": "Inspektur Pembantu II", "role": "PENGAWASAN"},
                {"name": "Kepala BKPSDM", "role": "KEPEGAWAIAN"},
            ]
        },
    )
    appointed_on = day(
        "2024-11-15",
        "the date of the appointment (the decree's); on or before the examination it covers: a tim "
        "pemeriksa must exist before it examines (PP 94/2021 Ps 27, 29)",
    )
    decree_number = text("800/12/BKPSDM/2024", required=False)


class TemporaryReleaseSchema(Strict):
    from_date = day("2024-11-22", "from the examination on (PP 94/2021 Ps 31)")
    decree_number = text("800/13/BKPSDM/2024")
    reason = text("the subject supervises the witnesses")


class BapSchema(Strict):
    document_uri = fields.Url(
        required=True, require_tld=False, metadata={"example": "https://dms.example/bap/77.pdf"}
    )
    sha256 = fields.String(required=True, validate=SHA256, metadata={"example": "ab" * 32})
    signed_on = day("2024-03-15", "the date the BAP was signed by the examiner")
    signed_by_subject = fields.Boolean(
        required=True, metadata={"example": True, "description": "valid even if not (Ps 32(2))"}
    )
    copy_given_on = day("2024-03-15", "when the subject got a copy (Ps 32(3))", required=False)


class EvidenceSchema(Strict):
    kind = text("PHOTO", description="PHOTO, VIDEO, SCREENSHOT, URL, DOCUMENT, WITNESS, ...")
    uri = fields.Url(
        required=True, require_tld=False, metadata={"example": "https://dms.example/evidence/9.jpg"}
    )
    sha256 = fields.String(required=True, validate=SHA256, metadata={"example": "cd" * 32})
    captured_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"example": "2024-02-03T10:00:00+08:00"}
    )
    description = text("photo of the subject in Korpri uniform at the rally", required=False)


class CustodySchema(Strict):
    action = fields.Enum(CustodyAction, required=True, metadata={"example": "EXAMINED"})
    on = day("2024-03-14", "when it happened")
    note = text("hash checked: matches", required=False)


class ViolationSchema(Strict):
    code = text("N2", description="a code of the catalogue (docs/law.md §2)")
    level = fields.Enum(
        Level,
        load_default=None,
        allow_none=True,
        metadata={"description": "only for codes the law gives no level (N1)"},
    )
    level_reason = text("attended in uniform for the whole rally", required=False)


class FindingSchema(Strict):
    proven = fields.Boolean(required=True, metadata={"example": True})
    reasoning = text("The BAP and photos show the subject at the campaign in Korpri uniform.")
    violations = fields.List(
        fields.Nested(ViolationSchema), load_default=list, metadata={"example": [{"code": "N2"}]}
    )
    repeat = fields.Boolean(load_default=False, metadata={"example": False})
    repeat_of = text("800/99/2023", required=False)
    found_on = day(
        "2024-03-22",
        "the date of the finding (defaults to today, WIB); not before the BAP, not in the future",
        required=False,
    )


class CommandResultSchema(ma.Schema):
    case_id = fields.String()
    version = fields.Integer(metadata={"description": "send it as If-Match with the next command"})
    state = fields.String(metadata={"example": "SUMMONS_1_ISSUED"})
    events = fields.List(fields.String(), metadata={"example": ["adjudication.summons_issued"]})
    allowed_actions = fields.List(fields.String())


class CaseFilterSchema(Strict):
    state = fields.String(
        validate=validate.OneOf(
            [
                s
                for s in (
                    "OPENED",
                    "RECOMMENDATION_REQUESTED",
                    "RECOMMENDATION_ISSUED",
                    "PPK_ACKNOWLEDGED",
                    "SUMMONS_1_ISSUED",
                    "SUMMONS_1_MISSED",
                    "SUMMONS_2_ISSUED",
                    "EXAMINATION",
                    "DECIDED_ON_EVIDENCE",
                    "BAP_SIGNED",
                    "REFERRED",
                    "CLOSED_NOT_PROVEN",
                )
            ]
        )
    )
    assignee = fields.String(metadata={"description": "an investigator id; 'none' for unassigned cases"})
    province = fields.String()
    regency = fields.String()
    overdue = fields.Boolean(metadata={"description": "cases with a lapsed deadline not met"})
    due_within_days = fields.Integer(
        validate=validate.Range(min=0, max=365), metadata={"description": "a pending deadline within N days"}
    )


class DeadlineSchema(ma.Schema):
    kind = fields.String(metadata={"example": "examination_1"})
    due_on = fields.Date()
    day_count = fields.String(metadata={"example": "WORKING"})
    rule = fields.String(allow_none=True)
    article = fields.String(allow_none=True)
    status = fields.String(metadata={"example": "PENDING"})


class CaseSummarySchema(ma.Schema):
    case_id = fields.String()
    case_number = fields.String(metadata={"example": "NTR-2024-000007"})
    state = fields.String()
    version = fields.Integer()
    assignee = fields.String(allow_none=True)
    subject_name = fields.String(allow_none=True)
    position_kind = fields.String(allow_none=True)
    agency_level = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    regency = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    next_due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()


class CaseDetailSchema(ma.Schema):
    case_id = fields.String()
    case_number = fields.String()
    state = fields.String()
    version = fields.Integer()
    assignee = fields.String(allow_none=True)
    subject = fields.Dict()
    needs_subject_profile = fields.Boolean()
    election = fields.Dict(allow_none=True)
    incident = fields.Dict(allow_none=True)
    alleged_violations = fields.List(fields.String())
    recommendation = fields.Dict(allow_none=True)
    ppk_acknowledgement = fields.Dict(allow_none=True)
    ppk_noncompliant = fields.Boolean()
    summonses = fields.List(fields.Dict())
    absences = fields.List(fields.Dict())
    examiner = fields.Dict(allow_none=True)
    temporary_release = fields.Dict(allow_none=True)
    bap = fields.Dict(allow_none=True)
    evidence = fields.List(fields.Dict())
    finding = fields.Dict(allow_none=True)
    deadlines = fields.List(fields.Nested(DeadlineSchema))
    timeline = fields.List(fields.Dict())
    allowed_actions = fields.List(
        fields.String(), metadata={"description": f"for the caller; among {', '.join(ACTIONS)}"}
    )
