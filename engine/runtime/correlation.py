"""Key-based message correlation (BPMN 2.0.2 8.3.2), the way SpiffWorkflow runs it.

A diagram groups correlation properties into correlation keys; each property says, per
message, how to read its value from the message's payload (`ProcessGraph.correlations`).
A conversation's key values are kept on the scope the exchange happens in (an embedded
subprocess, each multi-instance body instance, or the process): a message thrown or
caught there records the values its payload gives, and a message arriving for a catch event
of that scope is delivered only if it agrees with every key value already recorded up the
scope chain (the first message of a conversation sets the keys). A message that does not
agree is refused (`NotCorrelated`), so the service offers it to the next waiting catch
event, or starts an instance at a message start event.

A throw without a drawn payload sends what its correlation properties are read from (the
thrower's variables the retrieval expressions name): the message must carry its keys, and
the catching side learns them as variables, as SpiffWorkflow (which sends the thrower's
whole data) lets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.expressions import ExpressionError
from engine.runtime.errors import StaleTrigger

if TYPE_CHECKING:
    from engine.graph import ProcessGraph
    from engine.runtime.run import Run
    from engine.runtime.state import InstanceState, Subscription

CONVERSATION = "corr"   # scope data: correlation key name -> {property id: value}

Keys = dict[str, dict[str, Any]]


class NotCorrelated(StaleTrigger):
    """The message's correlation keys differ from the waiting conversation's: it is not
    for this catch event (the caller offers it to the next one)."""


def message_keys(graph: ProcessGraph, name: str, payload: Mapping[str, Any]) -> Keys:
    """{key: {property: value}} that the message `name` with `payload` carries, by the
    graph's retrieval expressions; a property its payload lacks is left out."""
    keys: Keys = {}
    for rule in graph.correlations.get(name, ()):
        try:
            value = rule.path.evaluate(payload)
        except ExpressionError:
            continue
        keys.setdefault(rule.key, {})[rule.property] = value
    return keys


def payload_from(graph: ProcessGraph, name: str, view: Mapping[str, Any]) -> dict[str, Any]:
    """A throw without a drawn payload: the thrower's variables its correlation
    properties are read from (none when the message takes part in no correlation)."""
    payload: dict[str, Any] = {}
    for rule in graph.correlations.get(name, ()):
        for variable in rule.path.names:
            if variable in view and variable not in payload:
                payload[variable] = view[variable]
    return payload


def known_keys(state: InstanceState, sid: int) -> Keys:
    """The key values recorded for scope `sid` and the scopes around it (the nearest
    record of a key wins)."""
    keys: Keys = {}
    scope = state.scopes.get(sid)
    while scope is not None:
        data = scope.data
        if data and CONVERSATION in data:
            for key, values in data[CONVERSATION].items():
                keys.setdefault(key, values)
        scope = state.scopes.get(scope.parent) if scope.parent is not None else None
    return keys


def record(state: InstanceState, sid: int, keys: Keys) -> None:
    """Remember a conversation's key values on scope `sid`."""
    if not keys:
        return
    scope = state.scopes[sid]
    if scope.data is None:
        scope.data = {}
    recorded = scope.data.setdefault(CONVERSATION, {})
    for key, values in keys.items():
        recorded[key] = {**recorded.get(key, {}), **values}


def agrees(message: Keys, conversation: Keys) -> bool:
    """Every key both know has the same property values."""
    for key, values in message.items():
        known = conversation.get(key)
        if known is None:
            continue
        if any(prop in known and known[prop] != value for prop, value in values.items()):
            return False
    return True


def on_throw(run: Run, sid: int, name: str, payload: dict[str, Any],
             drawn: bool) -> dict[str, Any]:
    """A message is thrown in scope `sid`: the payload it carries (see the module
    docstring), its key values recorded for the conversation."""
    graph = run.graph
    if name not in graph.correlations:
        return payload
    if not drawn:
        payload = payload_from(graph, name, run.view(sid))
    record(run.state, sid, message_keys(graph, name, payload))
    return payload


def on_catch(run: Run, sub: Subscription, payload: Mapping[str, Any]) -> None:
    """A message arrives for subscription `sub`: refuse it (NotCorrelated) unless it
    agrees with the conversation of the catch event's scope; then record its keys there.
    Raised before anything changes, so the refused delivery leaves the instance as it was."""
    graph = run.graph
    if sub.name is None or sub.name not in graph.correlations:
        return
    keys = message_keys(graph, sub.name, payload)
    state = run.state
    if not agrees(keys, known_keys(state, sub.scope)):
        raise NotCorrelated(f"message '{sub.name}' does not match the correlation keys "
                            "of the conversation waiting for it")
    if sub.scope in state.scopes:
        record(state, sub.scope, keys)


def may_accept(graph: ProcessGraph, state: Mapping[str, Any], sub_id: int, name: str,
               payload: Mapping[str, Any]) -> bool:
    """`on_catch`'s verdict read from a stored state (`InstanceState.to_dict` form) without
    building or changing it: lets the caller skip, without locking, the instances whose
    conversation the message does not match. False only when `on_catch` would refuse."""
    if name not in graph.correlations:
        return True
    scopes = {row[0]: row for row in state.get("scopes", ())}
    sub = next((row for row in state.get("subs", ()) if row[0] == sub_id), None)
    if sub is None:
        return True                         # gone: the trigger itself says so
    known: Keys = {}
    row = scopes.get(sub[5])
    while row is not None:
        data = row[6]
        if data and CONVERSATION in data:
            for key, values in data[CONVERSATION].items():
                known.setdefault(key, values)
        row = scopes.get(row[3]) if row[3] is not None else None
    return agrees(message_keys(graph, name, payload), known)


def on_start(graph: ProcessGraph, state: InstanceState, name: str,
             payload: Mapping[str, Any]) -> None:
    """A message started the instance: its keys begin the process's conversation."""
    if name in graph.correlations:
        record(state, 0, message_keys(graph, name, payload))


__all__ = ["CONVERSATION", "NotCorrelated", "agrees", "known_keys", "may_accept",
           "message_keys", "on_catch", "on_start", "on_throw", "payload_from", "record"]
