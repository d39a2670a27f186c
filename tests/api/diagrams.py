"""Inline BPMN for the API tests."""

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="http://baton.dev/t">\n'
)

CLAIM = HEAD + """
<process id="claim" name="Insurance claim" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
  <userTask id="review" name="Review claim" camunda:candidateGroups="adjusters">
    <extensionElements><camunda:formData>
      <camunda:formField id="amount" label="Amount" type="long">
        <camunda:validation><camunda:constraint name="required"/>
          <camunda:constraint name="min" config="1"/></camunda:validation>
      </camunda:formField>
      <camunda:formField id="approved" label="Approved" type="boolean"/>
    </camunda:formData></extensionElements>
  </userTask>
  <sequenceFlow id="f2" sourceRef="review" targetRef="wait_docs"/>
  <receiveTask id="wait_docs" name="Wait for documents" messageRef="docs"/>
  <sequenceFlow id="f3" sourceRef="wait_docs" targetRef="end"/>
  <endEvent id="end"/>
</process>
<message id="docs" name="documents-received"/>
</definitions>"""

PLAIN = HEAD + """
<process id="plain" name="Plain" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="Do it" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f2" sourceRef="t" targetRef="catch"/>
  <intermediateCatchEvent id="catch"><signalEventDefinition signalRef="go"/>
  </intermediateCatchEvent>
  <sequenceFlow id="f3" sourceRef="catch" targetRef="end"/>
  <endEvent id="end"/>
</process>
<signal id="go" name="go-ahead"/>
</definitions>"""

FAILING = HEAD + """
<process id="failing" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="boom"/>
  <serviceTask id="boom" name="Call the broken service" camunda:type="external"
               camunda:topic="broken-service"/>
  <sequenceFlow id="f2" sourceRef="boom" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""

BROKEN = HEAD + """
<process id="broken" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="nowhere"/>
</process>
</definitions>"""
