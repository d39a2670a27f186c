"""What the stores keep of an instance: history events as the runtime emits them (plain
tuples), states made of tuples with the process variables kept once on the record, and a
completed task ended through the row the command locked. On every store, the same answers;
in memory, a command that fails leaves the history exactly as it was."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from engine.errors import EngineError
from engine.runtime.effects import History
from engine.runtime.state import InstanceState
from engine.service import Engine
from engine.store import MemoryStore
from tests.runtime.conftest import bpmn, flows

LOOP = bpmn('<startEvent id="s"/><userTask id="ask" name="Ask"/>'
            '<exclusiveGateway id="more" default="more_e"/><endEvent id="e"/>'
            '<sequenceFlow id="more_ask" sourceRef="more" targetRef="ask">'
            '<conditionExpression>${n &lt; 3}</conditionExpression></sequenceFlow>'
            + flows("s>ask", "ask>more", "more>e"), pid="again")

SUB = bpmn('<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
           '<userTask id="inner"/><endEvent id="se"/>' + flows("ss>inner", "inner>se")
           + '</subProcess><endEvent id="e"/>' + flows("s>sub", "sub>e"), pid="nested")


def test_a_task_that_loops_back_to_itself_is_ended_and_created_anew(engine: Engine) -> None:
    engine.deploy(LOOP)
    iid = engine.start("again", {"n": 0})
    seen = []
    for n in (1, 2, 3):
        (task,) = engine.tasks(instance_id=iid)
        seen.append(task.id)
        engine.complete_task(task.id, {"n": n})
    assert engine.tasks(instance_id=iid) == []
    assert len(set(seen)) == 3                      # a new row each time round
    assert engine.instance(iid).status == "completed"
    kinds = [(h.type, h.activity_id) for h in engine.history(iid)
             if h.activity_id == "ask"]
    assert kinds.count(("activity_completed", "ask")) == 3


def test_history_reads_back_in_order_numbered_by_position(engine: Engine) -> None:
    engine.deploy(LOOP)
    a = engine.start("again", {"n": 2})
    b = engine.start("again", {"n": 2})
    engine.complete_task(engine.tasks(instance_id=a)[0].id, {"n": 3})
    engine.complete_task(engine.tasks(instance_id=b)[0].id, {"n": 3})
    for iid in (a, b):
        events = engine.history(iid)
        assert all(type(h) is History and h.instance_id == iid for h in events)
        assert [h.seq for h in events] == list(range(1, len(events) + 1))
        assert events[0].type == "process_started" and events[-1].type == "process_completed"


def test_process_variables_are_kept_once_beside_a_state_of_tuples(engine: Engine) -> None:
    engine.deploy(SUB)
    iid = engine.start("nested", {"x": 1, "tags": ["a", "b"]})
    with engine.store.transaction() as tx:
        rec = tx.get_instance(iid)
    assert rec.variables == {"x": 1, "tags": ["a", "b"]}
    rows = {row[0]: row for row in rec.state["scopes"]}
    assert rows[0][5] in (None, rec.variables)      # a hole the record fills (see to_dict)
    state = InstanceState.from_dict(rec.state, rec.variables)
    assert state.variables == {"x": 1, "tags": ["a", "b"]} and len(state.scopes) == 2
    state.variables["tags"].append("c")             # the copy shares nothing with the row
    assert rec.variables["tags"] == ["a", "b"]
    (task,) = engine.tasks(instance_id=iid)
    engine.complete_task(task.id, {"y": 2})
    assert engine.instance(iid).variables == {"x": 1, "tags": ["a", "b"], "y": 2}


def test_a_state_written_with_the_variables_inside_still_reads() -> None:
    """Rows written before the hole (or by hand) keep the variables in scope 0's row."""
    old = {"v": 1, "tokens": [[1, 2, 0, "waiting", None, False, "user"]],
           "scopes": [[0, "process", None, None, None, {"a": 1}, None]], "subs": [],
           "next_id": 2, "status": "running", "comp": []}
    assert InstanceState.from_dict(old, {"a": 1}).variables == {"a": 1}
    assert InstanceState.from_dict(old).variables == {"a": 1}
    assert InstanceState.from_dict(old, {"a": 1}).to_dict()["scopes"][0][5] is None


def test_a_failed_command_leaves_the_memory_history_as_it_was() -> None:
    store = MemoryStore()
    eng = Engine(store=store)
    eng.deploy(LOOP)
    a = eng.start("again", {"n": 0})
    before = eng.history(a)
    chunks = len(store.history_chunks)

    def fails_late(ctx: Any) -> None:
        rec = ctx.tx.latest_definition("again")
        ctx.start_instance(rec, {"n": 0}, None, None, None, None)   # history of another
        ctx.trigger(a, _complete_trigger(ctx, a))                   # and more of `a`
        ctx.finish()
        raise EngineError("refused after the fact")

    with pytest.raises(EngineError, match="refused after the fact"):
        eng.run(fails_late)
    assert eng.history(a) == before and len(store.history_chunks) == chunks
    assert len(eng.instances()) == 1
    eng.complete_task(eng.tasks(instance_id=a)[0].id, {"n": 5})   # and it goes on
    assert [h.seq for h in eng.history(a)] == list(range(1, len(eng.history(a)) + 1))


def _complete_trigger(ctx: Any, iid: str) -> Any:
    from engine.runtime import triggers as tr

    (task,) = ctx.tx.find_tasks(instance_id=iid)
    return tr.Complete(task.token, {"n": 5})


def test_what_the_memory_store_keeps_of_an_ended_instance_the_collector_can_forget() -> None:
    """Every full collection walks every object the collector tracks: an in-memory engine
    that kept 30 tracked objects per finished instance spent a quarter of its time there
    once 10,000 had run. Now the record itself is the only one."""
    eng = Engine()
    eng.deploy(LOOP)
    iid = eng.start("again", {"n": 2})
    eng.complete_task(eng.tasks(instance_id=iid)[0].id, {"n": 3})
    for _ in range(4):      # each collection untracks one level of nested tuples
        gc.collect()
    store = eng.store
    rec = store.tables["instances"][iid]
    assert not gc.is_tracked(rec.state) and not gc.is_tracked(rec.variables)
    chunks = [store.history_chunks[i] for i in range(len(store.history_chunks))]
    assert chunks and not any(gc.is_tracked(c) for c in chunks)
