"""Hostile input on every service answers a 4xx JSON body naming what is wrong, never a 500,
and writes nothing: bodies nested too deeply, integers too long for Python, unpaired
surrogates and NUL in text, NUL and non-UUIDs in path ids, absurd page numbers."""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from services.intake.web.examples import CONTRACT_EXAMPLE
from tests.api.apps import Service

HOLE = "__HOSTILE__"
CASE = str(uuid.uuid4())
IF_MATCH = {"If-Match": '"1"'}


def _report_with(path: tuple[str, ...]) -> dict[str, Any]:
    body = copy.deepcopy(CONTRACT_EXAMPLE)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = HOLE
    return body


@dataclass(frozen=True)
class Write:
    """A write endpoint and a body template whose ``HOLE`` (a text field) gets the hostile value."""

    service: str
    path: str
    template: dict[str, Any]
    field: str
    method: str = "POST"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def raw(self, fragment: str) -> str:
        """The body as JSON text with ``fragment`` (raw JSON) in the hole."""
        return json.dumps(self.template).replace(json.dumps(HOLE), fragment)


WRITES = [
    Write(
        "intake",
        "/v1/reports",
        _report_with(("incident", "description")),
        "incident.description",
        headers={"Idempotency-Key": "hostile-1"},
    ),
    Write(
        "intake",
        "/v1/reports",
        _report_with(("reporter", "name")),
        "reporter.name",
        headers={"Idempotency-Key": "hostile-2"},
    ),
    Write("intake", "/v1/webhook", {"url": "https://partner.example/hook", "secret": HOLE}, "secret", "PUT"),
    Write("intake", f"/v1/reports/{CASE}/supplements", {"incident": {"regency": HOLE}}, "incident.regency"),
    Write("adjudication", f"/v1/cases/{CASE}/recusal", {"reason": HOLE}, "reason", headers=IF_MATCH),
    Write(
        "adjudication",
        f"/v1/cases/{CASE}/assignment",
        {"investigator_id": HOLE},
        "investigator_id",
        headers=IF_MATCH,
    ),
    Write(
        "sanctions",
        f"/v1/cases/{CASE}/decision",
        {"penalty": "B2", "decided_on": "2024-12-09", "reason": HOLE},
        "reason",
        headers=IF_MATCH,
    ),
    Write(
        "sanctions",
        f"/v1/cases/{CASE}/decree",
        {"number": HOLE, "issued_on": "2024-12-09", "document_sha256": "c" * 64},
        "number",
        headers=IF_MATCH,
    ),
]
WRITE_IDS = [f"{w.service}:{w.method} {w.path.replace(CASE, '{id}')}:{w.field}" for w in WRITES]

# Text that JSON allows and Python decodes, but PostgreSQL (NUL) or UTF-8 (a lone surrogate) refuses.
UNSTORABLE = {"surrogate": r'"\ud800"', "low surrogate": r'"x\udfffy"', "nul": r'"a\u0000b"'}
# Bodies the parser must refuse whole: 400 with errors["body"].
MALFORMED = {
    "deep arrays": "[" * 100_000,
    "deep objects": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "deep but balanced arrays": "[" * 2_000 + "]" * 2_000,
}
HUGE_INT = "1" * 5_000  # over Python's 4,300-digit limit for int <-> str
LIST_ENDPOINTS = [
    ("intake", "/v1/cases"),
    ("intake", "/v1/webhook/deliveries"),
    ("adjudication", "/v1/cases"),
    ("sanctions", "/v1/cases"),
]


def send(
    service: Service, method: str, path: str, raw: str | None = None, headers: Any = None, who: str = "writer"
) -> Any:
    caller = service.writer if who == "writer" else service.reader
    return service.app.test_client().open(
        path,
        method=method,
        data=raw,
        content_type="application/json" if raw is not None else None,
        headers={**caller, **(headers or {})},
    )


