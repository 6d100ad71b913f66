"""The OpenAPI document: one operation per endpoint, unique ids, errors described, docs in step."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from cloudlink.server.app import all_endpoints
from cloudlink.server.openapi import build_document

DOCS = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def test_every_endpoint_is_an_operation_with_a_unique_id() -> None:
    endpoints = all_endpoints()
    document = build_document(endpoints)
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == len(endpoints)
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(set(ids)) == len(ids)
    for path, method, operation in operations:
        assert "default" in operation["responses"], (method, path)
        if operation["security"]:
            assert "401" in operation["responses"], (method, path)


def test_every_schema_is_valid_json_schema() -> None:
    for endpoint in all_endpoints():
        for schema in (endpoint.body, endpoint.response, *endpoint.query.values()):
            if schema is not None:
                Draft202012Validator.check_schema(schema)


def test_docs_list_every_endpoint() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        f"{e.method} {e.path}"
        for e in all_endpoints()
        if f"| {e.method} | `{e.path}` |" not in text
    ]
    assert missing == []
