"""marshmallow schemas: the referral sanctions consumes, and the API's requests and answers.

The referral schema is a tolerant reader (docs/events.md): it declares only the fields
sanctions uses and ignores the rest (``unknown = EXCLUDE``).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate as v

from services.sanctions.domain.appeals import Ruling
from services.sanctions.domain.case import State
from services.sanctions.domain.delivery import DELIVERY_METHODS
from services.sanctions.domain.rules import OFFICIALS
from services.sanctions.web.actions import PATHS
from shared.keyring import is_sealed

LEVELS = ("RINGAN", "SEDANG", "BERAT", "PTDH")
RELATIONS = ("ONE_LEVEL_UP", "TWO_LEVELS_UP")
SHA256 = v.Regexp(
    r"^[0-9a-f]{64}$", error="must be the SHA-256 of the signed document: 64 lowercase hex digits"
)


class _Tolerant(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- adjudication.case_referred ---------------------------------------------------------------


class SubjectSchema(_Tolerant):
    employee_type = ma.fields.String(required=True, validate=v.OneOf(("PNS", "CPNS", "PPPK", "NON_ASN")))
    # Who the employee is: ``identity`` sealed by intake (and ``person``, the blinded key of
    # their number); referrals recorded before sealing carry nip, ni_pppk and name in clear.
    nip = ma.fields.String(allow_none=True, load_default=None)
    ni_pppk = ma.fields.String(allow_none=True, load_default=None)
    name = ma.fields.String(allow_none=True, load_default=None)
    identity = ma.fields.Dict(allow_none=True, load_default=None)
    person = ma.fields.String(allow_none=True, load_default=None)
    position = ma.fields.String(allow_none=True, load_default=None)
    position_kind = ma.fields.String(allow_none=True, load_default=None)
    agency = ma.fields.String(required=True, validate=v.Length(min=1))
    agency_level = ma.fields.String(allow_none=True, load_default=None)

    @ma.validates_schema
    def _names_someone(self, data: dict[str, Any], **_: Any) -> None:
        # The decree names the employee: a referral that names no one cannot be decided.
        if not data.get("name") and not is_sealed(data.get("identity")):
            raise ma.ValidationError("the subject is named neither in clear nor sealed", "identity")


class ViolationSchema(_Tolerant):
    code = ma.fields.String(required=True)
    level = ma.fields.String(allow_none=True, load_default=None)
    article = ma.fields.String(allow_none=True, load_default=None)
    level_reason = ma.fields.String(allow_none=True, load_default=None)


class FindingSchema(_Tolerant):
    finding_event_id = ma.fields.String(required=True)
    category = ma.fields.String(required=True, validate=v.OneOf(("DISIPLIN", "KODE_ETIK")))
    level = ma.fields.String(allow_none=True, load_default=None, validate=v.OneOf(LEVELS))
    violations = ma.fields.List(ma.fields.Nested(ViolationSchema), load_default=list)
    repeat = ma.fields.Boolean(load_default=False)
    decided_on_evidence = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def _level_for_discipline(self, data: dict[str, Any], **_: Any) -> None:
        if data["category"] == "DISIPLIN" and not data.get("level"):
            raise ma.ValidationError("a DISIPLIN finding needs its level", "level")


class AuthoritySchema(_Tolerant):
    official = ma.fields.String(required=True, validate=v.OneOf(sorted(OFFICIALS)))
    relation = ma.fields.String(allow_none=True, load_default=None)
    may_impose = ma.fields.List(ma.fields.String(), required=True)
    penalties = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), allow_none=True, load_default=dict
    )
    basis = ma.fields.String(allow_none=True, load_default=None)


class ElectionSchema(_Tolerant):
    type = ma.fields.String(allow_none=True, load_default=None)
    year = ma.fields.Integer(allow_none=True, load_default=None)


class ReferralSchema(_Tolerant):
    """The payload of ``adjudication.case_referred`` as sanctions reads it."""

    case_number = ma.fields.String(required=True)
    subject = ma.fields.Nested(SubjectSchema, required=True)
    finding = ma.fields.Nested(FindingSchema, required=True)
    deciding_official = ma.fields.Nested(AuthoritySchema, required=True)
    authorities = ma.fields.List(ma.fields.Nested(AuthoritySchema), required=True, validate=v.Length(min=1))
    incident_date = ma.fields.String(
        allow_none=True, load_default=None, validate=v.Regexp(r"^\d{4}-\d{2}-\d{2}$")
    )
    election = ma.fields.Nested(ElectionSchema, allow_none=True, load_default=None)


# --- commands ---------------------------------------------------------------------------------


class PenaltyField(ma.fields.Field):
    """One penalty code; a list is accepted only to be refused by the law (one per case)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, ...]:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(x, str) and x.strip() for x in values):
            raise ma.ValidationError("a penalty code such as S2L or B2 (see penalty_options on the case)")
        return tuple(values)


