"""Scenarios for `spiff/bpmn/data/*` (SpiffWorkflow's BPMN tests), except Test-Workflows/."""

from __future__ import annotations

from .drivers import BatonDriver, Driver, spiff

B = "bpmn/data/"


def ended(d: Driver) -> None:
    """Nothing is left to do or to wait for, and every instance has ended."""
    assert d.ready() == [], d.ready()
    assert d.waiting() == [], d.waiting()
    assert d.finished


# ============================================================================ gateways
@spiff(B + "ParallelOrder.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert not d.finished
    assert d.ready() == ["Task 1", "Task 2", "Task 3", "Task 4"]
    d.run_to_end()
    ended(d)


@spiff(B + "gateway_loop_input.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Task"]
    d.complete("Task")
    ended(d)
    assert d.data() == {"x": 2}


@spiff(B + "inclusive_gateway.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Set Data", v=-1, u=-1, w=-1)   # only the default flow
    ended(d)
    assert d.data() == {"v": 0, "u": -1, "w": -1}
    assert d.completed()["increment_v"] == 1 and "u_plus_v" not in d.completed()
    d.start()
    d.complete("Set Data", v=0, u=1, w=1)      # both conditions, not the default
    assert d.finished
    assert d.data() == {"v": 0, "u": 1, "w": 1}
    assert d.completed()["u_plus_v"] == 1 and d.completed()["w_plus_v"] == 1
    assert d.completed()["increment_v"] == 1
    d.start()
    with d.fails("second"):                    # v becomes 1: no flow out of 'second'
        d.complete("Set Data", v=0, u=-1, w=-1)


@spiff(B + "exclusive_gateway_no_default.bpmn")
def _(d: Driver) -> None:
    with d.fails("Gateway_CheckValue", "no outgoing sequence flow"):
        d.start(x=1)


@spiff(B + "data_object_gateway.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Set Data", val=True)
    assert d.finished
    assert "yes" in d.completed() and "no" not in d.completed()


# ============================================================================ scripts
@spiff(B + "ScriptTest.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert d.data() == {"testvar": {"a": 1, "b": 2, "new": "Test"},
                        "testvar2": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}, {"x": 3, "y": "c"}],
                        "sample": ["b", "c"]}


