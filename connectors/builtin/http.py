"""The built-in `http` connector: one HTTP request per task, with httpx.

Inputs (the task's variables after `camunda:inputOutput` mapping; names follow Camunda
Connect's http-connector where it has one):

    url              required; http or https; may hold {{secret:NAME}} placeholders
    method           GET (default), POST, PUT, PATCH, DELETE, HEAD, OPTIONS
    headers          dict of header -> value; values may hold {{secret:NAME}} placeholders
    query            dict of query parameters (values may hold placeholders)
    json             any JSON value, sent as the body with Content-Type application/json
    payload          a string body, sent as is (Camunda Connect's name; `body` also works)
    expectedStatus   200, [200, 201], "2xx", "200-299" or "2xx,404" (default "2xx")
    errorCodes       {"404": "NOT_FOUND", "4xx": "REJECTED"}: statuses that are business
                     outcomes, thrown as BpmnError(code) for an error boundary to catch
    responseMapping  {"score": "response.result.score", "status": "statusCode",
                      "etag": "headers.etag"}: output variables picked from the response
    timeout          seconds (default 30, never more than the connector policy's timeout)
    maxResponseBytes default 1 MiB; a larger body is an error (it would bloat the instance)
    followRedirects  default false

Where requests may go: anywhere, unless the server sets `BATON_HTTP_ALLOWED_HOSTS` (comma
separated: `api.example.com`, `*.example.com`, `crm.internal:8443`) or the connector is built
with `allowed_hosts=`. A diagram chooses its URLs and may send `{{secret:NAME}}` values in
them, so where analysts who upload diagrams should not be able to reach internal services
(or send a secret to a host of their choosing), set the list: every request, redirects
included, must then go to a listed host.

Output: the `responseMapping` variables when given; otherwise `statusCode`, `response` (the
parsed JSON body, or the text when the body is not JSON) and `headers` (lower-cased), as
Camunda Connect returns them. A status outside `expectedStatus` (and not in `errorCodes`) is
a `ConnectorError`, so the job executor retries it and then opens an incident. Requests
other than GET/HEAD/OPTIONS carry `Idempotency-Key: <ctx.idempotency_key>` unless the
headers set one, so services that deduplicate see each retry as the same request.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from connectors.errors import BpmnError, ConnectorError, ConnectorTimeout
from connectors.registry import ConnectorContext, ConnectorPolicy
from connectors.secrets import expand

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 1 << 20
ALLOWED_HOSTS_ENV = "BATON_HTTP_ALLOWED_HOSTS"
_STATUS_PART = re.compile(r"^\s*(?:(\d)xx|(\d{3})\s*-\s*(\d{3})|(\d{3}))\s*$", re.IGNORECASE)


class HttpConnector:
    """Call an HTTP endpoint (see the module docstring for the inputs)."""

    policy = ConnectorPolicy(timeout=120.0, retries=3, backoff=10.0)

    def __init__(self, transport: httpx.BaseTransport | None = None,
                 allowed_hosts: Iterable[str] | None = None) -> None:
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.allowed_hosts = (_host_patterns(allowed_hosts) if allowed_hosts is not None
                              else _host_patterns_from_env())

    @property
    def client(self) -> httpx.Client:
        # One pooled client per connector (httpx.Client is thread-safe), made on first use.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        transport=self._transport, follow_redirects=False,
                        event_hooks={"request": [self._check_destination]})
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _check_destination(self, request: httpx.Request) -> None:
        """Every request the client sends, a redirect's too, must go to an allowed host."""
        if self.allowed_hosts is None:
            return
        host = request.url.host.lower()
        port = request.url.port or {"http": 80, "https": 443}.get(request.url.scheme)
        if not any(_host_matches(pattern, host, port) for pattern in self.allowed_hosts):
            where = host if port is None else f"{host}:{port}"
            raise ConnectorError(f"http connector: requests to {where} are not allowed "
                                 f"(allowed hosts: {', '.join(self.allowed_hosts)}; "
                                 f"set {ALLOWED_HOSTS_ENV})")

    def __call__(self, ctx: ConnectorContext) -> dict[str, Any]:
        req = _Request.from_inputs(ctx)
        try:
            with self.client.stream(
                req.method, req.url, headers=req.headers, params=req.query,
                content=req.content, timeout=httpx.Timeout(req.timeout),
                follow_redirects=req.follow_redirects,
            ) as response:
                body = _read_limited(response, req.max_bytes, req.label)
        except httpx.TimeoutException as e:
            raise ConnectorTimeout(f"{req.label} timed out after {req.timeout:g}s "
                                   f"({type(e).__name__})") from None
        except httpx.HTTPError as e:
            raise ConnectorError(f"{req.label} failed: {type(e).__name__}: "
                                 f"{_redact(str(e), req)}") from None
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        parsed = _parse_body(body, headers.get("content-type", ""), response.encoding, req.label)
        code = _error_code(req.error_codes, status)
        if code is not None:
            raise BpmnError(code, f"{req.label} answered {status}",
                            {"statusCode": status, "response": parsed.value})
        if not _status_ok(req.expected, status):
            raise ConnectorError(f"{req.label} answered {status}, expected {req.expected_text}: "
                                 f"{_redact(_snippet(body), req)}")
        full = {"statusCode": status, "response": parsed.value, "headers": headers}
        if req.mapping is None:
            return full
        return {var: _pick(full, path, parsed, req.label, var)
                for var, path in req.mapping.items()}


