"""The rule catalog: what a validation rule is, and the rules checked while elements are read.

Every problem Baton reports about a diagram can carry the name of the rule it breaks, so an
analyst can look the rule up (docs/validation-rules.md) and a tool can filter on it. Most
rules are checks on the linked graph (`engine.bpmn.rules`, one function each, declared with
their `Rule` next to the code). A few problems are found earlier, while one element is read
(a messageRef naming nothing, a timer without a time...): those readers report plain
sentences and know nothing of rule names, so `READER_RULES` recognises their sentences by a
marker, a fragment of the message. tests/test_bpmn_rules.py breaks each rule once, so a
reworded message that no longer matches its marker fails a test rather than going unnamed.

This module is a leaf (standard library only): `engine.bpmn.errors` reads it to name
problems, and everything else in the package imports that module.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One constraint Baton checks on upload.

    `severity` is ERROR where Baton cannot run the model as drawn (the upload is refused),
    WARNING where Baton runs it with a documented fallback, described by `instead`.
    """

    name: str                      # kebab-case, stable: shown in messages and docs
    severity: str                  # ERROR | WARNING
    applies_to: str                # the elements it is about, as a modeler names them
    constraint: str                # what must hold, one sentence
    spec: str                      # where BPMN 2.0.2 (formal/13-12-09) or Baton says so
    instead: str | None = None     # warnings: what Baton does instead
    markers: tuple[str, ...] = ()  # reader-side rules: fragments of their messages

    def __post_init__(self) -> None:
        if self.severity not in (ERROR, WARNING):
            raise ValueError(f"rule {self.name}: severity must be error or warning")
        if self.severity == WARNING and not self.instead:
            raise ValueError(f"rule {self.name}: a warning must say what Baton does instead")


