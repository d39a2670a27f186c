"""Multi-instance, loops, subprocess scoping, call activities, compensation, async."""

from __future__ import annotations

import json

from tests.runtime.conftest import bpmn, flows


def test_parallel_multi_instance_with_collection_and_output(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <userTask id="review">
        <multiInstanceLoopCharacteristics camunda:collection="${reviewers}" camunda:elementVariable="reviewer">
        </multiInstanceLoopCharacteristics>
      </userTask>
      <userTask id="after"/>""" + flows("s>review", "review>after")))
    iid = h.start(reviewers=["ann", "bob", "cid"])
    tasks = h.engine.tasks(instance_id=iid)
    assert len(tasks) == 3
    for t in tasks:
        h.engine.complete_task(t.id, {"verdict": "ok"})
    assert h.tasks(iid) == ["after"]
    assert "reviewer" not in h.vars(iid)  # element variable stays local
    assert h.completed(iid).count("review") == 3


def test_sequential_multi_instance_with_completion_condition(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <userTask id="vote">
        <multiInstanceLoopCharacteristics isSequential="true">
          <loopCardinality>5</loopCardinality>
          <completionCondition>${nrOfCompletedInstances &gt;= 2}</completionCondition>
        </multiInstanceLoopCharacteristics>
      </userTask>
      <userTask id="after"/>""" + flows("s>vote", "vote>after")))
    iid = h.start()
    h.complete("vote", iid)
    assert h.tasks(iid) == ["vote"]
    h.complete("vote", iid)
    assert h.tasks(iid) == ["after"]


def test_multi_instance_script_output_collection(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <scriptTask id="square" scriptFormat="python">
        <multiInstanceLoopCharacteristics>
          <loopDataInputRef>numbers</loopDataInputRef>
          <loopDataOutputRef>squares</loopDataOutputRef>
          <inputDataItem id="n" name="n"/>
          <outputDataItem id="sq" name="sq"/>
        </multiInstanceLoopCharacteristics>
        <script>sq = n * n</script>
      </scriptTask>
      <userTask id="after"/>""" + flows("s>square", "square>after")))
    iid = h.start(numbers=[1, 2, 3])
    assert h.vars(iid)["squares"] == [1, 4, 9]


def test_loop_of_ten_thousand_iterations_keeps_state_small(h):
    body = """
      <startEvent id="s"/><scriptTask id="inc"><script>i = i + 1</script></scriptTask>
      <exclusiveGateway id="g" default="out"/><userTask id="pause"/>
      <sequenceFlow id="a" sourceRef="s" targetRef="inc"/>
      <sequenceFlow id="b" sourceRef="inc" targetRef="g"/>
      <sequenceFlow id="again" sourceRef="g" targetRef="inc"><conditionExpression>i &lt; n</conditionExpression></sequenceFlow>
      <sequenceFlow id="out" sourceRef="g" targetRef="pause"/>"""
    h.deploy(bpmn(body))
    small = h.start(i=0, n=10)
    big = h.start(i=0, n=10_000)
    assert h.vars(big)["i"] == 10_000
    with h.engine.store.transaction() as tx:
        s1 = len(json.dumps(tx.get_instance(small).state))
        s2 = len(json.dumps(tx.get_instance(big).state))
    assert s2 - s1 <= 8, (s1, s2)


def test_script_assignment_updates_nearest_scope_else_process(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <subProcess id="sub">
        <extensionElements><camunda:inputOutput>
          <camunda:inputParameter name="local">${1}</camunda:inputParameter>
        </camunda:inputOutput></extensionElements>
        <startEvent id="ss"/><scriptTask id="sc"><script>local = local + 1
total = total + 10
fresh = 5</script></scriptTask><userTask id="inner"/>
        <sequenceFlow id="i1" sourceRef="ss" targetRef="sc"/>
        <sequenceFlow id="i2" sourceRef="sc" targetRef="inner"/>
      </subProcess><userTask id="after"/>""" + flows("s>sub", "sub>after")))
    iid = h.start(total=1)
    v = h.vars(iid)
    assert v["total"] == 11 and v["fresh"] == 5 and "local" not in v
    h.complete("inner", iid)
    assert h.tasks(iid) == ["after"]


