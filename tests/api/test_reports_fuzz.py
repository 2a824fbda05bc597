"""Arbitrary JSON thrown at POST /v1/reports over HTTP: every answer is a JSON 2xx or 4xx,
never a 500, whatever the shape (the contract's "never a 500 for any input")."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import test_reports as reports
from tests.api.test_reports import BODY

intake, partner, token_for = reports.intake, reports.partner, reports.token_for

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def mutations() -> st.SearchStrategy[Any]:
    """The contract's example with one field replaced by anything at all."""
    paths = [
        ("election", "type"),
        ("election", "year"),
        ("subject", "nip"),
        ("subject", "employee_type"),
        ("incident", "date"),
        ("known_at",),
        ("reported_at",),
        ("alleged_violations",),
        ("evidence",),
        ("reporter",),
    ]

    def mutate(path: tuple[str, ...], value: Any) -> Any:
        body = copy.deepcopy(BODY)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return body

    return st.builds(mutate, st.sampled_from(paths), json_values)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | mutations())
def test_no_input_makes_the_report_endpoint_fail_with_a_500(
    intake: Flask, partner: dict[str, str], body: Any
) -> None:
    response = intake.test_client().post(
        "/v1/reports",
        data=json.dumps(body),
        content_type="application/json",
        headers={**partner, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
