"""Marshmallow schemas of the partner API (docs/partner-api.md): the report body in, the answers out.

``ReportRequestSchema`` turns a ``POST /v1/reports`` body into a validated ``Report``. Loading
either returns a ``Report`` or raises ``marshmallow.ValidationError`` naming every bad field by
its path, for any JSON value whatsoever: that is what lets the API promise "never a 500".
``shared.web.validation.flatten_errors`` turns marshmallow's nested error dict into the
contract's 422 shape, ``{"subject.nip": ["..."], "evidence.0.sha256": ["..."]}``.

Two things do not come from the body and are injected when the schema is made (see
``report_schema``): ``now``, the receipt time, against which "not in the future" is judged
and which ``reported_at`` defaults to; and the ``channel``, which the partner's token names.
A schema made without them (as flask-smorest does when it documents the class) can describe
the body but refuses to load one.

The response schemas (``ReportCreatedSchema``, ``ReportStatusSchema``) are for dumping and for
the OpenAPI document; their ``metadata["example"]`` values are what ``/docs`` shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from services.intake.domain.nip import Invalid, parse_ni_pppk, parse_nip
from services.intake.domain.report import (
    AgencyLevel,
    Channel,
    Election,
    ElectionType,
    EmployeeType,
    Incident,
    PositionKind,
    Report,
    Reporter,
    Subject,
)

# The first election with direct presidential and DPD elections (UU 23/2003) and the oldest
# one a neutrality report can plausibly still concern.
EARLIEST_ELECTION_YEAR = 2004

# "Today" is the date in WIT (UTC+9), the easternmost Indonesian zone: a date that has already
# begun anywhere in Indonesia is not "in the future", whatever zone the server runs in.
WIT = timezone(timedelta(hours=9))

# A partner's clock may run a little ahead of ours; a register time seconds "in the future" is
# skew, not a bad report, and rejecting it would make the partner retry a correct request.
CLOCK_SKEW = timedelta(minutes=5)

# docs/law.md §2: N1–N7, PARPOL, CALON, the SKB ethics (1–7) and discipline (1–12) lists, and
# PJ-MUTASI. Anything else is a typo or a code from another catalogue.
# validate.Regexp only anchors at the start (re.match), hence the explicit \Z: "SKB-DS-13"
# must not pass as "SKB-DS-1".
VIOLATION_CODE = re.compile(r"(?:N[1-7]|PARPOL|CALON|SKB-KE-[1-7]|SKB-DS-(?:[1-9]|1[0-2])|PJ-MUTASI)\Z")

# The offset is what makes a register time a local date (report.py); say so, not "aware".
NEEDS_OFFSET: dict[str, str | list[Any] | dict[Any, Any]] = {
    "invalid_awareness": "Must include a UTC offset, e.g. 2024-10-10T10:30:00+08:00."
}

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}\Z")


NUMBER_REQUIRED_FOR: Mapping[EmployeeType, str] = {
    EmployeeType.PNS: "nip",
    EmployeeType.CPNS: "nip",
    EmployeeType.PPPK: "ni_pppk",
}


class Text(fields.String):
    """A string PostgreSQL can store: no NUL character and valid UTF-8 (no lone surrogates).

    JSON allows ``"\\u0000"`` and ``"\\ud800"``; Python decodes both into a ``str`` that the
    database driver then refuses, which would surface as a 500 long after validation.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow declares messages this way
        "unstorable": "Must not contain NUL characters or unpaired surrogates.",
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("unstorable")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise self.make_error("unstorable") from error
        return text


