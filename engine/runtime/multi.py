"""Multi-instance (parallel and sequential) and standard loops.

The activity's token holds an "mi" scope (the body) with the counters Camunda exposes
(nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances); each instance runs as an
"inner" token in its own scope holding the element variable and loopCounter, so those
stay local. A loop reuses the same body: one inner instance at a time, and the body keeps
only counters, so 100,000 iterations leave the state as small as one.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.runtime.errors import RuntimeFailure
from engine.runtime.state import Scope

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


def _items(run: Run, token: Token, node: Node) -> tuple[int, list[Any] | None,
                                                        list[Any] | None]:
    """How many instances to run, the items their element variable takes (None: no
    collection), and the keys of the items when they came from a mapping (None otherwise).

    With both a loopCardinality and a collection, the cardinality decides how many and the
    collection gives the first that many items, as in Camunda 7 (resolveNrOfInstances reads
    loopCardinality first): a cardinality that is not a number fails there, naming it, even
    when a collection is given (BPMN 2.0.2 Table 10.29: a numeric expression). In
    SpiffWorkflow's reading (`cardinality_items`) the cardinality gives the items itself."""
    mi = node.multi_instance
    assert mi is not None
    if mi.cardinality is not None:
        value = run.evaluate(mi.cardinality, token.scope, node)
        if mi.cardinality_items:
            if _is_collection(value):
                items, keys = _listed(value)
                return len(items), items, keys
            n = _count(value, "loopCardinality", node)
            return n, list(range(n)) if mi.element_variable else None, None
        n = _count(value, "loopCardinality", node)
        if mi.collection is None or not mi.element_variable:
            return n, None, None   # (Camunda 7 reads the collection only for the element variable)
        items, keys = _collection(run, token, node)
        if n > len(items):
            raise RuntimeFailure(f"{node.label}: loopCardinality {n} asks for more instances "
                                 f"than the {len(items)} items of the collection", node.id)
        return n, items[:n], keys[:n] if keys is not None else None
    if mi.collection is not None:
        items, keys = _collection(run, token, node)
        return len(items), items, keys
    raise RuntimeFailure(f"{node.label}: multi-instance without collection or cardinality",
                         node.id)


def _is_collection(value: Any) -> bool:
    """A value SpiffWorkflow runs one instance per item of: a sequence (not text) or a
    mapping."""
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray))


def _listed(value: Mapping[Any, Any] | Sequence[Any]) -> tuple[list[Any], list[Any] | None]:
    """The items of a collection, and a mapping's keys (which a keyed output and the
    write-back need to put each instance's result where its item came from)."""
    if isinstance(value, Mapping):
        return list(value.values()), list(value.keys())
    return list(value), None


def _collection(run: Run, token: Token, node: Node) -> tuple[list[Any], list[Any] | None]:
    """The items of the multi-instance collection: a list (or any iterable), a mapping's
    values (with its keys), or for a whole number n the numbers 0..n-1."""
    mi = node.multi_instance
    assert mi is not None and mi.collection is not None
    coll = run.evaluate(mi.collection, token.scope, node)
    if coll is None:
        raise RuntimeFailure(f"{node.label}: the multi-instance collection is empty (None)",
                             node.id)
    if isinstance(coll, int) and not isinstance(coll, bool):
        return list(range(_count(coll, "the multi-instance collection", node))), None
    if isinstance(coll, Mapping):
        return _listed(coll)
    if isinstance(coll, str):
        raise RuntimeFailure(f"{node.label}: the multi-instance collection is a string, "
                             "not a list", node.id)
    return list(coll), None


