"""Ad-hoc subprocesses (BPMN 2.0.2 10.3.5, 13.3.5).

Entering one opens its scope and starts nothing: its *enabled* activities (those without
incoming flow, `Node.start_nodes`) are started by someone, in any order and as often as
wanted (`start_activity`, the engine's `start_adhoc_activity`). With ordering
"Sequential" another may start only once nothing runs inside any more; "Parallel" (the
default) allows any number at once, the same activity several times too. Sequence flows
inside still order what they connect.

After each inner activity completes, the completionCondition is evaluated in the ad-hoc
scope. True: the subprocess completes without running further inner activities - the
activity that just completed does not go on; with cancelRemainingInstances (the default,
and always when sequential) what still runs is cancelled at once, otherwise it may finish
(no further activity starts) and the subprocess completes when the last one has. False or
no condition: the subprocess stays open, even with nothing running, until the condition
holds or someone completes it (`complete`, Flowable's completeAdhocSubProcess), which
needs nothing running inside.

The ad-hoc scope is an ordinary subprocess scope ("sub"): boundary events, event
subprocesses, errors and compensation work as for an embedded subprocess. Its data holds
`COMPLETING` once the condition held but instances may still finish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.runtime.errors import RuntimeFailure

if TYPE_CHECKING:
    from engine.graph import Node, ProcessGraph
    from engine.runtime.run import Run
    from engine.runtime.state import InstanceState, Scope, Token

COMPLETING = "adhoc_completing"


def open_scopes(graph: ProcessGraph, state: InstanceState, adhoc: Node) -> list[Scope]:
    """The live scopes of an ad-hoc subprocess (several for a multi-instance one)."""
    return [s for s in state.scopes.values() if s.node == adhoc.index and s.kind == "sub"
            and s.token in state.tokens]


def is_busy(state: InstanceState, scope: Scope) -> bool:
    """Something runs inside (a token in the scope or below it)."""
    return any(t.scope == scope.id or state.scope_inside(t.scope, scope.id)
               for t in state.tokens.values())


def enabled_activity(graph: ProcessGraph, activity_id: str) -> tuple[Node, Node]:
    """(ad-hoc subprocess, activity) for an activity that can be started on request."""
    index = graph.index.get(activity_id)
    node = graph.nodes[index] if index is not None else None
    adhoc = graph.nodes[node.scope] if node is not None and node.scope is not None else None
    if node is None or adhoc is None or adhoc.adhoc is None \
            or node.index not in adhoc.start_nodes:
        raise RuntimeFailure(f"'{activity_id}' is not an activity of an ad-hoc subprocess "
                             "that can be started on request (one without incoming sequence "
                             "flow)", activity_id)
    return adhoc, node


def start_activity(run: Run, activity_id: str, variables: dict | None = None) -> None:
    """Start one enabled activity of a running ad-hoc subprocess; `variables` are set in
    the ad-hoc scope first (updating where they already live, as usual)."""
    adhoc, node = enabled_activity(run.graph, activity_id)
    scope = _the_scope(run, adhoc)
    if scope.data and scope.data.get(COMPLETING):
        raise RuntimeFailure(f"{adhoc.label} is completing: no further activity starts",
                             adhoc.id)
    assert adhoc.adhoc is not None
    if adhoc.adhoc.sequential and is_busy(run.state, scope):
        raise RuntimeFailure(f"{adhoc.label} runs its activities one at a time "
                             "(ordering=\"Sequential\") and one is still running", adhoc.id)
    if variables:
        run.set_vars(scope.id, variables)
    run.new_token(node.index, scope.id)


def complete(run: Run, adhoc_id: str) -> None:
    """Complete an ad-hoc subprocess on request: only when nothing runs inside."""
    index = run.graph.index.get(adhoc_id)
    adhoc = run.graph.nodes[index] if index is not None else None
    if adhoc is None or adhoc.adhoc is None:
        raise RuntimeFailure(f"'{adhoc_id}' is not an ad-hoc subprocess", adhoc_id)
    scope = _the_scope(run, adhoc)
    if is_busy(run.state, scope):
        raise RuntimeFailure(f"{adhoc.label} still has activities running; complete or "
                             "cancel them first", adhoc.id)
    run.complete_scope(scope)


def inner_completed(run: Run, token: Token, node: Node) -> bool:
    """An activity directly inside an ad-hoc subprocess completed (its token is about to
    take its outgoing flows). True when the token stops here: the subprocess is done."""
    scope = run.state.scopes[token.scope]
    adhoc = run.graph.nodes[node.scope]  # type: ignore[index]
    rules = adhoc.adhoc
    assert rules is not None
    completing = bool(scope.data and scope.data.get(COMPLETING))
    if not completing:
        condition = rules.completion_condition
        if condition is None or not run.holds(condition, scope.id, adhoc):
            return False
    run.state.tokens.pop(token.id, None)
    if not completing and (rules.cancel_remaining or rules.sequential):
        run.clear_scope(scope.id)
        run.complete_scope(scope)
        return True
    if scope.data is None:
        scope.data = {}
    scope.data[COMPLETING] = True
    run.check_scope(scope.id)  # completes once the last running instance is done
    return True


def may_complete(scope: Scope) -> bool:
    """An idle ad-hoc scope completes only once its condition held."""
    return bool(scope.data and scope.data.get(COMPLETING))


def _the_scope(run: Run, adhoc: Node) -> Scope:
    scopes = open_scopes(run.graph, run.state, adhoc)
    if not scopes:
        raise RuntimeFailure(f"{adhoc.label} is not running in this instance", adhoc.id)
    if len(scopes) > 1:
        raise RuntimeFailure(f"{adhoc.label} runs {len(scopes)} times in this instance "
                             "(multi-instance); Baton cannot tell which one is meant",
                             adhoc.id)
    return scopes[0]


__all__ = ["COMPLETING", "complete", "enabled_activity", "inner_completed", "is_busy",
           "may_complete", "open_scopes", "start_activity"]
