"""Who may call what: every route of the app, anonymously and in each role, plus IDOR,
CSRF, redirects, sessions, tokens and the security headers.

`REQUIRED_ROW` classifies every endpoint by the policy row it needs; a new route that is
not classified here fails `test_every_route_is_classified`, so nobody adds a page without
deciding who may use it. What each role may do is not written here but read from
engine.policy (tests/authz drives every row through every door with real data).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from engine import Engine
from engine.policy import POLICY, Actor, allows
from tests.security.conftest import PASSWORD, basic, bearer
from tests.security.diagrams import user_task_process

PUBLIC = {"static", "auth.login", "healthz", "api.openapi_document", "index",
          "engine_rest.openapi_document"}
ANY_USER = None
# The policy row (engine/policy.py) each endpoint needs whatever it is asked about, or
# ANY_USER: every logged-in user may call it and the engine then decides per task (or it
# is about the caller themself). The doors ask the engine; these rows only say which
# refusal to expect, so the expectations follow the policy when it changes.
DEFINITION_READ = ("definition", "read")
INSTANCE_READ = ("instance", "read")
INCIDENT_READ = ("incident", "read")
JOB_READ = ("job", "read")
EXTERNAL_READ = ("external_task", "read")
EXTERNAL_WORK = ("external_task", "work")
REQUIRED_ROW: dict[str, tuple[str, str] | None] = {
    "auth.logout": ANY_USER, "users.settings": ANY_USER,
    "users.user_list": ("identity", "manage"),
    "tasks.task_list": ANY_USER, "tasks.task_page": ANY_USER, "tasks.claim": ANY_USER,
    "tasks.unclaim": ANY_USER, "tasks.delegate": ANY_USER, "tasks.resolve": ANY_USER,
    "tasks.comment": ANY_USER, "tasks.complete": ANY_USER,
    "processes.process_list": DEFINITION_READ, "processes.process_page": DEFINITION_READ,
    "processes.diagram_svg": DEFINITION_READ, "processes.source": DEFINITION_READ,
    "processes.start": ("instance", "start"), "processes.upload": ("definition", "deploy"),
    "instances.instance_list": INSTANCE_READ, "instances.instance_page": INSTANCE_READ,
    "instances.cancel": ("instance", "cancel"), "incidents.incident_list": INCIDENT_READ,
    "incidents.retry": ("incident", "resolve"),
    # JSON API
    "api.me": ANY_USER, "api.list_tasks": ANY_USER, "api.task_detail": ANY_USER,
    "api.task_form": ANY_USER, "api.update": ANY_USER, "api.assign": ANY_USER,
    "api.claim": ANY_USER, "api.unclaim": ANY_USER, "api.delegate": ANY_USER,
    "api.resolve": ANY_USER, "api.complete": ANY_USER, "api.list_comments": ANY_USER,
    "api.add_comment": ANY_USER, "api.list_definitions": DEFINITION_READ,
    "api.get_definition": DEFINITION_READ, "api.definition_xml": DEFINITION_READ,
    "api.deploy": ("definition", "deploy"), "api.start": ("instance", "start"),
    "api.correlate_message": ("message", "correlate"),
    "api.broadcast_signal": ("signal", "broadcast"), "api.list_instances": INSTANCE_READ,
    "api.get_instance": INSTANCE_READ, "api.instance_history": INSTANCE_READ,
    "api.list_incidents": INCIDENT_READ, "api.cancel_instance": ("instance", "cancel"),
    "api.modify_instance": ("instance", "modify"),
    "api.adhoc_activities": INSTANCE_READ,
    "instances.start_adhoc": ("instance", "start"),
    "instances.complete_adhoc": ("instance", "start"),
    "api.start_adhoc_activity": ("instance", "start"),
    "api.complete_adhoc": ("instance", "start"),
    "api.retry_incident": ("incident", "resolve"),
    # Camunda REST
    "engine_rest._engines": ANY_USER, "engine_rest.tasks": ANY_USER,
    "engine_rest.tasks_count": ANY_USER, "engine_rest.get_task": ANY_USER,
    "engine_rest.task_variables": ANY_USER, "engine_rest.claim_task": ANY_USER,
    "engine_rest.unclaim_task": ANY_USER, "engine_rest.complete_user_task": ANY_USER,
    "engine_rest.definitions": DEFINITION_READ, "engine_rest.definitions_count": DEFINITION_READ,
    "engine_rest.definition_by_id": DEFINITION_READ,
    "engine_rest.definition_by_key": DEFINITION_READ, "engine_rest.xml_by_id": DEFINITION_READ,
    "engine_rest.xml_by_key": DEFINITION_READ,
    "engine_rest.start_by_id": ("instance", "start"),
    "engine_rest.start_by_key": ("instance", "start"),
    "engine_rest.definition_by_key_and_tenant": DEFINITION_READ,
    "engine_rest.start_by_key_and_tenant": ("instance", "start"),
    "engine_rest.deploy": ("definition", "deploy"),
    "engine_rest.instances": INSTANCE_READ, "engine_rest.instances_count": INSTANCE_READ,
    "engine_rest.get_instance": INSTANCE_READ, "engine_rest.get_variables": INSTANCE_READ,
    "engine_rest.get_variable": INSTANCE_READ, "engine_rest.get_variable_data": INSTANCE_READ,
    "engine_rest.cancel_instance": ("instance", "cancel"),
    "engine_rest.modify_variables": ("instance", "variables"),
    "engine_rest.put_variable": ("instance", "variables"),
    "engine_rest.modify_instance": ("instance", "modify"),
    "engine_rest.correlate": ("message", "correlate"),
    "engine_rest.jobs": JOB_READ, "engine_rest.jobs_count": JOB_READ,
    "engine_rest.get_job": JOB_READ, "engine_rest.put_job_retries": ("job", "manage"),
    "engine_rest.incidents": INCIDENT_READ, "engine_rest.incidents_count": INCIDENT_READ,
    "engine_rest.get_incident": INCIDENT_READ,
    "engine_rest.external_tasks": EXTERNAL_READ,
    "engine_rest.external_tasks_count": EXTERNAL_READ,
    "engine_rest.get_external_task": EXTERNAL_READ, "engine_rest.error_details": EXTERNAL_READ,
    "engine_rest.fetch_and_lock": EXTERNAL_WORK, "engine_rest.complete_external": EXTERNAL_WORK,
    "engine_rest.failure": EXTERNAL_WORK, "engine_rest.bpmn_error": EXTERNAL_WORK,
    "engine_rest.extend_lock": EXTERNAL_WORK, "engine_rest.unlock": EXTERNAL_WORK,
    "engine_rest.set_retries": ("external_task", "retries"),
    "engine_rest.external_tasks_post": EXTERNAL_READ,
    "engine_rest.external_tasks_count_post": EXTERNAL_READ,
    "engine_rest.lock": EXTERNAL_WORK,
    "engine_rest.historic_instances": INSTANCE_READ,
    "engine_rest.historic_instances_count": INSTANCE_READ,
    "engine_rest.historic_instance": INSTANCE_READ,
    "engine_rest.task_form_key": ANY_USER, "engine_rest.task_form_variables": ANY_USER,
    "engine_rest.version": ANY_USER,
}
# staff, analyst, supervisor: the kinds whose answers differ by role (admin may do all)
ROLE_USERS = ("carol", "ann", "sue")


@pytest.fixture
def ids(engine: Engine) -> dict[str, str]:
    engine.deploy(user_task_process().encode())
    instance = engine.start("plain", {"secret": "for adjusters only"})
    (task,) = engine.tasks()
    return {"key": "plain", "version": "1", "task_id": task.id, "instance_id": instance,
            "definition_id": engine.definitions()[0].id, "incident_id": "no-such-incident",
            "job_id": "no-such-job", "name": "secret", "filename": "baton.css",
            "activity_id": "no-such-activity", "adhoc_id": "no-such-adhoc",
            "tenant_id": "no-such-tenant"}


def routes(app: Flask, ids: dict[str, str]):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: ids[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_route_is_classified(app: Flask, ids) -> None:
    unknown = {endpoint for endpoint, _, _ in routes(app, ids)
               if endpoint not in PUBLIC and endpoint not in REQUIRED_ROW}
    assert not unknown, f"classify these endpoints in REQUIRED_ROW: {sorted(unknown)}"
    rows = {row for row in REQUIRED_ROW.values() if row is not ANY_USER}
    assert rows <= set(POLICY), "REQUIRED_ROW names rows the policy does not have"


def test_anonymous_callers_are_sent_to_log_in_everywhere(app: Flask, ids) -> None:
    client = app.test_client()
    for endpoint, method, url in routes(app, ids):
        if endpoint in PUBLIC:
            continue
        r = client.open(url, method=method, json={} if method != "GET" else None)
        where = f"{method} {url}"
        if url.startswith(("/api/", "/engine-rest/")):
            assert r.status_code == 401, where
        elif method == "GET":
            assert r.status_code == 302 and "/login" in r.headers["Location"], where
        else:   # a form post without a session has no CSRF token either
            assert r.status_code in (302, 400), where


def answers_by_policy(app: Flask, engine: Engine, ids, call, prefixes: tuple[str, ...]) -> int:
    """Call every route under `prefixes` that needs a policy row, as each of ROLE_USERS:
    403 where the policy refuses the user the row (whatever the body), neither 401 nor 403
    where it allows it. Returns how many refusals were checked."""
    refused = 0
    for user in ROLE_USERS:
        actor = Actor(user, engine.get_user(user))
        for endpoint, method, url in routes(app, ids):
            row = REQUIRED_ROW.get(endpoint)
            if row is ANY_USER or not url.startswith(prefixes):
                continue
            status = call(user, method, url).status_code
            where = f"{user} {method} {url} (policy row {row})"
            if allows(actor, *row):
                assert status not in (401, 403), f"{where}: {status}"
            else:
                assert status == 403, f"{where}: {status}"
                refused += 1
    return refused


def test_web_and_api_roles(app: Flask, engine: Engine, ids, browser) -> None:
    tokens = {u: engine.new_api_token(u) for u in ROLE_USERS}
    web = {u: browser(u) for u in ROLE_USERS}
    api = app.test_client()

    def call(user: str, method: str, url: str):
        if url.startswith("/api/"):
            return api.open(url, method=method, headers=bearer(tokens[user]), json={})
        return web[user].get(url) if method == "GET" else web[user].post(url)

    assert answers_by_policy(app, engine, ids, call, ("/api/", "/admin/", "/processes",
                                                      "/instances", "/incidents")) > 25


def test_engine_rest_roles_follow_the_policy(app: Flask, engine: Engine, ids) -> None:
    client = app.test_client()

    def call(user: str, method: str, url: str):
        return client.open(url, method=method, headers=basic(user), json={})

    assert answers_by_policy(app, engine, ids, call, ("/engine-rest/",)) > 25


def test_a_task_of_another_group_is_out_of_reach(app: Flask, engine: Engine, ids,
                                                 browser) -> None:
    task = ids["task_id"]
    carol = browser("carol")                     # underwriters; the task is for adjusters
    for url, data in ((f"/tasks/{task}/claim", {}), (f"/tasks/{task}/complete", {}),
                      (f"/tasks/{task}/comment", {"text": "hi"}),
                      (f"/tasks/{task}/delegate", {"to": "carol"})):
        assert carol.post(url, data).status_code == 403, url
    assert carol.get(f"/tasks/{task}").status_code == 403
    api, headers = app.test_client(), bearer(engine.new_api_token("carol"))
    for method, url, body in (("GET", f"/api/tasks/{task}", None),
                              ("GET", f"/api/tasks/{task}/comments", None),
                              ("POST", f"/api/tasks/{task}/claim", {}),
                              ("POST", f"/api/tasks/{task}/complete", {}),
                              ("POST", f"/api/tasks/{task}/comments", {"text": "hi"}),
                              ("PATCH", f"/api/tasks/{task}", {"priority": 99}),
                              ("POST", f"/api/tasks/{task}/assign", {"user": "carol"})):
        r = api.open(url, method=method, headers=headers, json=body)
        assert r.status_code == 403, f"{method} {url}"
        assert "for adjusters only" not in r.get_data(as_text=True)
    r = api.get(f"/engine-rest/task/{task}/variables", headers=basic("carol"))
    assert r.status_code == 404
    assert engine.task(task).assignee is None and not engine.comments(task_id=task)


def test_every_form_post_needs_the_csrf_token(app: Flask, ids, browser) -> None:
    root = browser("root")
    for _endpoint, method, url in routes(app, ids):
        if method != "POST" or url.startswith(("/api/", "/engine-rest/")):
            continue
        r = root.client.post(url, data={"text": "x", "to": "alice"})
        assert r.status_code == 400, f"POST {url} without a token: {r.status_code}"
        assert "security token" in r.get_data(as_text=True)


def test_login_form_needs_the_csrf_token(app: Flask) -> None:
    r = app.test_client().post("/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 400


def test_api_session_calls_that_change_state_need_x_requested_with(app: Flask, ids,
                                                                   browser) -> None:
    alice = browser("alice")
    url = f"/api/tasks/{ids['task_id']}/claim"
    assert alice.client.post(url, json={}).status_code == 403
    assert alice.client.post(url, json={}, headers={"X-Requested-With": "fetch"}
                             ).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                    "/\\evil.example/", "\\\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", " //evil.example"])
def test_login_never_redirects_off_site(app: Flask, browser, target: str) -> None:
    b = browser(None)
    page = b.client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    r = b.client.post("/login", query_string={"next": target},
                      data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    location = r.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and "\t" not in location


def test_wrong_logins_do_not_tell_which_part_was_wrong(app: Flask, browser) -> None:
    known, unknown = browser(None).login("alice", "wrong-password"), browser(None).login(
        "nobody", "wrong-password")
    assert known.status_code == unknown.status_code == 401
    assert ("Unknown user name or wrong password." in known.get_data(as_text=True)
            and "Unknown user name or wrong password." in unknown.get_data(as_text=True))
    client = app.test_client()
    a = client.get("/engine-rest/engine", headers=basic("alice", "wrong-password"))
    b = client.get("/engine-rest/engine", headers=basic("nobody", "wrong-password"))
    assert a.status_code == b.status_code == 401 and a.get_json() == b.get_json()


def test_a_changed_password_ends_existing_sessions(engine: Engine, browser) -> None:
    alice = browser("alice")
    assert alice.get("/tasks").status_code == 200
    engine.update_user("alice", password="another long password")
    assert alice.get("/tasks").status_code == 302


def test_revoked_and_forged_tokens_are_refused(app: Flask, engine: Engine) -> None:
    client = app.test_client()
    token = engine.new_api_token("alice")
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    user, _, secret = token.partition(".")
    forged = f"root.{secret}"
    assert client.get("/api/me", headers=bearer(forged)).status_code == 401
    engine.revoke_api_token("alice")
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    assert client.get("/engine-rest/task", headers=bearer(token)).status_code == 401


def test_session_cookie_flags(app: Flask, engine: Engine, browser) -> None:
    from tasklist_ui.app import create_app

    b = browser(None)
    page = b.client.get("/login")
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_tls = create_app(engine, {"TESTING": True, "SECRET_KEY": "x", "BATON_HTTPS": True})
    r = behind_tls.test_client().get("/login")
    assert "Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_pages_and_api(app: Flask, browser) -> None:
    page = browser("alice").get("/tasks")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    api = app.test_client().get("/api/me")
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_engine_rest_refuses_cross_site_browser_posts(app: Flask, ids) -> None:
    """A browser that remembers Basic credentials sends them with a form another site
    posts (text/plain bodies are JSON enough for a lenient parser)."""
    client = app.test_client()
    url = "/engine-rest/process-definition/key/plain/start"
    body = '{"variables": {"x": {"value": 1}}}'
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        r = client.post(url, data=body, content_type="text/plain",
                        headers={**basic("ann"), **headers})
        assert r.status_code == 403, headers
    same = client.post(url, data=body, content_type="application/json",
                       headers={**basic("ann"), "Origin": "http://localhost",
                                "Sec-Fetch-Site": "same-origin"})
    worker = client.post(url, data=body, content_type="application/json", headers=basic("ann"))
    assert same.status_code == worker.status_code == 200