# Checks made while one element is read (engine.bpmn.compiler, events, nodes, structure,
# extensions). Order matters: the first rule with a marker in the message names it, so the
# more specific markers come first.
READER_RULES: tuple[Rule, ...] = (
    Rule(name="duplicate-id", severity=ERROR, applies_to="any element",
         constraint="Ids are unique in a file.",
         spec="BPMN 2.0.2 ch. 8, BaseElement (id)",
         markers=("the id is already used by the",)),
    Rule(name="element-id", severity=ERROR, applies_to="flow nodes",
         constraint="Every flow node has an id, which Baton needs to track its tokens.",
         spec="BPMN 2.0.2 ch. 8, BaseElement (id)",
         markers=("the element has no id; Baton needs one",)),
    Rule(name="sequence-flow-id", severity=WARNING, applies_to="sequence flows",
         constraint="Every sequence flow has an id.",
         spec="BPMN 2.0.2 ch. 8, BaseElement (id)",
         instead="Baton names it `flow:<source>-><target>`, as Camunda 7 accepts flows "
                 "without id.",
         markers=("the sequence flow has no id; Baton calls it",)),
    Rule(name="event-definition-allowed", severity=ERROR, applies_to="events",
         constraint="An event carries only the event definitions its kind allows (no "
                    "terminate intermediate event, no none boundary event...).",
         spec="BPMN 2.0.2 10.5.2-10.5.4 (which triggers each event kind takes)",
         markers=("is not a valid BPMN event", "needs an event definition (message, timer")),
    Rule(name="multiple-event-parts", severity=ERROR, applies_to="multiple events",
         constraint="A multiple event is made of definitions Baton can combine: message, "
                    "signal, timer and conditional to catch, message and signal to throw.",
         spec="BPMN 2.0.2 10.5.1 (multiple events); Baton",
         markers=("Baton runs multiple events made of", "definition of the multiple",
                  "Baton starts a process on the messages and signals of a multiple")),
    Rule(name="element-supported", severity=ERROR, applies_to="any flow node",
         constraint="Every flow node is one Baton can execute.",
         spec="Baton: the element table (engine/bpmn/elements.py)",
         markers=("Baton cannot execute this element",)),
    Rule(name="sequence-flow-ends", severity=ERROR, applies_to="sequence flows",
         constraint="A sequence flow has a sourceRef and a targetRef naming flow nodes of its "
                    "own process.",
         spec="BPMN 2.0.2 ch. 8, Sequence Flow (sourceRef, targetRef)",
         markers=("the sequence flow has no sourceRef", "the sequence flow has no targetRef",
                  "does not name a flow node of process")),
    Rule(name="sequence-flow-scope", severity=ERROR, applies_to="sequence flows",
         constraint="A sequence flow connects two flow nodes of the same (sub)process.",
         spec="BPMN 2.0.2 ch. 8, Sequence Flow; 10.3.5 Sub-Process",
         markers=("cannot cross a subprocess boundary",)),
    Rule(name="default-flow-outgoing", severity=ERROR,
         applies_to="activities, exclusive and inclusive gateways",
         constraint="The default flow is one of the element's own outgoing sequence flows.",
         spec="BPMN 2.0.2 10.3 Activities, 10.6.2, 10.6.3 (default attribute)",
         markers=("is not an outgoing sequence flow of this element",)),
    Rule(name="boundary-attached-to", severity=ERROR, applies_to="boundary events",
         constraint="attachedToRef names an activity of the same process.",
         spec="BPMN 2.0.2 Table 10.91 (attachedTo), p. 257",
         markers=("the boundary event has no attachedToRef", "boundary events attach to "
                  "activities", "does not name an activity of this process")),
    Rule(name="compensation-boundary-handler", severity=ERROR,
         applies_to="compensation boundary events",
         constraint="A compensation boundary event is associated with a compensation handler, "
                    "an activity marked isForCompensation.",
         spec="BPMN 2.0.2 10.7.1 (Compensation Handler), p. 258",
         markers=("has no association to a compensation handler",
                  "but is not marked isForCompensation")),
    Rule(name="message-ref-fallback", severity=WARNING, applies_to="message events",
         constraint="A message event names its message (messageRef) in an executable process.",
         spec="BPMN 2.0.2 10.5.5 Message Event Definition (messageRef), p. 270",
         instead="Baton uses the event's name as the message name (Camunda-friendly, as "
                 "SpiffWorkflow does); without a name too, the upload is refused.",
         markers=("the message event has no messageRef; Baton uses the event's name",)),
    Rule(name="message-ref-missing", severity=ERROR, applies_to="message events",
         constraint="A message event names its message: a messageRef, or at least a name "
                    "(or, for a throw, an implementation that sends it).",
         spec="BPMN 2.0.2 10.5.5 Message Event Definition (messageRef), p. 270",
         markers=("the message event has no messageRef and no",)),
    Rule(name="signal-ref-fallback", severity=WARNING, applies_to="signal events",
         constraint="A signal event names its signal (signalRef).",
         spec="BPMN 2.0.2 10.5.5 Signal Event Definition (signalRef)",
         instead="Baton uses the event's name as the signal name; without a name too, a "
                 "throw is refused (signal-ref-missing) and no signal reaches a catch "
                 "(signal-catch-unnamed).",
         markers=("the signal event has no signalRef; Baton uses the event's name",)),
    Rule(name="signal-ref-missing", severity=ERROR, applies_to="signal throw events",
         constraint="A signal throw event names the signal it sends: a signalRef, or at least "
                    "a name.",
         spec="BPMN 2.0.2 10.5.5 Signal Event Definition (signalRef)",
         markers=("the signal event has no signalRef and no name",)),
    Rule(name="signal-catch-unnamed", severity=WARNING,
         applies_to="signal catch events (start, intermediate, boundary)",
         constraint="A signal catch event names the signal it waits for: a signalRef, or at "
                    "least a name.",
         spec="BPMN 2.0.2 10.5.5 Signal Event Definition (signalRef is optional); "
              "SpiffWorkflow accepts it, Camunda 7 refuses it",
         instead="Baton deploys it, but no signal can ever trigger it: a boundary event never "
                 "fires, an event subprocess never starts, a process never starts at it, and a "
                 "token at an intermediate catch event waits until moved on through the API.",
         markers=("the signal catch event has no signalRef and no name",)),
    Rule(name="error-ref-as-code", severity=WARNING, applies_to="error events",
         constraint="errorRef names an error element defined in the file.",
         spec="BPMN 2.0.2 10.5.5 Error Event Definition (errorRef); Camunda 7",
         instead="Baton uses the errorRef text as the error code, as Camunda 7 does.",
         markers=("Baton uses it as the error code",)),
    Rule(name="event-ref-defined", severity=ERROR,
         applies_to="message, signal and escalation events, receive and send tasks",
         constraint="messageRef, signalRef and escalationRef name a message, signal or "
                    "escalation defined in the file.",
         spec="BPMN 2.0.2 10.5.5 Event Definitions; 10.3.3 Tasks (Receive, Send)",
         markers=("does not name a message defined", "does not name a signal defined",
                  "does not name an escalation defined", "does not name an event definition")),
    Rule(name="start-event-trigger-unique", severity=ERROR, applies_to="start events",
         constraint="Two start events of a process do not wait for the same message or signal.",
         spec="Baton (a message or signal must start one thing)",
         markers=("another start event of this process already waits for",)),
    Rule(name="timer-time", severity=ERROR, applies_to="timer events",
         constraint="A timer event definition has a timeDate, timeDuration or timeCycle.",
         spec="BPMN 2.0.2 Table 10.101 (TimerEventDefinition), p. 273",
         markers=("the timer has no timeDate, timeDuration or timeCycle",)),
    Rule(name="conditional-event-condition", severity=ERROR, applies_to="conditional events",
         constraint="A conditional event has a condition.",
         spec="BPMN 2.0.2 10.5.5 Conditional Event Definition, p. 264",
         markers=("the conditional event has no condition",)),
    Rule(name="link-name", severity=ERROR, applies_to="link events",
         constraint="A link event has a name, which pairs its throw and catch.",
         spec="BPMN 2.0.2 10.5.5 Link Event Definition (name)",
         markers=("the link event has no name",)),
    Rule(name="called-element", severity=ERROR, applies_to="call activities",
         constraint="A call activity names the process it calls (calledElement).",
         spec="BPMN 2.0.2 10.3.6 Call Activity (calledElement)",
         markers=("the call activity has no calledElement",)),
    Rule(name="external-resource", severity=ERROR, applies_to="script tasks, sequence flows",
         constraint="Scripts and conditions are written inside the diagram.",
         spec="Baton (no file or network access from an upload)",
         markers=("is an external resource (camunda:resource)",)),
    Rule(name="multi-instance-count", severity=ERROR, applies_to="multi-instance activities",
         constraint="A multi-instance activity says how many instances to run: a "
                    "loopCardinality or a collection.",
         spec="BPMN 2.0.2 10.3.8 Loop Characteristics (multi-instance)",
         markers=("the multi-instance activity has neither loopCardinality nor a collection",)),
    Rule(name="standard-loop-end", severity=ERROR, applies_to="standard loop activities",
         constraint="A standard loop has a loopCondition or a loopMaximum, so that it ends.",
         spec="BPMN 2.0.2 10.3.8 Loop Characteristics (standard loop)",
         markers=("the standard loop has neither loopCondition nor loopMaximum",)),
    Rule(name="io-specification-data", severity=WARNING, applies_to="activities and processes "
                                                                   "with an ioSpecification",
         constraint="The data inputs and outputs of an ioSpecification can be process "
                    "variables.",
         spec="BPMN 2.0.2 10.4 Items and Data (InputOutputSpecification)",
         instead="Baton leaves the ioSpecification aside (it does not model data objects): the "
                 "activity sees the variables of its scope.",
         markers=("the ioSpecification names data that cannot be a process variable",)),
    Rule(name="form-field-type", severity=WARNING, applies_to="user task form fields",
         constraint="A form field has a type Baton knows (string, long, boolean, date, enum, "
                    "double).",
         spec="Camunda 7 generated task forms (camunda:formField)",
         instead="Baton shows the field as text.",
         markers=("which Baton shows as text",)),
    Rule(name="expression-compiles", severity=ERROR,
         applies_to="conditions, scripts, expressions, input/output mappings",
         constraint="Every expression and script compiles in Baton's sandbox (Python, JUEL or "
                    "FEEL).",
         spec="Baton: the expression sandbox (engine/expressions.py)",
         markers=(" does not compile",)),
    Rule(name="listener-compiles", severity=WARNING,
         applies_to="execution and task listeners",
         constraint="The script or expression of a listener compiles in Baton's sandbox.",
         spec="Baton: the expression sandbox (engine/expressions.py)",
         instead="Baton drops the listener and runs the diagram without it.",
         markers=(" does not compile",)),
    Rule(name="executable-process", severity=ERROR, applies_to="the file",
         constraint="The file has at least one executable process with flow nodes.",
         spec="BPMN 2.0.2 ch. 10, Process (isExecutable)",
         markers=("no process with flow nodes is executable",
                  "the file has no process with flow nodes")),
)

_MARKERS: tuple[tuple[str, str, str], ...] = tuple(
    (marker, rule.severity, rule.name) for rule in READER_RULES for marker in rule.markers)


def rule_for_message(message: str, severity: str) -> str | None:
    """The reader-side rule of this severity whose marker the message carries; None for an
    unnamed check. (The severity tells apart a sentence reported both ways, such as an
    expression that does not compile: an error in a condition, a warning in a listener.)"""
    for marker, rule_severity, name in _MARKERS:
        if rule_severity == severity and marker in message:
            return name
    return None


__all__ = ["ERROR", "READER_RULES", "WARNING", "Rule", "rule_for_message"]
