"""Separation of duties (four-eyes): `baton:separateFrom` on a user task keeps whoever
completed the named tasks of the same instance from claiming or completing it.

The parse/validation tests and the `check_separation` unit tests stand on their own. The
engine tests (claim, complete, submit_form) go through the claim and complete commands,
which call `engine.separation.check_separation` inside their transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from engine.bpmn import BpmnValidationError, Problem, compile_bpmn
from engine.errors import Forbidden
from engine.graph import ProcessGraph
from engine.separation import EXT_KEY, check_separation, separate_from
from engine.store.records import HistoryRecord, TaskRecord

from .diagrams import HEAD

ROOT = Path(__file__).resolve().parents[2]
ZEEBE_NS = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'


def four_eyes(separate: str = 'baton:separateFrom="review"', approve_ext: str = "",
              extra: str = "", review_attrs: str = 'camunda:candidateGroups="adjusters"') -> str:
    """start -> review -> approve -> end; both tasks offered to the adjusters (ann, bob)."""
    ext = f"<extensionElements>{approve_ext}</extensionElements>" if approve_ext else ""
    return HEAD.replace("<definitions ", f"<definitions {ZEEBE_NS} ") + f"""
<process id="payout" name="Payout" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
  <userTask id="review" name="Review claim" {review_attrs}/>
  <sequenceFlow id="f2" sourceRef="review" targetRef="approve"/>
  <userTask id="approve" name="Approve payout" camunda:candidateGroups="adjusters" {separate}>
    {ext}
  </userTask>
  <sequenceFlow id="f3" sourceRef="approve" targetRef="end"/>
  <endEvent id="end"/>
  {extra}
</process>
</definitions>"""


def graph_of(xml: str, key: str = "payout") -> ProcessGraph:
    return compile_bpmn(xml).processes[key]


def line_of(xml: str, needle: str) -> int:
    return next(i for i, line in enumerate(xml.splitlines(), 1) if needle in line)


def only_problem(xml: str) -> Problem:
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(xml)
    (problem,) = info.value.problems
    return problem


# --------------------------------------------------------------------------- parsing


def test_attribute_lands_on_the_compiled_user_task():
    graph = graph_of(four_eyes())
    assert separate_from(graph, "approve") == ("review",)
    assert separate_from(graph, "review") == ()        # one-way, as declared
    assert separate_from(graph, "start") == ()
    assert separate_from(graph, "no_such_task") == ()  # a task of another version, say
    node = graph.node("approve")
    assert node.ext[EXT_KEY] == ("review",)
    assert isinstance(node.ext, MappingProxyType)       # the compiled graph does not change
    with pytest.raises(TypeError):
        node.ext[EXT_KEY] = ()  # type: ignore[index]


def test_list_is_space_or_comma_separated_and_deduplicated():
    extra = '<userTask id="check" name="Check documents"/>'
    graph = graph_of(four_eyes('baton:separateFrom=" review,check  review ,, "', extra=extra))
    assert separate_from(graph, "approve") == ("review", "check")


@pytest.mark.parametrize("holder", ["camunda", "zeebe"])
def test_extension_property_form(holder: str):
    """Camunda 7 and zeebe modelers write extension properties, not foreign attributes."""
    props = (f'<{holder}:properties><{holder}:property name="baton:separateFrom" '
             f'value="review"/></{holder}:properties>')
    graph = graph_of(four_eyes(separate="", approve_ext=props))
    assert separate_from(graph, "approve") == ("review",)


def test_unprefixed_property_is_someone_elses():
    """A bare "separateFrom" property may mean anything to another tool: not read."""
    props = ('<camunda:properties><camunda:property name="separateFrom" value="review"/>'
             "</camunda:properties>")
    extra = ('<serviceTask id="score" camunda:expression="${1}">'
             f"<extensionElements>{props}</extensionElements></serviceTask>"
             '<sequenceFlow id="f9" sourceRef="score" targetRef="end"/>')
    graph = graph_of(four_eyes(separate="", approve_ext=props, extra=extra))
    assert separate_from(graph, "approve") == ()


def test_attribute_and_property_add_up():
    extra = '<userTask id="check" name="Check documents"/>'
    props = ('<camunda:properties><camunda:property name="baton:separateFrom" value="check"/>'
             "</camunda:properties>")
    graph = graph_of(four_eyes(approve_ext=props, extra=extra))
    assert separate_from(graph, "approve") == ("review", "check")


def test_empty_declaration_is_a_warning_not_a_guard():
    definitions = compile_bpmn(four_eyes('baton:separateFrom=" "'))
    assert separate_from(definitions.processes["payout"], "approve") == ()
    assert any("baton:separateFrom is empty" in w for w in definitions.warnings)


def test_sample_insurance_claim_separates_payout_approval_from_review():
    definitions = compile_bpmn(ROOT / "bpmn_models" / "insurance_claim.bpmn")
    graph = definitions.processes["insurance_claim"]
    assert separate_from(graph, "Task_supervisor_review") == ("Task_adjuster_review",)
    assert graph.node("Task_adjuster_review").kind == "userTask"
    assert definitions.warnings == ()


# --------------------------------------------------------------------------- validation


def assert_on_approve(problem: Problem, xml: str, *fragments: str) -> None:
    assert (problem.element_id, problem.tag) == ("approve", "userTask")
    assert problem.line == line_of(xml, 'id="approve"')
    for fragment in fragments:
        assert fragment in problem.message, problem.message
    assert str(problem).startswith(f"userTask 'approve' (line {problem.line}): ")


def test_unknown_id_is_refused_with_element_and_line():
    xml = four_eyes('baton:separateFrom="reveiw"')
    assert_on_approve(only_problem(xml), xml, "baton:separateFrom", "'reveiw'",
                      "not an element of process 'payout'")


def test_each_bad_id_is_reported():
    xml = four_eyes('baton:separateFrom="review nope1, nope2"')
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(xml)
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2
    assert "'nope1'" in messages[0] and "'nope2'" in messages[1]


def test_id_of_another_kind_of_element_is_refused():
    extra = ('<serviceTask id="score" camunda:expression="${1}"/>'
             '<sequenceFlow id="f9" sourceRef="score" targetRef="end"/>')
    xml = four_eyes('baton:separateFrom="score"', extra=extra)
    assert_on_approve(only_problem(xml), xml, "serviceTask 'score'", "not a user task")


def test_sequence_flow_id_is_refused():
    xml = four_eyes('baton:separateFrom="f2"')
    assert_on_approve(only_problem(xml), xml, "'f2'", "not an element of process 'payout'")


def test_user_task_of_another_process_is_refused():
    other = """
