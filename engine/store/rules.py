"""The rules both stores apply, written once: when a job or external task lease is live
and what a worker may take, which filters a query accepts and what each one means, the
order rows come back in, and how a record is copied.

The in-memory store runs these predicates as Python, the SQL store renders them as SQL
(`engine/store/predicates.py` says how the two are kept equal). A rule with no general
form (a task's candidate users and groups, its display name) is a Leaf that tests itself
in Python and that `task_sql.py` writes in the SQL its indexes serve; the parity tests in
tests/store hold the two to the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from engine.store.predicates import (
    TRUE,
    And,
    Blank,
    Cmp,
    Eq,
    In,
    IsNull,
    Leaf,
    Not,
    Or,
    Param,
    Params,
    Predicate,
    Test,
    compiled,
    value_of,
)
from engine.store.records import ExternalTaskRecord, TaskRecord

NOW = Param("now")

# ====================================================================== leases
JOB_LEASED = And(Not(Blank("lock_owner")), Cmp("lock_expires", ">", NOW))
"""A worker holds the job: an owner and a lease that has not run out."""

JOB_ACQUIRABLE = And(Cmp("due", "<=", NOW), Eq("suspended", False), Cmp("retries", ">", 0),
                     Not(JOB_LEASED))
"""Due, not held back by an incident, retries left, and free or its lease run out. With
`exclusive` acquisition, also: no job of the same instance is JOB_LEASED."""

JOB_ORDER = ("due", "id")

EXTERNAL_LEASED = And(Not(IsNull("worker_id")), Cmp("lock_expires", ">", NOW))
"""A worker holds the external task until `lock_expires`."""

EXTERNAL_FETCHABLE = And(In("topic", Param("topics")), Not(EXTERNAL_LEASED),
                         Or(IsNull("retries"), Cmp("retries", ">", 0)),
                         Or(IsNull("due"), Cmp("due", "<=", NOW)))
"""Of a topic asked for, not leased, retries left (None: never failed), and past its
retry timeout."""

EXTERNAL_HAS_WORKER = Not(Blank("worker_id"))
"""The `locked` filter of external task queries (who holds it, however long ago)."""

EXTERNAL_ORDER = ("created", "id")
EXTERNAL_PRIORITY_ORDER = ("-priority", "created", "id")

INCIDENT_OPEN = IsNull("resolved")
INCIDENT_ORDER = ("created", "id")
INSTANCE_ORDER = ("started", "id")
INSTANCE_NEWEST = ("-started", "-id")
SUBSCRIPTION_ORDER = ("created", "id")
COMMENT_ORDER = ("time", "id")


# ====================================================================== filters
class Shape(NamedTuple):
    """The rule of a query's filters, one per filter *shape* (which filters are given, and
    for some whether they are None or on): `pred` holds the values as Params named after
    the filters, so the filters themselves are the params, and what a store derives from
    it (a SQL statement, `test`: `pred` compiled to Python) is derived once per shape.
    `key` names the shape, cheap to hash."""

    key: tuple[Any, ...]
    pred: Predicate
    test: Test


# a shape seen before costs one dict lookup: the commands' own lookups (the jobs of an
# instance and token, ...) come this way on every step of the memory store
_SHAPES: dict[tuple[Any, ...], Shape] = {}


def _fast_key(kind: Any, filters: Mapping[str, Any]) -> tuple[Any, ...]:
    """A lookup key telling shapes apart: the filters' names, and which are None."""
    if None in filters.values():
        return (kind, True, *filters, *[v is None for v in filters.values()])
    return (kind, *filters)


def _shape(fast: tuple[Any, ...], key: tuple[Any, ...],
           build: Callable[[], Predicate]) -> Shape:
    pred = build()
    got = _SHAPES[fast] = Shape(key, pred, compiled(pred))
    return got


