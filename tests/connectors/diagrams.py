"""Small inline diagrams for the connector tests."""

from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:baton="http://baton.dev/schema/1.0" targetNamespace="tests">
"""


def scored(topic: str = "score", attrs: str = "") -> str:
    """start -> service task (topic) -> userTask 'done'; an error boundary for REJECTED
    leads to userTask 'rejected'. Inputs map `amount`, outputs map `riskScore`."""
    impl = attrs or f'camunda:type="external" camunda:topic="{topic}"'
    return HEAD + f"""
  <error id="rejected_error" errorCode="REJECTED"/>
  <process id="scored" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" {impl}>
      <extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="amount">${{order * 2}}</camunda:inputParameter>
        <camunda:outputParameter name="riskScore">${{score}}</camunda:outputParameter>
      </camunda:inputOutput></extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="call" targetRef="done"/>
    <userTask id="done"/>
    <sequenceFlow id="f3" sourceRef="done" targetRef="end"/>
    <endEvent id="end"/>
    <boundaryEvent id="caught" attachedToRef="call">
      <errorEventDefinition errorRef="rejected_error"/>
    </boundaryEvent>
    <sequenceFlow id="f4" sourceRef="caught" targetRef="rejected"/>
    <userTask id="rejected"/>
  </process>
</definitions>"""


def plain(process_id: str, impl: str, extension: str = "") -> str:
    """start -> one service task (implementation attributes `impl`) -> userTask 'after'."""
    ext = f"<extensionElements>{extension}</extensionElements>" if extension else ""
    return HEAD + f"""
  <process id="{process_id}" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" {impl}>{ext}</serviceTask>
    <sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
    <userTask id="after"/>
    <sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"""


LOOP = HEAD + """
  <process id="loop" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" camunda:type="external" camunda:topic="count"/>
    <sequenceFlow id="f2" sourceRef="call" targetRef="gw"/>
    <exclusiveGateway id="gw" default="again"/>
    <sequenceFlow id="again" sourceRef="gw" targetRef="call"/>
    <sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <conditionExpression>${n &gt;= 3}</conditionExpression>
    </sequenceFlow>
    <endEvent id="end"/>
  </process>
</definitions>"""