class DecisionRequestSchema(_Strict):
    penalty = PenaltyField(
        required=True,
        metadata={
            "description": "The penalty code (one of the case's `penalty_options`). One case gets one "
            "penalty (PP 94/2021 Ps 33(2)): a list of several is refused.",
            "example": "B2",
            "type": "string",
        },
    )
    decided_on = ma.fields.Date(
        required=True, metadata={"description": "Date of the decision (tanggal keputusan)"}
    )
    signed_as = ma.fields.String(
        validate=v.OneOf(sorted(OFFICIALS)),
        metadata={
            "description": "The capacity (office) you sign in; default: the referral's deciding official "
            "(PyBM). Your token must hold it (netra token create --office), else 403"
        },
    )
    relation = ma.fields.String(
        validate=v.OneOf(RELATIONS), metadata={"description": "With signed_as, for a superior"}
    )
    reason = ma.fields.String(
        validate=v.Length(max=4000), metadata={"description": "The violation named, in words"}
    )


class DecreeRequestSchema(_Strict):
    number = ma.fields.String(
        required=True, validate=v.Length(min=1, max=200), metadata={"example": "800/123/BKD/2024"}
    )
    issued_on = ma.fields.Date(required=True)
    document_sha256 = ma.fields.String(required=True, validate=SHA256)


class DeliveryRequestSchema(_Strict):
    received_on = ma.fields.Date(required=True, metadata={"description": "The day the employee received it"})
    method = ma.fields.String(load_default="IN_PERSON", validate=v.OneOf(DELIVERY_METHODS))


class FilingRequestSchema(_Strict):
    filed_on = ma.fields.Date(required=True, metadata={"description": "The day the employee filed it"})


class AnswerRequestSchema(_Strict):
    answered_on = ma.fields.Date(required=True)


class AppealDecisionRequestSchema(_Strict):
    ruling = ma.fields.String(required=True, validate=v.OneOf([r.value for r in Ruling]))
    decided_on = ma.fields.Date(required=True)
    penalty = ma.fields.String(
        metadata={"description": "The penalty that stands: for LIGHTEN, AGGRAVATE, CHANGE"}
    )
    in_force_on = ma.fields.Date(metadata={"description": "When it takes effect (default: decided_on)"})


class CompletionRequestSchema(_Strict):
    completed_on = ma.fields.Date(required=True)


# --- answers ----------------------------------------------------------------------------------


class CommandAnswerSchema(ma.Schema):
    case_id = ma.fields.String()
    version = ma.fields.Integer(metadata={"description": "Send it as If-Match with the next command"})
    state = ma.fields.String(validate=v.OneOf([s.value for s in State]))
    events = ma.fields.List(ma.fields.String(), metadata={"description": "The event types recorded"})
    allowed_actions = ma.fields.List(ma.fields.String(validate=v.OneOf(list(PATHS.values()))))


class CaseFilterSchema(_Strict):
    state = ma.fields.String(validate=v.OneOf([s.value for s in State]))
    penalty = ma.fields.String(metadata={"description": "Penalty code that stands, e.g. B2"})
    in_force = ma.fields.Boolean()
    appeal_pending = ma.fields.Boolean()
    overdue = ma.fields.Boolean(metadata={"description": "A legal deadline has lapsed unmet"})


class CaseSummarySchema(ma.Schema):
    case_id = ma.fields.String()
    case_number = ma.fields.String()
    agency = ma.fields.String()
    employee_name = ma.fields.String()
    employee_type = ma.fields.String()
    finding_level = ma.fields.String(allow_none=True)
    state = ma.fields.String()
    version = ma.fields.Integer()
    rule_set = ma.fields.String(allow_none=True)
    penalty = ma.fields.String(allow_none=True)
    decided_on = ma.fields.Date(allow_none=True)
    received_on = ma.fields.Date(allow_none=True)
    in_force_on = ma.fields.Date(allow_none=True)
    appeal_limit = ma.fields.Date(allow_none=True)
    in_force = ma.fields.Boolean()
    appeal_pending = ma.fields.Boolean()
    overdue = ma.fields.Boolean()
    closed_on = ma.fields.Date(allow_none=True)


class CaseDetailSchema(CaseSummarySchema):
    employee = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "Who the employee is (name, NIP or NI PPPK): opened for the official, each read "
            "recorded; sealed for other roles; {erased: true} once erased"
        },
    )
    referral = ma.fields.Dict(metadata={"description": "The finding, the employee and who may impose what"})
    decision = ma.fields.Dict(allow_none=True)
    decree = ma.fields.Dict(allow_none=True)
    execution = ma.fields.Dict(allow_none=True)
    breaches = ma.fields.List(ma.fields.String())
    allowed_actions = ma.fields.List(ma.fields.String())
    penalty_options = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "Penalties that fit the finding, with who may impose each"}
    )
    deadlines = ma.fields.List(ma.fields.Dict())
    timeline = ma.fields.List(ma.fields.Dict())