def equality_filter(record: type, filters: Mapping[str, Any], what: str,
                    not_filterable: tuple[str, ...] = (),
                    also: Predicate | None = None) -> Shape:
    """Filters that compare fields for equality, None meaning "missing" (and `also`, a
    rule of the query). Raises ValueError naming an unknown filter, on every store alike."""
    fast = _fast_key((record, what, also, not_filterable), filters)
    got = _SHAPES.get(fast)
    if got is not None:
        return got
    shape = tuple(sorted((k, v is None) for k, v in filters.items()))
    names = field_names(record)
    for k, _ in shape:
        if k not in names or k in not_filterable:
            raise ValueError(f"unknown {what} filter '{k}'")
    parts = [IsNull(k) if missing else Eq(k, Param(k)) for k, missing in shape]
    return _shape(fast, (what, shape, also),
                  lambda: And(*parts, *([also] if also is not None else [])))


INSTANCE_FILTERS = frozenset({"business_key", "definition_id", "id", "key", "parent_id",
                              "status", "version"})


def instance_filter(filters: Mapping[str, Any]) -> Shape:
    """Instance filters: equality on INSTANCE_FILTERS; a filter given as None is no filter."""
    fast = _fast_key("instances", filters)
    got = _SHAPES.get(fast)
    if got is not None:
        return got
    used = sorted(k for k, v in filters.items() if v is not None)
    for k in used:
        if k not in INSTANCE_FILTERS:
            raise ValueError(f"unknown instance filter '{k}'")
    return _shape(fast, ("instances", tuple(used)),
                  lambda: And(*[Eq(k, Param(k)) for k in used]))


def external_filter(filters: Mapping[str, Any]) -> Shape:
    """External task filters: equality on fields, and `locked` (EXTERNAL_HAS_WORKER or not);
    a filter given as None is no filter."""
    locked = filters.get("locked")
    fast = _fast_key(("external", None if locked is None else bool(locked)), filters)
    got = _SHAPES.get(fast)
    if got is not None:
        return got
    names = field_names(ExternalTaskRecord)
    used = sorted(k for k, v in filters.items() if v is not None and k != "locked")
    for k in filters:
        if k != "locked" and k not in names:
            raise ValueError(f"unknown external task filter '{k}'")

    def build() -> Predicate:
        parts: list[Predicate] = [Eq(k, Param(k)) for k in used]
        if locked is not None:
            parts.append(EXTERNAL_HAS_WORKER if locked else Not(EXTERNAL_HAS_WORKER))
        return And(*parts)

    return _shape(fast, ("external", tuple(used), None if locked is None else bool(locked)),
                  build)


# ====================================================================== user tasks
TASK_FILTERS = frozenset({
    "instance_id", "activity_id", "assignee", "definition_key", "business_key", "id",
    "unassigned", "candidate_user", "candidate_groups", "name_like", "overdue_at",
    "due_before", "priority_min", "claimable_by", "involving"})
TASK_SORT_KEYS = ("created", "due", "priority", "name")
TASK_EQUALITY = ("instance_id", "activity_id", "assignee", "definition_key", "business_key",
                 "id")


def display_name(rec: TaskRecord) -> str:
    """The name a task is shown, sorted and searched by: its name, else its activity id."""
    return rec.name or rec.activity_id


@dataclass(frozen=True, slots=True)
class HasCandidate(Leaf):
    """The name (kind "user") or one of the names (kind "group") in param `names` is among
    the task's candidate users or groups."""

    kind: str
    names: Param

    def test(self, rec: Any, params: Params) -> bool:
        names = value_of(self.names, params)
        if self.kind == "user":
            return names in rec.candidate_users
        return any(n in rec.candidate_groups for n in names)


@dataclass(frozen=True, slots=True)
class Claimable(Leaf):
    """Unassigned, with the user or one of the groups (param `who`: (user, groups)) among
    its candidates."""

    who: Param

    def test(self, rec: Any, params: Params) -> bool:
        user, groups = value_of(self.who, params)
        return rec.assignee is None and (
            user in rec.candidate_users or any(g in rec.candidate_groups for g in groups))


@dataclass(frozen=True, slots=True)
class NameContains(Leaf):
    """The display name holds the text of param `text`, ignoring case."""

    text: Param

    def test(self, rec: Any, params: Params) -> bool:
        return value_of(self.text, params).lower() in display_name(rec).lower()


def _dated_before(k: str) -> Predicate:
    return And(Not(IsNull("due")), Cmp("due", "<", Param(k)))