<process id="other" isExecutable="true">
  <startEvent id="o_start"/>
  <sequenceFlow id="o1" sourceRef="o_start" targetRef="o_review"/>
  <userTask id="o_review"/>
</process>
</definitions>"""
    xml = four_eyes('baton:separateFrom="o_review"').replace("</definitions>", other)
    assert_on_approve(only_problem(xml), xml, "'o_review'", "not an element of process "
                      "'payout'", "same process")


def test_the_task_itself_is_refused():
    xml = four_eyes('baton:separateFrom="approve"')
    assert_on_approve(only_problem(xml), xml, "names the task itself")


def test_user_task_inside_a_subprocess_counts_as_same_process():
    extra = """
  <subProcess id="sub">
    <startEvent id="sub_start"/>
    <sequenceFlow id="s1" sourceRef="sub_start" targetRef="inner_check"/>
    <userTask id="inner_check"/>
  </subProcess>"""
    graph = graph_of(four_eyes('baton:separateFrom="inner_check"', extra=extra))
    assert separate_from(graph, "approve") == ("inner_check",)


@pytest.mark.parametrize("form", ['baton:separateFrom="review">',
                                  '><extensionElements><camunda:properties><camunda:property '
                                  'name="baton:separateFrom" value="review"/>'
                                  '</camunda:properties></extensionElements>'])
def test_declaration_on_a_service_task_is_refused(form: str):
    """It would guard nothing: nobody completes a service task."""
    xml = four_eyes(extra=f'<serviceTask id="score" camunda:expression="${{1}}" {form}'
                          '</serviceTask>'
                          '<sequenceFlow id="f9" sourceRef="score" targetRef="end"/>')
    problem = only_problem(xml)
    assert (problem.element_id, problem.tag) == ("score", "serviceTask")
    assert problem.line == line_of(xml, 'id="score"')
    assert "applies to user tasks only" in problem.message


def test_problems_in_a_non_executable_pool_are_only_warnings():
    doc_pool = """