def test_call_activity_with_in_out_mappings(h):
    child = bpmn('<startEvent id="cs"/><userTask id="childTask"/>' + flows("cs>childTask"),
                 pid="child")
    parent = bpmn("""
      <startEvent id="s"/>
      <callActivity id="call" calledElement="child">
        <extensionElements>
          <camunda:in source="amount" target="sum"/>
          <camunda:out source="result" target="childResult"/>
        </extensionElements>
      </callActivity><userTask id="after"/>""" + flows("s>call", "call>after"))
    h.deploy(child, parent)
    iid = h.start("p", amount=7, secret=1)
    (kid,) = [i for i in h.engine.instances() if i.parent_id == iid]
    assert kid.variables == {"sum": 7}
    # a call activity is not a wait state of the caller: the child says where it waits
    view = h.engine.instance(iid)
    assert view.waiting == [] and view.called == {"call": [kid.id]}
    assert h.engine.instance(kid.id).waiting == ["childTask"]
    h.complete("childTask", kid.id, result="done")
    assert h.tasks(iid) == ["after"]
    assert h.vars(iid)["childResult"] == "done"
    assert h.status(kid.id) == "completed"


def test_error_from_child_instance_caught_on_call_activity(h):
    child = bpmn('<startEvent id="cs"/><endEvent id="ce"><errorEventDefinition errorRef="e1"/>'
                 '</endEvent>' + flows("cs>ce"), pid="child",
                 extra='<error id="e1" errorCode="NOPE"/>')
    parent = bpmn("""
      <startEvent id="s"/><callActivity id="call" calledElement="child"/>
      <boundaryEvent id="b" attachedToRef="call"><errorEventDefinition/></boundaryEvent>
      <userTask id="handled"/><endEvent id="e"/>""" + flows("s>call", "call>e", "b>handled"))
    h.deploy(child, parent)
    iid = h.start("p")
    assert h.tasks(iid) == ["handled"]


def test_compensation_runs_handlers_in_reverse_order(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <scriptTask id="bookFlight"><script>log = log + ["flight"]</script></scriptTask>
      <boundaryEvent id="cf" attachedToRef="bookFlight"><compensateEventDefinition/></boundaryEvent>
      <scriptTask id="cancelFlight" isForCompensation="true"><script>log = log + ["-flight"]</script></scriptTask>
      <scriptTask id="bookHotel"><script>log = log + ["hotel"]</script></scriptTask>
      <boundaryEvent id="ch" attachedToRef="bookHotel"><compensateEventDefinition/></boundaryEvent>
      <scriptTask id="cancelHotel" isForCompensation="true"><script>log = log + ["-hotel"]</script></scriptTask>
      <intermediateThrowEvent id="undo"><compensateEventDefinition/></intermediateThrowEvent>
      <userTask id="done"/>
      <association id="as1" sourceRef="cf" targetRef="cancelFlight"/>
      <association id="as2" sourceRef="ch" targetRef="cancelHotel"/>
    """ + flows("s>bookFlight", "bookFlight>bookHotel", "bookHotel>undo", "undo>done")))
    iid = h.start(log=[])
    assert h.vars(iid)["log"] == ["flight", "hotel", "-hotel", "-flight"]
    assert h.tasks(iid) == ["done"]


def test_async_before_waits_for_the_job_executor(h):
    h.deploy(bpmn('<startEvent id="s"/><scriptTask id="sc" camunda:asyncBefore="true">'
                  '<script>x = 1</script></scriptTask><userTask id="t"/>' + flows("s>sc", "sc>t")))
    iid = h.start()
    assert h.tasks(iid) == [] and "x" not in h.vars(iid)
    assert h.engine.run_due_jobs() == 1
    assert h.tasks(iid) == ["t"] and h.vars(iid)["x"] == 1


def test_failing_async_script_retries_then_opens_incident(h):
    h.deploy(bpmn('<startEvent id="s"/><scriptTask id="sc" camunda:asyncBefore="true">'
                  '<script>x = 1 / 0</script></scriptTask><userTask id="t"/>'
                  + flows("s>sc", "sc>t")))
    iid = h.start()
    h.engine.run_due_jobs()
    for _ in range(5):
        h.advance(hours=1)
    (inc,) = h.engine.incidents()
    assert inc.activity_id == "sc" and "ZeroDivision" in inc.message or "division" in inc.message
    assert h.status(iid) == "running"


def test_standard_loop_runs_while_condition_holds(h):
    h.deploy(bpmn("""
      <startEvent id="s"/>
      <scriptTask id="inc"><standardLoopCharacteristics testBefore="true">
        <loopCondition>count &lt; 3</loopCondition></standardLoopCharacteristics>
        <script>count = count + 1</script></scriptTask>
      <userTask id="t"/>""" + flows("s>inc", "inc>t")))
    iid = h.start(count=0)
    assert h.vars(iid)["count"] == 3