# filter -> its predicate, from the filter's name (and for `unassigned`, whether it is on);
# the values are the params, as given
_TASK_RULES: dict[str, Callable[[str, Any], Predicate]] = {
    **{k: lambda k, _on: Eq(k, Param(k)) for k in TASK_EQUALITY},
    "unassigned": lambda _k, on: IsNull("assignee") if on else TRUE,
    "candidate_user": lambda k, _on: HasCandidate("user", Param(k)),
    "candidate_groups": lambda k, _on: HasCandidate("group", Param(k)),
    "name_like": lambda k, _on: NameContains(Param(k)),
    "overdue_at": lambda k, _on: _dated_before(k),
    "due_before": lambda k, _on: _dated_before(k),
    "priority_min": lambda k, _on: Cmp("priority", ">=", Param(k)),
    "claimable_by": lambda k, _on: Claimable(Param(k)),
    "involving": lambda k, _on: Or(Eq("assignee", Param(k, 0)), Claimable(Param(k))),
}
assert set(_TASK_RULES) == TASK_FILTERS


def task_filter(filters: Mapping[str, Any]) -> Shape:
    """What task filters mean; one given as None is no filter."""
    on = filters.get("unassigned")
    fast = _fast_key(("tasks", None if on is None else bool(on)), filters)
    got = _SHAPES.get(fast)
    if got is not None:
        return got
    for k in filters:
        if k not in TASK_FILTERS:
            raise ValueError(f"unknown task filter '{k}'")
    key = ("tasks", tuple(sorted((k, bool(v) if k == "unassigned" else None)
                                 for k, v in filters.items() if v is not None)))
    parts = [_TASK_RULES[k](k, flag) for k, flag in key[1]]
    return _shape(fast, key, lambda: And(*[p for p in parts if p != TRUE]))


def check_task_query(filters: Mapping[str, Any], sort: str) -> None:
    """Refuse an unknown filter or sort order, whatever the values."""
    for k in filters:
        if k not in TASK_FILTERS:
            raise ValueError(f"unknown task filter '{k}'")
    parse_sort(sort)


def parse_sort(sort: str) -> tuple[str, bool]:
    """(key, descending) of a task sort such as "-priority"."""
    key = sort.lstrip("-")
    if key not in TASK_SORT_KEYS:
        raise ValueError(f"cannot sort tasks by '{key}'")
    return key, sort.startswith("-")


def sort_tasks(rows: list[TaskRecord], sort: str) -> list[TaskRecord]:
    """Tasks in a tasklist order: ties by id; tasks without a due date last both ways."""
    key, desc = parse_sort(sort)

    def k(r: TaskRecord) -> Any:
        v = display_name(r) if key == "name" else getattr(r, key)
        return (v is None, v, r.id) if not desc else (v is not None, v, r.id)

    return sorted(rows, key=k, reverse=desc)


# ====================================================================== copies
_CLONERS: dict[type, Callable[[Any], Any]] = {}
_FIELD_NAMES: dict[type, frozenset[str]] = {}


def field_names(record: type) -> frozenset[str]:
    got = _FIELD_NAMES.get(record)
    if got is None:
        got = _FIELD_NAMES[record] = frozenset(f.name for f in fields(record))
    return got


def clone(rec: Any) -> Any:
    """A copy of a record that shares no list with it (its candidate users, roles, ...),
    so a caller changing the copy changes nothing stored until it writes it back. Dicts
    (an instance's state and variables, a job's payload) are shared: the runtime copies
    what it keeps from them. Several times faster than copy.copy: one generated function
    per record class that makes the object and copies each field (no __init__ call)."""
    cls = rec.__class__
    fn = _CLONERS.get(cls)
    if fn is None:
        lines = [f"    n.{f.name} = list(r.{f.name})" if str(f.type).startswith("list[")
                 else f"    n.{f.name} = r.{f.name}" for f in fields(cls)]
        source = "def clone(r):\n    n = new(cls)\n" + "\n".join(lines) + "\n    return n\n"
        scope = {"new": object.__new__, "cls": cls}
        exec(source, scope)  # noqa: S102 - field names only
        fn = _CLONERS[cls] = scope["clone"]
    return fn(rec)