class _Parsed:
    __slots__ = ("value", "is_json")

    def __init__(self, value: Any, is_json: bool) -> None:
        self.value = value
        self.is_json = is_json


class _Request:
    """The validated inputs of one call; `label` names it in errors without secrets."""

    method: str
    url: str
    label: str
    headers: dict[str, str]
    query: dict[str, str]
    content: bytes | None
    expected: list[tuple[int, int]]
    expected_text: str
    error_codes: dict[str, str]
    mapping: dict[str, str] | None
    timeout: float
    max_bytes: int
    follow_redirects: bool
    secrets_used: list[str]

    @classmethod
    def from_inputs(cls, ctx: ConnectorContext) -> _Request:
        v = ctx.variables
        r = cls()
        r.secrets_used = []

        def lookup(name: str) -> str:
            value = ctx.secret(name)
            r.secrets_used.append(value)
            return value

        url = v.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConnectorError("http connector: input 'url' is required (a string)")
        method = v.get("method") or "GET"
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise ConnectorError(f"http connector: method {method!r} is not one of "
                                 f"{', '.join(sorted(METHODS))}")
        r.method = method.upper()
        r.label = f"{r.method} {url.strip()}"
        r.url = expand(url.strip(), lookup, "http connector url")
        if not r.url.lower().startswith(("http://", "https://")):
            raise ConnectorError(f"http connector: url must start with http:// or https://, "
                                 f"not {url!r}")
        r.headers = {str(k): expand(_text(val, f"header '{k}'"), lookup,
                                    f"http connector header '{k}'")
                     for k, val in _mapping(v.get("headers"), "headers").items()}
        r.query = {str(k): expand(_text(val, f"query parameter '{k}'"), lookup,
                                  f"http connector query parameter '{k}'")
                   for k, val in _mapping(v.get("query"), "query").items()}
        r.content = None
        if v.get("json") is not None:
            try:
                r.content = json.dumps(v["json"], separators=(",", ":")).encode()
            except (TypeError, ValueError) as e:
                raise ConnectorError(f"http connector: input 'json' is not JSON: {e}") from None
            if not any(k.lower() == "content-type" for k in r.headers):
                r.headers["Content-Type"] = "application/json"
        else:
            raw = v.get("payload", v.get("body"))
            if raw is not None:
                if not isinstance(raw, str):
                    raise ConnectorError("http connector: input 'payload' must be a string "
                                         "(use 'json' to send a JSON value)")
                r.content = raw.encode()
        if r.method not in SAFE_METHODS and not any(
                k.lower() == "idempotency-key" for k in r.headers):
            r.headers["Idempotency-Key"] = ctx.idempotency_key
        expected = v.get("expectedStatus", "2xx")
        r.expected, r.expected_text = _parse_expected(expected)
        r.error_codes = {str(k).strip().lower(): str(c)
                         for k, c in _mapping(v.get("errorCodes"), "errorCodes").items()}
        mapping = v.get("responseMapping")
        r.mapping = None if mapping is None else {
            str(k): _text(p, f"responseMapping '{k}'")
            for k, p in _mapping(mapping, "responseMapping").items()}
        limit = ctx.timeout
        timeout = v.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConnectorError(f"http connector: timeout must be positive seconds, "
                                 f"not {timeout!r}")
        r.timeout = float(min(timeout, limit) if limit else timeout)
        max_bytes = v.get("maxResponseBytes", DEFAULT_MAX_BYTES)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ConnectorError("http connector: maxResponseBytes must be a positive integer")
        r.max_bytes = max_bytes
        r.follow_redirects = bool(v.get("followRedirects", False))
        return r


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConnectorError(f"http connector: input '{name}' must be a map, "
                             f"not {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise ConnectorError(f"http connector: {where} must be a string, not {type(value).__name__}")


def _parse_expected(expected: Any) -> tuple[list[tuple[int, int]], str]:
    parts: list[Any]
    if isinstance(expected, bool):
        parts = [expected]
    elif isinstance(expected, int):
        parts = [expected]
    elif isinstance(expected, str):
        parts = [p for p in expected.split(",") if p.strip()]
    elif isinstance(expected, list | tuple):
        parts = list(expected)
    else:
        parts = [expected]
    ranges: list[tuple[int, int]] = []
    for p in parts:
        if isinstance(p, int) and not isinstance(p, bool) and 100 <= p <= 599:
            ranges.append((p, p))
            continue
        m = _STATUS_PART.match(str(p)) if isinstance(p, str | int) else None
        if m is None or isinstance(p, bool):
            raise ConnectorError(f"http connector: expectedStatus {expected!r} is not a status, "
                                 "a list of statuses, '2xx' or '200-299'")
        if m.group(1):
            d = int(m.group(1)) * 100
            ranges.append((d, d + 99))
        elif m.group(2):
            ranges.append((int(m.group(2)), int(m.group(3))))
        else:
            ranges.append((int(m.group(4)), int(m.group(4))))
    if not ranges:
        raise ConnectorError("http connector: expectedStatus is empty")
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)
    return ranges, text


