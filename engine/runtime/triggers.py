"""Triggers: what comes into the runtime. Time comes with them, never from a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Start:
    variables: dict[str, Any] = field(default_factory=dict)
    start_node: str | None = None          # a message/signal/timer start; None = the none start
    fired: tuple[str, str] | None = None   # (kind, name) of the message/signal that started it
    start_before: tuple[str, ...] = ()     # start at these activities instead (restart)


@dataclass(slots=True)
class Complete:
    """A wait state is done: user task completed, external task completed, receive task
    triggered, or an async continuation's job ran."""

    token: int
    variables: dict[str, Any] = field(default_factory=dict)
    local: bool = False                    # variables go to the activity's local scope


@dataclass(slots=True)
class Fire:
    """A subscription fired: message arrived, signal broadcast, timer due, condition true."""

    sub: int
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Throw:
    """A BPMN error (or escalation) raised by a worker, connector or called child instance."""

    token: int
    code: str | None
    message: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    kind: str = "error"


@dataclass(slots=True)
class Continue:
    """An asynchronous continuation's job runs."""

    token: int


@dataclass(slots=True)
class ChildEnded:
    token: int
    variables: dict[str, Any] = field(default_factory=dict)
    deleted: tuple[str, ...] = ()          # variables it was given and deleted (script `del`)


@dataclass(slots=True)
class AdHocStart:
    """Start an enabled activity of a running ad-hoc subprocess (see runtime/adhoc.py)."""

    activity_id: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AdHocComplete:
    """Complete a running ad-hoc subprocess on request (nothing may run inside)."""

    adhoc_id: str


@dataclass(slots=True)
class SetVariables:
    variables: dict[str, Any]


@dataclass(slots=True)
class Terminate:
    reason: str = "terminated"


@dataclass(slots=True)
class Modify:
    """Process instance modification: ordered (kind, target[, variables]) instructions, see
    `engine.runtime.modification`; `variables` are set on the process first."""

    instructions: list[tuple[Any, ...]]
    variables: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    user: str | None = None                # who asked (recorded on `instance_modified`)
