"""Effects: what the pure runtime asks the world to do.

`advance()` never touches a database, a clock or a network. It returns a list of these
small records and the store applies them in the same transaction as the new state. Each
names the token it belongs to, so a later trigger (task completed, timer due, message
arrived) can find its way back, and a stale one (the token has moved on) is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


class History(NamedTuple):
    """A history event (`HistoryRecord` in the stores), as the stores hand it out.

    The runtime emits each event as a plain tuple in these fields' order (`event`): most
    effects of most runs are history events, a tuple display is the cheapest object Python
    builds, and the in-memory store keeps them as they come - a plain tuple of strings,
    numbers and datetimes costs Python's cycle collector nothing once it has seen it, a
    NamedTuple's never stops costing. The runtime fills in `instance_id` from its context;
    the facade sets `user` on user-task events."""

    instance_id: str | None
    type: str                  # activity_started | activity_completed | activity_cancelled | ...
    activity_id: str | None
    time: datetime
    kind: str | None = None    # node kind
    name: str | None = None
    user: str | None = None
    detail: dict[str, Any] | None = None
    seq: int = 0
    token: int | None = None


# positions of History's fields in an event tuple (the facade reads these)
EVENT_KIND = 4
EVENT_USER = 6


def event(instance_id: str | None, type_: str, activity_id: str | None, time: datetime,
          kind: str | None = None, name: str | None = None, user: str | None = None,
          detail: dict[str, Any] | None = None, token: int | None = None) -> tuple[Any, ...]:
    """A history event as the runtime emits it: a plain tuple of History's fields."""
    return (instance_id, type_, activity_id, time, kind, name, user, detail, 0, token)


@dataclass(slots=True)
class UserTaskCreated:
    token: int
    activity_id: str
    name: str | None
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    due: datetime | None
    follow_up: datetime | None
    priority: int
    form_key: str | None
    created: datetime
    lane: str | None = None
    escalations: tuple[Any, ...] = ()
    timeouts: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass(slots=True)
class UserTaskEnded:
    token: int
    reason: str                # completed | cancelled


@dataclass(slots=True)
class ServiceTaskStarted:
    """A service/send/business-rule task that calls out: a connector or an external worker."""

    token: int
    activity_id: str
    topic: str
    task_type: str | None
    variables: dict[str, Any]
    retries: int | None
    retry_cycle: str | None
    priority: int = 0


@dataclass(slots=True)
class ServiceTaskEnded:
    token: int
    reason: str


@dataclass(slots=True)
class TimerScheduled:
    sub: int                   # subscription id (the trigger names it back)
    token: int | None
    activity_id: str
    due: datetime
    timer_kind: str
    timer_text: str
    fired: int = 0


@dataclass(slots=True)
class Subscribed:
    sub: int
    kind: str                  # message | signal | conditional
    name: str | None
    token: int | None
    activity_id: str


@dataclass(slots=True)
class Unsubscribed:
    sub: int
    kind: str


@dataclass(slots=True)
class AsyncContinuation:
    """An asyncBefore/asyncAfter boundary: the engine commits, then a job continues."""

    token: int
    activity_id: str
    after: bool
    retry_cycle: str | None


@dataclass(slots=True)
class CallStarted:
    token: int
    activity_id: str
    key: str
    variables: dict[str, Any]
    business_key: str | None


@dataclass(slots=True)
class CallCancelled:
    token: int


@dataclass(slots=True)
class MessageThrown:
    name: str
    variables: dict[str, Any]
    activity_id: str
    correlation_key: Any = None


@dataclass(slots=True)
class SignalThrown:
    name: str
    variables: dict[str, Any]
    activity_id: str


@dataclass(slots=True)
class InstanceEnded:
    status: str                # completed | terminated | failed
    variables: dict[str, Any]
    time: datetime
    cancelled: str | None = None   # the reason when cancelled from outside (not by its flow)
    deleted: tuple[str, ...] = ()  # called instance: variables it was given and deleted


@dataclass(slots=True)
class DataStoreWritten:
    """An activity wrote a data store (dataOutputAssociation to a dataStoreReference): the
    store keeps `value` under `name` for every instance (engine/runtime/datastores.py)."""

    name: str
    value: Any
    activity_id: str


@dataclass(slots=True)
class ErrorPropagated:
    """A BPMN error or escalation nobody caught inside: it goes to the calling activity."""

    kind: str                  # error | escalation
    code: str | None
    message: str | None
    variables: dict[str, Any]


Effect = Any
