"""Small inline BPMN diagrams for the human-task tests (one process, key "p" unless said)."""

from __future__ import annotations

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:baton="http://baton.dev/schema/1.0" targetNamespace="http://baton.dev/test">\n'
)


def one_task(task_attrs: str = 'camunda:candidateGroups="adjusters"', extensions: str = "",
             key: str = "p", name: str = "Review claim") -> str:
    """start -> userTask "t" -> end."""
    ext = f"<extensionElements>{extensions}</extensionElements>" if extensions else ""
    return HEAD + f"""
<process id="{key}" name="Process {key}" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="{name}" {task_attrs}>{ext}</userTask>
  <sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""


def review_with_boundary(duration: str = "PT48H", interrupting: bool = True) -> str:
    """A review task for adjusters with a boundary timer leading to a supervisor task."""
    cancel = "true" if interrupting else "false"
    return HEAD + f"""
<process id="review" name="Claim review" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="review_task"/>
  <userTask id="review_task" name="Review claim" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f2" sourceRef="review_task" targetRef="done"/>
  <endEvent id="done"/>
  <boundaryEvent id="too_slow" attachedToRef="review_task" cancelActivity="{cancel}">
    <timerEventDefinition><timeDuration>{duration}</timeDuration></timerEventDefinition>
  </boundaryEvent>
  <sequenceFlow id="f3" sourceRef="too_slow" targetRef="supervise"/>
  <userTask id="supervise" name="Supervisor: review overdue claim"
            camunda:candidateGroups="supervisors"/>
  <sequenceFlow id="f4" sourceRef="supervise" targetRef="escalated_end"/>
  <endEvent id="escalated_end"/>
</process>
</definitions>"""


FORM = """
<camunda:formData>
  <camunda:formField id="amount" label="Amount" type="long">
    <camunda:validation>
      <camunda:constraint name="required"/>
      <camunda:constraint name="min" config="1"/>
      <camunda:constraint name="max" config="100000"/>
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="approved" label="Approved" type="boolean"/>
  <camunda:formField id="decision" label="Decision" type="enum">
    <camunda:value id="pay" name="Pay"/>
    <camunda:value id="reject" name="Reject"/>
  </camunda:formField>
  <camunda:formField id="policy" label="Policy number" type="string">
    <camunda:validation>
      <camunda:constraint name="pattern" config="[A-Z]{2}-[0-9]{6}"/>
    </camunda:validation>
  </camunda:formField>
  <camunda:formField id="incident_date" label="Incident date" type="date"/>
  <camunda:formField id="claim_id" label="Claim" type="string">
    <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
  </camunda:formField>
  <camunda:formField id="note" label="Note" type="string" defaultValue="${'n/a'}"/>
</camunda:formData>"""


def in_lane(lane_name: str) -> str:
    """A task without candidates drawn in a lane."""
    return HEAD + f"""
<process id="lanes" isExecutable="true">
  <laneSet id="ls">
    <lane id="lane1" name="{lane_name}">
      <flowNodeRef>start</flowNodeRef><flowNodeRef>t</flowNodeRef><flowNodeRef>end</flowNodeRef>
    </lane>
  </laneSet>
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="Lane task"/>
  <sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""