class StrictBoolean(fields.Boolean):
    """Only JSON ``true`` or ``false``: not ``1``, ``0``, ``"yes"`` or ``"false"``."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        # Boolean's truthy sets compare by ==, and 1 == True; a type check is the only way.
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _optional_text(example: str, **kwargs: Any) -> Text:
    return Text(load_default=None, allow_none=True, metadata={"example": example}, **kwargs)


def _optional_enum(members: type[Enum], example: str) -> fields.Enum:
    # An unknown value is a 422 listing the allowed ones, not text kept for a person to fix.
    return fields.Enum(members, load_default=None, allow_none=True, metadata={"example": example})


class _StrictSchema(ma.Schema):
    """Unknown fields are errors: a misspelt optional field would otherwise vanish silently."""

    class Meta:
        unknown = ma.RAISE


class ElectionSchema(_StrictSchema):
    """Which election the conduct concerns."""

    type = fields.Enum(ElectionType, required=True, metadata={"example": "PILKADA_BUP"})
    # The upper bound depends on ``now``, so ReportRequestSchema checks the range.
    year = fields.Integer(strict=True, required=True, metadata={"example": 2024})
    candidate_determination_date = fields.Date(
        load_default=None, allow_none=True, metadata={"example": "2024-09-22"}
    )


class SubjectSchema(_StrictSchema):
    """The reported person; which number is required depends on ``employee_type``."""

    employee_type = fields.Enum(EmployeeType, required=True, metadata={"example": "PNS"})
    nip = _optional_text("198503122010011004")
    ni_pppk = _optional_text("199001012021211001")
    name = _optional_text("I Made Contoh")
    position = _optional_text("Kepala Bidang Pendapatan")
    position_kind = _optional_enum(PositionKind, "ADMINISTRATOR")
    agency = _optional_text("Pemerintah Provinsi Bali")
    agency_level = _optional_enum(AgencyLevel, "PROVINCIAL")
    work_unit = _optional_text("UPTD Samsat Tabanan")


class IncidentSchema(_StrictSchema):
    """Time, place and account; each may be missing (admissibility then says INCOMPLETE)."""

    date = fields.Date(load_default=None, allow_none=True, metadata={"example": "2024-10-08"})
    province = _optional_text("Bali")
    regency = _optional_text("Tabanan")
    description = _optional_text("Shared and commented on a candidate pair's campaign post.")


class EvidenceSchema(_StrictSchema):
    """One piece of evidence held by the partner, identified by its content hash."""

    kind = Text(required=True, validate=validate.Length(min=1), metadata={"example": "SCREENSHOT"})
    uri = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        metadata={"example": "https://partner.example/evidence/77"},
    )
    sha256 = Text(
        required=True,
        validate=validate.Regexp(SHA256_HEX, error="Must be 64 hexadecimal characters (a SHA-256)."),
        metadata={"example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    )
    captured_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        error_messages=NEEDS_OFFSET,
        metadata={"example": "2024-10-08T09:12:00+08:00"},
    )


class ReporterSchema(_StrictSchema):
    """Who reported (*pelapor*); name and address are what a Bawaslu laporan requires."""

    name = _optional_text("Ni Luh Contoh")
    address = _optional_text("Tabanan")
    contact = _optional_text("+62812000000")
    # Only JSON true/false: "no" or 0 meaning "not confidential" is a guess we should not make
    # about a reporter's safety.
    confidential = StrictBoolean(load_default=False, metadata={"example": True})


class ReportRequestSchema(_StrictSchema):
    """The body of ``POST /v1/reports``; ``load`` returns a ``Report``.

    Make it with ``report_schema(now, channel)``. Field problems and the cross-field rules
    (dates not in the future, ``known_at`` not before the incident, ``reported_at`` not
    before ``known_at``, the number each employee type requires) are all reported together.
    """

    source_ref = _optional_text("023/LP/PB/Kab/17.03/X/2024")
    election = fields.Nested(ElectionSchema, required=True)
    subject = fields.Nested(SubjectSchema, required=True)
    # An absent incident is an incident with nothing known: admissibility, not validation,
    # decides that time, place and account are missing.
    incident = fields.Nested(IncidentSchema, load_default=None, allow_none=True)
    known_at = fields.Date(required=True, metadata={"example": "2024-10-08"})
    reported_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        error_messages=NEEDS_OFFSET,
        metadata={
            "example": "2024-10-10T10:30:00+08:00",
            "description": "The partner's register time, with its offset; defaults to receipt.",
        },
    )
    alleged_violations = fields.List(
        Text(validate=validate.Regexp(VIOLATION_CODE, error="Unknown violation code {input}.")),
        load_default=list,
        metadata={"example": ["N2"]},
    )
    evidence = fields.List(fields.Nested(EvidenceSchema), load_default=list)
    reporter = fields.Nested(ReporterSchema, load_default=None, allow_none=True)

    def __init__(
        self,
        *,
        now: datetime | None = None,
        channel: Channel | None = None,
        known_from: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if now is not None and now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        self.now = now
        self.channel = channel
        self.known_from = known_from

    def _injected(self) -> tuple[datetime, Channel]:
        # A programming error, not a bad request: the API must say when and through whom.
        if self.now is None or self.channel is None:
            raise RuntimeError("make the schema with report_schema(now, channel) to load a report")
        return self.now, self.channel

    @ma.validates_schema(skip_on_field_errors=False)
    def _check_against_now_and_each_other(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Runs even when some fields failed, so that one 422 names every bad field; a field
        # that failed is simply absent from ``data`` and its rules are skipped.
        now, _ = self._injected()
        today = now.astimezone(WIT).date()
        errors: dict[str, Any] = {}

        def add(path: tuple[str, ...], *messages: str) -> None:
            node = errors
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node.setdefault(path[-1], []).extend(messages)

        # A nested object that partly failed arrives with only its valid fields, hence .get.
        year = (data.get("election") or {}).get("year")
        if year is not None and not EARLIEST_ELECTION_YEAR <= year <= today.year + 1:
            add(("election", "year"), f"Must be between {EARLIEST_ELECTION_YEAR} and {today.year + 1}.")

        subject = data.get("subject")
        if subject is not None:
            for name, problems in _number_problems(subject, today).items():
                add(("subject", name), *problems)

        incident_date = (data.get("incident") or {}).get("date")
        known_at = data.get("known_at")
        reported_at = data.get("reported_at")
        if incident_date is not None and incident_date > today:
            add(("incident", "date"), "Must not be in the future.")
        if known_at is not None:
            if known_at > today:
                add(("known_at",), "Must not be in the future.")
            if incident_date is not None and known_at < incident_date:
                add(("known_at",), "Must not be before incident.date.")
            if self.known_from is not None and known_at < self.known_from:
                # The report is judged by the rules in force on known_at; there are none before.
                add(
                    ("known_at",),
                    f"Must not be before {self.known_from.isoformat()}, when the earliest "
                    "admissibility rules Netra holds took effect.",
                )
        if reported_at is not None:
            if reported_at > now + CLOCK_SKEW:
                add(("reported_at",), "Must not be in the future.")
            # Its own local date is the partner's filing date (report.py), so compare that.
            if known_at is not None and reported_at.date() < known_at:
                add(("reported_at",), "Must not be before known_at.")
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _make_report(self, data: dict[str, Any], **kwargs: Any) -> Report:
        now, channel = self._injected()
        reporter = data["reporter"]
        return Report(
            channel=channel,
            election=Election(**data["election"]),
            subject=Subject(**data["subject"]),
            incident=Incident(**(data["incident"] or {})),
            known_at=data["known_at"],
            # Absent: the partner pushed as it registered, so receipt time is the filing time.
            reported_at=data["reported_at"] or now,
            # Repeating a code adds nothing to the allegation; keep the partner's order.
            alleged_violations=tuple(dict.fromkeys(data["alleged_violations"])),
            reporter=Reporter(**reporter) if reporter is not None else None,
            source_ref=data["source_ref"],
        )


def _number_problems(subject: Mapping[str, Any], today: date) -> dict[str, list[str]]:
    """The problems with a subject's NIP / NI PPPK: a required one missing, or a malformed one.

    A number that is present is checked even when the employee type does not require it:
    linking matches people by these numbers, so a malformed one must not get in.
    """
    problems: dict[str, list[str]] = {}
    employee_type = subject.get("employee_type")
    required = NUMBER_REQUIRED_FOR.get(employee_type) if employee_type is not None else None
    if employee_type is not None and required is not None and not subject.get(required):
        problems[required] = [f"Required when employee_type is {employee_type.value}."]
    for name, parse in (("nip", parse_nip), ("ni_pppk", parse_ni_pppk)):
        raw = subject.get(name)
        if raw:
            parsed = parse(raw, today)
            if isinstance(parsed, Invalid):
                problems.setdefault(name, []).extend(parsed.problems)
    return problems


def report_schema(
    now: datetime, channel: Channel | str, known_from: date | None = None
) -> ReportRequestSchema:
    """A schema that loads a ``POST /v1/reports`` body received at ``now`` through ``channel``.

    ``now`` must be timezone-aware; it bounds every date ("not in the future") and is the
    ``reported_at`` of a body that has none. ``channel`` comes from the partner's token (a
    ``Channel`` or its name; an unknown name is a configuration error, raised as ValueError).
    ``known_from``, the day the earliest admissibility rule set takes effect, bounds
    ``known_at`` from below: a report is judged by the rules in force on it.
    """
    return ReportRequestSchema(now=now, channel=Channel(channel), known_from=known_from)


# --- Responses ---------------------------------------------------------------------------------

REPORT_STATUSES = ("REGISTERED", "LINKED", "INCOMPLETE", "OUT_OF_SCOPE")
PUBLIC_STAGES = ("RECEIVED", "UNDER_EXAMINATION", "DECIDED", "UNDER_APPEAL", "IN_FORCE", "CLOSED")

_REPORT_ID_EXAMPLE = "0b7c6f1e-3f55-4c1a-9a51-2f4f7e1d9c10"
_CASE_ID_EXAMPLE = "5d2a8e94-7b0c-4b8e-8f0e-6c1f2a3b4c5d"


class LinksSchema(ma.Schema):
    """Where to read the report and its case."""

    self = fields.String(metadata={"example": f"/v1/reports/{_REPORT_ID_EXAMPLE}"})
    case = fields.String(metadata={"example": f"/v1/cases/{_CASE_ID_EXAMPLE}"})


class ReportingDeadlineSchema(ma.Schema):
    """The reporting window a report was judged against (``late`` is its verdict)."""

    due_on = fields.String(
        metadata={"format": "date", "example": "2024-10-15", "description": "The last day still in time."}
    )
    days = fields.Integer(metadata={"example": 7})
    count = fields.String(validate=validate.OneOf(("CALENDAR", "WORKING")), metadata={"example": "CALENDAR"})
    rule = fields.String(metadata={"example": "PILKADA_LAPORAN_7_HARI"})
    article = fields.String(metadata={"example": "UU 1/2015 as amended by UU 8/2015 Ps 134(4)"})


def _deadline_field() -> fields.Nested:
    return fields.Nested(
        ReportingDeadlineSchema,
        allow_none=True,
        metadata={
            "description": "The reporting window from known_at; null when none applies "
            "(every channel but BAWASLU).",
            "example": {
                "due_on": "2024-10-15",
                "days": 7,
                "count": "CALENDAR",
                "rule": "PILKADA_LAPORAN_7_HARI",
                "article": "UU 1/2015 as amended by UU 8/2015 Ps 134(4)",
            },
        },
    )


class ReportCreatedSchema(ma.Schema):
    """The ``201`` (or idempotent ``200``) answer to ``POST /v1/reports``.

    ``missing`` is present only for ``INCOMPLETE`` and ``forwarded_to`` only for
    ``OUT_OF_SCOPE``: dump a dict without those keys otherwise.
    """

    report_id = fields.String(metadata={"format": "uuid", "example": _REPORT_ID_EXAMPLE})
    case_id = fields.String(
        metadata={
            "format": "uuid",
            "example": _CASE_ID_EXAMPLE,
            "description": "For LINKED, the existing case the report joined.",
        }
    )
    case_number = fields.String(metadata={"example": "NTR-2024-000123"})
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES), metadata={"example": "REGISTERED"})
    received_at = fields.AwareDateTime(metadata={"example": "2024-10-10T02:31:05+00:00"})
    late = fields.Boolean(
        metadata={"example": False, "description": "reported_at fell after the legal window."}
    )
    reporting_deadline = _deadline_field()
    links = fields.Nested(LinksSchema)
    missing = fields.List(
        fields.String(),
        metadata={"example": ["reporter.address"], "description": "Only when INCOMPLETE."},
    )
    forwarded_to = fields.String(
        metadata={"example": "Pemerintah Kabupaten Tabanan", "description": "Only when OUT_OF_SCOPE."}
    )


class StageChangeSchema(ma.Schema):
    """One change of the case's public stage."""

    stage = fields.String(validate=validate.OneOf(PUBLIC_STAGES), metadata={"example": "RECEIVED"})
    at = fields.AwareDateTime(metadata={"example": "2024-10-10T02:31:05+00:00"})