def refused(response: Any, status: int | tuple[int, ...] | None = None) -> dict[str, Any]:
    """The JSON body of a 4xx answer (of ``status`` when given), with its message."""
    body = response.get_json(silent=True)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if status is not None:
        assert response.status_code in ((status,) if isinstance(status, int) else status), body
    assert isinstance(body, dict) and isinstance(body.get("message"), str), response.get_data()[:500]
    assert body["code"] == response.status_code
    return body


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("kind", list(UNSTORABLE))
def test_unstorable_text_is_refused_naming_the_field(
    services: dict[str, Service], write: Write, kind: str
) -> None:
    service = services[write.service]
    before = service.counts()
    response = send(service, write.method, write.path, write.raw(UNSTORABLE[kind]), write.headers)
    body = refused(response, 422)
    assert write.field in body["errors"], body
    assert service.counts() == before


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_body_nested_too_deeply_is_a_400(services: dict[str, Service], write: Write, kind: str) -> None:
    service = services[write.service]
    before = service.counts()
    body = refused(send(service, write.method, write.path, MALFORMED[kind], write.headers), 400)
    assert "body" in body["errors"], body
    assert service.counts() == before


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_deep_nesting_inside_a_field_is_a_400(services: dict[str, Service], write: Write) -> None:
    service = services[write.service]
    body = refused(
        send(service, write.method, write.path, write.raw("[" * 200 + "]" * 200), write.headers), 400
    )
    assert "body" in body["errors"], body


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_an_integer_too_long_for_python_is_a_400(services: dict[str, Service], write: Write) -> None:
    service = services[write.service]
    before = service.counts()
    body = refused(send(service, write.method, write.path, write.raw(HUGE_INT), write.headers), 400)
    assert "body" in body["errors"], body
    assert service.counts() == before


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(services: dict[str, Service], write: Write, literal: str) -> None:
    service = services[write.service]
    refused(send(service, write.method, write.path, write.raw(literal), write.headers))


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_a_nul_in_a_field_name_is_refused(services: dict[str, Service], write: Write) -> None:
    service = services[write.service]
    raw = write.raw('"x"')[:-1] + r', "evil\u0000key": 1}'
    refused(send(service, write.method, write.path, raw, write.headers), (400, 422))


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("sanctions", "/v1/cases/not-a-uuid/decision"),
        ("sanctions", "/v1/cases/%00/decision"),
        ("sanctions", f"/v1/cases/{CASE}%00/decree"),
        ("adjudication", f"/v1/cases/{CASE}/evidence/%00/custody"),
        ("adjudication", f"/v1/cases/{CASE}/evidence/not-a-uuid/custody"),
        ("intake", "/v1/reports/%00/supplements"),
    ],
)
def test_a_path_id_that_is_not_a_uuid_is_a_json_404_before_any_database_work(
    services: dict[str, Service], name: str, path: str
) -> None:
    service = services[name]
    before = service.counts()
    raw = json.dumps({"action": "EXAMINED", "on": "2024-12-09", "filed_on": "2024-12-09"})
    refused(send(service, "POST", path, raw, IF_MATCH), 404)
    assert service.counts() == before


@pytest.mark.parametrize("name", ["intake", "adjudication", "sanctions"])
@pytest.mark.parametrize("case", ["%00", "not-a-uuid", f"{CASE}%00", "%ED%A0%80"])
def test_reading_a_case_by_a_bad_id_is_a_json_404(services: dict[str, Service], name: str, case: str) -> None:
    service = services[name]
    refused(send(service, "GET", f"/v1/cases/{case}", who="reader"), 404)
    refused(send(service, "GET", f"/v1/cases/{case}/events", who="reader"), 404)


@pytest.mark.parametrize("case", ["%00", "not-a-uuid"])
def test_the_audit_history_of_a_bad_id_is_a_json_404_and_records_no_read(
    services: dict[str, Service], case: str
) -> None:
    service = services["audit"]
    before = service.counts()
    refused(send(service, "GET", f"/v1/audit/cases/{case}/history", who="reader"), 404)
    assert service.counts() == before


@pytest.mark.parametrize(("name", "path"), LIST_ENDPOINTS)
@pytest.mark.parametrize("page", ["1000000000000000000", "1" * 5000, "1000001"])
def test_an_absurd_page_number_is_a_422_naming_page(
    services: dict[str, Service], name: str, path: str, page: str
) -> None:
    service = services[name]
    who = "writer" if path.startswith("/v1/webhook") else "reader"
    body = refused(send(service, "GET", f"{path}?page={page}", who=who), 422)
    assert list(body["errors"]) == ["page"], body


@pytest.mark.parametrize(("name", "path"), LIST_ENDPOINTS)
def test_the_last_allowed_page_is_an_empty_page(services: dict[str, Service], name: str, path: str) -> None:
    service = services[name]
    who = "writer" if path.startswith("/v1/webhook") else "reader"
    response = send(service, "GET", f"{path}?page=1000000&page_size=100", who=who)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == []


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("intake", "province=%00", "province"),
        ("intake", "agency=a%00b", "agency"),
        ("adjudication", "province=%00", "province"),
        ("adjudication", "assignee=x%00", "assignee"),
        ("adjudication", "due_within_days=1000000000000000000", "due_within_days"),
        ("sanctions", "penalty=%00", "penalty"),
    ],
)
def test_nul_or_absurd_values_in_a_list_filter_are_a_422_naming_it(
    services: dict[str, Service], name: str, query: str, field: str
) -> None:
    body = refused(send(services[name], "GET", f"/v1/cases?{query}", who="reader"), 422)
    assert field in body["errors"], body


@pytest.mark.parametrize("query", ["as_of=%00", "as_of=2024-01-01T00:00:00%2B07:00%00", "time=%00"])
def test_nul_in_an_audit_query_is_a_422_and_records_no_read(services: dict[str, Service], query: str) -> None:
    service = services["audit"]
    before = service.counts()
    body = refused(send(service, "GET", f"/v1/audit/cases/{CASE}/history?{query}", who="reader"), 422)
    assert body.get("errors"), body
    assert service.counts() == before
