"""The rows the store keeps. Plain dataclasses so the in-memory and SQL stores share them
and the facade never sees a database type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.runtime.effects import History

# history events are stored as the runtime emits them (one object per event)
HistoryRecord = History


@dataclass(slots=True)
class DeploymentRecord:
    id: str
    name: str | None
    time: datetime
    resources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DefinitionRecord:
    id: str                    # "<key>:<version>:<deployment>"
    key: str
    version: int
    name: str | None
    xml: bytes
    checksum: str
    deployment_id: str
    resource: str | None
    deployed_at: datetime
    executable: bool = True
    has_start_form: bool = False
    tenant_id: str | None = None  # Camunda's deployment tenant: a label workers filter by
    # the process's camunda:versionTag: a label of the model's release that workers and
    # clients select definitions by (Camunda's `versionTag`); None for DMN and untagged
    version_tag: str | None = None
    # the migration mode the processes were deployed in (engine.bpmn.compat, "spiffworkflow");
    # None: read as Camunda 7 does. Part of how the graph compiles, so stored with it
    compat: str | None = None


@dataclass(slots=True)
class InstanceRecord:
    id: str
    definition_id: str
    key: str
    version: int
    status: str                # running | completed | terminated | failed
    state: dict[str, Any]      # InstanceState.to_dict()
    business_key: str | None
    parent_id: str | None
    parent_token: int | None
    started: datetime
    ended: datetime | None = None
    revision: int = 0
    variables: dict[str, Any] = field(default_factory=dict)   # process-level variables


@dataclass(slots=True)
class TaskRecord:
    """A user task: one row per waiting user-task token, indexed for the tasklist."""

    id: str
    instance_id: str
    token: int
    activity_id: str
    name: str | None
    definition_key: str
    definition_id: str
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    due: datetime | None
    follow_up: datetime | None
    priority: int
    form_key: str | None
    created: datetime
    business_key: str | None = None
    process_name: str | None = None
    owner: str | None = None           # who delegated it
    delegation: str | None = None      # pending | resolved
    escalated: int = 0                 # how many escalations fired
    note: str | None = None            # why it was routed here (deputy, escalation)
    lane: str | None = None
    claimed: datetime | None = None


@dataclass(slots=True)
class JobRecord:
    """Work for the job executor: timers, async continuations, connector calls, task
    timeouts and escalations. Leased by a worker (`lock_owner` until `lock_expires`)."""

    id: str
    kind: str                   # timer | async | connector | timeout | escalation | start-timer
    instance_id: str | None
    due: datetime
    token: int | None = None
    sub: int | None = None
    activity_id: str | None = None
    definition_id: str | None = None
    retries: int = 3
    retry_cycle: str | None = None
    lock_owner: str | None = None
    lock_expires: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    created: datetime | None = None
    suspended: bool = False     # true while an incident is open


@dataclass(slots=True)
class ExternalTaskRecord:
    id: str
    instance_id: str
    token: int
    activity_id: str
    topic: str
    definition_key: str
    definition_id: str
    created: datetime
    business_key: str | None = None
    priority: int = 0
    retries: int | None = None
    worker_id: str | None = None
    lock_expires: datetime | None = None
    error_message: str | None = None
    error_details: str | None = None
    due: datetime | None = None        # retry timeout: not fetchable before this


@dataclass(slots=True)
class SubscriptionRecord:
    id: str
    kind: str                   # message | signal
    name: str | None
    instance_id: str | None     # None: a start event of a definition
    sub: int | None
    activity_id: str
    definition_id: str | None = None
    business_key: str | None = None
    created: datetime | None = None


@dataclass(slots=True)
class IncidentRecord:
    id: str
    type: str                   # failedJob | failedExternalTask
    instance_id: str | None
    activity_id: str | None
    message: str
    created: datetime
    job_id: str | None = None
    external_task_id: str | None = None
    stack: str | None = None
    resolved: datetime | None = None




@dataclass(slots=True)
class CommentRecord:
    id: str
    instance_id: str
    task_id: str | None
    author: str
    text: str
    time: datetime


@dataclass(slots=True)
class UserRecord:
    id: str                     # login name
    name: str
    password_hash: str
    roles: list[str] = field(default_factory=list)     # staff | analyst | admin
    groups: list[str] = field(default_factory=list)
    email: str | None = None
    deputy: str | None = None
    away_from: datetime | None = None
    away_until: datetime | None = None
    api_token: str | None = None


class ConcurrentModification(Exception):
    """Another command changed the instance first (revision mismatch): retry on new state."""
