"""Effect handlers: how each effect of the pure runtime is applied through the store, in
the command's transaction.

Why a table: adding an effect kind is one small function and one entry, and a missing
entry fails loudly (KeyError at the first use, and a test walks every effect class).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.ids import new_id
from engine.limits import check_text
from engine.runtime import effects as fx
from engine.runtime import triggers as tr
from engine.store.records import ExternalTaskRecord, JobRecord, SubscriptionRecord
from engine.tasks import create_task

if TYPE_CHECKING:
    from engine.commands.context import CommandContext
    from engine.graph import ProcessGraph
    from engine.store.records import InstanceRecord

Handler = Callable[["CommandContext", "InstanceRecord", "ProcessGraph", Any, list], None]
# why a called instance ends when its caller cancels it: it must not cancel the caller back
PARENT_CANCELLED = "parent cancelled"


def history(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph, e: tuple[Any, ...],
            hist: list) -> None:
    """A history event (fx.event's plain tuple; CommandContext.apply handles most inline)."""
    if e[fx.EVENT_KIND] == "userTask" and c.user is not None:
        e = (*e[:fx.EVENT_USER], c.user, *e[fx.EVENT_USER + 1:])
    hist.append(e)


def user_task_created(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                      e: fx.UserTaskCreated, hist: list) -> None:
    create_task(c, rec, graph, e, hist)


def user_task_ended(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                    e: fx.UserTaskEnded, hist: list) -> None:
    tx = c.tx
    task = c.tasks.pop((rec.id, e.token), None) or tx.task_by_token(rec.id, e.token)
    if task is not None:
        tx.delete_task(task.id)
        spec = graph.node(task.activity_id).user_task
        if spec is None or spec.timeout_listeners or spec.escalations:
            for j in tx.find_jobs(instance_id=rec.id, token=e.token):
                if j.kind in ("timeout", "escalation"):
                    tx.delete_job(j.id)
        c.notifications.append((f"task_{e.reason}", task))


def service_task_started(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                         e: fx.ServiceTaskStarted, hist: list) -> None:
    check_text(e.topic, f"serviceTask '{e.activity_id}': the topic")
    registration = c.env.connectors.get(e.topic)
    if registration is not None and e.task_type != "external-only":
        policy = registration.policy
        c.tx.add_job(JobRecord(
            new_id(), "connector", rec.id, c.now, token=e.token,
            activity_id=e.activity_id, definition_id=rec.definition_id,
            retries=policy.retries, retry_cycle=e.retry_cycle, created=c.now,
            payload={"topic": e.topic, "variables": dict(e.variables)}))
        return
    c.tx.add_external(ExternalTaskRecord(
        new_id(), rec.id, e.token, e.activity_id, e.topic, rec.key, rec.definition_id,
        c.now, rec.business_key, e.priority, None))
    c.notifications.append(("external_task_created", e.topic))  # wakes long polls


def service_task_ended(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                       e: fx.ServiceTaskEnded, hist: list) -> None:
    # the task ran as an external task or as a connector job, never both
    tx = c.tx
    ext = c.externals.pop((rec.id, e.token), None) or tx.external_by_token(rec.id, e.token)
    if ext is not None:
        tx.delete_external(ext.id)
    else:
        for j in tx.find_jobs(instance_id=rec.id, token=e.token, kind="connector"):
            tx.delete_job(j.id)


def timer_scheduled(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                    e: fx.TimerScheduled, hist: list) -> None:
    tx = c.tx
    for j in tx.find_jobs(instance_id=rec.id, sub=e.sub, kind="timer"):
        tx.delete_job(j.id)
    tx.add_job(JobRecord(new_id(), "timer", rec.id, e.due, token=e.token, sub=e.sub,
                         activity_id=e.activity_id, definition_id=rec.definition_id,
                         created=c.now, payload={"fired": e.fired, "text": e.timer_text}))


def subscribed(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
               e: fx.Subscribed, hist: list) -> None:
    # a name from an expression is known only now (literal ones were checked at deployment)
    check_text(e.name, f"'{e.activity_id}': the {e.kind} name")
    c.tx.add_subscription(SubscriptionRecord(
        f"{rec.id}:{e.sub}", e.kind, e.name, rec.id, e.sub, e.activity_id,
        rec.definition_id, rec.business_key, c.now))


def unsubscribed(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                 e: fx.Unsubscribed, hist: list) -> None:
    if e.kind == "timer":
        for j in c.tx.find_jobs(instance_id=rec.id, sub=e.sub, kind="timer"):
            c.tx.delete_job(j.id)
    else:
        c.tx.delete_subscription(f"{rec.id}:{e.sub}")


def async_continuation(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                       e: fx.AsyncContinuation, hist: list) -> None:
    c.tx.add_job(JobRecord(new_id(), "async", rec.id, c.now, token=e.token,
                           activity_id=e.activity_id, definition_id=rec.definition_id,
                           retry_cycle=e.retry_cycle, created=c.now,
                           payload={"after": e.after}))


def call_started(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                 e: fx.CallStarted, hist: list) -> None:
    child_def = c.tx.latest_definition(e.key, starting=True)
    if child_def is None:
        raise EngineError(f"callActivity '{e.activity_id}': no process definition "
                          f"with key '{e.key}' is deployed")
    business_key = e.business_key or rec.business_key
    check_text(business_key, f"callActivity '{e.activity_id}': the business key")
    c.start_instance(child_def, e.variables, business_key, rec.id, e.token, None)


def call_cancelled(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                   e: fx.CallCancelled, hist: list) -> None:
    for child in list(c.children(rec.id, e.token)):
        c.queue.appendleft((child, tr.Terminate(PARENT_CANCELLED)))


def message_thrown(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                   e: fx.MessageThrown, hist: list) -> None:
    name, variables, key = e.name, e.variables, e.correlation_key
    c.after.append(lambda: c.correlate(name, key, variables, None, False,
                                       raise_if_none=False))


def signal_thrown(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                  e: fx.SignalThrown, hist: list) -> None:
    name, variables, src = e.name, e.variables, rec.id   # the thrower caught its own already
    c.after.append(lambda: c.signal(name, variables, skip_instance=src))


def instance_ended(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                   e: fx.InstanceEnded, hist: list) -> None:
    rec.ended = e.time
    rec.status = e.status
    cleanup(c, rec)
    if rec.parent_id is not None and rec.parent_token is not None:
        if e.cancelled is None:
            c.queue.append((rec.parent_id, tr.ChildEnded(rec.parent_token, dict(e.variables),
                                                         e.deleted)))
        elif e.cancelled != PARENT_CANCELLED:
            # a called instance cancelled on its own: the caller cannot go on
            # (Camunda deletes the calling instance too)
            c.queue.append((rec.parent_id, tr.Terminate(
                f"called instance '{rec.id}' was cancelled: {e.cancelled}")))
    c.notifications.append(("instance_ended", rec.id))


def error_propagated(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                     e: fx.ErrorPropagated, hist: list) -> None:
    if rec.parent_id is not None and rec.parent_token is not None:
        c.queue.appendleft((rec.parent_id, tr.Throw(
            rec.parent_token, e.code, e.message, e.variables, e.kind)))


def data_store_written(c: CommandContext, rec: InstanceRecord, graph: ProcessGraph,
                       e: fx.DataStoreWritten, hist: list) -> None:
    c.write_data_store(e.name, e.value)


def cleanup(c: CommandContext, rec: InstanceRecord) -> None:
    """Delete every wait-state row of an ended instance."""
    c.tx.delete_wait_rows(rec.id)


HANDLERS: dict[type, Handler] = {
    tuple: history,             # history events (fx.event)
    fx.UserTaskCreated: user_task_created,
    fx.UserTaskEnded: user_task_ended,
    fx.ServiceTaskStarted: service_task_started,
    fx.ServiceTaskEnded: service_task_ended,
    fx.TimerScheduled: timer_scheduled,
    fx.Subscribed: subscribed,
    fx.Unsubscribed: unsubscribed,
    fx.AsyncContinuation: async_continuation,
    fx.CallStarted: call_started,
    fx.CallCancelled: call_cancelled,
    fx.MessageThrown: message_thrown,
    fx.SignalThrown: signal_thrown,
    fx.InstanceEnded: instance_ended,
    fx.ErrorPropagated: error_propagated,
    fx.DataStoreWritten: data_store_written,
}
