"""The small diagrams the authorization suite acts on: one per kind of thing a policy row
guards (a user task, a message or signal wait, a timer job, an external task, a decision)."""

from __future__ import annotations

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'targetNamespace="http://baton.dev/authz">\n')

# Two user tasks for the adjusters: the first is what task cells act on, the second is
# where a modification moves the token.
WORK = HEAD + """
<process id="work" name="Work for adjusters" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
  <userTask id="review" name="Review the claim" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f2" sourceRef="review" targetRef="check"/>
  <userTask id="check" name="Check the payout" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""

# What a deploy cell uploads: a key nobody deployed yet, so the change is easy to see.
FRESH = HEAD + """
<process id="fresh" name="Fresh process" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="Something new" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""

MAIL = HEAD + """
<process id="mail" name="Waits for mail" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
  <receiveTask id="wait" name="Wait for documents" messageRef="docs"/>
  <sequenceFlow id="f2" sourceRef="wait" targetRef="after"/>
  <userTask id="after" name="Read the documents" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  <endEvent id="end"/>
</process>
<message id="docs" name="docs"/>
</definitions>"""

BEACON = HEAD + """
<process id="beacon" name="Waits for a signal" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="catch"/>
  <intermediateCatchEvent id="catch"><signalEventDefinition signalRef="go"/>
  </intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="catch" targetRef="after"/>
  <userTask id="after" name="Go on" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  <endEvent id="end"/>
</process>
<signal id="go" name="go"/>
</definitions>"""

CLOCK = HEAD + """
<process id="clock" name="Waits an hour" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="hour"/>
  <intermediateCatchEvent id="hour"><timerEventDefinition>
    <timeDuration>PT1H</timeDuration></timerEventDefinition></intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="hour" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""

EXTERNAL = HEAD + """
<process id="ext" name="Calls a worker" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <serviceTask id="call" name="Call the worker" camunda:type="external" camunda:topic="jobs"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""

DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="rules" name="Rules"
             namespace="http://baton.dev/authz">
  <decision id="rate" name="Rate">
    <decisionTable id="table">
      <input id="in0" label="amount"><inputExpression id="ie0"><text>amount</text>
      </inputExpression></input>
      <output id="out0" name="rate"/>
      <rule id="r1"><inputEntry id="r1i0"><text>-</text></inputEntry>
        <outputEntry id="r1o0"><text>"RATE-42"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""