def _status_ok(ranges: list[tuple[int, int]], status: int) -> bool:
    return any(a <= status <= b for a, b in ranges)


def _error_code(codes: dict[str, str], status: int) -> str | None:
    if not codes:
        return None
    return codes.get(str(status)) or codes.get(f"{status // 100}xx")


def _read_limited(response: httpx.Response, limit: int, label: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ConnectorError(f"{label}: the response has {declared} bytes, more than "
                             f"maxResponseBytes={limit}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ConnectorError(f"{label}: the response is larger than "
                                 f"maxResponseBytes={limit}")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_body(body: bytes, content_type: str, encoding: str | None, label: str) -> _Parsed:
    ctype = content_type.split(";")[0].strip().lower()
    text = body.decode(encoding or "utf-8", errors="replace")
    if ctype == "application/json" or ctype.endswith("+json"):
        if not body.strip():
            return _Parsed(None, True)
        try:
            return _Parsed(json.loads(text), True)
        except ValueError as e:
            raise ConnectorError(f"{label}: the response says {ctype} but its body is not "
                                 f"JSON ({e}): {_snippet(body)}") from None
    return _Parsed(text if body else None, False)


def _pick(full: dict[str, Any], path: str, parsed: _Parsed, label: str, var: str) -> Any:
    """Follow a dotted path: `statusCode`, `headers.<name>`, `response[.key|.index]...`."""
    parts = [p for p in path.strip().split(".") if p != ""]
    if not parts:
        raise ConnectorError(f"responseMapping '{var}': empty path")
    head = {"body": "response", "status": "statusCode"}.get(parts[0], parts[0])
    if head not in full:
        raise ConnectorError(f"responseMapping '{var}': path {path!r} must start with "
                             "'response', 'statusCode' or 'headers'")
    if head == "response" and len(parts) > 1 and not parsed.is_json:
        raise ConnectorError(f"{label}: responseMapping '{var}' reads {path!r} but the "
                             f"response body is not JSON")
    value: Any = full[head]
    for p in parts[1:]:
        if head == "headers":
            p = p.lower()
        if isinstance(value, Mapping):
            value = value.get(p)
        elif isinstance(value, list) and p.lstrip("-").isdigit():
            i = int(p)
            value = value[i] if -len(value) <= i < len(value) else None
        else:
            return None
    return value


def _host_patterns(hosts: Iterable[str]) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in hosts if h and h.strip())


def _host_patterns_from_env() -> tuple[str, ...] | None:
    raw = os.environ.get(ALLOWED_HOSTS_ENV, "")
    return _host_patterns(raw.split(",")) if raw.strip() else None


def _host_matches(pattern: str, host: str, port: int | None) -> bool:
    """`api.example.com`, `*.example.com` (any subdomain), either with `:port`."""
    name, _, want_port = pattern.rpartition(":") if pattern.count(":") == 1 else (pattern, "", "")
    if want_port and (not want_port.isdigit() or port != int(want_port)):
        return False
    if name.startswith("*."):
        return host.endswith(name[1:]) and len(host) > len(name) - 1
    return host == name.strip("[]")


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    return text + ("..." if len(body) > limit else "") if text else "(empty body)"


def _redact(text: str, req: _Request) -> str:
    for value in req.secrets_used:
        if value:
            text = text.replace(value, "***")
    return text
