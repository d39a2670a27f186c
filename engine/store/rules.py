"""The rules both stores apply, written once: when a job or external task lease is live
and what a worker may take, which filters a query accepts and what each one means, the
order rows come back in, and how a record is copied.

The in-memory store runs these predicates as Python, the SQL store renders them as SQL
(`engine/store/predicates.py` says how the two are kept equal). The SQL store may render a
rule in a form its indexes serve better (the task filters on candidate rows in
`task_sql.py`), but the set of filters and their meaning come from here, and the
parity tests in tests/store hold both stores to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

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


# ====================================================================== equality filters
def equality_filter(record: type, filters: Mapping[str, Any], what: str,
                    not_filterable: tuple[str, ...] = ()) -> tuple[Predicate, dict[str, Any]]:
    """Filters that compare fields for equality, None meaning "missing": (the predicate of
    their shape, with the values as Params named after the fields; the params). Raises
    ValueError naming an unknown filter, on every store alike."""
    names = field_names(record)
    parts: list[Predicate] = []
    params: dict[str, Any] = {}
    for k in sorted(filters):
        if k not in names or k in not_filterable:
            raise ValueError(f"unknown {what} filter '{k}'")
        v = filters[k]
        if v is None:
            parts.append(IsNull(k))
        else:
            parts.append(Eq(k, Param(k)))
            params[k] = v
    return And(*parts), params


INSTANCE_FILTERS = ("business_key", "definition_id", "id", "key", "parent_id", "status",
                    "version")


def instance_filter(filters: Mapping[str, Any]) -> tuple[Predicate, dict[str, Any]]:
    """Instance filters: equality on INSTANCE_FILTERS; a filter given as None is no filter."""
    used = {k: v for k, v in filters.items() if v is not None}
    for k in used:
        if k not in INSTANCE_FILTERS:
            raise ValueError(f"unknown instance filter '{k}'")
    return equality_filter_of(used)


def equality_filter_of(used: Mapping[str, Any]) -> tuple[Predicate, dict[str, Any]]:
    """Equality on fields already checked, values as Params named after them."""
    return And(*[Eq(k, Param(k)) for k in sorted(used)]), dict(used)


def external_filter(filters: Mapping[str, Any]) -> tuple[Predicate, dict[str, Any]]:
    """External task filters: equality on fields, and `locked` (EXTERNAL_HAS_WORKER or not);
    a filter given as None is no filter."""
    used = {k: v for k, v in filters.items() if v is not None}
    names = field_names(ExternalTaskRecord)
    parts: list[Predicate] = []
    for k in sorted(used):
        if k == "locked":
            parts.append(EXTERNAL_HAS_WORKER if used[k] else Not(EXTERNAL_HAS_WORKER))
        elif k in names:
            parts.append(Eq(k, Param(k)))
        else:
            raise ValueError(f"unknown external task filter '{k}'")
    return And(*parts), {k: v for k, v in used.items() if k != "locked"}


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


class HasCandidate(Leaf):
    """One of `names` is among the task's candidate users (kind "user") or groups."""

    __slots__ = ("kind", "names")

    def __init__(self, kind: str, names: tuple[str, ...]) -> None:
        self.kind = kind
        self.names = names

    def test(self, rec: Any, params: Params) -> bool:
        have = rec.candidate_users if self.kind == "user" else rec.candidate_groups
        return any(n in have for n in self.names)


class Claimable(Leaf):
    """Unassigned, with the user or one of the groups among its candidates."""

    __slots__ = ("user", "groups")

    def __init__(self, user: str, groups: tuple[str, ...]) -> None:
        self.user = user
        self.groups = groups

    def test(self, rec: Any, params: Params) -> bool:
        return rec.assignee is None and (
            self.user in rec.candidate_users or any(g in rec.candidate_groups
                                                    for g in self.groups))


class NameContains(Leaf):
    """The display name holds `text`, ignoring case."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def test(self, rec: Any, params: Params) -> bool:
        return self.text.lower() in display_name(rec).lower()


def _dated_before(v: Any) -> Predicate:
    return And(Not(IsNull("due")), Cmp("due", "<", v))


_TASK_RULES: dict[str, Callable[[Any], Predicate]] = {
    **{k: (lambda k: lambda v: Eq(k, v))(k) for k in TASK_EQUALITY},
    "unassigned": lambda v: IsNull("assignee") if v else TRUE,
    "candidate_user": lambda v: HasCandidate("user", (v,)),
    "candidate_groups": lambda v: HasCandidate("group", tuple(v)),
    "name_like": NameContains,
    "overdue_at": _dated_before,
    "due_before": _dated_before,
    "priority_min": lambda v: Cmp("priority", ">=", v),
    "claimable_by": lambda v: Claimable(v[0], tuple(v[1])),
    "involving": lambda v: Or(Eq("assignee", v[0]), Claimable(v[0], tuple(v[1]))),
}
assert set(_TASK_RULES) == TASK_FILTERS


def task_filter(key: str, value: Any) -> Predicate:
    """What one task filter means (the values are in the predicate: task queries are not
    cached by shape)."""
    rule = _TASK_RULES.get(key)
    if rule is None:
        raise ValueError(f"unknown task filter '{key}'")
    return rule(value)


def task_predicate(filters: Mapping[str, Any]) -> Predicate:
    """All the filters at once; one given as None is no filter."""
    return And(*[task_filter(k, v) for k, v in filters.items() if v is not None])


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


def field_names(record: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(record))


def clone(rec: Any) -> Any:
    """A copy of a record that shares no list with it (its candidate users, roles, ...),
    so a caller changing the copy changes nothing stored until it writes it back. Dicts
    (an instance's state and variables, a job's payload) are shared: the runtime copies
    what it keeps from them. Several times faster than copy.copy: one generated
    constructor call per record class."""
    cls = rec.__class__
    fn = _CLONERS.get(cls)
    if fn is None:
        args = ", ".join(f"list(r.{f.name})" if str(f.type).startswith("list[")
                         else f"r.{f.name}" for f in fields(cls))
        fn = eval(f"lambda r: cls({args})", {"cls": cls})  # noqa: S307 - field names only
        _CLONERS[cls] = fn
    return fn(rec)
