"""Every write endpoint of the four apps, fuzzed from the app's own ``/openapi.json``: whatever
arrives (schema-valid bodies, valid bodies with one field broken or dropped, JSON of the
wrong shape, hostile bytes, wrong content types, path ids that are UUIDs, known ids or any
text, stale or absent If-Match) the answer is never a 5xx; every 4xx is a JSON body with its
``code`` and ``message``, and a 400 or 422 names what is wrong in ``errors``
(``{"field.path": [messages]}``, shared.web.validation).

Bodies come from each operation's requestBody schema (its ``$ref``s resolved from
``components/schemas``, ``nullable`` honoured) and from the examples the document gives.
``values`` turns the schema into a strategy; it knows only the keywords flask-smorest
publishes here and fails on any other, so a new kind of schema cannot be fuzzed as something
it is not. (hypothesis-jsonschema would do this, but its last release, 0.23.1, calls a
Hypothesis internal that the pinned Hypothesis no longer has, and fails on every object
schema.) A few cases of each service are seeded first (reports, three of them incomplete;
adjudication files with evidence, one assigned; sanctions cases in every state from referral
to keberatan), and path ids are mostly theirs, so commands reach the domain's rules rather
than stopping at a 404. Runs are derandomized, so the suite is repeatable.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from services.intake.web.examples import CONTRACT_EXAMPLE
from shared.web.runtime import runtime
from tests.api.apps import AGENCY, Service
from tests.api.test_adjudication import register_case
from tests.api.test_sanctions_support import refer
from tests.support.openapi import WRITE_METHODS, Operation, operations
from tests.unit.sanctions.support import referral

SERVICES = ("intake", "adjudication", "sanctions", "audit")
JSON_TYPES = ("application/json", "application/problem+json")
# Examples per operation: 28 write operations, about 1,700 requests and the reads for If-Match,
# plus the smaller properties; the file runs in about half a minute on two cores.
WRITE_EXAMPLES = 60
ANONYMOUS_EXAMPLES = 12
READ_EXAMPLES = 12
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# Dates near the fixture's clock (10 Dec 2024, where the seeded cases' windows are), in the
# years around it, anywhere from 0001-01-01 to 9999-12-31, and at those ends.
FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date": st.one_of(
        st.dates(date(2024, 11, 20), date(2024, 12, 31)),
        st.dates(date(2017, 1, 1), date(2026, 12, 31)),
        # The ends of Python's calendar, where a deadline counted from the date overflows.
        st.sampled_from([date.max, date(9999, 12, 24), date.min, date(1, 1, 2)]),
        st.dates(),
    ).map(date.isoformat),
    "date-time": (st.datetimes(timezones=st.timezones() | st.just(UTC)) | st.datetimes()).map(
        datetime.isoformat
    ),
    "uuid": st.uuids().map(str),
    "url": urls() | st.sampled_from(["http://localhost/hook", "https://partner.example/x", "ftp://x"]),
}
# What ``values`` understands; any other keyword fails the test, so a schema the generator
# cannot honour is never fuzzed as if it were something else.
KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "anyOf",
    "oneOf",
    "example",
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**400)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Bytes no JSON parser should trip over with a 500.
HOSTILE_BODIES = [
    b"",
    b"\xff\xfe\xfd",
    b'{"a": "\xed\xa0\x80"}',
    b'{"a": "x\x00y"}',
    b'"\\u0000"',
    b'{"\\ud800": 1}',
    b"[" * 100_000,
    b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
    b"1" * 5_000,
    b"-" + b"9" * 4_400,
    b"1e999",
    b"NaN",
    b"-Infinity",
    b"null",
    b"\xef\xbb\xbf{}",
    b'{"a": 1, "a": 2}',
    '{"a": 1}'.encode("utf-16"),
    b"{'single': 'quotes'}",
    b"[1, 2,]",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/problem+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json\x00",
    None,
]
WEIRD_SEGMENTS = [
    "%00",
    "not-a-uuid",
    "%ED%A0%80",
    "%FF",
    "..",
    "%2F",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "00000000000000000000000000000000",
    "{case_id}",
    "a" * 5_000,
]
# An If-Match to be replaced by the case's current ETag, and a header to leave out.
CURRENT, ABSENT = object(), object()
SEED_REPORT_KEY = "fuzz-seed-{}"
# Fresh ids each write property draws from (see Fresh).
FRESH = 3


@dataclass
class Request:
    """A request ready for the test client."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None
    content_type: str | None = None
    # The case whose current version an If-Match of CURRENT names, if any.
    wants_current: bool = False