@spiff(B + "task_data_size.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    data = d.data()
    assert {"a", "b", "c", "d"} <= set(data)
    assert len(data["d"]) == 1536 and set(data["d"]) == {"a", "b", "c"}


@spiff(B + "script-start.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["manual"]
    d.complete("manual")
    assert d.finished
    assert d.data() == {"x": 1, "y": 2, "z": 3}


@spiff(B + "random_fact.bpmn")
def _(d: Driver) -> None:
    d.start()
    # the form's required fields (Baton validates them; SpiffWorkflow takes any data)
    d.complete("Set Type", type="norris", is_anonymous=False, name="Ann")
    assert d.finished
    assert d.data()["y"] == "what fun!"
    assert "some_fun" not in d.data()     # a script's function is not kept as data


@spiff(B + "service_task.bpmn", oracle="SpiffWorkflow leaves a service task without "
       "implementation STARTED for ever (its test only checks that nothing is raised); Baton "
       "passes it, as Camunda 7 does with an unimplemented task")
def _(d: Driver) -> None:
    d.start()   # no implementation: both engines pass it; the test checks nothing is raised
    ended(d)
    assert d.completed()["Activity_1inxqgx"] == 1


CUSTOM = {"custom_function": lambda text: str(text).upper()}


@spiff(B + "custom_function_test.bpmn", also=(B + "custom_function_test_call_activity.bpmn",),
       script_globals=CUSTOM)
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert {"c1": "HELLO", "c2": "GOODBYE", "c3": "ARRIVEDERCI"}.items() <= d.data().items()


@spiff(B + "custom_function_test_call_activity.bpmn", script_globals=CUSTOM)
def _(d: Driver) -> None:
    d.start()
    assert d.finished and d.data()["c3"] == "ARRIVEDERCI"


# ============================================================================ call activities
CA = (B + "call_activity_call_activity.bpmn",)


@spiff(B + "call_activity_end_event.bpmn", also=CA)
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert d.data() == {"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"}


@spiff(B + "call_activity_call_activity.bpmn")
def _(d: Driver) -> None:
    d.start(remove_this_var=1)
    assert d.finished
    assert d.data() == {"my_var": "World", "my_other_var": "Mike"}


@spiff(B + "call_activity_with_error.bpmn", also=CA)
def _(d: Driver) -> None:
    with d.fails("remove_this_var"):
        d.start()
    assert "Activity_1ta6769" not in d.completed()   # 'Print Data' never ran


@spiff(B + "single_call_activity.bpmn", oracle="parse-only test: the called process is not "
       "in the corpus, so neither engine can run it")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    node = d.node("Activity_0q1z4d4")
    assert node.called_element == "SingleTask_Process"
    with d.fails("SingleTask_Process"):
        d.start()


@spiff(B + "multiple_call_activities.bpmn", oracle="parse-only test: the called processes are "
       "not in the corpus")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    called = [d.node(i).called_element for i in ("Activity_185dcnc", "Activity_0rsppq2",
                                                  "Activity_0d5dido")]
    assert called == ["Process_sypm122", "Process_diu8ta2", "Process_l14lar1"]
    with d.fails("Process_sypm122"):
        d.start()


@spiff(B + "nested_call_activity.bpmn", oracle="parse-only test: the called processes are "
       "not in the corpus")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    called = sorted(n.called_element for n in d.nodes() if n.kind == "callActivity")
    assert called == ["is_this_missing", "set_permissions_process"]
    with d.fails("is_this_missing"):
        d.start()


@spiff(B + "no-tasks.bpmn")
def _(d: Driver) -> None:
    assert isinstance(d, Driver)
    d.start()
    ended(d)


NEST = "call_activity_nested/"


@spiff(B + NEST + "call_activity_level_2b.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Activity_16ayqi8")
    ended(d)


@spiff(B + NEST + "call_activity_level_3.bpmn", oracle="the process calls itself without end")
def _(d: Driver) -> None:
    with d.fails("nest deeper"):
        d.start()


@spiff(B + NEST + "call_activity_level_2.bpmn", also=(B + NEST + "call_activity_level_3.bpmn",),
       oracle="dependency-count test; Level3 calls itself without end")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    called = sorted(n.called_element for n in d.nodes() if n.kind == "callActivity")
    assert called == ["Level2b", "Level3"]
    with d.fails("nest deeper"):
        d.start()


@spiff(B + NEST + "call_activity_nested.bpmn", oracle="dependency-count test (DMN Level2c)")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    called = sorted(n.called_element for n in d.nodes() if n.kind == "callActivity")
    assert called == ["Level2", "Level2b"]
    assert d.node("Activity_0gg4414").kind == "businessRuleTask"


@spiff(B + "io_spec_parent.bpmn", also=(B + "io_spec.bpmn",), process="parent")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert d.data() == {"in_1": 1, "in_2": "hello world", "unused": True,
                        "out_1": 2, "out_2": "HELLO WORLD"}


@spiff(B + "io_spec.bpmn", process="subprocess")
def _(d: Driver) -> None:
    d.start(in_1=1, in_2="hello world", unused=True)
    assert d.finished
    assert {"out_1": 2, "out_2": "HELLO WORLD"}.items() <= d.data().items()
    with d.fails("in_2"):
        d.start(in_1=1)


@spiff(B + "io_spec_on_task.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.task_vars("Any Task") == {"in_1": 1, "in_2": "hello world"}
    d.complete("Any Task", out_1=1, out_2="bye", extra=True)
    assert d.finished
    data = d.data()
    assert data["out_1"] == 1 and data["out_2"] == "bye" and "extra" not in data
    d.start()
    with d.fails("out_2"):                     # a data output the task did not produce
        d.complete("Any Task", out_1=1)


# ============================================================================ approvals
@spiff(B + "Approvals.bpmn", process="Approvals")
def _(d: Driver) -> None:
    d.start()
    assert d.ready_ids() == ["First_Approval_Wins.Manager_Approval",
                             "First_Approval_Wins.Supervisor_Approval"]
    d.complete("First_Approval_Wins.Manager_Approval")   # the terminate end wins
    assert d.ready_ids() == ["Approvals.First_Approval_Wins_Done"]
    d.complete("Approvals.First_Approval_Wins_Done")
    assert d.ready_ids() == ["Approvals.Manager_Approval__P_", "Approvals.Supervisor_Approval__P_"]
    d.complete("Approvals.Manager_Approval__P_")
    d.complete("Approvals.Supervisor_Approval__P_")
    d.complete("Approvals.Parallel_Approvals_Done")
    for step in ("Parallel_Approvals_SP.Step1", "Parallel_Approvals_SP.Manager_Approval",
                 "Parallel_Approvals_SP.Supervisor_Approval", "Approvals.Parallel_SP_Done"):
        d.complete(step)
    ended(d)


# ============================================================================ lanes
@spiff(B + "lanes.bpmn", process="lanes")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Request Feature"]
    if isinstance(d, BatonDriver):
        assert d.lanes() == ["A"]
    d.complete("Request Feature")
    assert d.ready() == ["Clarifying Questions?"]
    if isinstance(d, BatonDriver):
        assert d.lanes() == ["B"]
    d.complete("Clarifying Questions?", NeedClarification=False)
    d.complete("Implement Feature")
    assert d.ready() == ["Send to testing"]
    if isinstance(d, BatonDriver):
        assert d.lanes() == ["C"]
    d.complete("Send to testing")
    assert d.ready() == ["SubProcessTask"]
    if isinstance(d, BatonDriver):
        assert d.lanes() == ["C"]
    d.complete("SubProcessTask")
    ended(d)


# ============================================================================ data
@spiff(B + "data_object.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Generate Data", obj_1="hello")
    d.complete("Task", obj_1="hello again")   # 'Task' does not write the data object
    assert d.ready() == ["Read Data"]
    if isinstance(d, BatonDriver):
        assert d.data()["obj_1"] == "hello"
    d.complete("Read Data")
    d.complete("placeholder", obj_1="hello again")
    assert d.finished


@spiff(B + "data_store.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert d.data().get("x") == "Sue"


@spiff(B + "data_store_write.bpmn", process="JustDataStoreRef",
       oracle="the reading instance runs another file with the same process id")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert isinstance(d, BatonDriver)
    d.redeploy(B + "data_store_read.bpmn")
    d.start()
    assert d.finished
    assert d.data().get("x") == "Sue"


@spiff(B + "data_store_read.bpmn", oracle="reads what data_store_write.bpmn stored")
def _(d: Driver) -> None:
    d.start()     # nothing stored yet: the store reads as empty
    assert d.finished
    assert d.data().get("x") is None


@spiff(B + "performance_test.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    results = d.data()["results"]
    assert len(results) == 20 and all(r["alphabet"] == list("abcde") for r in results)


# ============================================================================ multi-instance, loops
def instance_index(d: Driver) -> int:
    """Which instance of a cardinality-only multi-instance task the first open one is:
    SpiffWorkflow puts it in the input data item, Baton (like Camunda) in loopCounter."""
    local = d.task_vars("Any Task")
    return local["input_item"] if d.is_oracle else local["loopCounter"]


@spiff(B + "parallel_multiinstance_cardinality.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Any Task"] * 3
    for _ in range(3):
        d.complete("Any Task", output_item=instance_index(d) * 2)
    assert d.finished
    assert d.data()["output_data"] == [0, 2, 4]


@spiff(B + "parallel_multiinstance_loop_input.bpmn")
def _(d: Driver) -> None:
    d.start(input_data=[1, 2, 3])
    assert d.ready() == ["Any Task"] * 3
    for _ in range(3):
        d.complete("Any Task", output_item=d.task_vars("Any Task")["input_item"] * 2)
    assert d.finished
    assert d.data()["output_data"] == [2, 4, 6]
    d.start(input_data=[])
    assert d.finished and d.data()["output_data"] == []


@spiff(B + "sequential_multiinstance_cardinality.bpmn")
def _(d: Driver) -> None:
    d.start()
    for i in range(3):
        assert d.ready() == ["Any Task"]
        assert instance_index(d) == i
        d.complete("Any Task", output_item=i * 2)
    assert d.finished
    assert d.data()["output_data"] == [0, 2, 4]


@spiff(B + "sequential_multiinstance_loop_input.bpmn")
def _(d: Driver) -> None:
    d.start(input_data=[1, 2, 3])
    for i in (1, 2, 3):
        assert d.ready() == ["Any Task"]
        assert d.task_vars("Any Task")["input_item"] == i
        d.complete("Any Task", output_item=i * 2)
    assert d.finished
    assert d.data()["output_data"] == [2, 4, 6]


@spiff(B + "standard_loop.bpmn")
def _(d: Driver) -> None:
    d.start(done=False)
    for _ in range(3):             # loopMaximum 3
        assert d.ready() == ["Any Task"]
        d.complete("Any Task")
    ended(d)
    assert d.completed()["any_task"] == 3
    d.start(done=False)
    d.complete("Any Task", done=True)   # the condition ends the loop after one iteration
    ended(d)
    d.start(done=True)             # testBefore: the body never runs
    ended(d)
    assert d.completed()["any_task"] == 4


# ============================================================================ events
@spiff(B + "event-gateway.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert "Gateway_1434v9l" in d.waiting()
    d.message("message_1")
    ended(d)
    assert "message_1_event" in d.completed() and "message_2_event" not in d.completed()
    d.start()
    d.advance(1.5)
    ended(d)
    assert d.completed()["timer_event"] == 1 and "message_2_event" not in d.completed()


@spiff(B + "event-subprocess.bpmn")
def _(d: Driver) -> None:
    d.start()
    with d.diverges("the signal starts an interrupting event subprocess, which cancels the "
                    "thrower's path: Baton never reaches the main end event, SpiffWorkflow does"):
        d.complete("set data", v1=True, v2=False)
    assert d.ready() == ["task"]
    assert d.data() == {"v1": True, "v2": False}
    d.complete("task")
    ended(d)


@spiff(B + "conditional_event.bpmn", process="intermediate")
def _(d: Driver) -> None:
    d.start()
    d.complete("B")
    assert d.waiting() == ["event_1"]
    d.complete("A", task_a_done=True)
    ended(d)
    d.start("boundary")
    d.complete("C", task_c_done=True)   # the condition on D's boundary turns true
    ended(d)
    assert "task_d" not in d.completed() and d.completed()["event_2"] == 1


@spiff(B + "return_to_event.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.waiting() == ["Event_10ncvxn"]
    d.message("basic_message")
    assert d.ready() == ["manual"]
    d.complete("manual", repeat=True)
    assert d.waiting() == ["Event_10ncvxn"]
    d.message("basic_message")
    d.complete("manual", repeat=False)
    ended(d)


@spiff(B + "start_event_split.bpmn")
def _(d: Driver) -> None:
    d.message("message_1")  # starts an instance at start_1
    assert d.ready() == ["Any Task"]
    d.complete("Any Task")
    ended(d)
    assert "start_1" in d.completed() and "start_2" not in d.completed()


@spiff(B + "collaboration.bpmn", process="process_buddy")
def _(d: Driver) -> None:
    d.start(lover_name="Peggy")
    assert d.waiting() == ["EventReceiveLetter"]
    d.message("Love Letter Response", from_name="Peggy", other_nonsense=1001)
    ended(d)
    assert d.data() == {"from_name": "Peggy", "lover_name": "Peggy", "other_nonsense": 1001}


def _loop_counters(d: BatonDriver, activity: str) -> list[int]:
    """The loopCounter of the multi-instance body instance of each token waiting at
    `activity` (Baton keeps no per-activity data: this is how its instances differ)."""
    found = []
    for inst in d.engine.instances(status="running"):
        for token in d.engine.instance(inst.id).tokens:
            if token["activity_id"] == activity and token["state"] == "waiting":
                found.append(d.engine.token_variables(inst.id, token["id"])["loopCounter"])
    return sorted(found)


def _configure_both(d: Driver) -> int | None:
    """Complete both 'Configure Data' tasks with task_num 0 and 1; for Baton, the loopCounter
    of the instance that got task_num 1."""
    d.complete("Configure Data", task_num=0)
    second = _loop_counters(d, "configure") if isinstance(d, BatonDriver) else [None]
    d.complete("Configure Data", task_num=1)
    return second[0]


def _answered(d: Driver, got_one: int | None, answered: int, waiting_at: str) -> None:
    """After the reply to the conversation with key `answered`: the instance still waiting
    at `waiting_at` is the other one (the reply was routed by its correlation key, not to
    whichever catch event waited first)."""
    if isinstance(d, BatonDriver):
        other = got_one if answered == 0 else 1 - got_one  # type: ignore[operator]
        assert _loop_counters(d, waiting_at) == [other], "routed to the wrong instance"


@spiff(B + "correlation.bpmn", collaboration="correlation_test")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Configure Data"] * 2
    got_one = _configure_both(d)
    assert d.ready() == ["Rename Id"] * 2      # two proc_2 instances, started by message
    first = d.task_vars("Rename Id")["task_num"]
    d.complete("Rename Id", init_id=first)
    _answered(d, got_one, first, "get_response")
    d.complete("Rename Id", init_id=d.task_vars("Rename Id")["task_num"])
    assert d.finished
    if not isinstance(d, BatonDriver):
        for data in d.completion_data("subprocess_end"):
            assert data["task_num"] == data["init_id"]


@spiff(B + "correlation_two_conversations.bpmn", collaboration="correlation_test")
def _(d: Driver) -> None:
    d.start()
    got_one = _configure_both(d)
    first = d.task_vars("Rename Id")["task_num"]
    d.complete("Rename Id", init_id=first)
    _answered(d, got_one, first, "get_response_one")
    d.complete("Rename Id", init_id=d.task_vars("Rename Id")["task_num"])
    for _ in range(2):
        d.complete("Wait")
    # each instance opens its second conversation with its own task_num
    assert sorted(d.task_vars("Remane Id", i)["task_num"] for i in range(2)) == [0, 1]
    for _ in range(2):
        d.complete("Remane Id", subprocess=d.task_vars("Remane Id")["task_num"])
    assert d.finished
    if not isinstance(d, BatonDriver):
        for data in d.completion_data("subprocess_end"):
            assert data["task_num"] == data["init_id"] == data["subprocess"]


@spiff(B + "uncaught_escalation.bpmn")
def _(d: Driver) -> None:
    d.start()   # nobody catches 'escalation-1': the instance goes on and completes
    ended(d)


@spiff(B + "multiple-start.bpmn")
def _(d: Driver) -> None:
    d.message("message_1")
    assert d.ready() == ["Any Task"]


@spiff(B + "multiple-start-parallel.bpmn")
def _(d: Driver) -> None:
    d.message("message_1")
    assert d.ready() == []
    d.message("message_2")
    assert d.ready() == ["Any Task"]


@spiff(B + "multiple-throw.bpmn", collaboration="top")
def _(d: Driver) -> None:
    d.start()
    ended(d)


@spiff(B + "multiple-throw-start.bpmn", collaboration="top")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Any Task"]
    d.complete("Any Task")
    ended(d)


@spiff(B + "boundary_event_split.bpmn", oracle="parse-only test (no signal names to send)")
def _(d: Driver) -> None:
    """Both signal boundary events have neither signalRef nor name: no signal can reach them,
    so Baton deploys the diagram with a warning for each (rule signal-catch-unnamed) and
    runs it; SpiffWorkflow gives them the signal name None."""
    if isinstance(d, BatonDriver):
        unnamed = sorted(w.split("'")[1] for w in d.deploy_warnings
                         if w.endswith("[signal-catch-unnamed]"))
        assert unnamed == ["Event_00eeq9m", "Event_0sh7wyp"]
        assert all("this boundary event never fires" in w for w in d.deploy_warnings
                   if w.endswith("[signal-catch-unnamed]"))
    d.start()
    assert d.ready_ids() == ["task_2"]
    d.complete("task_2")   # the boundary event waited for nothing and goes with its task
    ended(d)


# ============================================================================ timers
@spiff(B + "timer.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.waiting() == ["Event_0bxivgz"]
    d.advance(0.2)
    assert d.waiting() == ["Event_0bxivgz"]
    d.advance(0.1)
    ended(d)


@spiff(B + "timer-date-start.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.waiting() == ["Event_0eb0w95"]
    d.advance(0.02)
    assert not d.finished
    d.advance(0.05)
    ended(d)


@spiff(B + "boundary.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("ReadyTogo")
    for _ in range(2):
        d.complete("Activity_Pester_Dad", answer="No")
        d.advance(0.01)
    d.advance(0.02)   # FedUp (PT0.03S) interrupts the subprocess
    assert d.ready() == ["Scream head off"]
    d.complete("Scream head off")
    d.complete("Stop Car")
    ended(d)
    assert "Subworkflow" not in d.completed()


@spiff(B + "boundary_timer_on_task.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Say Anything"]
    d.advance(0.01)
    assert d.data()["timer_called"] is True
    assert d.ready() == ["Say Anything"]
    d.complete("Say Anything")
    ended(d)


@spiff(B + "timer-non-interrupt-boundary.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Work Done?"]
    d.complete("Work Done?", work_done="No")
    d.advance(0.1)
    assert d.ready() == ["Work Done?"]
    d.advance(0.15)   # BenchmarkTime (PT0.2S) fires, the work goes on
    assert d.ready() == ["Delay Reason", "Work Done?"]
    d.complete("Delay Reason", delay_reason="Just Because")
    d.complete("Work Done?", work_done="Yes")
    ended(d)
    assert {"work_done": "Yes", "delay_reason": "Just Because"}.items() <= d.data().items()


COUNTER = {"custom_function": lambda: 1}
CYCLE_EVENT = ("a cycle timer event that fires twice: Baton (like Camunda 7's history) records "
               "each firing as a completion of the event, SpiffWorkflow one completion once "
               "the cycle is over")
TIMER_STEP = ("SpiffWorkflow fires a timer at the first refresh after its due time, Baton at "
              "the due time: 0.1 s steps hit the due times exactly, so SpiffWorkflow lags "
              "one step; and " + CYCLE_EVENT)


@spiff(B + "timer-cycle.bpmn", script_globals=COUNTER)
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Get coffee"]
    assert "Refill_Coffee" not in d.completed()
    for i in range(3):
        with d.diverges(CYCLE_EVENT):
            d.advance(0.11)
        assert d.completed()["Refill_Coffee"] == min(i + 1, 2)
    assert d.completed()["Refill_Coffee"] == 2   # R2: exactly two cycles
    assert d.ready() == ["Get coffee"]


@spiff(B + "timer-cycle-start.bpmn", collaboration="Collaboration_0bcl3k5", script_globals=COUNTER)
def _(d: Driver) -> None:
    d.start()
    with d.diverges(TIMER_STEP):
        for _ in range(6):
            d.advance(0.1)
    assert d.completed()["Refill_Coffee"] == 2
    assert d.finished


# ============================================================================ transaction
TRANSACTION_CUT = ("a cancel or error end event interrupts the transaction: Baton does not "
                   "count it as completed, SpiffWorkflow does")

@spiff(B + "transaction.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Get Data", value="asdf")
    d.complete("Get Quantity", quantity=2)
    ended(d)
    assert d.completed()["Activity_Print_Data"] == 1
    d.start()
    with d.diverges(TRANSACTION_CUT):
        d.complete("Get Data", value="")          # cancel end event
    ended(d)
    assert d.completed()["Cancel_Action"] == 1 and d.completed()["Activity_Print_Data"] == 1
    d.start()
    d.complete("Get Data", value="asdf")
    with d.diverges(TRANSACTION_CUT):
        d.complete("Get Quantity", quantity=0)     # error without code
    ended(d)
    assert d.completed()["Catch_Error_None"] == 1 and "Catch_Error_1" not in d.completed()


# ============================================================================ resets
@spiff(B + "reset_with_boundary_event.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("First")
    assert d.ready() == ["Last"]     # the P14D timer on 'First' is gone
    d.reset("First")
    assert d.ready() == ["First"]


@spiff(B + "resetworkflowA-toplevel.bpmn", also=(B + "resetworkflowA-sublevel.bpmn",))
def _(d: Driver) -> None:
    d.start()
    d.complete("Task1")
    assert d.ready() == ["SubTask2"]
    d.reset("Task1")
    assert d.ready() == ["Task1"]


@spiff(B + "resetworkflowA-sublevel.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["SubTask2"]
    d.complete("SubTask2")
    ended(d)


@spiff(B + "resetworkflowB-toplevel.bpmn", also=(B + "resetworkflowB-sublevel.bpmn",))
def _(d: Driver) -> None:
    d.start()
    for name in ("Task1", "SubTask2", "SubTask2A", "Task2"):
        assert d.ready() == [name]
        d.complete(name)
    ended(d)
    d.start()
    d.complete("Task1")
    d.reset("Task1")
    assert d.ready() == ["Task1"]


@spiff(B + "resetworkflowB-sublevel.bpmn")
def _(d: Driver) -> None:
    d.start()
    for name in ("SubTask2", "SubTask2A"):
        assert d.ready() == [name]
        d.complete(name)
    ended(d)


# ============================================================================ diff (spec versions)
@spiff(B + "diff/v1.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.run_to_end()
    ended(d)


@spiff(B + "diff/v2.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Second Task"]    # v == 1
    d.run_to_end()
    ended(d)


@spiff(B + "diff/v3.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Second Task"]    # v == 1: the subprocess
    d.run_to_end()
    ended(d)


@spiff(B + "diff/v4.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Branch 1", "Branch 2"]   # v != 2: parallel branches
    d.complete("Branch 1")
    d.complete("Branch 2")
    assert d.ready() == ["Optional Task"]          # w == 1
    d.run_to_end()
    ended(d)


@spiff(B + "diff/v5.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Optional Task"]
    d.run_to_end()
    ended(d)
