"""Issue 13: the ad-hoc subprocess (BPMN 2.0.2 10.3.5, 13.3.5).

Its activities without incoming flow are enabled; someone starts them, in any order and
as often as wanted (ordering="Parallel", the default) or one at a time ("Sequential").
After each inner activity completes the completionCondition is evaluated: true completes
the subprocess without running further inner activities (cancelling what still runs with
cancelRemainingInstances, the default; otherwise letting it finish). Without a condition
it is completed on request once nothing runs inside."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_login import LoginManager

from engine.errors import EngineError, NotFound
from tests.runtime.conftest import bpmn, flows


def _diagram(*, ordering: str = "Parallel", condition: str | None = "${done}",
             cancel: bool | None = None) -> str:
    attrs = f' ordering="{ordering}"'
    if cancel is not None:
        attrs += f' cancelRemainingInstances="{str(cancel).lower()}"'
    completion = (f'<completionCondition xsi:type="tFormalExpression">{condition}'
                  '</completionCondition>') if condition else ""
    return bpmn(
        '<startEvent id="s"/>'
        f'<adHocSubProcess id="case"{attrs}>'
        '<userTask id="research" name="Research"/><userTask id="call"/>'
        '<scriptTask id="close" scriptFormat="python"><script>done = True</script></scriptTask>'
        '<userTask id="report"/>' + flows("research>report") + completion +
        '</adHocSubProcess><userTask id="after"/><endEvent id="e"/>'
        + flows("s>case", "case>after", "after>e"))


def _startable(h, iid) -> dict[str, bool]:
    return {a["activityId"]: a["startable"] for a in h.engine.adhoc_activities(iid)}


def test_nothing_starts_by_itself_and_the_enabled_activities_are_listed(h):
    h.deploy(_diagram())
    iid = h.start(done=False)
    assert h.tasks(iid) == []
    assert h.engine.instance(iid).status == "running"
    assert _startable(h, iid) == {"research": True, "call": True, "close": True}
    assert h.engine.adhoc_activities(iid)[0]["adhocId"] == "case"


def test_parallel_activities_start_in_any_order_and_the_condition_completes(h):
    h.deploy(_diagram())
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "call")
    h.engine.start_adhoc_activity(iid, "call")            # the same one twice, in parallel
    h.engine.start_adhoc_activity(iid, "research")
    assert h.tasks(iid) == ["call", "call", "research"]
    h.complete("research", iid)                           # -> report (a flow inside)
    assert h.tasks(iid) == ["call", "call", "report"]
    [first, _second] = [t for t in h.engine.tasks(instance_id=iid) if t.activity_id == "call"]
    h.engine.complete_task(first.id, {"done": True})     # condition true: the rest cancelled
    assert h.tasks(iid) == ["after"]
    assert h.cancelled(iid).count("call") == 1 and "report" in h.cancelled(iid)
    assert "case" in h.completed(iid)
    assert h.engine.adhoc_activities(iid) == []


def test_a_synchronous_activity_can_complete_the_subprocess(h):
    h.deploy(_diagram())
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "research")
    h.engine.start_adhoc_activity(iid, "close")           # sets done = True
    assert h.tasks(iid) == ["after"]
    assert "research" in h.cancelled(iid)


def test_without_cancel_remaining_the_running_ones_finish_first(h):
    h.deploy(_diagram(cancel=False))
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "research")
    h.engine.start_adhoc_activity(iid, "call")
    h.complete("call", iid, done=True)
    assert h.tasks(iid) == ["research"]                   # still running, not cancelled
    assert _startable(h, iid) == {"research": False, "call": False, "close": False}
    with pytest.raises(EngineError, match="completing"):
        h.engine.start_adhoc_activity(iid, "close")
    h.complete("research", iid)                           # no further activity: not `report`
    assert h.tasks(iid) == ["after"]
    assert "report" not in h.completed(iid) + h.cancelled(iid)


def test_sequential_ordering_runs_one_activity_at_a_time(h):
    h.deploy(_diagram(ordering="Sequential"))
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "research")
    assert _startable(h, iid)["call"] is False
    with pytest.raises(EngineError, match="one at a time"):
        h.engine.start_adhoc_activity(iid, "call")
    h.complete("research", iid)
    with pytest.raises(EngineError, match="one at a time"):  # `report` follows by its flow
        h.engine.start_adhoc_activity(iid, "call")
    h.complete("report", iid)
    h.engine.start_adhoc_activity(iid, "call")
    h.complete("call", iid, done=True)
    assert h.tasks(iid) == ["after"]


def test_only_enabled_activities_can_be_started(h):
    h.deploy(_diagram())
    iid = h.start(done=False)
    for activity in ("report", "after", "nope", "case"):
        with pytest.raises(NotFound, match=f"'{activity}' is not an activity of an ad-hoc "
                                            "subprocess that can be started on request"):
            h.engine.start_adhoc_activity(iid, activity)


def test_variables_given_with_the_start_are_set_first(h):
    h.deploy(_diagram())
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "call", {"topic": "refund"})
    assert h.vars(iid)["topic"] == "refund"


def test_without_completion_condition_it_is_completed_on_request(h):
    h.deploy(_diagram(condition=None))
    iid = h.start()
    h.engine.start_adhoc_activity(iid, "call")
    h.complete("call", iid)
    assert h.tasks(iid) == []                             # idle, still open
    h.engine.start_adhoc_activity(iid, "research")
    with pytest.raises(EngineError, match="still has activities running"):
        h.engine.complete_adhoc(iid, "case")
    h.complete("research", iid)
    h.complete("report", iid)
    h.engine.complete_adhoc(iid, "case")
    assert h.tasks(iid) == ["after"]
    with pytest.raises(EngineError, match="not running"):
        h.engine.complete_adhoc(iid, "case")


def test_a_boundary_event_interrupts_the_whole_subprocess(h):
    h.deploy(_diagram().replace(
        '<userTask id="after"/>',
        '<userTask id="after"/><boundaryEvent id="late" attachedToRef="case">'
        '<timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>'
        '</boundaryEvent><userTask id="escalated"/>'
        '<sequenceFlow id="late_escalated" sourceRef="late" targetRef="escalated"/>'))
    iid = h.start(done=False)
    h.engine.start_adhoc_activity(iid, "call")
    h.advance(hours=2)
    assert h.tasks(iid) == ["escalated"]
    assert {"case", "call"} <= set(h.cancelled(iid))


def test_a_start_event_inside_is_refused(h):
    from engine.bpmn import BpmnValidationError

    with pytest.raises(BpmnValidationError, match="no start events"):
        h.deploy(bpmn('<startEvent id="s"/><adHocSubProcess id="case"><startEvent id="x"/>'
                      '<task id="t"/></adHocSubProcess><endEvent id="e"/>'
                      + flows("s>case", "case>e")))


# ------------------------------------------------------------------ the /api door


def _api(engine):
    from tasklist_ui.api import bp

    app = Flask("baton-adhoc-test")
    app.config.update(SECRET_KEY="test", TESTING=True)
    app.extensions["baton"] = engine
    LoginManager(app).user_loader(lambda user_id: None)
    app.register_blueprint(bp)
    client = app.test_client()

    def call(method: str, user: str, path: str, json=None):
        token = engine.new_api_token(user)
        return client.open(path, method=method, json=json,
                           headers={"Authorization": f"Bearer {token}"})
    return call


def test_the_api_lists_starts_and_completes(h, monkeypatch):
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    for uid, roles in (("ann", ["staff"]), ("ana", ["analyst"]), ("ada", ["admin"])):
        h.engine.add_user(uid, uid.title(), "pw-pw-pw-pw", roles, [])
    h.deploy(_diagram(condition=None))
    iid = h.start()
    api = _api(h.engine)
    listed = api("GET", "ana", f"/api/instances/{iid}/adhoc")
    assert listed.status_code == 200
    assert {a["activityId"] for a in listed.get_json()} == {"research", "call", "close"}
    started = api("POST", "ann", f"/api/instances/{iid}/adhoc/call",
                  {"variables": {"topic": "x"}})
    assert started.status_code == 200, started.get_json()
    assert h.tasks(iid) == ["call"] and h.vars(iid)["topic"] == "x"
    assert api("POST", "ann", f"/api/instances/{iid}/adhoc/report").status_code == 404
    assert api("POST", "ann", f"/api/instances/{iid}/adhoc/case/complete").status_code == 400
    h.complete("call", iid)
    done = api("POST", "ann", f"/api/instances/{iid}/adhoc/case/complete")
    assert done.status_code == 200 and h.tasks(iid) == ["after"]


# ------------------------------------------------------------------ the web tasklist


def test_the_instance_page_starts_and_completes(h, monkeypatch):
    import re

    from tasklist_ui.app import create_app

    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    h.engine.add_user("ana", "Ana", "pw-pw-pw-pw", ["analyst"], [])
    h.deploy(_diagram(condition=None))
    iid = h.start()
    client = create_app(h.engine, {"TESTING": True, "SECRET_KEY": "t"}).test_client()
    token = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
    login = token.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "ana", "password": "pw-pw-pw-pw",
                                "csrf_token": login})
    page = client.get(f"/instances/{iid}").get_data(as_text=True)
    assert "Ad-hoc activities" in page and "Research" in page
    csrf = token.search(page).group(1)
    r = client.post(f"/instances/{iid}/adhoc/research", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert h.tasks(iid) == ["research"]
    client.post(f"/instances/{iid}/adhoc/case/complete", data={"csrf_token": csrf})
    assert h.tasks(iid) == ["research"]          # refused while research runs (flashed)
    h.complete("research", iid)
    h.complete("report", iid)
    client.post(f"/instances/{iid}/adhoc/case/complete", data={"csrf_token": csrf})
    assert h.tasks(iid) == ["after"]
