"""The built-in `http` connector against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json

import pytest

from connectors import BpmnError, ConnectorError, ConnectorPolicy, ConnectorTimeout, Registry
from connectors.builtin.http import HttpConnector
from connectors.registry import ConnectorContext
from connectors.runner import call_connector
from engine import Engine
from tests.connectors.conftest import LocalServer, Reply, later
from tests.connectors.diagrams import plain


def ctx(attempt: int = 1, secrets: dict[str, str] | None = None, **variables: object
        ) -> ConnectorContext:
    return ConnectorContext(variables, "inst-1", "call", attempt, "inst-1:call:job-1", "http",
                            secrets=(secrets or {}).get, timeout=10.0)


@pytest.fixture
def http() -> HttpConnector:
    conn = HttpConnector()
    yield conn
    conn.close()


def test_get_json_returns_status_body_and_headers(server: LocalServer, http) -> None:
    url = server.script("/customers/7", Reply(200, {"id": 7, "tier": "gold"},
                                              headers={"ETag": "v3"}))
    out = http(ctx(url=url))
    assert out["statusCode"] == 200
    assert out["response"] == {"id": 7, "tier": "gold"}
    assert out["headers"]["etag"] == "v3"
    (seen,) = server.requests_to("/customers/7")
    assert seen.method == "GET" and "idempotency-key" not in seen.headers


def test_post_json_with_secret_header_query_and_response_mapping(
        server: LocalServer, http, monkeypatch) -> None:
    monkeypatch.setenv("BATON_SECRET_CRM_TOKEN", "s3cr3t")
    url = server.script("/score", Reply(201, {"result": {"score": 0.93, "flags": ["a", "b"]}}))
    out = http(ctx(
        url=url, method="post", json={"order": 5, "items": [1, 2]},
        headers={"Authorization": "Bearer {{secret:CRM_TOKEN}}", "X-Tenant": "{{secret:TENANT}}"},
        query={"v": 2}, secrets={"TENANT": "acme"},
        responseMapping={"score": "response.result.score", "flag": "response.result.flags.1",
                         "code": "statusCode", "missing": "response.nope"},
    ))
    assert out == {"score": 0.93, "flag": "b", "code": 201, "missing": None}
    (seen,) = server.requests_to("/score")
    assert seen.method == "POST" and seen.path == "/score?v=2"
    assert json.loads(seen.body) == {"order": 5, "items": [1, 2]}
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["authorization"] == "Bearer s3cr3t"
    assert seen.headers["x-tenant"] == "acme"
    assert seen.headers["idempotency-key"] == "inst-1:call:job-1"


def test_a_missing_secret_names_it_and_no_request_is_sent(server: LocalServer, http) -> None:
    url = server.script("/x", Reply(200, {}))
    with pytest.raises(ConnectorError, match="secret 'NOPE' is not set"):
        http(ctx(url=url, headers={"Authorization": "{{secret:NOPE}}"}))
    assert server.seen == []


def test_errors_never_show_secret_values(server: LocalServer, http, monkeypatch) -> None:
    monkeypatch.setenv("BATON_SECRET_KEY", "hunter2")
    url = server.script("/fail", Reply(500, "internal error", "text/plain"))
    with pytest.raises(ConnectorError) as err:
        http(ctx(url=url + "?key={{secret:KEY}}"))
    assert "hunter2" not in str(err.value)
    assert "answered 500" in str(err.value) and "{{secret:KEY}}" in str(err.value)


def test_timeout(server: LocalServer, http) -> None:
    url = server.script("/slow", Reply(200, {"late": True}, delay=2.0))
    with pytest.raises(ConnectorTimeout, match="timed out after 0.2s"):
        http(ctx(url=url, timeout=0.2))


def test_non_json_body_is_returned_as_text(server: LocalServer, http) -> None:
    url = server.script("/page", Reply(200, "<h1>Maintenance</h1>", "text/html"))
    out = http(ctx(url=url))
    assert out["response"] == "<h1>Maintenance</h1>"
    assert out["headers"]["content-type"] == "text/html"
    with pytest.raises(ConnectorError, match="response body is not JSON"):
        http(ctx(url=url, responseMapping={"x": "response.a"}))


def test_a_body_declared_json_that_is_not_is_an_error(server: LocalServer, http) -> None:
    url = server.script("/liar", Reply(200, "not json at all", "application/json"))
    with pytest.raises(ConnectorError, match="says application/json but its body is not JSON"):
        http(ctx(url=url))


def test_expected_status_and_error_codes(server: LocalServer, http) -> None:
    url = server.script("/maybe", Reply(404, {"error": "no such customer"}))
    out = http(ctx(url=url, expectedStatus="2xx,404"))
    assert out["statusCode"] == 404
    with pytest.raises(BpmnError) as err:
        http(ctx(url=url, errorCodes={"404": "CUSTOMER_UNKNOWN"}))
    assert err.value.code == "CUSTOMER_UNKNOWN"
    assert err.value.variables == {"statusCode": 404, "response": {"error": "no such customer"}}
    with pytest.raises(ConnectorError, match="answered 404, expected 200-299"):
        http(ctx(url=url))


def test_oversized_responses_are_refused(server: LocalServer, http) -> None:
    url = server.script("/big", Reply(200, "x" * 5000, "text/plain"))
    with pytest.raises(ConnectorError, match="maxResponseBytes=1000"):
        http(ctx(url=url, maxResponseBytes=1000))


@pytest.mark.parametrize("inputs, message", [
    ({}, "input 'url' is required"),
    ({"url": "ftp://x"}, "must start with http"),
    ({"url": "http://x", "method": "FETCH"}, "method 'FETCH'"),
    ({"url": "http://x", "headers": ["a"]}, "'headers' must be a map"),
    ({"url": "http://x", "expectedStatus": "ok"}, "expectedStatus 'ok'"),
    ({"url": "http://x", "timeout": -1}, "timeout must be positive"),
    ({"url": "http://x", "payload": {"a": 1}}, "'payload' must be a string"),
    ({"url": "http://x", "headers": {"A": "{{secret:bad-name}}"}}, "malformed secret"),
])
def test_bad_inputs_are_named(http, inputs: dict, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        http(ctx(**inputs))


def test_a_500_then_success_on_retry_through_the_engine(server: LocalServer, clock) -> None:
    url = server.script("/charge", Reply(500, {"error": "db busy"}), Reply(200, {"charged": 42}))
    reg = Registry()
    reg.register("http", HttpConnector(), ConnectorPolicy(timeout=30, retries=3))
    engine = Engine(clock=clock, connectors=reg)
    io = f"""<camunda:inputOutput>
      <camunda:inputParameter name="url">{url}</camunda:inputParameter>
      <camunda:inputParameter name="method">POST</camunda:inputParameter>
      <camunda:inputParameter name="json">${{order}}</camunda:inputParameter>
      <camunda:outputParameter name="charged">${{response.charged}}</camunda:outputParameter>
    </camunda:inputOutput>"""
    engine.deploy(plain("pay", 'camunda:type="external" camunda:topic="http"', io))
    iid = engine.start("pay", {"order": {"amount": 42}})
    engine.run_due_jobs()
    (job,) = engine.jobs(instance_id=iid)
    assert "answered 500" in (job.last_error or "") and job.retries == 2
    later(clock, 3600)
    engine.run_due_jobs()
    view = engine.instance(iid)
    assert view.waiting == ["after"] and view.variables["charged"] == 42
    first, second = server.requests_to("/charge")
    assert json.loads(first.body) == json.loads(second.body) == {"amount": 42}
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_the_policy_timeout_caps_the_request_timeout(server: LocalServer) -> None:
    url = server.script("/slow2", Reply(200, {}, delay=2.0))
    reg = Registry()
    r = reg.register("http", HttpConnector(), ConnectorPolicy(timeout=0.3))
    c = ConnectorContext({"url": url, "timeout": 60}, "i", "a", 1, "k", "http")
    with pytest.raises(ConnectorTimeout, match=r"connector 'http' did not return within 0\.3s"):
        call_connector(r, c)
    assert c.timeout == 0.3