<process id="docs" isExecutable="false">
  <startEvent id="d_start"/>
  <sequenceFlow id="d1" sourceRef="d_start" targetRef="d_task"/>
  <userTask id="d_task" baton:separateFrom="missing"/>
</process>
</definitions>"""
    definitions = compile_bpmn(four_eyes().replace("</definitions>", doc_pool))
    assert any("'missing'" in w for w in definitions.warnings)


# --------------------------------------------------------------------------- check_separation

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def task_record(instance_id: str = "i1", activity_id: str = "approve",
                name: str | None = "Approve payout") -> TaskRecord:
    return TaskRecord("t1", instance_id, 3, activity_id, name, "payout", "payout:1:d",
                      None, [], ["adjusters"], None, None, 50, None, NOW)


def event(type_: str, activity_id: str, user: str | None, *, instance_id: str = "i1",
          kind: str = "userTask", name: str | None = "Review claim") -> HistoryRecord:
    return HistoryRecord(instance_id, type_, activity_id, NOW, kind, name, user)


def test_completer_is_refused_with_both_tasks_named():
    history = [event("activity_started", "review", None),
               event("activity_completed", "review", "ann")]
    with pytest.raises(Forbidden) as info:
        check_separation(task_record(), "ann", ("review",), history, "complete")
    assert str(info.value) == (
        "user 'ann' completed 'Review claim' (review) of this instance and may not complete "
        "'Approve payout' (approve): the diagram separates these duties")
    assert info.value.status == 403


def test_other_users_and_unseparated_tasks_pass():
    history = [event("activity_completed", "review", "ann")]
    check_separation(task_record(), "bob", ("review",), history, "complete")
    check_separation(task_record(), "ann", (), history, "complete")
    check_separation(task_record(), "ann", ("other",), history, "claim")


def test_unnamed_tasks_are_named_by_id():
    history = [event("activity_completed", "review", "ann", name=None)]
    with pytest.raises(Forbidden, match=r"completed 'review' of this instance and may not "
                                        r"claim 'approve': "):
        check_separation(task_record(name=None), "ann", ("review",), history, "claim")


def test_only_completions_by_that_user_in_that_instance_count():
    """The complete command stamps its user on every userTask event it emits, the start of
    the next task included: only the completion says who did the work."""
    history = [
        event("activity_started", "review", "ann"),
        event("activity_cancelled", "review", "ann"),
        event("task_claimed", "review", "ann"),
        event("task_delegated", "review", "ann"),
        event("activity_completed", "review", None),                   # unattended API call
        event("activity_completed", "review", "ann", instance_id="i2"),  # another claim
        event("activity_completed", "review", "ann", kind="callActivity"),
    ]
    check_separation(task_record(), "ann", ("review",), history, "complete")


def test_any_of_several_completions_binds():
    """After a loop back to the review, everyone who completed it is excluded."""
    history = [event("activity_completed", "review", "ann"),
               event("activity_completed", "review", "bob")]
    for user in ("ann", "bob"):
        with pytest.raises(Forbidden, match=f"user '{user}'"):
            check_separation(task_record(), user, ("review",), history, "complete")


# --------------------------------------------------------------------------- engine
# These go through the claim and complete commands.


@pytest.fixture
def reviewed(engine):
    """An instance whose review ann completed; the approval waits for the adjusters."""
    engine.deploy(four_eyes(approve_ext=APPROVE_FORM))
    iid = engine.start("payout")
    (review,) = engine.tasks(instance_id=iid)
    engine.claim(review.id, "ann")
    engine.complete_task(review.id, {}, user="ann")
    (approve,) = engine.tasks(instance_id=iid)
    assert approve.activity_id == "approve"
    return iid, approve


APPROVE_FORM = """
<camunda:formData>
  <camunda:formField id="approved" label="Approve the payout" type="boolean">
    <camunda:validation><camunda:constraint name="required"/></camunda:validation>
  </camunda:formField>