@dataclass
class Fresh:
    """Ids in their first state (new cases, or new incomplete reports) for one path parameter,
    each renewed as soon as a command succeeds on it: the document's own example is valid and
    would otherwise move every seeded case on at once, leaving later inputs only 409s."""

    param: str
    make: Callable[[], str]
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = [self.make() for _ in range(FRESH)]

    @property
    def marks(self) -> list[str]:
        """What a drawn path holds in place of each fresh id until it is sent."""
        return [f"@fresh{i}@" for i in range(FRESH)]

    def fill(self, path: str) -> tuple[str, int] | None:
        for i, mark in enumerate(self.marks):
            if mark in path:
                return path.replace(mark, self.ids[i]), i
        return None

    def renew(self, i: int) -> None:
        self.ids[i] = self.make()


def values(schema: Any) -> st.SearchStrategy[Any]:
    """JSON values that ``schema`` (as ``json_schema`` gives it) accepts."""
    if schema is True or schema == {}:
        return json_values
    unknown = set(schema) - KEYWORDS
    assert not unknown, f"the fuzzer does not know the schema keywords {sorted(unknown)}: {schema}"
    if "example" in schema:
        # The document's own example (valid: it leads past validation) a third of the time.
        rest = {k: v for k, v in schema.items() if k != "example"}
        return st.integers(0, 2).flatmap(lambda i: st.just(schema["example"]) if i == 0 else values(rest))
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([values(sub) for sub in schema.get("anyOf", schema.get("oneOf"))])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind is None:
        return json_values
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.integers(schema.get("minimum"), schema.get("maximum")) | st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "string":
        return strings(schema)
    if kind == "array":
        return st.lists(
            values(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", schema.get("minItems", 0) + 4),
        )
    assert kind == "object", f"the fuzzer does not know the type {kind!r}"
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    known = st.fixed_dictionaries(
        {k: values(v) for k, v in properties.items() if k in required},
        optional={k: values(v) for k, v in properties.items() if k not in required},
    )
    extra = schema.get("additionalProperties", True)
    if not properties:
        return st.dictionaries(
            st.text(max_size=12), values(extra if isinstance(extra, Mapping) else {}), max_size=6
        )
    return known


def weighted(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``common`` four times in five, ``rare`` otherwise."""
    return st.integers(0, 4).flatmap(lambda i: rare if i == 0 else common)


def strings(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "format" in schema:
        assert schema["format"] in FORMATS, f"the fuzzer does not know the format {schema['format']!r}"
        found = FORMATS[schema["format"]]
    elif "pattern" in schema:
        # OpenAPI patterns are unanchored; ours end in \Z (validate.Regexp anchors the start).
        found = st.from_regex(schema["pattern"].removeprefix("^"), fullmatch=True)
    else:
        return st.text(min_size=low, max_size=high if high is not None else max(low, 40))
    return found.filter(lambda v: low <= len(v) <= (high if high is not None else len(v)))


def document(service: Service) -> dict[str, Any]:
    response = service.app.test_client().get("/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert isinstance(doc, dict)
    return doc


# --- strategies ------------------------------------------------------------------------


def segment(text: str) -> str:
    """Any text as one path segment, percent-encoded as a client would send it."""
    return quote(text, safe="", errors="surrogatepass")


def path_values(known: list[str]) -> st.SearchStrategy[str]:
    """A path id: mostly a seeded one, so the command reaches the domain; else a random UUID
    (upper or lower case) or any text at all."""
    other = st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: str(u).upper()),
        st.text(max_size=40).map(segment),
        st.sampled_from(WEIRD_SEGMENTS),
    )
    return weighted(st.sampled_from(known), other) if known else other


def header_text() -> st.SearchStrategy[str]:
    """Any text as a server receives it in a header: its UTF-8 bytes read as latin-1 (WSGI),
    without the line breaks HTTP itself refuses."""
    return (
        st.text(max_size=200)
        .map(lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1"))
        .filter(lambda t: "\r" not in t and "\n" not in t)
    )


def header_values(name: str, schema: Any) -> st.SearchStrategy[Any]:
    """A value for the header ``name``: mostly one the endpoint will accept, sometimes none,
    sometimes anything."""
    if name == "If-Match":
        plausible: st.SearchStrategy[Any] = weighted(
            st.just(CURRENT), st.integers(-(2**70), 2**70).map(lambda v: f'"{v}"')
        )
    elif name == "Idempotency-Key":
        plausible = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=130)
    else:
        plausible = values(schema).map(str).filter(lambda v: "\r" not in v and "\n" not in v)
    return weighted(plausible, st.just(ABSENT) | header_text())


def mutated(body: Any) -> st.SearchStrategy[Any]:
    """``body`` with one value (at any depth) replaced by any JSON value or dropped."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            paths.append((*path, key))
            walk(child, (*path, key))

    walk(body, ())
    if not paths:
        return st.just(body)

    def replace(path: tuple[Any, ...], value: Any) -> Any:
        changed = copy.deepcopy(body)
        target = changed
        for key in path[:-1]:
            target = target[key]
        if value is ABSENT:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return changed

    return st.builds(replace, st.sampled_from(paths), st.just(ABSENT) | json_values)


def dumps(value: Any) -> bytes:
    # Lone surrogates go out as \ud800 escapes, as a hostile client would send them.
    return json.dumps(value).encode()


def bodies(schema: Any, example: Any) -> st.SearchStrategy[tuple[bytes | None, str | None]]:
    """A body and its content type: half the time schema-valid JSON (from the document's
    examples or not), else broken in one place or of the wrong shape, or hostile bytes, or
    under a wrong content type, or no body at all."""
    valid = values(schema if schema is not None else {})
    if example is not None:
        valid = weighted(valid, st.just(example))
    broken = (valid.flatmap(mutated) | json_values).map(dumps)
    hostile = st.one_of(
        st.tuples(
            valid.map(dumps) | broken | st.sampled_from(HOSTILE_BODIES) | st.binary(max_size=64),
            st.sampled_from(CONTENT_TYPES),
        ),
        st.just((None, None)),
    )
    return st.integers(0, 9).flatmap(
        lambda i: (
            st.tuples(valid.map(dumps) if i < 5 else broken, st.just("application/json"))
            if i < 8
            else hostile
        )
    )


@st.composite
def requests(
    draw: st.DrawFn,
    op: Operation,
    known: Mapping[str, list[str]],
    auth: st.SearchStrategy[dict[str, str]],
    fresh: Fresh | None = None,
) -> Request:
    """A request to ``op`` with every part drawn from the strategies above; half its ids
    for ``fresh.param`` are one of the fresh ones, filled in when it is sent."""
    path = op.template
    for name in op.path_params:
        ids = path_values(known.get(name, []))
        if fresh is not None and name == fresh.param:
            ids = st.one_of(st.sampled_from(fresh.marks), ids)
        path = path.replace("{" + name + "}", draw(ids))
    if op.query:
        params = {
            name: draw(values(schema).map(str) | header_text())
            for name, schema in op.query
            if draw(st.booleans())
        }
        if params:
            path += "?" + urlencode(params, errors="surrogatepass")
    headers = dict(draw(auth))
    wants_current = False
    for name, schema in op.headers:
        value = draw(header_values(name, schema))
        if value is CURRENT:
            wants_current = True
        elif value is not ABSENT:
            headers[name] = value
    data, content_type = draw(bodies(op.body, op.example)) if op.method != "GET" else (None, None)
    return Request(op.method, path, headers, data, content_type, wants_current)


# --- the checks --------------------------------------------------------------------------


def current_version(service: Service, path: str) -> str:
    """The ETag of the case in ``path`` (``/v1/cases/<id>/...``), or "1" when there is none."""
    parts = path.split("/")
    if len(parts) > 3 and parts[2] == "cases":
        answer = service.app.test_client().get(f"/v1/cases/{parts[3]}", headers=service.reader)
        if answer.status_code == 200 and "ETag" in answer.headers:
            return answer.headers["ETag"]
    return '"1"'


def send(service: Service, request: Request, fresh: Fresh | None = None) -> tuple[Request, Any]:
    """Send ``request`` (its fresh id filled in, its If-Match made current when asked for);
    the request as sent and the answer. A fresh id a command succeeded on is renewed."""
    used = fresh.fill(request.path) if fresh is not None else None
    sent = dataclasses.replace(request, path=used[0]) if used else request
    headers = dict(sent.headers)
    if sent.wants_current:
        headers["If-Match"] = current_version(service, sent.path)
    response = service.app.test_client().open(
        sent.path,
        method=sent.method,
        data=sent.data,
        content_type=sent.content_type,
        headers=headers,
    )
    if fresh is not None and used and 200 <= response.status_code < 300:
        fresh.renew(used[1])
    return sent, response


def check(request: Request, response: Any) -> None:
    """Never a 5xx; a 4xx is JSON with code and message; a 400/422 names fields in ``errors``."""
    status = response.status_code
    shown = (request.data or b"")[:200]
    where = f"{request.method} {request.path[:200]} {shown!r} -> {status}: {response.get_data()[:500]!r}"
    assert status < 500, where
    if status < 400:
        return
    assert response.mimetype in JSON_TYPES, where
    body = json.loads(response.get_data())
    assert isinstance(body, dict), where
    assert body.get("code") == status and isinstance(body.get("message"), str), where
    if status in (400, 422):
        errors = body.get("errors")
        assert isinstance(errors, Mapping) and errors, where
        for name, messages in errors.items():
            assert isinstance(name, str) and name, where
            assert isinstance(messages, list) and messages, where
            assert all(isinstance(m, str) and m for m in messages), where


def fuzz(
    service: Service,
    op: Operation,
    known: Mapping[str, list[str]],
    auth: st.SearchStrategy[dict[str, str]],
    examples: int,
    fresh: Fresh | None = None,
) -> Counter[int]:
    """Run the property on one operation; the statuses seen, for the callers' own checks."""
    seen: Counter[int] = Counter()

    @settings(FUZZ, max_examples=examples)
    @given(request=requests(op, known, auth, fresh))
    def property_(request: Request) -> None:
        note(f"{service.name}: {op.name}")
        sent, response = send(service, request, fresh)
        seen[response.status_code] += 1
        check(sent, response)

    property_()
    return seen


# --- the fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known(services: dict[str, Service]) -> dict[str, dict[str, list[str]]]:
    """Real ids to put in paths: seeded reports, cases and evidence, so commands get past
    the 404 to the domain's own rules."""
    intake = services["intake"]
    client = intake.app.test_client()
    incomplete = copy.deepcopy(CONTRACT_EXAMPLE)
    del incomplete["reporter"]["address"]  # a Bawaslu laporan must name the reporter's address
    reports, intake_cases = [], []
    for i, body in enumerate([CONTRACT_EXAMPLE, incomplete, incomplete, incomplete]):
        answer = client.post(
            "/v1/reports", json=body, headers={**intake.writer, "Idempotency-Key": SEED_REPORT_KEY.format(i)}
        )
        assert answer.status_code == 201, answer.get_json()
        reports.append(answer.get_json()["report_id"])
        intake_cases.append(answer.get_json()["case_id"])

    adjudication = services["adjudication"]
    cases = [register_case(adjudication.app), register_case(adjudication.app, ("N1", "N4"))]
    evidence_ids = []
    client = adjudication.app.test_client()
    for case_id in cases:
        for i in range(2):
            added = client.post(
                f"/v1/cases/{case_id}/evidence",
                json={
                    "kind": "PHOTO",
                    "uri": f"https://dms.example/{i}.jpg",
                    "sha256": hashlib.sha256(f"{case_id}/{i}".encode()).hexdigest(),
                },
                headers={
                    **adjudication.writer,
                    "If-Match": current_version(adjudication, f"/v1/cases/{case_id}"),
                },
            )
            assert added.status_code == 200, added.get_json()
        detail = client.get(f"/v1/cases/{case_id}", headers=adjudication.reader).get_json()
        evidence_ids += [e["evidence_id"] for e in detail["evidence"]]

    assigned = register_case(adjudication.app)
    advance(adjudication, assigned, [("assignment", {"investigator_id": "inv.putu"})])
    cases.append(assigned)

    sanctions = services["sanctions"]
    referred = [
        refer(sanctions.app, referral(level, agency=AGENCY)) for level in ("BERAT", "SEDANG", "RINGAN")
    ]
    # And one case in each later state, so decree, delivery and keberatan reach their rules.
    for upto in range(1, len(SANCTIONS_STEPS) + 1):
        case_id = refer(sanctions.app, referral("BERAT", agency=AGENCY))
        advance(sanctions, case_id, SANCTIONS_STEPS[:upto])
        referred.append(case_id)
    return {
        "intake": {"report_id": reports, "case_id": intake_cases},
        "adjudication": {"case_id": cases, "evidence_id": evidence_ids},
        "sanctions": {"case_id": referred},
        "audit": {"case_id": [*intake_cases, *cases, *referred]},
    }


# Sample case C (docs/sanctions.md) as far as a keberatan, on the fixture's clock (10 Dec 2024).
SANCTIONS_STEPS: list[tuple[str, dict[str, Any]]] = [
    ("decision", {"penalty": "B2", "decided_on": "2024-12-09"}),
    ("decree", {"number": "800/77/BKPSDM/2024", "issued_on": "2024-12-09", "document_sha256": "d" * 64}),
    ("delivery", {"received_on": "2024-12-10"}),
    ("objection", {"filed_on": "2024-12-10"}),
]


def advance(service: Service, case_id: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    """Take the seeded case through ``steps``, each on the case's current version."""
    client = service.app.test_client()
    for action, body in steps:
        headers = {**service.writer, "If-Match": current_version(service, f"/v1/cases/{case_id}")}
        answer = client.post(f"/v1/cases/{case_id}/{action}", json=body, headers=headers)
        assert answer.status_code == 200, (action, answer.get_json())


def fresh_pool(services: dict[str, Service], name: str) -> Fresh | None:
    """Fresh ids for the service's commands: cases just referred or registered, or on intake
    reports just received incomplete (for supplements)."""
    service = services[name]
    if name == "adjudication":
        return Fresh("case_id", lambda: register_case(service.app))
    if name == "sanctions":
        return Fresh("case_id", lambda: refer(service.app, referral("BERAT", agency=AGENCY)))
    if name == "intake":
        return Fresh("report_id", lambda: incomplete_report(service))
    return None


def incomplete_report(intake: Service) -> str:
    """A new report that lacks the reporter's address (which a Bawaslu laporan needs)."""
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    del body["reporter"]["address"]
    headers = {**intake.writer, "Idempotency-Key": uuid.uuid4().hex}
    answer = intake.app.test_client().post("/v1/reports", json=body, headers=headers)
    assert answer.status_code == 201 and answer.get_json()["status"] == "INCOMPLETE", answer.get_json()
    return str(answer.get_json()["report_id"])


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_every_write_route_is_in_the_openapi_document(services: dict[str, Service], name: str) -> None:
    """What the fuzzing below covers is the document; no write route may be missing from it."""
    app = services[name].app
    routed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method.lower() in WRITE_METHODS
    }
    documented = {
        (op.method, op.template.replace("{", "<").replace("}", ">"))
        for op in operations(document(services[name]), WRITE_METHODS)
    }
    # Flask writes a converter into the rule (``<uuid:case_id>``); the document does not.
    routed = {(m, _plain(rule)) for m, rule in routed}
    assert routed == documented
    if name == "audit":
        assert documented == set(), "the auditors' app is read-only"
    else:
        assert documented, f"{name} documents no write endpoint"


def _plain(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"<\1>", rule)


@pytest.mark.parametrize("name", SERVICES)
def test_no_write_input_makes_a_service_answer_5xx(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], name: str
) -> None:
    service = services[name]
    ops = operations(document(service), WRITE_METHODS)
    seen: Counter[int] = Counter()
    fresh = fresh_pool(services, name)
    for op in ops:
        seen += fuzz(service, op, known[name], st.just(service.writer), WRITE_EXAMPLES, fresh)
    if ops:
        # The writer's token is valid: most answers got past auth, and some past validation.
        assert seen[401] + seen[403] < sum(seen.values()) / 2, seen
        assert set(seen) - {400, 401, 403, 415, 422}, f"nothing got past validation: {seen}"


@pytest.mark.parametrize("name", SERVICES)
def test_without_a_valid_token_no_write_succeeds_and_none_answers_5xx(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], name: str
) -> None:
    service = services[name]
    # An auditor's token is valid but may write nowhere.
    auditor = {"Authorization": f"Bearer {runtime(service.app).tokens.create('fuzz-auditor', 'auditor')}"}
    callers: st.SearchStrategy[dict[str, str]] = st.one_of(
        st.just({}),
        st.just(auditor),
        st.sampled_from(
            ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer nope", "bearer " + "a" * 5_000]
        ).map(lambda v: {"Authorization": v}),
        header_text().map(lambda v: {"Authorization": "Bearer " + v}),
    )
    for op in operations(document(service), WRITE_METHODS):
        seen = fuzz(service, op, known[name], callers, ANONYMOUS_EXAMPLES)
        assert not [s for s in seen if 200 <= s < 300], (op.name, seen)


