"""Reading an app's ``/openapi.json`` as the fuzzers need it: each operation with its
parameters and body as plain JSON Schema (``$ref``s inlined, ``nullable`` as a null branch)
and the document's example of its body. Shared by tests/api/test_openapi_fuzz.py and
bench/fuzz.py, so the two read the document alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = ("post", "put", "patch", "delete")
ALL_METHODS = ("get", *WRITE_METHODS)

# OpenAPI 3.0 keywords that JSON Schema does not have (``nullable`` is rewritten) or that
# only annotate.
ANNOTATIONS = {
    "nullable",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "description",
    "title",
    "default",
    "discriminator",
    "xml",
    "externalDocs",
}


@dataclass(frozen=True)
class Operation:
    """One documented operation: its path template, path and header parameters, body schema."""

    method: str
    template: str
    path_params: tuple[str, ...]
    query: tuple[tuple[str, Any], ...]
    headers: tuple[tuple[str, Any], ...]
    body: Any
    # The requestBody's example in the document, if it gives one.
    example: Any = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def writes(self) -> bool:
        return self.method.lower() in WRITE_METHODS


def json_schema(node: Any, components: Mapping[str, Any]) -> Any:
    """An OpenAPI 3.0 schema with its ``$ref``s inlined from ``components/schemas``, its
    annotations dropped and ``nullable`` as a null branch: plain JSON Schema."""
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out: dict[str, Any] = {}
    for key, value in node.items():
        # ``x-`` keys are OpenAPI extensions (apispec writes a date's Range as x-maximum).
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: json_schema(sub, components) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = json_schema(value, components)
        elif key in ("anyOf", "oneOf"):
            out[key] = [json_schema(sub, components) for sub in value]
        else:
            out[key] = value
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def example_of(schema: Any) -> Any:
    """The document's example of ``schema``: its own, or one composed of its parts' examples
    (None when a required part has none)."""
    if not isinstance(schema, Mapping):
        return None
    if "example" in schema:
        return schema["example"]
    for sub in schema.get("anyOf", schema.get("oneOf", ())):
        found = example_of(sub)
        if found is not None:
            return found
    if schema.get("type") == "array":
        item = example_of(schema.get("items"))
        return None if item is None else [item]
    if schema.get("type") == "object" and "properties" in schema:
        parts = {name: example_of(sub) for name, sub in schema["properties"].items()}
        if any(parts[name] is None for name in schema.get("required", ())):
            return None
        return {name: value for name, value in parts.items() if value is not None}
    return None


def operations(doc: Mapping[str, Any], methods: tuple[str, ...]) -> list[Operation]:
    """The operations of ``doc`` with one of ``methods``, parameters and body as JSON Schema."""
    components = doc.get("components", {}).get("schemas", {})
    found = []
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method not in methods:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]

            def of(where: str, params: list[Any] = params) -> tuple[tuple[str, Any], ...]:
                return tuple(
                    (p["name"], json_schema(p.get("schema", {}), components))
                    for p in params
                    if p["in"] == where
                )

            content = (op.get("requestBody") or {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            example = content.get("application/json", {}).get("example")
            if example is None and body is not None:
                example = example_of(json_schema(body, components))
            found.append(
                Operation(
                    method.upper(),
                    template,
                    tuple(name for name, _ in of("path")),
                    of("query"),
                    of("header"),
                    None if body is None else json_schema(body, components),
                    example,
                )
            )
    return found
