"""The complex gateway (BPMN 2.0.2 10.6.5, 13.3.4): a join that fires on a condition over
the tokens waiting at it, then waits for the rest of them before it can fire again.

Two phases, kept per scope in the scope's data under `complex:<node>`:

- *waiting for start* (nothing stored): each time tokens arrive (or data changes) the
  `activationCondition` is evaluated; once it holds, one token is taken from every incoming
  flow that has one, and the outgoing flows are chosen like an inclusive split: each flow
  whose condition holds (or that has none), else the default flow, else a failure.
- *waiting for reset* (the flows activated are stored): tokens on the other incoming flows
  are collected until none can arrive any more (the inclusive join's upstream rule); then
  one token from each of those flows is consumed, and if any was, the outgoing flows whose
  explicit condition holds get a token (never the unconditional ones nor the default: the
  spec passes no token when no condition holds). The gateway waits for start again.

The conditions see the process data and: `_activationCount` / `activationCount` (how many
incoming flows hold a token), `_activationCounts` (flow id -> tokens waiting on it),
`nrOfIncomingFlows` and `waitingForStart` (true in the first phase, false at the reset).
Without an activationCondition the gateway activates on the first token.
"""

from __future__ import annotations

from collections import ChainMap
from typing import TYPE_CHECKING, Any

from engine.expressions import Expression, ExpressionError
from engine.runtime.behaviors.gateways import Joining
from engine.runtime.errors import RuntimeFailure
from engine.runtime.state import ARRIVED, READY

if TYPE_CHECKING:
    from engine.graph import Flow, Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token

PHASE = "complex:{}"   # scope data key: the incoming flows activated, while waiting for reset


class ComplexGateway(Joining):
    """Activation condition, reset phase and inclusive-like split (see the module)."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        token.state = ARRIVED
        self.try_fire(run, token, node)

    def try_fire(self, run: Run, token: Token, node: Node) -> bool:
        """Run the phases as far as the waiting tokens allow; True when anything fired."""
        sid = token.scope
        scope = run.state.scopes[sid]
        key = PHASE.format(node.index)
        fired = False
        while True:
            arrived = self.siblings(run, token, node)
            activated = scope.data.get(key) if scope.data else None
            if activated is None:
                facts = _facts(run, node, arrived, waiting_for_start=True)
                if not arrived or not _holds(run, node.activation_condition, sid, facts,
                                             node, "activationCondition"):
                    return fired
                taken = _one_per_flow(arrived, node.incoming)
                if scope.data is None:
                    scope.data = {}
                scope.data[key] = sorted({t.flow for t in taken})  # type: ignore[type-var]
                self._pass_on(run, node, taken, self._chosen(run, node, sid, facts, True))
            else:
                pending = [f for f in node.incoming if f not in activated]
                marked = set(activated) | {t.flow for t in arrived}
                if pending and self.awaits_more(run, node, sid, marked):
                    return fired
                del scope.data[key]  # type: ignore[union-attr]
                taken = _one_per_flow([t for t in arrived if t.flow in pending], pending)
                if taken:
                    facts = _facts(run, node, arrived, waiting_for_start=False)
                    self._pass_on(run, node, taken,
                                  self._chosen(run, node, sid, facts, False))
            fired = True

    def _chosen(self, run: Run, node: Node, sid: int, facts: dict[str, Any],
                start: bool) -> list[Flow]:
        flows = run.graph.flows
        chosen = []
        for i in node.outgoing:
            flow = flows[i]
            if i == node.default_flow or (flow.condition is None and not start):
                continue
            if flow.condition is None or _holds(run, flow.condition, sid, facts, node,
                                                f"sequence flow '{flow.id}'"):
                chosen.append(flow)
        if start and not chosen:
            if node.default_flow is None:
                raise RuntimeFailure(f"{node.label}: no outgoing sequence flow's condition is "
                                     "true and there is no default flow", node.id)
            chosen.append(flows[node.default_flow])
        return chosen

    def _pass_on(self, run: Run, node: Node, taken: list[Token], chosen: list[Flow]) -> None:
        """The tokens taken from the incoming flows become one token on each chosen flow
        (none at all when nothing was chosen at a reset: they are absorbed)."""
        carrier = taken[0]
        for t in taken[1:]:
            del run.state.tokens[t.id]
        if not chosen:
            run.end_token(carrier)
            return
        carrier.state = READY
        if len(node.incoming) > 1:
            run.history("activity_started", node, carrier)
        run.history("activity_completed", node, carrier)
        run.split(carrier, chosen)


def _one_per_flow(arrived: list[Token], incoming: tuple[int, ...] | list[int]) -> list[Token]:
    """The first token waiting on each incoming flow that has one (others keep waiting)."""
    first: dict[int | None, Token] = {}
    for t in arrived:
        first.setdefault(t.flow, t)
    return [first[f] for f in incoming if f in first]


def _facts(run: Run, node: Node, arrived: list[Token], *,
           waiting_for_start: bool) -> dict[str, Any]:
    flows = run.graph.flows
    counts = {flows[f].id: 0 for f in node.incoming}
    for t in arrived:
        if t.flow is not None:
            counts[flows[t.flow].id] = counts.get(flows[t.flow].id, 0) + 1
    active = sum(1 for n in counts.values() if n)
    return {"_activationCount": active, "activationCount": active,
            "_activationCounts": counts, "nrOfIncomingFlows": len(node.incoming),
            "waitingForStart": waiting_for_start}


def _holds(run: Run, expr: Expression | None, sid: int, facts: dict[str, Any], node: Node,
           what: str) -> bool:
    """A condition with the gateway's facts; no activationCondition means "activate".
    A variable nobody has set yet makes an activationCondition false (it waits for it)."""
    if expr is None:
        return True
    try:
        return expr.holds(ChainMap(facts, run.view(sid)))
    except ExpressionError as e:
        if what == "activationCondition" and isinstance(e.__cause__, NameError):
            return False
        raise RuntimeFailure(f"{node.label}: {what}: {e}", node.id) from e


__all__ = ["ComplexGateway", "PHASE"]
