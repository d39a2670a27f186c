"""Instance state: small, flat, serialisable.

The state holds only what is alive: tokens, the scope instances that hold variables,
subscriptions (what the instance waits for) and counters. Nothing is appended per step — the
history goes out as effects — so a loop that runs 10,000 times leaves the state as small as
one that ran once. Everything refers to graph nodes by integer index.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

# token states
READY = "ready"          # about to enter its node
WAITING = "waiting"      # held at a wait state (user/receive/external task, catch event, ...)
ARRIVED = "arrived"      # waiting at a joining gateway for its siblings
ACTIVE = "active"        # holds a scope open (subprocess, multi-instance body, call activity)
_STATES = {s: s for s in (READY, WAITING, ARRIVED, ACTIVE)}
# scope kinds that belong to one activity instance: its input parameters ("local") or its
# ioSpecification's isolated data ("io"); held by the activity's token, gone when it is
LOCAL_SCOPES = ("local", "io")


class Token:
    """A token: where one path of execution stands."""

    __slots__ = ("id", "node", "scope", "state", "flow", "inner", "wait")

    def __init__(
        self, id: int, node: int, scope: int, state: str = READY, flow: int | None = None,
        inner: bool = False, wait: str | None = None,
    ) -> None:
        self.id = id
        self.node = node
        self.scope = scope
        self.state = state
        self.flow = flow          # flow index it arrived by (joins)
        self.inner = inner        # one instance of a multi-instance or loop body
        self.wait = wait          # what it waits for: "user", "external", "receive", "catch", ...

    def to_row(self) -> tuple[Any, ...]:
        return TOKEN_ROW(self)

    @classmethod
    def from_row(cls, data: Sequence[Any]) -> Token:
        token = cls(*data)
        # the runtime compares states by identity: use the module's own string objects
        token.state = _STATES.get(token.state, token.state)
        return token

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Token({self.id}, node={self.node}, scope={self.scope}, {self.state})"


# a token's and a scope's stored row, read in C (to_dict makes one per token and scope)
TOKEN_ROW = attrgetter("id", "node", "scope", "state", "flow", "inner", "wait")
SCOPE_ROW = attrgetter("id", "kind", "node", "parent", "token", "vars", "data")


class Scope:
    """A scope instance: the process, a subprocess, a multi-instance body or one of its
    instances, or an activity with local input parameters. It owns variables."""

    __slots__ = ("id", "kind", "node", "parent", "token", "vars", "data")

    def __init__(
        self, id: int, kind: str, node: int | None, parent: int | None, token: int | None,
        vars: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.kind = kind          # process | sub | event | mi | inner | local | io | comp
        self.node = node          # the container/activity node; None for the process
        self.parent = parent
        self.token = token        # the token that holds this scope open
        self.vars = vars if vars is not None else {}
        self.data = data          # bookkeeping: multi-instance counters, compensation log

    def to_row(self) -> tuple[Any, ...]:
        return SCOPE_ROW(self)

    @classmethod
    def from_row(cls, data: Sequence[Any]) -> Scope:
        return cls(*data)


class Subscription:
    """Something a token waits for: a message, signal, timer, conditional or link.

    `token` is the token that owns it (the activity's token for boundary events, the
    gateway's token for event-based gateways, the catch event's own token otherwise, or the
    scope's holder for event subprocess starts); `node` is the catching event node. `part`
    is, for a multiple event, the index of the definition in `Node.events` it waits for
    (one subscription per definition); None otherwise.
    """

    __slots__ = ("id", "kind", "name", "token", "node", "scope", "part")

    def __init__(
        self, id: int, kind: str, name: str | None, token: int | None, node: int, scope: int,
        part: int | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.name = name
        self.token = token
        self.node = node
        self.scope = scope
        self.part = part

    def to_row(self) -> tuple[Any, ...]:
        if self.part is not None:
            return (self.id, self.kind, self.name, self.token, self.node, self.scope, self.part)
        return (self.id, self.kind, self.name, self.token, self.node, self.scope)

    @classmethod
    def from_row(cls, data: Sequence[Any]) -> Subscription:
        return cls(*data)


class InstanceState:
    """Everything the runtime needs to continue an instance."""

    __slots__ = ("tokens", "scopes", "subs", "next_id", "status", "compensations")

    def __init__(self) -> None:
        self.tokens: dict[int, Token] = {}
        self.scopes: dict[int, Scope] = {0: Scope(0, "process", None, None, None)}
        self.subs: dict[int, Subscription] = {}
        self.next_id = 1
        self.status = "running"
        # scope id -> completed compensable activities: node indexes, and
        # [subprocess node, finished scope id] entries (see engine/runtime/compensation.py)
        self.compensations: dict[int, list[Any]] = {}

    @property
    def variables(self) -> dict[str, Any]:
        return self.scopes[0].vars

    def scope_inside(self, sid: int, ancestor: int) -> bool:
        """True when scope `sid` lies (at any depth) inside scope `ancestor`."""
        scopes = self.scopes
        sc = scopes.get(sid)
        while sc is not None and sc.parent is not None:
            if sc.parent == ancestor:
                return True
            sc = scopes.get(sc.parent)
        return False

    def new_id(self) -> int:
        i = self.next_id
        self.next_id = i + 1
        return i

    def to_dict(self) -> dict[str, Any]:
        """The state as plain data: tuples (JSON arrays in the SQL stores), so a state the
        in-memory store keeps - every instance that ever ran - holds no container Python's
        cycle collector must keep walking once it has seen it. The process's variables are
        left out (None in the process scope's row): the instance record keeps them
        (`InstanceRecord.variables`, stored once), and a tuple holding a dict would stay
        tracked for good."""
        scopes = list(map(SCOPE_ROW, self.scopes.values()))
        if scopes and scopes[0][0] == 0:    # the process scope: see `from_dict`
            row = scopes[0]
            scopes[0] = (0, row[1], row[2], row[3], row[4], None, row[6])
        return {
            "v": 1,
            "tokens": tuple(map(TOKEN_ROW, self.tokens.values())),
            "scopes": tuple(scopes),
            "subs": tuple([s.to_row() for s in self.subs.values()]),
            "next_id": self.next_id,
            "status": self.status,
            "comp": tuple([(k, v) for k, v in self.compensations.items()]),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any],
                  variables: dict[str, Any] | None = None) -> InstanceState:
        """The state `data` describes, with the process's `variables` (the record's: see
        `to_dict`), sharing nothing mutable with either: the runtime changes the state in
        place, and `data` may be the stored row itself (the in-memory store's), which a
        command that fails must leave as it was."""
        st = cls.__new__(cls)
        tokens: dict[int, Token] = {}
        states = _STATES
        for t in data["tokens"]:
            token = Token(*t)
            # the runtime compares states by identity: use the module's own string objects
            token.state = states.get(token.state, token.state)
            tokens[token.id] = token
        st.tokens = tokens
        scopes: dict[int, Scope] = {}
        immutable = _IMMUTABLE
        for s in data["scopes"]:
            scope = Scope(*s)
            values = scope.vars
            if s[5] is None and s[0] == 0 and variables is not None:
                values = variables
            # a plain copy when every value is immutable (the common case), else deep
            # copies of the mutable ones
            for v in values.values():
                if type(v) not in immutable:
                    scope.vars = {k: v if type(v) in immutable else copy.deepcopy(v)
                                  for k, v in values.items()}
                    break
            else:
                scope.vars = values.copy()
            if scope.data is not None:
                scope.data = copy.deepcopy(scope.data)
            scopes[scope.id] = scope
        st.scopes = scopes
        st.subs = {s[0]: Subscription(*s) for s in data["subs"]} if data["subs"] else {}
        st.next_id = data["next_id"]
        st.status = data["status"]
        comp = data.get("comp")
        st.compensations = {k: copy.deepcopy(v) for k, v in comp} if comp else {}
        return st


# variable values that need no copy
_IMMUTABLE = frozenset({str, int, float, bool, type(None), datetime, date, time, timedelta,
                        Decimal, bytes})
