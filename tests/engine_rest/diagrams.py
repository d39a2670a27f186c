"""Inline diagrams for the engine-rest tests (the Camunda corpus is used where it fits)."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "camunda"
EXTERNAL_CORPUS = CORPUS / "api" / "externaltask"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="tests">
"""

# start -> external task "charge" (topic "payment", input `amount`, a property) with an
# interrupting message boundary "cancelled" and an error boundary PAYMENT_DECLINED
# -> userTask "ship" (clerks) -> end
PAYMENT = HEAD + """
  <message id="cancel_msg" name="orderCancelled"/>
  <error id="declined" errorCode="PAYMENT_DECLINED"/>
  <process id="payment" name="Payment" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <serviceTask id="charge" camunda:type="external" camunda:topic="payment">
      <extensionElements>
        <camunda:properties><camunda:property name="currency" value="EUR"/></camunda:properties>
        <camunda:inputOutput>
          <camunda:inputParameter name="amount">${price * quantity}</camunda:inputParameter>
        </camunda:inputOutput>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="charge" targetRef="ship"/>
    <userTask id="ship" name="Ship the order" camunda:candidateGroups="clerks"/>
    <sequenceFlow id="f3" sourceRef="ship" targetRef="end"/>
    <endEvent id="end"/>
    <boundaryEvent id="cancelled" attachedToRef="charge">
      <messageEventDefinition messageRef="cancel_msg"/>
    </boundaryEvent>
    <sequenceFlow id="f4" sourceRef="cancelled" targetRef="cancelledEnd"/>
    <endEvent id="cancelledEnd"/>
    <boundaryEvent id="declinedBoundary" attachedToRef="charge">
      <errorEventDefinition errorRef="declined"/>
    </boundaryEvent>
    <sequenceFlow id="f5" sourceRef="declinedBoundary" targetRef="callCustomer"/>
    <userTask id="callCustomer" camunda:candidateGroups="clerks"/>
  </process>
</definitions>"""

# a message start event and an intermediate message catch
MESSAGES = HEAD + """
  <message id="m_new" name="newOrder"/>
  <message id="m_paid" name="paymentReceived"/>
  <process id="orders" isExecutable="true">
    <startEvent id="start"><messageEventDefinition messageRef="m_new"/></startEvent>
    <sequenceFlow id="f1" sourceRef="start" targetRef="waitPaid"/>
    <intermediateCatchEvent id="waitPaid"><messageEventDefinition messageRef="m_paid"/>
    </intermediateCatchEvent>
    <sequenceFlow id="f2" sourceRef="waitPaid" targetRef="pack"/>
    <userTask id="pack"/>
    <sequenceFlow id="f3" sourceRef="pack" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"""

# a connector job (topic "flaky") for the job and incident endpoints
CONNECTOR = HEAD + """
  <process id="withConnector" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <serviceTask id="call" camunda:type="external" camunda:topic="flaky"/>
    <sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
    <userTask id="after"/>
    <sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"""
