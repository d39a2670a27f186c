"""Scenarios for `spiff/camunda/data/*` (SpiffWorkflow's Camunda-dialect tests)."""

from __future__ import annotations

from .drivers import BatonDriver, Driver, spiff
from .scenarios_bpmn import ended

C = "camunda/data/"
DMN = "camunda/data/dmn/"


def _camunda_message(d: Driver, name: str, var: str, value: str) -> None:
    """SpiffWorkflow's Camunda dialect takes {'result_var': name, 'payload': value} and sets
    the named variable; Baton's API takes the variables themselves."""
    if d.is_oracle:
        d.message(name, result_var=var, payload=value)
    else:
        d.message(name, **{var: value})


# ============================================================================ DMN
@spiff(C + "ExclusiveGatewayIfElseAndDecision.bpmn", also=(DMN + "test_integer_decision.dmn",))
def _(d: Driver) -> None:
    d.start(x=3)
    ended(d)
    assert d.data() == {"x": 3, "y": "A"}


@spiff(C + "DMNMultiInstance.bpmn", also=(DMN + "test_integer_decision_multi.dmn",))
def _(d: Driver) -> None:
    d.start()
    assert d.finished
    assert d.data()["stuff"]["E"]["y"] == "D"


@spiff(C + "invalid/InvalidDecision.bpmn", also=(DMN + "invalid_decision.dmn",),
       deploy_error=True, oracle="SpiffWorkflow fails only when the rule runs; Baton refuses "
       "the decision table when it is deployed")
def _(d: Driver) -> None:
    """The rule `spam= 1` is not an expression: SpiffWorkflow raises when the business rule
    task evaluates it; Baton refuses the DMN file at deployment, naming decision and rule."""
    assert isinstance(d, BatonDriver)
    assert d.deploy_error is not None
    for what in ("InvalidDecisionId", "row-484867957-5", "= 1"):
        assert what in d.deploy_error, what


# ============================================================================ messages
def _plan_steps(d: Driver, approval_field: str) -> None:
    for plan, answer in (("Bad", "No"), ("Better", "No"), ("Best", "Yes")):
        assert d.ready_ids() == ["Activity_EnterPlan"]
        d.complete("Activity_EnterPlan", plan_details=plan)
        assert d.ready_ids() == ["Activity_ApproveOrDeny"]
        d.complete("Activity_ApproveOrDeny", **{approval_field: answer})
    assert d.ready_ids() == ["Activity_EnablePlan"]
    d.complete("Activity_EnablePlan", Done="OK!")


@spiff(C + "call_activity_with_message_parent.bpmn", also=(C + "call_activity_with_message.bpmn",),
       collaboration="Parent_Process")
def _(d: Driver) -> None:
    d.start()
    _plan_steps(d, "approved")
    assert d.finished
    assert {"plan_details": "Best", "Approved": "Yes", "Done": "OK!"}.items() \
        <= d.started_data().items()


@spiff(C + "call_activity_with_message.bpmn", process="Subprocess")
def _(d: Driver) -> None:
    d.start()
    d.complete("Enter Plan", plan_details="Bad")
    assert d.waiting() == ["Event_Get_Approval_Response"]
    _camunda_message(d, "ApprovalResponse", "Approved", "No")
    assert d.ready() == ["Enter Plan"]
    d.complete("Enter Plan", plan_details="Best")
    _camunda_message(d, "ApprovalResponse", "Approved", "Yes")
    ended(d)


@spiff(C + "message_test.bpmn", collaboration="Collaboration_0n93bdm")
def _(d: Driver) -> None:
    d.start()
    _plan_steps(d, "approved")
    assert d.finished
    assert {"plan_details": "Best", "ApprovalResult": "Yes", "Done": "OK!"}.items() \
        <= d.started_data().items()


@spiff(C + "external_message.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Meaningless User Task"]
    _camunda_message(d, "Interrupt", "interrupt_var", "SomethingImportant")
    assert d.ready() == ["Meaningless User Task", "Pause"]
    assert d.task_vars("Pause")["interrupt_var"] == "SomethingImportant"
    assert d.task_vars("Pause")["caughtinterrupt"] is True
    d.complete("Pause")
    _camunda_message(d, "reset", "reset_var", "SomethingDrastic")
    # the interrupting boundary cancels the user task and loops back through 'ResetVars'
    assert "Activity_147sm5j" not in d.completed()
    assert d.completed()["Event_19detfv"] == 1 and d.completed()["Activity_1n8ighs"] == 2
    assert d.ready() == ["Meaningless User Task"]
    assert d.task_vars("Meaningless User Task")["reset_var"] == "SomethingDrastic"
    assert d.task_vars("Meaningless User Task")["caughtinterrupt"] is False


@spiff(C + "MessageBoundary.bpmn", collaboration="Collaboration_0fh00ao")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Do Work", "Interrupt Work?"]
    for answer in ("No", "No", "Yes"):
        d.complete("Interrupt Work?", interrupt_task=answer)
        if answer == "No":
            d.complete("Do Work")
            d.advance(0.011)
    assert d.finished
    assert d.ready() == []