class ReporterIdentitySchema(ma.Schema):
    """Who filed a report (``GET /v1/reports/{report_id}/reporter``): each such read is
    recorded on the case as ``intake.reporter_identity_disclosed``."""

    report_id = fields.String(metadata={"format": "uuid", "example": _REPORT_ID_EXAMPLE})
    confidential = fields.Boolean(metadata={"example": True})
    reporter = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "name, address and contact, as far as they were sent",
            "example": {"name": "Ni Luh Contoh", "address": "Tabanan"},
        },
    )


class ReportStatusSchema(ma.Schema):
    """The partner's view of one of its reports (``GET /v1/reports/{report_id}``)."""

    report_id = fields.String(metadata={"format": "uuid", "example": _REPORT_ID_EXAMPLE})
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES), metadata={"example": "REGISTERED"})
    case_id = fields.String(metadata={"format": "uuid", "example": _CASE_ID_EXAMPLE})
    case_number = fields.String(metadata={"example": "NTR-2024-000123"})
    stage = fields.String(validate=validate.OneOf(PUBLIC_STAGES), metadata={"example": "UNDER_EXAMINATION"})
    reporting_deadline = _deadline_field()
    history = fields.List(
        fields.Nested(StageChangeSchema),
        metadata={
            "example": [
                {"stage": "RECEIVED", "at": "2024-10-10T02:31:05+00:00"},
                {"stage": "UNDER_EXAMINATION", "at": "2024-11-04T03:00:00+00:00"},
            ]
        },
    )
