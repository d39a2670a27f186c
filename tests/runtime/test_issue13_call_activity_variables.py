"""Issue 13: a call activity without camunda:in/out mappings hands the called instance a
copy of all variables and takes back only what the child changed (created, updated,
deleted), so an update the caller made meanwhile is not lost. With explicit
`camunda:out variables="all"`, Camunda 7's rule applies: every child variable is copied."""

from __future__ import annotations

from tests.runtime.conftest import bpmn, flows

CHILD = bpmn('<startEvent id="cs"/><userTask id="child_task"/><endEvent id="ce"/>'
             + flows("cs>child_task", "child_task>ce"), pid="child")


def _parent(mappings: str = "") -> str:
    """A parallel split: one branch calls `child`, the other waits at `edit` (where the
    caller changes variables while the child runs)."""
    return bpmn(
        '<startEvent id="s"/><parallelGateway id="fork"/>'
        f'<callActivity id="call" calledElement="child">{mappings}</callActivity>'
        '<userTask id="edit"/><parallelGateway id="join"/><userTask id="check"/>'
        '<endEvent id="e"/>'
        + flows("s>fork", "fork>call", "fork>edit", "call>join", "edit>join", "join>check",
                "check>e"))


def _child_id(h, iid):
    [child] = h.engine.instances(parent_id=iid)
    return child.id


def test_the_callers_update_made_while_the_child_runs_is_kept(h):
    h.deploy(CHILD, _parent())
    iid = h.start(x=1, shared="from caller", gone="soon")
    child = _child_id(h, iid)
    assert h.vars(child) == {"x": 1, "shared": "from caller", "gone": "soon"}
    h.complete("edit", iid, x=2)                 # the caller changes x meanwhile
    h.complete("child_task", child, y="new in child", shared="child's")
    variables = h.vars(iid)
    assert variables["x"] == 2                   # not overwritten by the child's stale copy
    assert variables["y"] == "new in child"      # created by the child: copied back
    assert variables["shared"] == "child's"      # changed by the child: copied back
    assert h.tasks(iid) == ["check"]


def test_a_value_changed_by_both_takes_the_childs_as_the_later_write(h):
    h.deploy(CHILD, _parent())
    iid = h.start(x=1)
    child = _child_id(h, iid)
    h.complete("edit", iid, x=2)
    h.complete("child_task", child, x=3)
    assert h.vars(iid)["x"] == 3


def test_structured_values_compare_by_content(h):
    h.deploy(CHILD, _parent())
    iid = h.start(order={"lines": [1, 2], "customer": {"name": "Ann"}})
    child = _child_id(h, iid)
    h.complete("edit", iid, order={"lines": [1, 2, 3], "customer": {"name": "Ann"}})
    h.complete("child_task", child, note="seen")  # leaves `order` as it was given
    assert h.vars(iid)["order"]["lines"] == [1, 2, 3]


def test_variables_set_in_a_local_scope_of_the_caller_are_updated_where_they_live(h):
    """The copy-back follows the usual rule: update the nearest scope that has it."""
    h.deploy(CHILD, bpmn(
        '<startEvent id="s"/><subProcess id="sub">'
        '<extensionElements><camunda:inputOutput><camunda:inputParameter name="inner">'
        'start</camunda:inputParameter></camunda:inputOutput></extensionElements>'
        '<startEvent id="ss"/><callActivity id="call" calledElement="child"/>'
        '<userTask id="look"/><endEvent id="se"/>' + flows("ss>call", "call>look", "look>se")
        + '</subProcess><endEvent id="e"/>' + flows("s>sub", "sub>e")))
    iid = h.start()
    child = _child_id(h, iid)
    assert h.vars(child) == {"inner": "start"}
    h.complete("child_task", child, inner="changed", outer="created")
    assert h.vars(iid) == {"outer": "created"}   # `inner` stays local to the subprocess
    [task] = h.engine.tasks(instance_id=iid)
    assert h.engine.token_variables(iid, task.token)["inner"] == "changed"


def test_explicit_out_all_copies_every_child_variable_as_camunda_does(h):
    mappings = ('<extensionElements><camunda:in variables="all"/>'
                '<camunda:out variables="all"/></extensionElements>')
    h.deploy(CHILD, _parent(mappings))
    iid = h.start(x=1)
    child = _child_id(h, iid)
    h.complete("edit", iid, x=2)
    h.complete("child_task", child)
    assert h.vars(iid)["x"] == 1                 # Camunda 7: the child's copy wins


def test_an_interrupted_call_leaves_no_bookkeeping_behind(h):
    h.deploy(CHILD, bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"/>'
        '<boundaryEvent id="b" attachedToRef="call"><timerEventDefinition><timeDuration>'
        'PT1H</timeDuration></timerEventDefinition></boundaryEvent>'
        '<userTask id="late"/><endEvent id="e"/><endEvent id="e2"/>'
        + flows("s>call", "call>e", "b>late", "late>e2")))
    iid = h.start(x=1)
    h.advance(hours=2)
    assert h.tasks(iid) == ["late"]
    state = h.engine.run(lambda c: c.tx.get_instance(iid).state)
    assert [s[1] for s in state["scopes"]] == ["process"]


def test_an_escalation_handler_running_beside_the_child_keeps_its_update(h):
    child = bpmn(
        '<startEvent id="cs"/><intermediateThrowEvent id="up"><escalationEventDefinition '
        'escalationRef="esc"/></intermediateThrowEvent><userTask id="child_task"/>'
        '<endEvent id="ce"/>' + flows("cs>up", "up>child_task", "child_task>ce"),
        pid="child", extra='<escalation id="esc" escalationCode="HELP"/>')
    parent = bpmn(
        '<startEvent id="s"/><callActivity id="call" calledElement="child"/>'
        '<boundaryEvent id="b" attachedToRef="call" cancelActivity="false">'
        '<escalationEventDefinition escalationRef="esc"/></boundaryEvent>'
        '<scriptTask id="handle" scriptFormat="python"><script>status = "escalated"</script>'
        '</scriptTask><endEvent id="he"/><userTask id="after"/><endEvent id="e"/>'
        + flows("s>call", "call>after", "after>e", "b>handle", "handle>he"),
        extra='<escalation id="esc" escalationCode="HELP"/>')
    h.deploy(child, parent)
    iid = h.start(status="new")
    assert h.vars(iid)["status"] == "escalated"
    child_id = _child_id(h, iid)
    assert h.vars(child_id)["status"] == "new"
    h.complete("child_task", child_id)
    assert h.vars(iid)["status"] == "escalated"
    assert h.tasks(iid) == ["after"]