@spiff(C + "noninterrupting-MessageBoundary.bpmn", collaboration="Collaboration_0fh00ao")
def _(d: Driver) -> None:
    d.start()
    d.complete("Activity_WorkLate", flag_task="No")
    d.complete("Activity_DoWork", work_done="No")
    d.complete("Activity_WorkLate", flag_task="No")
    d.complete("Activity_DoWork", work_done="No")
    d.complete("Activity_WorkLate", flag_task="Yes")  # the message: work goes on
    assert d.ready_ids() == ["Activity_DoWork", "Activity_WorkLateReason"]
    d.complete("Activity_WorkLateReason", work_late_reason="covid-19")
    d.complete("Activity_DoWork", work_done="Yes")
    d.complete("Activity_WorkCompleted", work_completed="Lots of Stuff")
    ended(d)
    # SpiffWorkflow's message also carries the sender's data (flag_task, and the
    # Event_InterruptBoundary_Response it names); Baton's carries only what is drawn
    assert {"work_done": "Yes", "work_completed": "Lots of Stuff",
            "work_late_reason": "covid-19"}.items() <= d.data().items()


# ============================================================================ multi-instance
@spiff(C + "parallel_multiinstance_cardinality.bpmn")
def _(d: Driver) -> None:
    d.start(input_data=[1, 2, 3])
    assert d.ready() == ["Any Task"] * 3
    for i in (1, 2, 3):
        d.complete("Any Task", output_item=i * 2)
    assert d.finished
    assert d.data()["output_data"] == [2, 4, 6]


@spiff(C + "parallel_multiinstance_collection.bpmn")
def _(d: Driver) -> None:
    d.start(input_data=[1, 2, 3])
    assert d.ready() == ["Any Task"] * 3
    for i in (1, 2, 3):
        d.complete("Any Task", input_item=i * 2)
    assert d.finished
    assert d.data()["input_data"] == [2, 4, 6]


# ============================================================================ forms, subprocesses
@spiff(C + "no_form.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready() == ["Empty User Task"]
    d.complete("Empty User Task")
    ended(d)


@spiff(C + "random_fact.bpmn", oracle="the script calls a host service (scripts.FactService)")
def _(d: Driver) -> None:
    assert isinstance(d, BatonDriver)
    task = d.node("Task_User_Select_Type").user_task
    assert task.form_key == "Fact"
    (field,) = task.form_fields
    assert field.id == "type" and len(field.enum_values) == 3
    assert field.constraints.get("maxlength") in (25, "25")
    d.start()
    assert d.ready() == ["Set Type"]


@spiff(C + "subWorkflowComplex.bpmn")
def _(d: Driver) -> None:
    d.start()
    assert d.ready_ids() == ["Activity_A"]
    d.complete("Activity_A", FieldA="A")
    assert d.ready_ids() == ["Activity_A1", "Activity_A2"]
    for answer in ("A1", "A2", "B"):
        d.complete("Activity_" + answer, **{"Field" + answer: answer})
    ended(d)
    assert d.data() == {"FieldA": "A", "FieldA1": "A1", "FieldA2": "A2", "FieldB": "B"}


# ============================================================================ token resets
@spiff(C + "token_trial_parallel_simple.bpmn")
def _(d: Driver) -> None:
    d.start()
    d.complete("Set data", skipParallel=True)
    d.reset("Set data")
    assert d.ready() == ["Set data"]


RESET_IN_SUBPROCESS = ("after a reset into a subprocess, SpiffWorkflow completes the "
                       "subprocess (and readies FormD) as soon as FormA1 completes; Baton "
                       "completes it when its end event is reached, after FormA3")


@spiff(C + "token_trial_subprocess.bpmn")
def _(d: Driver) -> None:
    d.start()
    for name, var, answer in (("First", "First", "Yes"), ("FormA1", "A1", "xa1"),
                              ("FormA2", "A2", "xa2"), ("FormA3", "A3", "xa3")):
        d.complete(name, **{var: answer})
    d.reset("FormA1")
    assert d.ready() == ["FormA1"]
    with d.diverges(RESET_IN_SUBPROCESS):
        d.complete("FormA1", A1="a1")
    if not d.is_oracle:
        assert d.ready() == ["FormA2"]   # SpiffWorkflow: ['FormA2', 'FormD']
    d.complete("FormA2", A2="a2")
    with d.diverges(RESET_IN_SUBPROCESS):
        d.complete("FormA3", A3="a3")
    assert d.ready() == ["FormD"]
    d.complete("FormD", D="d")
    ended(d)
    assert d.data() == {"First": "Yes", "A1": "a1", "A2": "a2", "A3": "a3", "D": "d"}


def _matrix(d: Driver) -> None:
    d.start()
    d.complete("First")
    order = ["FormA1", "FormA2", "FormA3", "FormB1", "FormB2", "FormB3", "FormC1", "FormC2",
             "FormC3"]
    for form in order:
        d.complete(form, **{form[-2:]: "x" + form[-2:].lower()})
    d.complete("FormD")
    ended(d)
    d.start()
    d.complete("First")
    d.complete("FormA1")
    d.reset("FormA1")


spiff(C + "token_trial_parallel_matrix.bpmn")(_matrix)
spiff(C + "token_trial_nested_parallel.bpmn")(_matrix)
