"""/engine-rest/openapi.json describes every engine-rest route, and nothing that does not
exist; it needs no login, and its parameters and references are consistent."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.engine_rest.conftest import Api


@pytest.fixture
def doc(app: Flask) -> dict:
    resp = app.test_client().get("/engine-rest/openapi.json")        # no credentials
    assert resp.status_code == 200
    return resp.get_json()


def test_every_route_is_documented_and_nothing_else(app: Flask, doc: dict) -> None:
    assert doc["openapi"].startswith("3.0")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/engine-rest/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((method, path))
    assert routed == documented


def test_references_resolve_and_path_parameters_are_declared(doc: dict) -> None:
    for name in set(re.findall(r"#/components/schemas/(\w+)", str(doc))):
        assert name in doc["components"]["schemas"], name
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == names, (path, declared)


def test_operation_ids_are_unique(doc: dict) -> None:
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_documented_query_parameters_are_accepted(api: Api, doc: dict) -> None:
    """Baton refuses query parameters it does not implement (400 naming them): every one
    the document lists for a list or count endpoint must get past that check."""
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        if op is None or "{" in path or path.endswith("openapi.json"):
            continue
        for param in op["parameters"]:
            if param["in"] != "query" or param["name"] in ("sortBy", "sortOrder"):
                continue
            value = "true" if param["schema"].get("type") == "boolean" else "1"
            status, body = api.get(f"{path.removeprefix('/engine-rest')}"
                                   f"?{param['name']}={value}")
            message = body.get("message", "") if isinstance(body, dict) else ""
            assert "is not supported" not in message, (path, param["name"], message)


def test_the_document_needs_no_login_but_everything_else_does(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/engine-rest/openapi.json").status_code == 200
    assert client.get("/engine-rest/engine").status_code == 401
