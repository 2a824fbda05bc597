"""The partner API's schemas: what a valid report body becomes, and how every bad field is named."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import marshmallow as ma
import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.intake.domain.nip import Invalid, parse_nip
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
from services.intake.web.schemas import (
    ReportCreatedSchema,
    ReportRequestSchema,
    ReportStatusSchema,
    report_schema,
)
from shared.web.validation import flatten_errors
from tests.unit.intake.payloads import DROP, EVIDENCE_SHA256, MINIMAL, RECEIVED, WITA, a_body

UTC = UTC


def load(body: Any, now: datetime = RECEIVED, channel: Channel = Channel.BAWASLU) -> Report:
    report: Report = report_schema(now=now, channel=channel).load(body)
    return report


def errors_of(body: Any, now: datetime = RECEIVED) -> dict[str, list[str]]:
    with pytest.raises(ma.ValidationError) as caught:
        load(body, now)
    return flatten_errors(caught.value.messages)


# --- What a valid body becomes ---------------------------------------------------------------


def test_the_contract_example_becomes_the_report_it_describes() -> None:
    assert load(a_body(), channel=Channel.BKN) == Report(
        channel=Channel.BKN,
        election=Election(ElectionType.PILKADA_BUP, 2024, date(2024, 9, 22)),
        subject=Subject(
            employee_type=EmployeeType.PNS,
            name="I Made Contoh",
            nip="198503122010011004",
            position="Kepala Bidang Pendapatan",
            position_kind=PositionKind.ADMINISTRATOR,
            agency="Pemerintah Provinsi Bali",
            agency_level=AgencyLevel.PROVINCIAL,
            work_unit="UPTD Samsat Tabanan",
        ),
        incident=Incident(
            date(2024, 10, 8), "Bali", "Tabanan", "Shared and commented on a candidate pair's campaign post."
        ),
        known_at=date(2024, 10, 8),
        reported_at=datetime(2024, 10, 10, 10, 30, tzinfo=WITA),
        alleged_violations=("N2",),
        reporter=Reporter("Ni Luh Contoh", "Tabanan", "+62812000000", confidential=True),
        source_ref="023/LP/PB/Kab/17.03/X/2024",
    )


def test_a_minimal_body_is_valid_and_its_report_was_filed_when_it_was_received() -> None:
    report = load(MINIMAL)
    assert report.reported_at == RECEIVED
    assert report.incident == Incident()
    assert report.reporter is None
    assert report.alleged_violations == ()
    assert report.source_ref is None


def test_the_channel_may_be_given_by_name_as_a_token_registry_stores_it() -> None:
    assert report_schema(RECEIVED, "INSPEKTORAT").load(MINIMAL).channel is Channel.INSPEKTORAT


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        (
            "a PPPK with an NI PPPK and no NIP",
            {"subject.employee_type": "PPPK", "subject.nip": DROP, "subject.ni_pppk": "199001012021211001"},
        ),
        ("a non-ASN with neither number", {"subject.employee_type": "NON_ASN", "subject.nip": DROP}),
        (
            "a non-ASN whose numbers are null",
            {"subject.employee_type": "NON_ASN", "subject.nip": None, "subject.ni_pppk": None},
        ),
        ("a CPNS with a NIP", {"subject.employee_type": "CPNS"}),
        ("no alleged violations yet", {"alleged_violations": []}),
        ("no evidence", {"evidence": DROP}),
        ("an anonymous tip", {"reporter": None}),
        ("no reported_at (defaults to receipt)", {"reported_at": DROP}),
        ("a null reported_at", {"reported_at": None}),
        ("no incident object at all", {"incident": DROP}),
        ("an incident without a date", {"incident.date": None}),
        ("no candidate determination date", {"election.candidate_determination_date": DROP}),
        ("an election next year", {"election.year": 2025}),
        ("the earliest plausible election", {"election.year": 2004}),
        (
            "known the day after the incident",
            {"known_at": "2024-10-09", "reported_at": "2024-10-09T08:00:00+08:00"},
        ),
        (
            "reported on its own local date of knowledge though UTC says the day before",
            {"reported_at": "2024-10-08T00:30:00+08:00"},
        ),
        ("a register time within the partner's clock skew", {"reported_at": "2024-10-12T09:04:00+08:00"}),
        ("an upper-case evidence hash", {"evidence.0.sha256": EVIDENCE_SHA256.upper()}),
        ("evidence without a capture time", {"evidence.0.captured_at": DROP}),
        ("a reporter who did not ask for confidentiality", {"reporter.confidential": DROP}),
        ("a village head (forwarded, but a valid body)", {"subject.position_kind": "KEPALA_DESA"}),
        ("a regency's employee", {"subject.agency_level": "REGENCY_CITY"}),
        (
            "no position kind or agency level yet",
            {"subject.position_kind": None, "subject.agency_level": DROP},
        ),
    ],
)
def test_valid_bodies_load(case: str, changes: dict[str, Any]) -> None:
    assert isinstance(load(a_body(**changes)), Report), case


def test_every_catalogue_code_is_accepted_and_repeats_count_once() -> None:
    codes = [f"N{i}" for i in range(1, 8)] + ["PARPOL", "CALON", "PJ-MUTASI"]
    codes += [f"SKB-KE-{i}" for i in range(1, 8)] + [f"SKB-DS-{i}" for i in range(1, 13)]
    report = load(a_body(alleged_violations=[*codes, "N2"]))
    assert report.alleged_violations == tuple(codes)


def test_a_date_already_begun_in_papua_is_not_in_the_future_though_utc_is_a_day_behind() -> None:
    now = datetime(2024, 10, 12, 16, 0, tzinfo=UTC)  # 13 Oct 01:00 WIT
    body = a_body(**{"incident.date": "2024-10-13", "known_at": "2024-10-13", "reported_at": DROP})
    assert load(body, now).known_at == date(2024, 10, 13)


# --- How each bad field is named ---------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], set[str], str]] = [
    # (the case, as a sentence; changes to the contract example; the paths named; a message fragment)
    ("an unknown election type", {"election.type": "PILKADES"}, {"election.type"}, "Must be one of"),
    # Until issue 13 these were kept as text and arrived at adjudication as null.
    ("agency level REGENCY", {"subject.agency_level": "REGENCY"}, {"subject.agency_level"}, "REGENCY_CITY"),
    ("position kind FUNGSIONAL", {"subject.position_kind": "FUNGSIONAL"}, {"subject.position_kind"}, "JF"),
    (
        "a lower-case position kind",
        {"subject.position_kind": "jf"},
        {"subject.position_kind"},
        "Must be one of",
    ),
    ("an election year before 2004", {"election.year": 1999}, {"election.year"}, "between 2004 and 2025"),
    ("an election two years ahead", {"election.year": 2026}, {"election.year"}, "between 2004 and 2025"),
    (
        "an election year given as a string",
        {"election.year": "2024"},
        {"election.year"},
        "Not a valid integer",
    ),
    (
        "an election year given as a fraction",
        {"election.year": 2024.5},
        {"election.year"},
        "Not a valid integer",
    ),
    (
        "an election year given as a boolean",
        {"election.year": True},
        {"election.year"},
        "Not a valid integer",
    ),
    (
        "a candidate determination date that is no date",
        {"election.candidate_determination_date": "22/09/2024"},
        {"election.candidate_determination_date"},
        "Not a valid date",
    ),
    ("an election without its type", {"election.type": DROP}, {"election.type"}, "Missing data"),
    (
        "an unknown employee type",
        {"subject.employee_type": "HONORER"},
        {"subject.employee_type"},
        "Must be one of",
    ),
    ("a PNS without a NIP", {"subject.nip": DROP}, {"subject.nip"}, "Required when employee_type is PNS"),
    (
        "a CPNS whose NIP is null",
        {"subject.employee_type": "CPNS", "subject.nip": None},
        {"subject.nip"},
        "Required when employee_type is CPNS",
    ),
    ("a PNS whose NIP is empty", {"subject.nip": ""}, {"subject.nip"}, "Required when employee_type is PNS"),
    ("a NIP sent as a number", {"subject.nip": 198503122010011004}, {"subject.nip"}, "Not a valid string"),
    (
        "a NIP with a letter in it",
        {"subject.nip": "19850312201001100X"},
        {"subject.nip"},
        "exactly 18 digits",
    ),
    ("a NIP with spaces", {"subject.nip": "19850312 201001 1 004"}, {"subject.nip"}, "exactly 18 digits"),
    ("a NIP born on 30 February", {"subject.nip": "198502302010011004"}, {"subject.nip"}, "not a real date"),
    (
        "a NIP appointed in month 13",
        {"subject.nip": "198503122010131004"},
        {"subject.nip"},
        "not a real month",
    ),
    (
        "a NIP appointed before the 18th birthday",
        {"subject.nip": "198503122002011004"},
        {"subject.nip"},
        "before the 18th birthday",
    ),
    ("a NIP whose gender digit is 3", {"subject.nip": "198503122010013004"}, {"subject.nip"}, "gender digit"),
    (
        "a PPPK without an NI PPPK",
        {"subject.employee_type": "PPPK", "subject.nip": DROP},
        {"subject.ni_pppk"},
        "Required when employee_type is PPPK",
    ),
    (
        "a PPPK whose NI PPPK is a child's",
        {"subject.employee_type": "PPPK", "subject.ni_pppk": "201501012021211001"},
        {"subject.ni_pppk"},
        "not plausible",
    ),
    (
        "a non-ASN with a malformed NIP",
        {"subject.employee_type": "NON_ASN", "subject.nip": "123"},
        {"subject.nip"},
        "exactly 18 digits",
    ),
    (
        "a subject without an employee type",
        {"subject.employee_type": DROP},
        {"subject.employee_type"},
        "Missing data",
    ),
    ("a name containing a NUL character", {"subject.name": "I Made\x00"}, {"subject.name"}, "NUL"),
    (
        "a name containing an unpaired surrogate",
        {"subject.name": "I Made \ud800"},
        {"subject.name"},
        "surrogate",
    ),
    ("an incident dated tomorrow", {"incident.date": "2024-10-13"}, {"incident.date", "known_at"}, "future"),
    ("knowledge dated tomorrow", {"known_at": "2024-10-13"}, {"known_at", "reported_at"}, "future"),
    ("knowledge before the incident", {"known_at": "2024-10-07"}, {"known_at"}, "before incident.date"),
    (
        "a register date before the knowledge",
        {"reported_at": "2024-10-07T23:59:00+08:00"},
        {"reported_at"},
        "before known_at",
    ),
    (
        "a register time an hour ahead of receipt",
        {"reported_at": "2024-10-12T10:00:00+08:00"},
        {"reported_at"},
        "future",
    ),
    (
        "a register time without an offset",
        {"reported_at": "2024-10-10T10:30:00"},
        {"reported_at"},
        "UTC offset",
    ),
    (
        "a register date without a time",
        {"reported_at": "2024-10-10"},
        {"reported_at"},
        "UTC offset",
    ),
    ("no known_at", {"known_at": DROP}, {"known_at"}, "Missing data"),
    ("a known_at that is a number", {"known_at": 20241008}, {"known_at"}, "Not a valid date"),
    (
        "a code outside the catalogue",
        {"alleged_violations": ["N2", "N8"]},
        {"alleged_violations.1"},
        "Unknown violation code N8",
    ),
    ("a lower-case code", {"alleged_violations": ["n2"]}, {"alleged_violations.0"}, "Unknown violation code"),
    (
        "an SKB discipline item past 12",
        {"alleged_violations": ["SKB-DS-13"]},
        {"alleged_violations.0"},
        "Unknown violation code",
    ),
    (
        "violations given as one string",
        {"alleged_violations": "N2"},
        {"alleged_violations"},
        "Not a valid list",
    ),
    (
        "an evidence hash that is too short",
        {"evidence.0.sha256": "abc123"},
        {"evidence.0.sha256"},
        "64 hexadecimal",
    ),
    (
        "an evidence hash that is not hex",
        {"evidence.0.sha256": "z" * 64},
        {"evidence.0.sha256"},
        "64 hexadecimal",
    ),
    (
        "an evidence location that is no URL",
        {"evidence.0.uri": "evidence 77"},
        {"evidence.0.uri"},
        "Not a valid URL",
    ),
    (
        "an evidence location on a local file",
        {"evidence.0.uri": "file:///etc/passwd"},
        {"evidence.0.uri"},
        "Not a valid URL",
    ),
    ("evidence without its kind", {"evidence.0.kind": DROP}, {"evidence.0.kind"}, "Missing data"),
    (
        "evidence captured at a naive time",
        {"evidence.0.captured_at": "2024-10-08T09:12:00"},
        {"evidence.0.captured_at"},
        "UTC offset",
    ),
    (
        "an evidence item that is a string",
        {"evidence": ["https://partner.example/evidence/77"]},
        {"evidence.0"},
        "Invalid input type",
    ),
    (
        "confidentiality given as 'yes'",
        {"reporter.confidential": "yes"},
        {"reporter.confidential"},
        "Not a valid boolean",
    ),
    (
        "confidentiality given as 1",
        {"reporter.confidential": 1},
        {"reporter.confidential"},
        "Not a valid boolean",
    ),
    ("a misspelt subject field", {"subject.nama": "I Made Contoh"}, {"subject.nama"}, "Unknown field"),
    ("a misspelt top-level field", {"knwon_at": "2024-10-08"}, {"knwon_at"}, "Unknown field"),
    ("a channel in the body (it comes from the token)", {"channel": "BKN"}, {"channel"}, "Unknown field"),
    ("no subject", {"subject": DROP}, {"subject"}, "Missing data"),
    ("a null subject", {"subject": None}, {"subject"}, "may not be null"),
    ("a subject that is a list", {"subject": ["PNS"]}, {"subject"}, "Invalid input type"),
    ("a reporter that is a string", {"reporter": "Ni Luh"}, {"reporter"}, "Invalid input type"),
    (
        "a code with a valid prefix",
        {"alleged_violations": ["N22"]},
        {"alleged_violations.0"},
        "Unknown violation code",
    ),
    (
        "an evidence hash one digit too long",
        {"evidence.0.sha256": EVIDENCE_SHA256 + "0"},
        {"evidence.0.sha256"},
        "64 hexadecimal",
    ),
    (
        "confidentiality given as the string 'false'",
        {"reporter.confidential": "false"},
        {"reporter.confidential"},
        "Not a valid boolean",
    ),
    (
        "a register time that is no time at all",
        {"reported_at": "yesterday"},
        {"reported_at"},
        "Not a valid datetime",
    ),
]


@pytest.mark.parametrize(("case", "changes", "paths", "fragment"), INVALID, ids=[row[0] for row in INVALID])
def test_invalid_bodies_name_exactly_the_bad_fields(
    case: str, changes: dict[str, Any], paths: set[str], fragment: str
) -> None:
    errors = errors_of(a_body(**changes))
    assert set(errors) == paths, case
    assert any(fragment in message for messages in errors.values() for message in messages), errors


@pytest.mark.parametrize(
    ("field", "members"), [("position_kind", PositionKind), ("agency_level", AgencyLevel)]
)
def test_an_unknown_enum_value_is_refused_listing_every_allowed_value(
    field: str, members: type[Enum]
) -> None:
    errors = errors_of(a_body(**{f"subject.{field}": "REGENCY"}))
    assert errors == {f"subject.{field}": [f"Must be one of: {', '.join(m.value for m in members)}."]}


@pytest.mark.parametrize("body", [None, [], "report", 42, True], ids=repr)
def test_a_body_that_is_not_an_object_is_named_as_the_body(body: Any) -> None:
    assert errors_of(body) == {"body": ["Invalid input type."]}


def test_every_problem_of_a_nip_is_reported_under_subject_nip() -> None:
    bad = "198502302025133004"  # 30 Feb, month 13, gender 3
    expected = parse_nip(bad, RECEIVED.date())
    assert isinstance(expected, Invalid)
    assert len(expected.problems) == 3
    assert errors_of(a_body(**{"subject.nip": bad})) == {"subject.nip": list(expected.problems)}


def test_a_nip_appointed_after_today_is_in_the_future() -> None:
    errors = errors_of(a_body(**{"subject.nip": "198503122024121004"}))
    assert errors == {"subject.nip": ["CPNS appointment 2024-12 is in the future"]}


def test_one_answer_names_every_bad_field_even_when_some_fail_their_own_checks() -> None:
    # Field errors must not hide the cross-field and NIP checks (marshmallow skips schema
    # validators on field errors by default).
    body = a_body(
        **{
            "election.type": "PILKADES",
            "election.year": 1999,
            "subject.nip": "198503122010013004",
            "subject.agencyy": "x",
            "known_at": "2024-10-07",
            "evidence.0.sha256": "abc",
            "alleged_violations": ["N9"],
        }
    )
    assert set(errors_of(body)) == {
        "election.type",
        "election.year",
        "subject.nip",
        "subject.agencyy",
        "known_at",
        "evidence.0.sha256",
        "alleged_violations.0",
    }


# --- How now and the channel are injected --------------------------------------------------------


def test_future_is_judged_against_the_injected_now_not_the_wall_clock() -> None:
    body = a_body(
        **{
            "incident.date": "2030-01-01",
            "known_at": "2030-01-01",
            "reported_at": "2030-01-02T08:00:00+07:00",
        }
    )
    with pytest.raises(ma.ValidationError):
        load(body)
    assert load(body, now=datetime(2030, 1, 2, 9, 0, tzinfo=WITA)).known_at == date(2030, 1, 1)


def test_a_schema_made_without_now_and_channel_documents_but_refuses_to_load() -> None:
    with pytest.raises(RuntimeError, match="report_schema"):
        ReportRequestSchema().load(MINIMAL)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        report_schema(datetime(2024, 10, 12, 9, 0), Channel.BAWASLU)


# --- flatten_errors --------------------------------------------------------------------------------


def test_flatten_errors_joins_nested_keys_and_list_indexes_with_dots() -> None:
    nested = {
        "subject": {"nip": ["a", "b"], "_schema": ["Invalid input type."]},
        "evidence": {0: {"sha256": ["c"]}, 2: ["d"]},
        "_schema": ["whole body"],
        "known_at": "single message",
    }
    assert flatten_errors(nested) == {
        "subject.nip": ["a", "b"],
        "subject": ["Invalid input type."],
        "evidence.0.sha256": ["c"],
        "evidence.2": ["d"],
        "body": ["whole body"],
        "known_at": ["single message"],
    }


# --- Responses and their documentation -----------------------------------------------------------------


def test_a_created_answer_omits_missing_and_forwarded_to_unless_given() -> None:
    created = {
        "report_id": "0b7c6f1e-3f55-4c1a-9a51-2f4f7e1d9c10",
        "case_id": "5d2a8e94-7b0c-4b8e-8f0e-6c1f2a3b4c5d",
        "case_number": "NTR-2024-000123",
        "status": "REGISTERED",
        "received_at": datetime(2024, 10, 10, 2, 31, 5, tzinfo=UTC),
        "late": False,
        "links": {"self": "/v1/reports/0b7c", "case": "/v1/cases/5d2a"},
    }
    dumped = ReportCreatedSchema().dump(created)
    assert dumped == {**created, "received_at": "2024-10-10T02:31:05+00:00"}
    incomplete = ReportCreatedSchema().dump(
        {**created, "status": "INCOMPLETE", "missing": ["reporter.address"]}
    )
    assert incomplete["missing"] == ["reporter.address"]


def test_a_status_answer_dumps_the_stage_history() -> None:
    status = {
        "status": "LINKED",
        "case_id": "5d2a8e94-7b0c-4b8e-8f0e-6c1f2a3b4c5d",
        "case_number": "NTR-2024-000123",
        "stage": "UNDER_EXAMINATION",
        "history": [{"stage": "RECEIVED", "at": datetime(2024, 10, 10, 2, 31, 5, tzinfo=UTC)}],
    }
    dumped = ReportStatusSchema().dump(status)
    assert dumped["history"] == [{"stage": "RECEIVED", "at": "2024-10-10T02:31:05+00:00"}]


def test_the_openapi_document_shows_an_example_for_every_response_field_and_the_enums() -> None:
    spec = APISpec("netra", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    for name, schema in [
        ("ReportCreated", ReportCreatedSchema),
        ("ReportStatus", ReportStatusSchema),
        ("ReportRequest", ReportRequestSchema),
    ]:
        spec.components.schema(name, schema=schema)
    schemas = spec.to_dict()["components"]["schemas"]
    for name in ("ReportCreated", "ReportStatus"):
        for field, prop in schemas[name]["properties"].items():
            assert "example" in prop or "$ref" in prop, (name, field)
    assert schemas["ReportStatus"]["properties"]["stage"]["enum"][0] == "RECEIVED"
    assert schemas["ReportRequest"]["properties"]["known_at"]["example"] == "2024-10-08"
    assert "known_at" in schemas["ReportRequest"]["required"]


# --- Never anything but a ValidationError ------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Values that look almost right are likelier to reach the deeper checks than random text.
plausible = st.sampled_from(
    [
        "",
        "2024-10-08",
        "2024-02-30",
        "9999-12-31",
        "0001-01-01",
        "2024-10-10T10:30:00+08:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "198503122010011004",
        "000000000000000000",
        "999999999999999999",
        "PNS",
        "PPPK",
        "NON_ASN",
        "N2",
        10**30,
        -1,
        2024,
    ]
)


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


def _load_or_validation_error(body: Any) -> None:
    try:
        load(body)
    except ma.ValidationError as error:
        # The 422 shape must be buildable from whatever came back.
        flat = flatten_errors(error.messages)
        assert flat
        assert all(isinstance(m, str) for messages in flat.values() for m in messages)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_loads_or_is_a_validation_error(body: Any) -> None:
    _load_or_validation_error(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_mutation_of_a_valid_body_loads_or_is_a_validation_error(data: st.DataObject) -> None:
    body = copy.deepcopy(
        data.draw(
            st.sampled_from(
                [
                    a_body(),
                    MINIMAL,
                    a_body(**{"subject.employee_type": "PPPK", "subject.ni_pppk": "199001012021211001"}),
                ]
            )
        )
    )
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        *parents, last = data.draw(st.sampled_from(paths))
        node = body
        for part in parents:
            node = node[part]
        action = data.draw(st.sampled_from(["replace", "plausible", "drop", "add"]))
        if action == "drop":
            del node[last]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.text(max_size=8))] = data.draw(json_values)
        else:
            node[last] = data.draw(plausible if action == "plausible" else json_values)
    _load_or_validation_error(body)


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=20))
def test_any_string_including_surrogates_in_a_text_field_loads_or_is_a_validation_error(name: str) -> None:
    _load_or_validation_error(a_body(**{"subject.name": name, "reporter.address": name}))


def test_the_reported_at_default_is_receipt_even_far_from_utc() -> None:
    now = datetime(2024, 10, 12, 1, 0, tzinfo=timezone(timedelta(hours=9)))
    assert load(MINIMAL, now).reported_at == now
