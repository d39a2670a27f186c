"""The http connector: where a diagram may send requests (and its secrets), against a real
HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import ConnectorError
from connectors.builtin.http import HttpConnector, _host_matches
from connectors.registry import ConnectorContext
from tests.connectors.conftest import LocalServer, Reply

SECRET = "s3cr3t-value-1234"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


def call(connector: HttpConnector, **variables: object) -> dict:
    ctx = ConnectorContext(variables, "inst", "call", 1, "inst:call:1", "http",
                           secrets={"TOKEN": SECRET}.get, timeout=5.0)
    try:
        return connector(ctx)
    finally:
        connector.close()


def test_without_a_list_any_host_is_reachable(server: LocalServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATON_HTTP_ALLOWED_HOSTS", raising=False)
    url = server.script("/ok", Reply(200, {"fine": True}))
    assert call(HttpConnector(), url=url)["statusCode"] == 200


def test_a_host_off_the_list_is_never_contacted(server: LocalServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_HTTP_ALLOWED_HOSTS", "api.example.com, *.example.org")
    url = server.script("/metadata", Reply(200, {"secret": "cloud credentials"}))
    with pytest.raises(ConnectorError, match="requests to 127.0.0.1:.* are not allowed"):
        call(HttpConnector(), url=url, headers={"Authorization": "{{secret:TOKEN}}"})
    assert server.requests_to("/metadata") == []


def test_redirects_are_checked_too(server: LocalServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    target = server.script("/elsewhere", Reply(200, {"leak": True}))
    start = server.script("/start", Reply(302, b"", headers={
        "Location": target.replace("127.0.0.1", "localhost")}))
    allowed = HttpConnector(allowed_hosts=[f"127.0.0.1:{port}"])
    with pytest.raises(ConnectorError, match="requests to localhost"):
        call(allowed, url=start, followRedirects=True,
             headers={"X-Api-Key": "{{secret:TOKEN}}"})
    assert server.requests_to("/elsewhere") == []
    assert call(HttpConnector(allowed_hosts=["127.0.0.1"]),
                url=target)["response"] == {"leak": True}


def test_secrets_stay_out_of_error_messages(server: LocalServer) -> None:
    url = server.script("/echo", Reply(500, f"bad token {SECRET}", "text/plain"))
    with pytest.raises(ConnectorError) as info:
        call(HttpConnector(), url=url + "?key={{secret:TOKEN}}",
             headers={"Authorization": "Bearer {{secret:TOKEN}}"})
    message = str(info.value)
    assert SECRET not in message and "***" in message
    assert "{{secret:TOKEN}}" in message              # the template names what was sent


@pytest.mark.parametrize(("pattern", "host", "port", "allowed"), [
    ("api.example.com", "api.example.com", 443, True),
    ("api.example.com", "evil.com", 443, False),
    ("api.example.com", "api.example.com.evil.com", 443, False),
    ("*.example.com", "a.b.example.com", 443, True),
    ("*.example.com", "example.com", 443, False),
    ("*.example.com", "evilexample.com", 443, False),
    ("crm.internal:8443", "crm.internal", 8443, True),
    ("crm.internal:8443", "crm.internal", 443, False),
])
def test_host_patterns(pattern: str, host: str, port: int, allowed: bool) -> None:
    assert _host_matches(pattern, host, port) is allowed