def _count(value: Any, what: str, node: Node) -> int:
    """A number of instances from an expression: a whole number, 0 or more (as Camunda 7,
    which fails the activity on a negative one); anything else fails the activity (an
    incident when it runs in a job) rather than running some other number of times."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError) as e:
        raise RuntimeFailure(f"{node.label}: {what} {value!r} is not a whole number",
                             node.id) from e
    if number < 0:
        raise RuntimeFailure(f"{node.label}: {what} is {number}; the number of instances "
                             "must be 0 or more", node.id)
    return number


def enter_body(run: Run, token: Token, node: Node) -> None:
    token.state = "active"
    token.wait = "mi"
    sid = run.state.new_id()
    if node.multi_instance is not None:
        n, items, keys = _items(run, token, node)
        mi = node.multi_instance
        data: dict[str, Any] = {"n": n, "done": 0, "next": 0, "active": 0}
        if mi.sequential and items is not None:
            data["items"] = items
        if mi.output_collection and not mi.write_back:
            data["out"] = [] if mi.output_as_completed else [None] * n
        if keys is not None and (mi.write_back or mi.output_as_completed):
            data["keys"] = keys
        body = Scope(sid, "mi", node.index, token.scope, token.id, {}, data)
        run.state.scopes[sid] = body
        _counters(body)
        if n <= 0:
            _finish(run, token, node, body)
            return
        count = 1 if mi.sequential else n
        for _ in range(count):
            _spawn(run, body, node, items)
        return
    loop = node.loop
    assert loop is not None
    body = Scope(sid, "mi", node.index, token.scope, token.id, {}, {"loop": 1, "next": 0})
    run.state.scopes[sid] = body
    if loop.maximum == 0 or loop.test_before and not _loop_again(run, body, node):
        _finish(run, token, node, body)
        return
    _spawn(run, body, node, None)


def _counters(body: Scope) -> None:
    d = body.data
    assert d is not None
    body.vars["nrOfInstances"] = d["n"]
    body.vars["nrOfActiveInstances"] = d["active"]
    body.vars["nrOfCompletedInstances"] = d["done"]


def _spawn(run: Run, body: Scope, node: Node, items: list[Any] | None) -> None:
    d = body.data
    assert d is not None
    i = d["next"]
    d["next"] = i + 1
    local: dict[str, Any] = {"loopCounter": i}
    mi = node.multi_instance
    if mi is not None:
        if items is None:
            items = d.get("items")
        if mi.element_variable and items is not None:
            local[mi.element_variable] = items[i]
        d["active"] += 1
        _counters(body)
    sid = run.state.new_id()
    inner = Scope(sid, "inner", node.index, body.id, None, local)
    run.state.scopes[sid] = inner
    token = run.new_token(node.index, sid, inner=True)
    inner.token = token.id


def inner_done(run: Run, token: Token, node: Node) -> None:
    state = run.state
    inner = state.scopes[token.scope]
    body = state.scopes[inner.parent]  # type: ignore[index]
    holder = state.tokens[body.token]  # type: ignore[index]
    d = body.data
    assert d is not None
    mi = node.multi_instance
    view = run.view(inner.id)
    del state.tokens[token.id]
    if mi is None:
        del state.scopes[inner.id]
        d["next"] = d["next"]  # the loop counter lives on
        loop = node.loop
        assert loop is not None
        if loop.maximum is not None and d["next"] >= loop.maximum:
            _finish(run, holder, node, body)
        elif _loop_again(run, body, node):
            _spawn(run, body, node, None)
        else:
            _finish(run, holder, node, body)
        return
    if "out" in d:
        value = (run.evaluate(mi.output_element, inner.id, node) if mi.output_element
                 else view.get(mi.element_variable) if mi.element_variable else None)
        index = inner.vars["loopCounter"]
        if not mi.output_as_completed:
            d["out"][index] = value
        elif "keys" in d:       # [key, value] pairs: the state holds JSON, keys stay keys
            d["out"].append([d["keys"][index], value])
        else:
            d["out"].append(value)
    elif mi.write_back:
        _write_back(run, body, node, inner)
    d["done"] += 1
    d["active"] -= 1
    _counters(body)
    done = False
    if mi.completion_condition is not None:
        done = run.holds(mi.completion_condition, inner.id, node)
    del state.scopes[inner.id]
    if done:
        for s in [s for s in state.scopes.values() if s.parent == body.id and s.kind == "inner"]:
            run.cancel_scope(s.id)
        _finish(run, holder, node, body)
    elif mi.sequential and d["next"] < d["n"]:
        _spawn(run, body, node, None)
    elif d["done"] >= d["n"] or d["active"] <= 0 and d["next"] >= d["n"]:
        _finish(run, holder, node, body)


def _write_back(run: Run, body: Scope, node: Node, inner: Scope) -> None:
    """SpiffWorkflow's reading of camunda:collection (`write_back`): the instance's element
    variable replaces its item in the collection, at its index (a mapping: at its key), as
    the instance completes - so a later sequential instance, and the rest of the process,
    see it at once, and items of instances that never completed keep their value. The
    collection is copied, never changed in place: the value the command loaded stays as
    it was for whoever compares before and after."""
    mi = node.multi_instance
    assert mi is not None and mi.output_collection and mi.output_element is not None
    d = body.data
    assert d is not None
    name = mi.output_collection
    index = inner.vars["loopCounter"]
    value = run.evaluate(mi.output_element, inner.id, node)
    current = run.view(body.id).get(name)
    if isinstance(current, Mapping):
        keys = d.get("keys")
        updated: Any = dict(current)
        updated[keys[index] if keys is not None else index] = value
    elif isinstance(current, list | tuple) and 0 <= index < len(current):
        updated = list(current)
        updated[index] = value
    else:
        raise RuntimeFailure(f"{node.label}: cannot write {mi.element_variable!r} back into "
                             f"the collection {name!r}: it no longer has item {index} "
                             f"(it is {_kind(current)})", node.id)
    assert body.parent is not None
    run.set_var(body.parent, name, updated)


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    return "missing" if value is None else f"a {type(value).__name__}"


def _loop_again(run: Run, body: Scope, node: Node) -> bool:
    loop = node.loop
    assert loop is not None
    if loop.condition is None:
        return False
    view = ChainMap({"loopCounter": body.data["next"]} if body.data else {},
                    run.view(body.id))  # type: ignore[arg-type]
    try:
        return loop.condition.holds(view)
    except Exception as e:
        raise RuntimeFailure(f"{node.label}: loop condition failed: {e}", node.id) from e


def _finish(run: Run, holder: Token, node: Node, body: Scope) -> None:
    d = body.data or {}
    mi = node.multi_instance
    parent = body.parent
    run.state.scopes.pop(body.id, None)
    if mi is not None and mi.output_collection and not mi.write_back and parent is not None:
        out = d.get("out", [])
        if "keys" in d:
            out = dict(out)
        run.set_var(parent, mi.output_collection, out)
    holder.wait = None
    holder.state = "ready"
    run.leave(holder, record=False)
