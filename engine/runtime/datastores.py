"""Data stores at run time (see engine/bpmn/datastores.py for the diagram side).

The runtime is pure: it never reads a database. Its caller hands `advance`/`start` the
current values of the stores the process refers to (`Run.stores`); an activity reading a
store gets a copy as a variable of its own scope; an activity writing one updates
`Run.stores` (so a later read in the same command sees it) and emits `DataStoreWritten`,
which the command applies to the store in its transaction.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from engine.runtime import effects as fx
from engine.runtime.state import LOCAL_SCOPES, Scope

if TYPE_CHECKING:
    from engine.graph import Node
    from engine.runtime.run import Run
    from engine.runtime.state import Token


def read_stores(run: Run, token: Token, node: Node) -> None:
    """As the activity starts: each store it reads becomes a variable of the activity alone
    (in the local scope of its input parameters, opened here if it has none). A store
    nobody has written yet reads as None (empty), as SpiffWorkflow's do."""
    values = {}
    for variable in node.store_reads:
        store = run.graph.data_stores.get(variable, variable)
        values[variable] = copy.deepcopy(run.stores.get(store))
    state = run.state
    scope = state.scopes[token.scope]
    if scope.kind in LOCAL_SCOPES and scope.token == token.id and scope.node == node.index:
        scope.vars.update(values)
        return
    sid = state.new_id()
    state.scopes[sid] = Scope(sid, "local", node.index, token.scope, token.id, values)
    token.scope = sid


def write_stores(run: Run, token: Token, node: Node) -> None:
    """As the activity ends: each store it writes takes the variable's value, if the
    activity (or anything before it) set one, and the variable leaves the instance: its
    value lives in the store, shared by every instance."""
    view = run.view(token.scope)
    written = []
    for variable in node.store_writes:
        if variable not in view:
            continue
        value = copy.deepcopy(view[variable])
        store = run.graph.data_stores.get(variable, variable)
        run.stores[store] = value
        run.effects.append(fx.DataStoreWritten(store, value, node.id))
        written.append(variable)
    if written:
        run.delete_vars(token.scope, written)


__all__ = ["read_stores", "write_stores"]