</camunda:formData>"""

BOTH_TASKS = ("'Review claim' (review)", "'Approve payout' (approve)")


def assert_names_both(error: Forbidden, action: str) -> None:
    message = str(error)
    assert "user 'ann'" in message and f"may not {action}" in message
    for label in BOTH_TASKS:
        assert label in message, message


def test_reviewer_may_not_complete_the_approval(engine, reviewed):
    iid, approve = reviewed
    with pytest.raises(Forbidden) as info:
        engine.complete_task(approve.id, {"approved": True}, user="ann")
    assert_names_both(info.value, "complete")
    assert [t.id for t in engine.tasks(instance_id=iid)] == [approve.id]   # nothing applied
    engine.complete_task(approve.id, {"approved": True}, user="bob")
    assert engine.instance(iid).status == "completed"


def test_reviewer_may_not_claim_the_approval(engine, reviewed):
    iid, approve = reviewed
    with pytest.raises(Forbidden) as info:
        engine.claim(approve.id, "ann")
    assert_names_both(info.value, "claim")
    assert engine.task(approve.id).assignee is None
    assert engine.claim(approve.id, "bob").assignee == "bob"
    engine.complete_task(approve.id, {"approved": True}, user="bob")
    assert engine.instance(iid).status == "completed"


def test_reviewer_may_not_submit_the_approval_form(engine, reviewed):
    iid, approve = reviewed
    with pytest.raises(Forbidden) as info:
        engine.submit_form(approve.id, "ann", {"approved": "true"})
    assert_names_both(info.value, "complete")
    assert engine.tasks(instance_id=iid)[0].id == approve.id
    assert engine.submit_form(approve.id, "bob", {"approved": "true"}) == {"approved": True}
    assert engine.instance(iid).status == "completed"


def test_supervisor_rights_do_not_lift_the_separation(engine):
    """Ada (admin) may claim anyone's task, but not approve what she reviewed."""
    engine.deploy(four_eyes(approve_ext=APPROVE_FORM))
    iid = engine.start("payout")
    (review,) = engine.tasks(instance_id=iid)
    engine.claim(review.id, "ada")
    engine.complete_task(review.id, {}, user="ada")
    (approve,) = engine.tasks(instance_id=iid)
    with pytest.raises(Forbidden, match="user 'ada' completed 'Review claim'"):
        engine.claim(approve.id, "ada")


def test_the_deputy_who_completed_is_bound_not_the_absent_owner(engine, clock):
    engine.deploy(four_eyes(approve_ext=APPROVE_FORM,
                            review_attrs='camunda:assignee="ann"'))
    engine.set_deputy("ann", "bob", clock() - timedelta(hours=1), clock() + timedelta(days=7))
    iid = engine.start("payout")
    (review,) = engine.tasks(instance_id=iid)
    assert review.assignee == "bob"
    engine.complete_task(review.id, {}, user="bob")
    (approve,) = engine.tasks(instance_id=iid)
    with pytest.raises(Forbidden, match="user 'bob' completed 'Review claim'"):
        engine.complete_task(approve.id, {"approved": True}, user="bob")
    engine.complete_task(approve.id, {"approved": True}, user="ann")
    assert engine.instance(iid).status == "completed"


def test_without_the_declaration_one_user_may_do_both(engine):
    engine.deploy(four_eyes(separate=""))
    iid = engine.start("payout")
    (review,) = engine.tasks(instance_id=iid)
    engine.complete_task(review.id, {}, user="ann")
    (approve,) = engine.tasks(instance_id=iid)
    engine.claim(approve.id, "ann")
    engine.complete_task(approve.id, {}, user="ann")
    assert engine.instance(iid).status == "completed"


def test_separation_is_per_instance(engine, reviewed):
    """Ann reviewed the first claim; she may approve a second one a colleague reviewed."""
    _iid, _approve = reviewed
    second = engine.start("payout")
    (review,) = engine.tasks(instance_id=second)
    engine.complete_task(review.id, {}, user="bob")
    (approve,) = engine.tasks(instance_id=second)
    engine.complete_task(approve.id, {"approved": True}, user="ann")
    assert engine.instance(second).status == "completed"