@pytest.mark.parametrize("name", SERVICES)
def test_no_query_or_path_input_makes_a_read_answer_5xx(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], name: str
) -> None:
    """The reads that take input (path ids, filters, pages; the auditors' history, which is
    itself recorded) hold to the same answers."""
    service = services[name]
    callers = st.sampled_from([service.writer, service.reader])
    for op in operations(document(service), ("get",)):
        if op.path_params or op.query:
            fuzz(service, op, known[name], callers, READ_EXAMPLES)


# The ends of Python's calendar: a deadline counted from such a day, or a time moved into
# another zone, falls off it (OverflowError) unless the input is refused first.
EDGE_VALUES = {
    "date": ["0001-01-01", "0001-01-02", "9999-12-24", "9999-12-31"],
    "date-time": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59+00:00"],
}


def plain_value(schema: Any) -> Any:
    """A value ``schema`` accepts, the document's example where it gives one: the body the
    boundary sweep puts one edge value into."""
    if not isinstance(schema, Mapping) or not schema:
        return None
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "anyOf" in schema or "oneOf" in schema:
        return plain_value(schema.get("anyOf", schema.get("oneOf"))[0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: plain_value(sub) for name, sub in props.items() if name in schema.get("required", ())}
    if kind == "string":
        return {"date": "2024-12-09", "date-time": "2024-12-09T10:00:00+07:00"}.get(
            str(schema.get("format")), "x"
        )
    return {"integer": 1, "number": 1, "boolean": False, "array": []}.get(str(kind))


def edge_fields(schema: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """The (path, format) of every date and date-time field of an object body, at any depth."""
    if not isinstance(schema, Mapping):
        return []
    if schema.get("format") in EDGE_VALUES:
        return [(path, schema["format"])]
    found = []
    for sub in schema.get("anyOf", schema.get("oneOf", ())):
        found += [f for f in edge_fields(sub, path) if f not in found]
    for name, sub in schema.get("properties", {}).items():
        found += edge_fields(sub, (*path, name))
    return found


def with_value(body: Any, path: tuple[str, ...], value: str) -> Any:
    """``body`` with ``value`` at ``path``, making the objects on the way."""
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("name", SERVICES)
def test_every_date_at_the_ends_of_the_calendar_is_refused_or_taken_never_a_500(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], name: str
) -> None:
    """Not left to chance: each date and date-time field of each write body, at each end of
    the calendar, on a fresh case with the current If-Match, so the domain's arithmetic runs."""
    service = services[name]
    fresh = fresh_pool(services, name)
    swept = 0
    for op in operations(document(service), WRITE_METHODS):
        base = op.example if isinstance(op.example, dict) else plain_value(op.body)
        # On a fresh case and on each seeded one: each state lets other commands through.
        targets = [fresh.marks[0]] if fresh else []
        targets += known[name].get(fresh.param, []) if fresh else []
        for path, fmt in edge_fields(op.body):
            for edge, target in itertools.product(EDGE_VALUES[fmt], targets or [""]):
                url = op.template
                for param in op.path_params:
                    value = target if fresh and param == fresh.param else known[name][param][0]
                    url = url.replace("{" + param + "}", value)
                headers = dict(service.writer)
                if any(h == "Idempotency-Key" for h, _ in op.headers):
                    headers["Idempotency-Key"] = uuid.uuid4().hex
                request = Request(
                    op.method,
                    url,
                    headers,
                    dumps(with_value(base, path, edge)),
                    "application/json",
                    wants_current=any(h == "If-Match" for h, _ in op.headers),
                )
                check(*send(service, request, fresh))
                swept += 1
    assert swept or name == "audit", f"{name} has no date field to sweep"


# --- what the fuzzing found, pinned ----------------------------------------------------


@pytest.mark.parametrize("known_at", ["2017-08-15", "2000-01-01", "0001-01-01"])
def test_a_report_known_before_the_earliest_rules_is_a_422_naming_known_at(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], known_at: str
) -> None:
    """No admissibility rules are in force before 16 Aug 2017: once a LookupError, a 500."""
    intake = services["intake"]
    client = intake.app.test_client()
    body = {**copy.deepcopy(CONTRACT_EXAMPLE), "known_at": known_at, "incident": None}
    answer = client.post(
        "/v1/reports", json=body, headers={**intake.writer, "Idempotency-Key": f"early-{known_at}"}
    )
    assert answer.status_code == 422, answer.get_json()
    assert "2017-08-16" in answer.get_json()["errors"]["known_at"][0]
    # A supplement that moves an incomplete report's known_at back is refused the same way.
    supplement = client.post(
        f"/v1/reports/{known['intake']['report_id'][-1]}/supplements",
        json={"known_at": known_at, "incident": None},
        headers=intake.writer,
    )
    assert supplement.status_code == 422, supplement.get_json()
    assert "known_at" in supplement.get_json()["errors"]


