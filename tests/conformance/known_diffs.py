"""What each known difference (KNOWN_DIFFS.md) is expected to fail WITH.

Why: a known diff used to be xfailed on any exception, so a row that started crashing for a
new reason (a parser regression, a KeyError in the runtime) stayed green as "known". Each
listed diagram now names the error it fails with (exception class and a pattern of its
message) or, for an assertion of the scenario, the assertion that fails and the values
that diverge; `harness.run_row` xfails the row only when the failure matches its pin, and
fails it otherwise. A listed diagram without a pin fails too, so the two lists cannot
drift apart (`test_known_diffs.py` checks both directions).

Patterns are regular expressions searched in the message. Assertion messages are pytest's
rewritten ones (tests/conftest.py registers this package for rewriting, so they carry the
compared values on every run, also when only tests/store replays the corpus).
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pin:
    """The failure a known diff must show: exception class name, a pattern searched in its
    message, and where the scenario itself fails (an assertion, a missing key) the text of
    the failing line."""

    error: str
    match: str
    at: str | None = None

    def explain(self, exc: BaseException) -> str | None:
        """None when `exc` is this failure, else what differs."""
        got = describe(exc)
        if type(exc).__name__ != self.error:
            return f"expected {self.error}, got {got}"
        if not re.search(self.match, str(exc), re.DOTALL):
            return f"the message does not match {self.match!r}: {got}"
        if self.at is not None and self.at not in failing_line(exc):
            return f"expected the failure at `{self.at}`, got it at `{failing_line(exc)}`"
        return None


def failing_line(exc: BaseException) -> str:
    """Source text of the line that raised `exc` (innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return (frames[-1].line or "").strip() if frames else ""


def describe(exc: BaseException) -> str:
    """`Class: first 300 characters of the message @ failing line`, for reports."""
    return f"{type(exc).__name__}: {str(exc)[:300]} @ `{failing_line(exc)}`"


PINS: dict[str, Pin] = {
    # semantics: Baton waits at the join with a loop-back flow, so no task is ready
    "spiff/bpmn/data/gateway_loop_input.bpmn": Pin(
        "AssertionError", r"assert \[\] == \['Task'\]", at='assert d.ready() == ["Task"]'),
    # task_num is one process variable: both instances open their second conversation
    # with the value the second 'Configure Data' set
    "spiff/bpmn/data/correlation_two_conversations.bpmn": Pin(
        "AssertionError", r"assert \[1, 1\] == \[0, 1\]",
        at='assert sorted(d.task_vars("Remane Id", i)["task_num"] for i in range(2)) == [0, 1]'),
}


# What the Camunda-dialect diagrams that pass in the SpiffWorkflow migration mode (the harness
# deploys `spiff/camunda/` with compat="spiffworkflow") fail with in Baton's default, which
# follows Camunda 7 and BPMN 2.0.2 10.3.8 (KNOWN_DIFFS.md explains each): kept so that the
# default reading cannot drift while the corpus runs in the mode
# (test_known_diffs.py::test_the_mode_diagrams_keep_camunda_semantics_by_default).
DEFAULT_MODE_PINS: dict[str, Pin] = {
    # loopCardinality is a list, not a number: the activity fails there, as in Camunda 7
    "spiff/camunda/data/parallel_multiinstance_cardinality.bpmn": Pin(
        "StepFailed", r"^userTask 'any_task': loopCardinality \[1, 2, 3\] is not a whole "
                      r"number"),
    # the element variable stays local: the collection is unchanged
    "spiff/camunda/data/parallel_multiinstance_collection.bpmn": Pin(
        "AssertionError", r"assert \[1, 2, 3\] == \[2, 4, 6\]",
        at='assert d.data()["input_data"] == [2, 4, 6]'),
    # the decision's output `item.y` goes into the element variable, never back into stuff
    "spiff/camunda/data/DMNMultiInstance.bpmn": Pin(
        "KeyError", r"^'y'$", at='assert d.data()["stuff"]["E"]["y"] == "D"'),
}
