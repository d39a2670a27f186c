"""Gateways: exclusive, parallel, inclusive (split and the spec's join) and event-based."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.runtime.behaviors.base import Behavior
from engine.runtime.errors import RuntimeFailure
from engine.runtime.state import ARRIVED, READY

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


class ExclusiveGateway(Behavior):
    """Takes the first outgoing flow whose condition holds, else the default flow."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.history("activity_completed", node, token)
        flows = run.graph.flows
        if not node.outgoing:
            run.end_token(token)
            return
        for i in node.outgoing:
            if i == node.default_flow:
                continue
            flow = flows[i]
            if flow.condition is None or run.test(flow, token):
                run.move(token, flow)
                return
        if node.default_flow is not None:
            run.move(token, flows[node.default_flow])
            return
        raise RuntimeFailure(
            f"{node.label}: no outgoing sequence flow's condition is true and there is no "
            "default flow", node.id,
        )


class Joining(Behavior):
    """What the joining gateways share: tokens wait ARRIVED at the gateway in their scope."""

    def arrive(self, run: Run, token: Token, node: Node) -> bool:
        """Hold the token at the join; True when it should wait for others."""
        if len(node.incoming) <= 1:
            return False
        token.state = ARRIVED
        return True

    def siblings(self, run: Run, token: Token, node: Node) -> list[Token]:
        return [t for t in run.state.tokens.values()
                if t.node == node.index and t.scope == token.scope and t.state is ARRIVED]

    def fire(self, run: Run, token: Token, node: Node, consumed: list[Token]) -> None:
        for t in consumed:
            if t is not token:
                del run.state.tokens[t.id]
        token.state = READY
        run.history("activity_started", node, token)
        self.split(run, token, node)

    def split(self, run: Run, token: Token, node: Node) -> None:
        raise NotImplementedError

    def awaits_more(self, run: Run, node: Node, sid: int, marked: set[int | None]) -> bool:
        """BPMN 2.0.2 13.3.5 (the inclusive join, and a complex gateway's reset): True
        while some token of scope `sid` can still reach an incoming flow without a token
        (`marked` are those with one) but none of those with one, or is about to enter."""
        upstream = node.join_upstream
        scopes = run.state.scopes
        empty = [r for f, r in zip(node.incoming, node.join_reach, strict=False)
                 if f not in marked]
        full = [r for f, r in zip(node.incoming, node.join_reach, strict=False) if f in marked]
        for t in run.state.tokens.values():
            if t.node == node.index:
                if t.state is not ARRIVED and t.scope == sid:
                    return True  # queued to enter this join: it arrives next, then fire
                continue
            if t.node in upstream and (t.scope == sid or (
                    scopes[t.scope].kind in ("local", "io") and scopes[t.scope].parent == sid)):
                if not node.join_reach:
                    return True
                # wait only for a token that can reach an incoming flow without a token
                # but none that has one
                if (any(t.node in r for r in empty)
                        and not any(t.node in r for r in full)):
                    return True
        return False


class ParallelGateway(Joining):
    """Joins a token from every incoming flow, then splits to every outgoing flow."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        if self.arrive(run, token, node):
            self.try_fire(run, token, node)
            return
        self.split(run, token, node)

    def try_fire(self, run: Run, token: Token, node: Node) -> bool:
        by_flow: dict[int | None, Token] = {}
        for t in self.siblings(run, token, node):
            by_flow.setdefault(t.flow, t)
        if len(by_flow) < len(node.incoming):
            return False
        consumed = list(by_flow.values())
        keep = token if token in consumed else consumed[0]
        self.fire(run, keep, node, consumed)
        return True

    def split(self, run: Run, token: Token, node: Node) -> None:
        run.history("activity_completed", node, token)
        flows = run.graph.flows
        if not node.outgoing:
            run.end_token(token)
            return
        run.split(token, [flows[i] for i in node.outgoing])


class InclusiveGateway(Joining):
    """Splits to every flow whose condition holds; joins as BPMN 2.0.2 13.3.5 says."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        if self.arrive(run, token, node):
            self.try_fire(run, token, node)
            return
        self.split(run, token, node)

    def try_fire(self, run: Run, token: Token, node: Node) -> bool:
        """The spec's rule: fire once no token that could still reach this join is left in
        the scope (the upstream set is computed at compile time)."""
        siblings = self.siblings(run, token, node)
        if self.awaits_more(run, node, token.scope, {t.flow for t in siblings}):
            return False
        self.fire(run, token, node, siblings)
        return True

    def split(self, run: Run, token: Token, node: Node) -> None:
        run.history("activity_completed", node, token)
        flows = run.graph.flows
        if not node.outgoing:
            run.end_token(token)
            return
        chosen = [flows[i] for i in node.outgoing if i != node.default_flow
                  and (flows[i].condition is None or run.test(flows[i], token))]
        if not chosen and node.default_flow is not None:
            chosen = [flows[node.default_flow]]
        if not chosen:
            raise RuntimeFailure(
                f"{node.label}: no outgoing sequence flow's condition is true and there is no "
                "default flow", node.id,
            )
        run.split(token, chosen)


class EventBasedGateway(Behavior):
    """Waits for the first event among the catch events and receive tasks it leads to."""

    def enter(self, run: Run, token: Token, node: Node) -> None:
        run.wait(token, "eventgw")
        nodes = run.graph.nodes
        flows = run.graph.flows
        for i in node.outgoing:
            target = nodes[flows[i].target]
            if target.kind == "receiveTask":
                run.subscribe(target, token, token.scope, kind="message", name=target.message_ref)
            elif target.event is not None:
                run.subscribe(target, token, token.scope)  # (a condition already true fires)
