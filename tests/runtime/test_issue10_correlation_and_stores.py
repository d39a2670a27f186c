"""Issue 10: key-based message correlation (BPMN 2.0.2 8.3.2) and data stores shared
between instances (dataStore / dataStoreReference), as SpiffWorkflow runs them.

Correlation: a reply reaches the conversation whose key it carries, not whichever catch
event waited first; the first message of a conversation sets its keys. Data stores: one
named value for every instance, kept by the store (memory and SQL alike)."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.testing import ManualClock
from tests.runtime.conftest import HEAD, flows

COLLAB = ('<collaboration id="c"><participant id="a" processRef="asker"/>'
          '<participant id="b" processRef="answerer"/>'
          '<correlationKey name="order"><correlationPropertyRef>order_id</correlationPropertyRef>'
          '</correlationKey></collaboration>'
          '<correlationProperty id="order_id" name="Order">'
          '<correlationPropertyRetrievalExpression messageRef="ask">'
          '<messagePath>order</messagePath></correlationPropertyRetrievalExpression>'
          '<correlationPropertyRetrievalExpression messageRef="answer">'
          '<messagePath>reply_to</messagePath></correlationPropertyRetrievalExpression>'
          '</correlationProperty>'
          '<message id="ask" name="ask"/><message id="answer" name="answer"/>')


def _conversation() -> str:
    """`asker` runs a parallel multi-instance subprocess over `orders`: each instance
    asks (message `ask`, which starts an `answerer`) and waits for its `answer`."""
    inner = ('<startEvent id="is"/>'
             '<intermediateThrowEvent id="send"><messageEventDefinition messageRef="ask"/>'
             '</intermediateThrowEvent>'
             '<intermediateCatchEvent id="wait"><messageEventDefinition messageRef="answer"/>'
             '</intermediateCatchEvent><endEvent id="ie"/>' + flows("is>send", "send>wait",
                                                                  "wait>ie"))
    asker = ('<process id="asker" isExecutable="true"><startEvent id="s"/>'
             '<subProcess id="each"><multiInstanceLoopCharacteristics '
             'camunda:collection="orders" camunda:elementVariable="order"/>'
             + inner + '</subProcess><endEvent id="e"/>' + flows("s>each", "each>e")
             + '</process>')
    answerer = ('<process id="answerer" isExecutable="true"><startEvent id="as">'
                '<messageEventDefinition messageRef="ask"/></startEvent>'
                '<userTask id="reply"/><intermediateThrowEvent id="respond">'
                '<messageEventDefinition messageRef="answer"/></intermediateThrowEvent>'
                '<endEvent id="ae"/>' + flows("as>reply", "reply>respond", "respond>ae")
                + '</process>')
    return f"{HEAD}{COLLAB}{asker}{answerer}</definitions>"


def _waiting_orders(engine: Engine, iid: str) -> list[str]:
    """The order of each multi-instance instance still waiting for its answer."""
    view = engine.instance(iid)
    return sorted(engine.token_variables(iid, t["id"])["order"] for t in view.tokens
                  if t["activity_id"] == "wait" and t["state"] == "waiting")


def test_replies_reach_the_conversation_their_key_names() -> None:
    engine = Engine(clock=ManualClock())
    engine.deploy(_conversation().encode())
    iid = engine.start("asker", {"orders": ["A-1", "B-2", "C-3"]})
    asked = {t.instance_id: engine.instance(t.instance_id).variables["order"]
             for t in engine.tasks() if t.activity_id == "reply"}
    # the message carried what its correlation property is read from, nothing else
    assert sorted(asked.values()) == ["A-1", "B-2", "C-3"]
    assert all(engine.instance(i).variables == {"order": o} for i, o in asked.items())
    by_order = {o: i for i, o in asked.items()}
    for order in ("B-2", "C-3", "A-1"):          # answered in another order than asked
        (task,) = [t for t in engine.tasks() if t.instance_id == by_order[order]]
        engine.complete_task(task.id, {"reply_to": order})
        assert order not in _waiting_orders(engine, iid)
    assert engine.instance(iid).status == "completed"


def test_a_message_with_a_key_no_conversation_has_is_not_delivered() -> None:
    engine = Engine(clock=ManualClock())
    engine.deploy(_conversation().encode())
    iid = engine.start("asker", {"orders": ["A-1"]})
    from engine.errors import MessageNotCorrelated

    with pytest.raises(MessageNotCorrelated,
                       match="wait for message 'answer', but none whose correlation keys match"):
        engine.correlate_message("answer", variables={"reply_to": "Z-9"})
    assert _waiting_orders(engine, iid) == ["A-1"]
    engine.correlate_message("answer", variables={"reply_to": "A-1"})
    assert _waiting_orders(engine, iid) == []


def test_the_first_message_of_a_conversation_sets_its_key() -> None:
    """A catch event whose conversation has no key yet takes any message; its key is then
    recorded, and a later message of that conversation must carry the same key."""
    body = (f'{HEAD}{COLLAB}<process id="p" isExecutable="true"><startEvent id="s"/>'
            '<intermediateCatchEvent id="first"><messageEventDefinition messageRef="answer"/>'
            '</intermediateCatchEvent><intermediateCatchEvent id="second">'
            '<messageEventDefinition messageRef="answer"/></intermediateCatchEvent>'
            '<endEvent id="e"/>' + flows("s>first", "first>second", "second>e")
            + '</process></definitions>')
    engine = Engine(clock=ManualClock())
    engine.deploy(body.encode())
    iid = engine.start("p")
    engine.correlate_message("answer", variables={"reply_to": 7})
    from engine.errors import MessageNotCorrelated

    with pytest.raises(MessageNotCorrelated,
                       match="wait for message 'answer', but none whose correlation keys match"):
        engine.correlate_message("answer", variables={"reply_to": 8})
    engine.correlate_message("answer", variables={"reply_to": 7})
    assert engine.instance(iid).status == "completed"


# ---------------------------------------------------------------------------- data stores
def _store_diagram(pid: str, *, write: str | None = None, read: bool = False) -> str:
    """A process with a data store `counter`: the first script (with an output association
    when `write` is given) runs `write`; the second (with an input association when
    `read`) copies the store into `seen` (else does nothing)."""
    out = ('<dataOutputAssociation id="w"><targetRef>ref</targetRef></dataOutputAssociation>'
           if write else '')
    inp = ('<dataInputAssociation id="r"><sourceRef>ref</sourceRef></dataInputAssociation>'
           if read else '')
    return (f'{HEAD}<dataStore id="counter" name="Counter"/>'
            f'<process id="{pid}" isExecutable="true"><startEvent id="s"/>'
            f'<scriptTask id="put">{out}<script>{write or "pass"}</script></scriptTask>'
            f'<scriptTask id="get">{inp}<script>{"seen = counter" if read else "pass"}'
            '</script></scriptTask>'
            '<endEvent id="e"/><dataStoreReference id="ref" dataStoreRef="counter"/>'
            + flows("s>put", "put>get", "get>e") + '</process></definitions>')


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_data_store_is_shared_by_instances_and_kept_by_the_store(new_store, kind) -> None:
    store = new_store(kind)
    engine = Engine(store=store, clock=ManualClock())
    engine.deploy(_store_diagram("writer", write="counter = 41").encode(),
                  _store_diagram("reader", read=True).encode())
    assert engine.instance(engine.start("reader")).variables == {"seen": None}  # empty
    writer = engine.start("writer")
    # the value lives in the store, not in the writing instance
    assert engine.instance(writer).variables == {}
    with store.transaction() as tx:
        assert tx.read_data_stores(["counter"]) == {"counter": 41}
        assert tx.read_data_stores() == {"counter": 41}
        assert tx.read_data_stores([]) == {}
    # another instance reads it; the read value is the activity's own variable
    assert engine.instance(engine.start("reader")).variables == {"seen": 41}


def test_an_activity_that_reads_and_writes_a_store_updates_it() -> None:
    body = (f'{HEAD}<dataStore id="counter"/><process id="p" isExecutable="true">'
            '<startEvent id="s"/><scriptTask id="inc">'
            '<dataInputAssociation id="r"><sourceRef>ref</sourceRef></dataInputAssociation>'
            '<dataOutputAssociation id="w"><targetRef>ref</targetRef></dataOutputAssociation>'
            '<script>counter = (counter or 0) + 1</script></scriptTask><endEvent id="e"/>'
            '<dataStoreReference id="ref" dataStoreRef="counter"/>'
            + flows("s>inc", "inc>e") + '</process></definitions>')
    engine = Engine(clock=ManualClock())
    engine.deploy(body.encode())
    for _ in range(3):
        assert engine.instance(engine.start("p")).variables == {}
    with engine.store.transaction() as tx:
        assert tx.read_data_stores(["counter"]) == {"counter": 3}


def test_the_unlocked_precheck_agrees_with_the_runtime() -> None:
    """`may_accept` reads a stored state (no lock) and refuses exactly what `on_catch`
    would: the engine skips instances whose conversation a message cannot match."""
    from engine.bpmn import compile_bpmn
    from engine.runtime.correlation import may_accept

    engine = Engine(clock=ManualClock())
    engine.deploy(_conversation().encode())
    iid = engine.start("asker", {"orders": ["A-1"]})
    graph = compile_bpmn(_conversation().encode()).processes["asker"]
    with engine.store.transaction() as tx:
        state = tx.get_instance(iid).state
        (sub,) = [s for s in tx.find_subscriptions(instance_id=iid) if s.name == "answer"]
    assert may_accept(graph, state, sub.sub, "answer", {"reply_to": "A-1"})
    assert not may_accept(graph, state, sub.sub, "answer", {"reply_to": "B-2"})
    assert may_accept(graph, state, sub.sub, "answer", {})       # carries no key: any
    assert may_accept(graph, state, 10**6, "answer", {"reply_to": "B-2"})  # gone: trigger says
    assert may_accept(graph, state, sub.sub, "other", {"reply_to": "B-2"})
