"""Issue 13: the default flow out of an activity (not a gateway).

BPMN 2.0.2 10.3.1 (`default`): "the Sequence Flow that will receive a token when none of
the conditionExpressions on other outgoing Sequence Flows evaluate to true"; 13.2.1: an
activity's unconditional outgoing flows always get a token. Baton reads it literally: the
default flow is taken when no *condition* holds, whatever the unconditional flows do.
(Camunda 7 takes the default only when no other flow is taken at all.)"""

from __future__ import annotations

import pytest

from tests.runtime.conftest import bpmn


def _diagram(*, unconditional: bool = True, conditional: int = 1) -> str:
    parts = ['<startEvent id="s"/><task id="work" default="to_d"/>',
             '<sequenceFlow id="s_work" sourceRef="s" targetRef="work"/>',
             '<userTask id="d"/><sequenceFlow id="to_d" sourceRef="work" targetRef="d"/>']
    if unconditional:
        parts.append('<userTask id="u"/><sequenceFlow id="to_u" sourceRef="work" '
                     'targetRef="u"/>')
    for n in range(conditional):
        parts.append(f'<userTask id="c{n}"/><sequenceFlow id="to_c{n}" sourceRef="work" '
                     f'targetRef="c{n}"><conditionExpression>${{x &gt; {5 + n}}}'
                     '</conditionExpression></sequenceFlow>')
    return bpmn("".join(parts))


@pytest.mark.parametrize(("x", "expected"), [
    (1, ["d", "u"]),          # condition false: the unconditional flow AND the default
    (10, ["c0", "u"]),        # condition true: no default
])
def test_unconditional_conditional_and_default(h, x, expected):
    h.deploy(_diagram())
    iid = h.start(x=x)
    assert h.tasks(iid) == expected


@pytest.mark.parametrize(("x", "expected"), [
    (1, ["d"]),
    (6, ["c0"]),
    (10, ["c0", "c1"]),
])
def test_conditional_flows_and_default(h, x, expected):
    h.deploy(_diagram(unconditional=False, conditional=2))
    iid = h.start(x=x)
    assert h.tasks(iid) == expected


def test_unconditional_and_default_only_take_both(h):
    """No flow has a condition, so none holds: the default gets its token too."""
    h.deploy(_diagram(conditional=0))
    iid = h.start()
    assert h.tasks(iid) == ["d", "u"]
