"""Every validation rule, broken once and kept once, by a minimal model written from BPMN 2.0.2.

Each case is (rule, element, model that breaks it, model that keeps it). The broken model must
report the rule on that element, with its tag, id and XML line, with the rule's severity (an
error refuses the file, a warning lets it compile and comes back in `Definitions.warnings`);
the kept model must compile without that rule. Every rule of the catalog has a case, and
docs/validation-rules.md is what `python -m engine.bpmn.rules.docs` writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import Engine
from engine.bpmn import BpmnValidationError, Problem, compile_bpmn
from engine.bpmn.catalog import ERROR, WARNING, rule_for_message
from engine.bpmn.rules import all_rules
from engine.bpmn.rules.docs import render
from engine.bpmn.rules.registry import DEPLOYMENT_RULES

DOCS = Path(__file__).parents[1] / "docs" / "validation-rules.md"

NAMESPACES = (
    'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:baton="http://baton.dev/schema/1.0"'
)
ROOT = ('<message id="m" name="msg"/><signal id="sig" name="sig"/>'
        '<error id="err" errorCode="E"/><escalation id="esc" escalationCode="X"/>')
MSG = '<messageEventDefinition messageRef="m"/>'
TIMER = '<timerEventDefinition><timeDuration>PT1M</timeDuration></timerEventDefinition>'
COND = "<conditionExpression>x &gt; 1</conditionExpression>"


def model(body: str, *, executable: str = "true", root: str = ROOT) -> str:
    return (f'<?xml version="1.0"?>\n<definitions {NAMESPACES} id="d">\n{root}\n'
            f'<process id="p" isExecutable="{executable}">\n{body}\n</process>\n</definitions>\n')


def flow(ident: str, source: str, target: str, condition: bool = False) -> str:
    body = f">{COND}</sequenceFlow>" if condition else "/>"
    return f'<sequenceFlow id="{ident}" sourceRef="{source}" targetRef="{target}"{body}\n'


def chain(*ids: str) -> str:
    """Sequence flows through the given nodes, in order."""
    return "".join(flow(f"c_{a}_{b}", a, b) for a, b in zip(ids, ids[1:], strict=False))


START = '<startEvent id="s"/>\n'
END = '<endEvent id="e"/>\n'
HANDLER = ('<boundaryEvent id="cb" attachedToRef="t"><compensateEventDefinition/>'
           '</boundaryEvent>\n<task id="undo" isForCompensation="true"/>\n'
           '<association id="a1" sourceRef="cb" targetRef="undo"/>\n')


def esp(start: str, inner: str = "", attrs: str = "", ident: str = "esp") -> str:
    return (f'<subProcess id="{ident}" triggeredByEvent="true" {attrs}>\n{start}\n{inner}\n'
            '</subProcess>\n')


@dataclass(frozen=True)
class Case:
    rule: str
    element: str            # id of the element the problem names
    bad: str
    good: str
    needle: str | None = None   # text on the element's line, when not id="element"

    @property
    def id(self) -> str:
        return self.rule


CASES: list[Case] = [
    # ------------------------------------------------------------------ starts
    Case("process-can-start", "p",
         model('<task id="a"/><task id="b"/>' + flow("f1", "a", "b") + flow("f2", "b", "a")),
         model('<task id="a"/><task id="b"/>' + flow("f1", "a", "b"))),
    Case("process-implicit-start", "p",
         model('<task id="a"/><task id="b"/>' + flow("f1", "a", "b")),
         model(START + '<task id="a"/><task id="b"/>' + flow("f0", "s", "a")
               + flow("f1", "a", "b"))),
    Case("subprocess-can-start", "sub",
         model(START + '<subProcess id="sub"><task id="a"/><task id="b"/>'
               + flow("f1", "a", "b") + flow("f2", "b", "a") + "</subProcess>"
               + flow("f0", "s", "sub")),
         model(START + '<subProcess id="sub"><task id="a"/><task id="b"/>'
               + flow("f1", "a", "b") + "</subProcess>" + flow("f0", "s", "sub"))),
    Case("subprocess-start-none", "ms",
         model(START + f'<subProcess id="sub"><startEvent id="ms">{MSG}</startEvent>'
               "</subProcess>" + flow("f0", "s", "sub")),
         model(START + '<subProcess id="sub"><startEvent id="ms"/></subProcess>'
               + flow("f0", "s", "sub"))),
    Case("event-subprocess-one-start", "esp",
         model(START + esp(f'<startEvent id="es1">{MSG}</startEvent>'
                           f'<startEvent id="es2">{TIMER}</startEvent>')),
         model(START + esp(f'<startEvent id="es1">{MSG}</startEvent>'))),
    Case("event-subprocess-start-trigger", "plain",
         model(START + esp('<startEvent id="plain"/>')),
         model(START + esp(f'<startEvent id="plain">{MSG}</startEvent>'))),
    Case("start-trigger-top-level", "es",
         model(START + '<startEvent id="es"><errorEventDefinition errorRef="err"/>'
                       "</startEvent>"),
         model(START + esp('<startEvent id="es"><errorEventDefinition errorRef="err"/>'
                           "</startEvent>"))),
    Case("start-interrupting", "es",
         model(START + esp('<startEvent id="es" isInterrupting="false">'
                           '<errorEventDefinition errorRef="err"/></startEvent>')),
         model(START + esp('<startEvent id="es" isInterrupting="false">'
                           '<escalationEventDefinition escalationRef="esc"/></startEvent>'))),
    Case("none-start-single", "s2",
         model(START + '<startEvent id="s2"/>' + END + flow("f1", "s", "e")
               + flow("f2", "s2", "e")),
         model(START + END + flow("f1", "s", "e"))),
    # ------------------------------------------------------------------ flows
    Case("start-event-incoming", "s",
         model(START + '<task id="t"/>' + flow("f1", "s", "t") + flow("f2", "t", "s")),
         model(START + '<task id="t"/>' + flow("f1", "s", "t"))),
    Case("boundary-event-incoming", "b",
         model(START + '<userTask id="t"/>' + f'<boundaryEvent id="b" attachedToRef="t">'
               f"{TIMER}</boundaryEvent>" + END + flow("f1", "s", "t") + flow("f2", "t", "b")
               + flow("f3", "b", "e")),
         model(START + '<userTask id="t"/>' + f'<boundaryEvent id="b" attachedToRef="t">'
               f"{TIMER}</boundaryEvent>" + END + flow("f1", "s", "t") + flow("f3", "b", "e"))),
    Case("end-event-outgoing", "e",
         model(START + END + '<task id="t"/>' + flow("f1", "s", "e") + flow("f2", "e", "t")),
         model(START + END + flow("f1", "s", "e"))),
    Case("event-subprocess-flows", "esp",
         model(START + esp(f'<startEvent id="es">{MSG}</startEvent>') + flow("f1", "s", "esp")),
         model(START + esp(f'<startEvent id="es">{MSG}</startEvent>'))),
    Case("compensation-handler-flows", "undo",
         model(START + '<task id="t"/>' + HANDLER + flow("f1", "s", "t")
               + flow("f2", "t", "undo")),
         model(START + '<task id="t"/>' + HANDLER + flow("f1", "s", "t"))),
    Case("conditional-flow-single", "t",
         model(START + '<task id="t"/>' + END + flow("f1", "s", "t")
               + flow("f2", "t", "e", condition=True)),
         model(START + '<task id="t"/>' + END + '<endEvent id="e2"/>' + flow("f1", "s", "t")
               + flow("f2", "t", "e", condition=True) + flow("f3", "t", "e2"))),
    Case("conditional-flows-no-default", "t",
         model(START + '<task id="t"/>' + END + '<endEvent id="e2"/>' + flow("f1", "s", "t")
               + flow("f2", "t", "e", condition=True) + flow("f3", "t", "e2", condition=True)),
         model(START + '<task id="t" default="f3"/>' + END + '<endEvent id="e2"/>'
               + flow("f1", "s", "t") + flow("f2", "t", "e", condition=True)
               + flow("f3", "t", "e2"))),
    Case("condition-on-event-flow", "s",
         model(START + END + '<endEvent id="e2"/>' + flow("f1", "s", "e", condition=True)
               + flow("f2", "s", "e2")),
         model(START + END + '<endEvent id="e2"/>' + flow("f1", "s", "e")
               + flow("f2", "s", "e2"))),
    Case("default-flow-condition", "f2",
         model(START + '<exclusiveGateway id="g" default="f2"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e", condition=True)
               + flow("f2", "g", "e2", condition=True)),
         model(START + '<exclusiveGateway id="g" default="f2"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e", condition=True)
               + flow("f2", "g", "e2"))),
    Case("default-flow-never-taken", "t",
         model(START + '<task id="t" default="f3"/>' + END + '<endEvent id="e2"/>'
               + flow("f1", "s", "t") + flow("f2", "t", "e") + flow("f3", "t", "e2")),
         model(START + '<task id="t" default="f3"/>' + END + '<endEvent id="e2"/>'
               + flow("f1", "s", "t") + flow("f2", "t", "e", condition=True)
               + flow("f3", "t", "e2"))),
    Case("unreachable-node", "lost",
         model(START + END + '<task id="lost"/>' + flow("f1", "s", "e")),
         model(START + END + '<task id="lost"/>' + chain("s", "lost", "e"))),
    # ------------------------------------------------------------------ gateways
    Case("exclusive-gateway-unconditioned", "g",
         model(START + '<exclusiveGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e") + flow("f2", "g", "e2")),
         model(START + '<exclusiveGateway id="g" default="f2"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e", condition=True)
               + flow("f2", "g", "e2"))),
    Case("exclusive-gateway-flow-order", "g",
         model(START + '<exclusiveGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e") + flow("f2", "g", "e2", True)),
         model(START + '<exclusiveGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f2", "g", "e2", True) + flow("f1", "g", "e"))),
    Case("inclusive-gateway-unconditioned", "g",
         model(START + '<inclusiveGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e") + flow("f2", "g", "e2")),
         model(START + '<inclusiveGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e", True) + flow("f2", "g", "e2"))),
    Case("parallel-gateway-conditions", "g",
         model(START + '<parallelGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e", True) + flow("f2", "g", "e2")),
         model(START + '<parallelGateway id="g"/>' + END + '<endEvent id="e2"/>'
               + flow("f0", "s", "g") + flow("f1", "g", "e") + flow("f2", "g", "e2"))),
    Case("event-gateway-targets", "eg",
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + '<userTask id="human"/>' + flow("f0", "s", "eg") + flow("f1", "eg", "c1")
               + flow("f2", "eg", "human")),
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1") + flow("f2", "eg", "c2"))),
    Case("event-gateway-target-incoming", "c1",
         model(START + '<eventBasedGateway id="eg"/><task id="x"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1") + flow("f2", "eg", "c2")
               + flow("f3", "s", "x") + flow("f4", "x", "c1")),
         model(START + '<eventBasedGateway id="eg"/><task id="x"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1") + flow("f2", "eg", "c2")
               + flow("f3", "s", "x") + flow("f4", "c1", "x"))),
    Case("event-gateway-conditions", "eg",
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1", True) + flow("f2", "eg", "c2")),
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1") + flow("f2", "eg", "c2"))),
    Case("event-gateway-outgoing", "eg",
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1")),
         model(START + '<eventBasedGateway id="eg"/>'
               + f'<intermediateCatchEvent id="c1">{MSG}</intermediateCatchEvent>'
               + f'<intermediateCatchEvent id="c2">{TIMER}</intermediateCatchEvent>'
               + flow("f0", "s", "eg") + flow("f1", "eg", "c1") + flow("f2", "eg", "c2"))),
    # ------------------------------------------------------------------ events
    Case("boundary-interrupting", "b",
         model(START + '<userTask id="t"/>' + END
               + '<boundaryEvent id="b" attachedToRef="t" cancelActivity="false">'
               + '<errorEventDefinition errorRef="err"/></boundaryEvent>'
               + flow("f1", "s", "t") + flow("f2", "b", "e")),
         model(START + '<userTask id="t"/>' + END
               + '<boundaryEvent id="b" attachedToRef="t" cancelActivity="false">'
               + '<escalationEventDefinition escalationRef="esc"/></boundaryEvent>'
               + flow("f1", "s", "t") + flow("f2", "b", "e"))),
    Case("boundary-scope", "b",
         model(START + '<subProcess id="sub"><startEvent id="i"/><userTask id="inner"/>'
               + flow("fi", "i", "inner") + "</subProcess>" + END
               + f'<boundaryEvent id="b" attachedToRef="inner">{TIMER}</boundaryEvent>'
               + flow("f0", "s", "sub") + flow("f1", "b", "e")),
         model(START + '<subProcess id="sub"><startEvent id="i"/><userTask id="inner"/>'
               + flow("fi", "i", "inner") + "</subProcess>" + END
               + f'<boundaryEvent id="b" attachedToRef="sub">{TIMER}</boundaryEvent>'
               + flow("f0", "s", "sub") + flow("f1", "b", "e"))),
    Case("boundary-outgoing", "b",
         model(START + '<userTask id="t"/>'
               + f'<boundaryEvent id="b" attachedToRef="t">{TIMER}</boundaryEvent>'
               + flow("f1", "s", "t")),
         model(START + '<userTask id="t"/>' + END
               + f'<boundaryEvent id="b" attachedToRef="t">{TIMER}</boundaryEvent>'
               + flow("f1", "s", "t") + flow("f2", "b", "e"))),
    Case("compensation-boundary-outgoing", "cb",
         model(START + '<task id="t"/>' + HANDLER + END + flow("f1", "s", "t")
               + flow("f2", "cb", "e")),
         model(START + '<task id="t"/>' + HANDLER + END + chain("s", "t", "e"))),
    Case("cancel-end-transaction", "ce",
         model(START + '<subProcess id="sub"><startEvent id="i"/>'
               + '<endEvent id="ce"><cancelEventDefinition/></endEvent>'
               + flow("fi", "i", "ce") + "</subProcess>" + flow("f0", "s", "sub")),
         model(START + '<transaction id="sub"><startEvent id="i"/>'
               + '<endEvent id="ce"><cancelEventDefinition/></endEvent>'
               + flow("fi", "i", "ce") + "</transaction>" + flow("f0", "s", "sub"))),
    Case("cancel-boundary-transaction", "b",
         model(START + '<subProcess id="sub"><startEvent id="i"/></subProcess>' + END
               + '<boundaryEvent id="b" attachedToRef="sub"><cancelEventDefinition/>'
               + "</boundaryEvent>" + flow("f0", "s", "sub") + flow("f1", "b", "e")),
         model(START + '<transaction id="sub"><startEvent id="i"/></transaction>' + END
               + '<boundaryEvent id="b" attachedToRef="sub"><cancelEventDefinition/>'
               + "</boundaryEvent>" + flow("f0", "s", "sub") + flow("f1", "b", "e"))),
    Case("timer-single-time", "w",
         model(START + '<intermediateCatchEvent id="w"><timerEventDefinition>'
               + "<timeDate>2030-01-01T00:00:00Z</timeDate><timeDuration>PT1H</timeDuration>"
               + "</timerEventDefinition></intermediateCatchEvent>" + END + chain("s", "w", "e")),
         model(START + '<intermediateCatchEvent id="w"><timerEventDefinition><timeDate/>'
               + "<timeDuration>PT1H</timeDuration></timerEventDefinition>"
               + "</intermediateCatchEvent>" + END + chain("s", "w", "e"))),
    Case("receive-task-message", "r",
         model(START + '<receiveTask id="r"/>' + END + chain("s", "r", "e")),
         model(START + '<receiveTask id="r" messageRef="m"/>' + END + chain("s", "r", "e"))),
    Case("throw-without-code", "e",
         model(START + '<endEvent id="e"><errorEventDefinition/></endEvent>'
               + flow("f1", "s", "e")),
         model(START + '<endEvent id="e"><errorEventDefinition errorRef="err"/></endEvent>'
               + flow("f1", "s", "e"))),
    # ------------------------------------------------------------------ compensation
    Case("compensate-activity-ref", "thr",
         model(START + '<task id="t"/>' + HANDLER
               + '<subProcess id="sub"><startEvent id="i"/>'
               + '<endEvent id="thr"><compensateEventDefinition activityRef="t"/></endEvent>'
               + flow("fi", "i", "thr") + "</subProcess>" + chain("s", "t", "sub")),
         model(START + '<task id="t"/>' + HANDLER
               + '<endEvent id="thr"><compensateEventDefinition activityRef="t"/></endEvent>'
               + chain("s", "t", "thr"))),
    Case("compensate-in-event-subprocess", "thr",
         model(START + '<task id="t"/>' + HANDLER + END + chain("s", "t", "e")
               + esp(f'<startEvent id="es">{MSG}</startEvent>',
                     '<endEvent id="thr"><compensateEventDefinition/></endEvent>'
                     + flow("g1", "es", "thr"))),
         model(START + '<task id="t"/>' + HANDLER
               + '<endEvent id="thr"><compensateEventDefinition/></endEvent>'
               + chain("s", "t", "thr"))),
    Case("compensation-handler-unused", "undo",
         model(START + '<task id="t"/><task id="undo" isForCompensation="true"/>'
               + flow("f1", "s", "t")),
         model(START + '<task id="t"/>' + HANDLER + flow("f1", "s", "t"))),
    # ------------------------------------------------------------------ links
    Case("link-catch-unique", "land2",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>'
               + '<intermediateCatchEvent id="land2"><linkEventDefinition name="A"/>'
               + "</intermediateCatchEvent>" + END + '<endEvent id="e2"/>'
               + flow("f1", "s", "jump") + flow("f2", "land", "e") + flow("f3", "land2", "e2")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("link-catch-missing", "jump",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + "</intermediateThrowEvent>" + flow("f1", "s", "jump")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("link-catch-incoming", "land",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent><task id="t"/>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e") + flow("f3", "s", "t")
               + flow("f4", "t", "land")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("link-throw-outgoing", "jump",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + '<endEvent id="e2"/>' + flow("f1", "s", "jump") + flow("f2", "land", "e")
               + flow("f3", "jump", "e2")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("link-catch-unused", "land",
         model(START + END + '<intermediateCatchEvent id="land"><linkEventDefinition name="B"/>'
               + '</intermediateCatchEvent><endEvent id="e2"/>' + flow("f1", "s", "e")
               + flow("f2", "land", "e2")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="B"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="B"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("link-explicit-pair", "jump",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition id="lt" name="A">'
               + "<target>lc2</target></linkEventDefinition></intermediateThrowEvent>"
               + '<intermediateCatchEvent id="land"><linkEventDefinition id="lc" name="A"/>'
               + '</intermediateCatchEvent><intermediateCatchEvent id="land2">'
               + '<linkEventDefinition id="lc2" name="B"/></intermediateCatchEvent>'
               + '<intermediateThrowEvent id="jump2"><linkEventDefinition name="B"/>'
               + "</intermediateThrowEvent>" + END + '<endEvent id="e2"/><task id="t"/>'
               + flow("f1", "s", "jump") + flow("f2", "land", "e") + flow("f3", "land2", "e2")
               + flow("f4", "s", "t") + flow("f5", "t", "jump2")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition id="lt" name="A">'
               + "<target>lc</target></linkEventDefinition></intermediateThrowEvent>"
               + '<intermediateCatchEvent id="land"><linkEventDefinition id="lc" name="A">'
               + "<source>lt</source></linkEventDefinition></intermediateCatchEvent>" + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    # ------------------------------------------------------------------ activities
    Case("separation-targets", "review",
         model(START + '<userTask id="review" baton:separateFrom="ghost"/>'
               + flow("f1", "s", "review")),
         model(START + '<userTask id="enter"/><userTask id="review" '
               + 'baton:separateFrom="enter"/>' + chain("s", "enter", "review"))),
    Case("called-version-binding", "call",
         model(START + '<callActivity id="call" calledElement="p" '
               + 'camunda:calledElementBinding="deployment"/>' + flow("f1", "s", "call")),
         model(START + '<callActivity id="call" calledElement="p" '
               + 'camunda:calledElementBinding="latest"/>' + flow("f1", "s", "call"))),
    Case("stored-text-length", "pay",
         model(START + '<serviceTask id="pay" camunda:type="external" camunda:topic="'
               + "t" * 256 + '"/>' + flow("f1", "s", "pay")),
         model(START + '<serviceTask id="pay" camunda:type="external" camunda:topic="'
               + "t" * 255 + '"/>' + flow("f1", "s", "pay"))),
    # ------------------------------------------------------------------ read with elements
    Case("duplicate-id", "s", model(START + '<task id="s"/>'), model(START + '<task id="t"/>'),
         needle='<task id="s"'),
    Case("element-id", "", model(START + "<task/>"), model(START + '<task id="t"/>'),
         needle="<task/>"),
    Case("sequence-flow-id", "", model(START + END + '<sequenceFlow sourceRef="s" '
                                       'targetRef="e"/>'),
         model(START + END + flow("f", "s", "e")), needle="<sequenceFlow sourceRef"),
    Case("event-definition-allowed", "c",
         model(START + '<intermediateCatchEvent id="c"><terminateEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + f'<intermediateCatchEvent id="c">{TIMER}</intermediateCatchEvent>'
               + flow("f", "s", "c"))),
    Case("multiple-event-parts", "b",
         model(START + '<userTask id="t"/><boundaryEvent id="b" attachedToRef="t">'
               + f'{MSG}<errorEventDefinition errorRef="err"/></boundaryEvent>' + END
               + flow("f", "s", "t") + flow("f2", "b", "e")),
         model(START + '<userTask id="t"/><boundaryEvent id="b" attachedToRef="t">'
               + f"{MSG}{TIMER}</boundaryEvent>" + END + flow("f", "s", "t")
               + flow("f2", "b", "e"))),
    Case("element-supported", "cx",
         model(START + '<choreographyTask id="cx"/>' + flow("f", "s", "cx")),
         model(START + '<task id="cx"/>' + flow("f", "s", "cx"))),
    Case("sequence-flow-ends", "f", model(START + flow("f", "s", "nowhere")),
         model(START + END + flow("f", "s", "e"))),
    Case("sequence-flow-scope", "f",
         model(START + '<subProcess id="sub"><startEvent id="i"/><task id="inner"/>'
               + "</subProcess>" + flow("f", "s", "inner") + flow("f0", "s", "sub")),
         model(START + '<subProcess id="sub"><startEvent id="i"/><task id="inner"/>'
               + flow("f", "i", "inner") + "</subProcess>" + flow("f0", "s", "sub"))),
    Case("default-flow-outgoing", "g",
         model(START + '<exclusiveGateway id="g" default="f0"/>' + END + flow("f0", "s", "g")
               + flow("f1", "g", "e")),
         model(START + '<exclusiveGateway id="g" default="f1"/>' + END + flow("f0", "s", "g")
               + flow("f1", "g", "e"))),
    Case("boundary-attached-to", "b",
         model(START + f'<boundaryEvent id="b" attachedToRef="ghost">{TIMER}</boundaryEvent>'),
         model(START + '<userTask id="t"/>' + END
               + f'<boundaryEvent id="b" attachedToRef="t">{TIMER}</boundaryEvent>'
               + flow("f", "s", "t") + flow("f2", "b", "e"))),
    Case("compensation-boundary-handler", "cb",
         model(START + '<task id="t"/><boundaryEvent id="cb" attachedToRef="t">'
               + "<compensateEventDefinition/></boundaryEvent>" + flow("f", "s", "t")),
         model(START + '<task id="t"/>' + HANDLER + flow("f", "s", "t"))),
    Case("message-ref-fallback", "c",
         model(START + '<intermediateCatchEvent id="c" name="paid"><messageEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + f'<intermediateCatchEvent id="c" name="paid">{MSG}'
               + "</intermediateCatchEvent>" + flow("f", "s", "c"))),
    Case("message-ref-missing", "c",
         model(START + '<intermediateCatchEvent id="c"><messageEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + f'<intermediateCatchEvent id="c">{MSG}</intermediateCatchEvent>'
               + flow("f", "s", "c"))),
    Case("signal-ref-fallback", "c",
         model(START + '<intermediateCatchEvent id="c" name="go"><signalEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + '<intermediateCatchEvent id="c" name="go">'
               + '<signalEventDefinition signalRef="sig"/></intermediateCatchEvent>'
               + flow("f", "s", "c"))),
    Case("signal-ref-missing", "c",
         model(START + '<intermediateThrowEvent id="c"><signalEventDefinition/>'
               + "</intermediateThrowEvent>" + flow("f", "s", "c")),
         model(START + '<intermediateThrowEvent id="c"><signalEventDefinition signalRef="sig"/>'
               + "</intermediateThrowEvent>" + flow("f", "s", "c"))),
    Case("signal-catch-unnamed", "c",
         model(START + '<intermediateCatchEvent id="c"><signalEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + '<intermediateCatchEvent id="c"><signalEventDefinition signalRef="sig"/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c"))),
    Case("error-ref-as-code", "e",
         model(START + '<endEvent id="e"><errorEventDefinition errorRef="E42"/></endEvent>'
               + flow("f", "s", "e")),
         model(START + '<endEvent id="e"><errorEventDefinition errorRef="err"/></endEvent>'
               + flow("f", "s", "e"))),
    Case("event-ref-defined", "c",
         model(START + '<intermediateCatchEvent id="c"><messageEventDefinition messageRef="x"/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "c")),
         model(START + f'<intermediateCatchEvent id="c">{MSG}</intermediateCatchEvent>'
               + flow("f", "s", "c"))),
    Case("start-event-trigger-unique", "s2",
         model(f'<startEvent id="s1">{MSG}</startEvent><startEvent id="s2">{MSG}</startEvent>'),
         model(f'<startEvent id="s1">{MSG}</startEvent><startEvent id="s2">'
               + '<signalEventDefinition signalRef="sig"/></startEvent>')),
    Case("timer-time", "w",
         model(START + '<intermediateCatchEvent id="w"><timerEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "w")),
         model(START + f'<intermediateCatchEvent id="w">{TIMER}</intermediateCatchEvent>'
               + flow("f", "s", "w"))),
    Case("conditional-event-condition", "w",
         model(START + '<intermediateCatchEvent id="w"><conditionalEventDefinition/>'
               + "</intermediateCatchEvent>" + flow("f", "s", "w")),
         model(START + '<intermediateCatchEvent id="w"><conditionalEventDefinition>'
               + "<condition>x &gt; 1</condition></conditionalEventDefinition>"
               + "</intermediateCatchEvent>" + flow("f", "s", "w"))),
    Case("link-name", "jump",
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition/>'
               + "</intermediateThrowEvent>" + flow("f", "s", "jump")),
         model(START + '<intermediateThrowEvent id="jump"><linkEventDefinition name="A"/>'
               + '</intermediateThrowEvent><intermediateCatchEvent id="land">'
               + '<linkEventDefinition name="A"/></intermediateCatchEvent>' + END
               + flow("f1", "s", "jump") + flow("f2", "land", "e"))),
    Case("called-element", "call",
         model(START + '<callActivity id="call"/>' + flow("f", "s", "call")),
         model(START + '<callActivity id="call" calledElement="p"/>' + flow("f", "s", "call"))),
    Case("external-resource", "sc",
         model(START + '<scriptTask id="sc" scriptFormat="python" camunda:resource="a.py"/>'
               + flow("f", "s", "sc")),
         model(START + '<scriptTask id="sc" scriptFormat="python"><script>x = 1</script>'
               + "</scriptTask>" + flow("f", "s", "sc"))),
    Case("multi-instance-count", "t",
         model(START + '<userTask id="t"><multiInstanceLoopCharacteristics/></userTask>'
               + flow("f", "s", "t")),
         model(START + '<userTask id="t"><multiInstanceLoopCharacteristics>'
               + "<loopCardinality>3</loopCardinality></multiInstanceLoopCharacteristics>"
               + "</userTask>" + flow("f", "s", "t"))),
    Case("standard-loop-end", "t",
         model(START + '<task id="t"><standardLoopCharacteristics/></task>'
               + flow("f", "s", "t")),
         model(START + '<task id="t"><standardLoopCharacteristics loopMaximum="3"/></task>'
               + flow("f", "s", "t"))),
    Case("io-specification-data", "t",
         model(START + '<task id="t"><ioSpecification><dataInput id="in-1"/>'
               + '<inputSet><dataInputRefs>in-1</dataInputRefs></inputSet><outputSet/>'
               + "</ioSpecification></task>" + flow("f", "s", "t")),
         model(START + '<task id="t"><ioSpecification><dataInput id="in1"/>'
               + '<inputSet><dataInputRefs>in1</dataInputRefs></inputSet><outputSet/>'
               + "</ioSpecification></task>" + flow("f", "s", "t"))),
    Case("form-field-type", "t",
         model(START + '<userTask id="t"><extensionElements><camunda:formData>'
               + '<camunda:formField id="x" type="colour"/></camunda:formData>'
               + "</extensionElements></userTask>" + flow("f", "s", "t")),
         model(START + '<userTask id="t"><extensionElements><camunda:formData>'
               + '<camunda:formField id="x" type="string"/></camunda:formData>'
               + "</extensionElements></userTask>" + flow("f", "s", "t"))),
    Case("expression-compiles", "t",
         model(START + '<userTask id="t" camunda:assignee="${a +}"/>' + flow("f", "s", "t")),
         model(START + '<userTask id="t" camunda:assignee="${a}"/>' + flow("f", "s", "t"))),
    Case("listener-compiles", "t",
         model(START + '<task id="t"><extensionElements><camunda:executionListener '
               + 'event="start" expression="${a +}"/></extensionElements></task>'
               + flow("f", "s", "t")),
         model(START + '<task id="t"><extensionElements><camunda:executionListener '
               + 'event="start" expression="${a}"/></extensionElements></task>'
               + flow("f", "s", "t"))),
    Case("executable-process", "d", model(START, executable="false"), model(START),
         needle='id="d"'),
]


def line_of(xml: str, needle: str) -> int:
    return next(i for i, line in enumerate(xml.splitlines(), 1) if needle in line)


def reported(xml: str) -> list[Problem]:
    """Errors and warnings alike (strict compiling refuses on both)."""
    try:
        compile_bpmn(xml, strict=True)
    except BpmnValidationError as error:
        return error.problems
    return []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_bad_model_breaks_the_rule_at_its_element(case: Case) -> None:
    declared = {r.name: r for r in all_rules()}[case.rule]
    found = [p for p in reported(case.bad) if p.rule == case.rule]
    assert found, f"{case.rule} not reported: {[str(p) for p in reported(case.bad)]}"
    problem = found[0]
    assert problem.element_id == (case.element or None)
    assert problem.line == line_of(case.bad, case.needle or f'id="{case.element}"')
    assert problem.severity == declared.severity
    assert str(problem).endswith(f"[{case.rule}]") and problem.message in str(problem)
    if declared.severity == ERROR:
        with pytest.raises(BpmnValidationError, match=re.escape(f"[{case.rule}]")):
            compile_bpmn(case.bad)
    else:
        assert any(w.endswith(f"[{case.rule}]") for w in compile_bpmn(case.bad).warnings)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_good_model_keeps_the_rule(case: Case) -> None:
    definitions = compile_bpmn(case.good)
    assert not [w for w in definitions.warnings if w.endswith(f"[{case.rule}]")]


def test_every_rule_has_a_case_and_every_case_a_rule() -> None:
    names = [r.name for r in all_rules()]
    assert len(names) == len(set(names))
    cased = [c.rule for c in CASES]
    assert len(cased) == len(set(cased))
    assert set(names) - set(DEPLOYMENT_RULES) == set(cased)


def test_the_docs_page_is_generated_from_the_rules() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/validation-rules.md is stale: run "
        "`python -m engine.bpmn.rules.docs > docs/validation-rules.md`")
    for r in all_rules():
        assert f"| `{r.name}` | {r.severity} |" in render()
        for text in (r.applies_to, r.constraint, r.instead or "", r.spec):
            # markdown would swallow <tags> outside code spans
            assert "<" not in "".join(text.split("`")[::2]), (r.name, text)


def test_a_warning_names_what_baton_does_instead() -> None:
    assert all(r.instead for r in all_rules() if r.severity == WARNING)


def test_reader_markers_are_told_apart_by_severity() -> None:
    sentence = "condition 'x +' does not compile: expected a value"
    assert rule_for_message(sentence, ERROR) == "expression-compiles"
    assert rule_for_message(sentence, WARNING) == "listener-compiles"
    assert rule_for_message("something nobody checks", ERROR) is None


# --------------------------------------------------------------------------- behaviour


def test_strict_compiling_refuses_warnings_with_their_severity() -> None:
    xml = CASES[[c.rule for c in CASES].index("exclusive-gateway-unconditioned")].bad
    assert compile_bpmn(xml).warnings
    with pytest.raises(BpmnValidationError) as info:
        compile_bpmn(xml, strict=True)
    assert [(p.rule, p.severity) for p in info.value.problems] == [
        ("exclusive-gateway-unconditioned", "warning")]


def test_lenient_compiling_loads_what_a_newer_rule_refuses() -> None:
    """A definition deployed before a rule existed is reloaded with lenient=True."""
    xml = CASES[[c.rule for c in CASES].index("cancel-boundary-transaction")].bad
    with pytest.raises(BpmnValidationError, match=r"\[cancel-boundary-transaction\]"):
        compile_bpmn(xml)
    warnings = compile_bpmn(xml, lenient=True).warnings
    assert any(w.endswith("[cancel-boundary-transaction]") for w in warnings)


def test_problems_in_a_documentation_pool_are_warnings() -> None:
    xml = CASES[[c.rule for c in CASES].index("cancel-end-transaction")].bad
    xml = xml.replace("</definitions>", '<process id="q" isExecutable="true">'
                      '<startEvent id="qs"/></process></definitions>')
    xml = xml.replace('id="p" isExecutable="true"', 'id="p" isExecutable="false"')
    assert any(w.endswith("[cancel-end-transaction]") for w in compile_bpmn(xml).warnings)


def test_the_exclusive_gateway_runs_as_its_warning_says() -> None:
    """Two unconditioned flows: the first in document order wins, every time (Camunda 7)."""
    xml = model(START + '<exclusiveGateway id="g"/><userTask id="a"/><userTask id="b"/>'
                + flow("f0", "s", "g") + flow("f2", "g", "b") + flow("f1", "g", "a"))
    engine = Engine()
    [deployed] = engine.deploy(xml)
    assert any("the first of them in document order, 'f2'" in w for w in deployed.warnings)
    for _ in range(3):
        iid = engine.start("p")
        assert [t.activity_id for t in engine.tasks(instance_id=iid)] == ["b"]


def test_deployment_returns_warnings_and_strict_refuses_them() -> None:
    xml = CASES[[c.rule for c in CASES].index("receive-task-message")].bad
    engine = Engine()
    with pytest.raises(BpmnValidationError) as info:
        engine.deploy(xml, strict=True)
    assert info.value.problems[0].rule == "receive-task-message"
    assert engine.definitions() == []
    [deployed] = engine.deploy(xml)
    assert len(deployed.warnings) == 1 and deployed.warnings[0].endswith(
        "[receive-task-message]")
    [again] = engine.deploy(xml)      # unchanged file: same warnings, no new version
    assert not again.new and again.warnings == deployed.warnings


# --------------------------------------------------------------------------- deployment


def caller(called: str, ident: str = "caller") -> str:
    return (f'<?xml version="1.0"?>\n<definitions {NAMESPACES} id="d_{ident}">\n'
            f'<process id="{ident}" isExecutable="true">\n{START}'
            f'<callActivity id="call" calledElement="{called}"/>\n{END}'
            f'{chain("s", "call", "e")}</process>\n</definitions>\n')


def callee(starts: str, ident: str = "callee") -> str:
    return model(starts + END + "".join(flow(f"f{i}", s, "e") for i, s in
                                        enumerate(("s1", "s2")) if f'id="{s}"' in starts),
                 ).replace('id="p"', f'id="{ident}"').replace('id="d"', f'id="d_{ident}"')


MESSAGE_STARTS = (f'<startEvent id="s1">{MSG}</startEvent><startEvent id="s2">'
                  '<signalEventDefinition signalRef="sig"/></startEvent>')


def test_called_process_without_a_start_in_the_same_deployment_is_refused() -> None:
    engine = Engine()
    with pytest.raises(BpmnValidationError) as info:
        engine.deploy(caller("callee"), callee(MESSAGE_STARTS))
    [problem] = info.value.problems
    assert (problem.rule, problem.severity, problem.element_id) == (
        "called-process-start", "error", "call")
    assert problem.line == line_of(caller("callee"), 'id="call"')
    assert "has no none start event but 2 event start events" in problem.message
    assert engine.definitions() == []
    engine.deploy(caller("callee"), callee('<startEvent id="s1"/>'))   # a none start: fine


def test_called_process_with_one_event_start_is_a_warning() -> None:
    engine = Engine()
    deployed = engine.deploy(caller("callee"), callee(f'<startEvent id="s1">{MSG}</startEvent>'))
    warning = "".join(deployed[0].warnings)
    assert "starts it at its only start event 's1'" in warning
    assert warning.endswith("[called-process-event-start]")


def test_called_process_deployed_earlier_or_not_at_all_is_a_warning() -> None:
    engine = Engine()
    [first] = engine.deploy(caller("callee"))
    assert first.warnings[0].endswith("[called-process-deployed]")
    with pytest.raises(BpmnValidationError, match=r"\[called-process-deployed\]"):
        engine.deploy(caller("callee", "caller2"), strict=True)
    engine.deploy(callee(MESSAGE_STARTS))
    [later] = engine.deploy(caller("callee", "caller3"))
    assert "(as deployed now) has no none start event" in later.warnings[0]
    assert later.warnings[0].endswith("[called-process-start]")