@pytest.mark.parametrize("name", ["adjudication", "sanctions"])
def test_an_if_match_that_is_no_version_is_a_400_naming_it(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]], name: str
) -> None:
    """Once a 400 with werkzeug's stock message and no ``errors`` (abort's message was
    passed where flask-smorest takes an exception)."""
    service = services[name]
    action, body = (
        ("assignment", {"investigator_id": "inv.putu"})
        if name == "adjudication"
        else ("decision", {"penalty": "B2", "decided_on": "2024-12-09"})
    )
    path = f"/v1/cases/{known[name]['case_id'][0]}/{action}"
    client = service.app.test_client()
    answer = client.post(path, json=body, headers={**service.writer, "If-Match": "v1"})
    assert answer.status_code == 400, answer.get_json()
    assert "If-Match" in answer.get_json()["errors"] and "'v1'" in answer.get_json()["message"]
    missing = client.post(path, json=body, headers=service.writer)
    assert missing.status_code == 428 and "ETag of GET" in missing.get_json()["message"]


def test_an_as_of_that_is_no_instant_is_a_422_naming_as_of(
    services: dict[str, Service], known: dict[str, dict[str, list[str]]]
) -> None:
    audit = services["audit"]
    path = f"/v1/audit/cases/{known['audit']['case_id'][0]}/history?as_of=yesterday"
    answer = audit.app.test_client().get(path, headers=audit.reader)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == ["as_of"]
