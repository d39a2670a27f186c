"""Hostile diagrams for the security tests."""

from __future__ import annotations

from html import escape

# Markup that would run if any page, drawing or download emitted it unescaped.
PAYLOAD = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)><svg onload=alert(3)>'
# What must never appear in a response: the payload's tags as markup.
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg onload")

_A = escape(PAYLOAD, quote=True)          # as an XML attribute value
_T = escape(PAYLOAD, quote=False)         # as XML text

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="t">\n')

# Every name, label, documentation and message carries the payload; the script task fails
# with the payload in its error message (an incident); the diagram is drawn (BPMNDI).
HOSTILE = HEAD + f"""
<collaboration id="c"><participant id="pool" name="{_A}" processRef="hostile"/></collaboration>
<process id="hostile" name="{_A}" isExecutable="true">
  <documentation>{_T} &lt;foreignObject&gt;&lt;body onload="x()"/&gt;</documentation>
  <laneSet id="ls"><lane id="lane" name="{_A}">
    <flowNodeRef>start</flowNodeRef><flowNodeRef>review</flowNodeRef></lane></laneSet>
  <startEvent id="start" name="{_A}">
    <extensionElements><camunda:formData>
      <camunda:formField id="note" label="{_A}" type="string" defaultValue="{_A}"/>
    </camunda:formData></extensionElements>
  </startEvent>
  <sequenceFlow id="f1" name="{_A}" sourceRef="start" targetRef="review"/>
  <userTask id="review" name="{_A}" camunda:candidateGroups="adjusters"
            camunda:formKey="{_A}">
    <documentation>{_T}</documentation>
    <extensionElements><camunda:formData>
      <camunda:formField id="choice" label="{_A}" type="enum">
        <camunda:value id="ok" name="{_A}"/>
      </camunda:formField>
      <camunda:formField id="text" label="{_A}" type="string" defaultValue="{_A}"/>
    </camunda:formData></extensionElements>
  </userTask>
  <sequenceFlow id="f2" sourceRef="review" targetRef="fail"/>
  <scriptTask id="fail" name="{_A}" scriptFormat="python" camunda:asyncBefore="true">
    <script>x = int(text)</script></scriptTask>
  <sequenceFlow id="f3" sourceRef="fail" targetRef="end"/>
  <endEvent id="end" name="{_A}"/>
  <textAnnotation id="note_shape"><text>{_T}</text></textAnnotation>
</process>
<message id="m" name="{_A}"/>
<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="plane" bpmnElement="c">
  <bpmndi:BPMNShape id="s_pool" bpmnElement="pool"><dc:Bounds x="0" y="0" width="900" height="300"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_lane" bpmnElement="lane"><dc:Bounds x="30" y="0" width="870" height="300"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_start" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_review" bpmnElement="review"><dc:Bounds x="200" y="80" width="100" height="80"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_fail" bpmnElement="fail"><dc:Bounds x="400" y="80" width="100" height="80"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_end" bpmnElement="end"><dc:Bounds x="600" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_note" bpmnElement="note_shape"><dc:Bounds x="600" y="200" width="136" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNEdge id="e1" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>"""


def drawn(coordinates: str) -> str:
    """A one-task diagram whose task shape has the given `x="..." y="..."` bounds."""
    return HEAD + f"""
<process id="drawn" name="Drawn" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="Task" camunda:candidateGroups="adjusters"/>
</process>
<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="plane" bpmnElement="drawn">
  <bpmndi:BPMNShape id="s_start" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s_t" bpmnElement="t"><dc:Bounds {coordinates} width="100" height="80"/></bpmndi:BPMNShape>
  <bpmndi:BPMNEdge id="e1" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="NaN" y="1e999"/></bpmndi:BPMNEdge>
</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>"""


def script_process(script: str, process_id: str = "scripted") -> str:
    """start -> script task -> user task (so the script's variables are stored)."""
    return HEAD + f"""
<process id="{process_id}" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="run"/>
  <scriptTask id="run" scriptFormat="python"><script>{escape(script, quote=False)}</script>
  </scriptTask>
  <sequenceFlow id="f2" sourceRef="run" targetRef="wait"/>
  <userTask id="wait" camunda:candidateGroups="adjusters"/>
  <sequenceFlow id="f3" sourceRef="wait" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""


def user_task_process(process_id: str = "plain", group: str = "adjusters",
                      form_key: str | None = None) -> str:
    key = f' camunda:formKey="{escape(form_key)}"' if form_key else ""
    return HEAD + f"""
<process id="{process_id}" name="Plain" isExecutable="true">
  <startEvent id="start"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="t"/>
  <userTask id="t" name="Do it" camunda:candidateGroups="{group}"{key}/>
  <sequenceFlow id="f2" sourceRef="t" targetRef="end"/>
  <endEvent id="end"/>
</process>
</definitions>"""
