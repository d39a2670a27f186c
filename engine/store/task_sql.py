"""SQL for task queries: the filters of `rules.task_filter`, and tasklist pages that stay
fast with 100,000 open tasks.

The plain `SELECT ... WHERE <filters> ORDER BY <sort> LIMIT 25` is slow here for two
reasons, and a page is therefore built from *walks* ("arms") of indexes in the page's order:

1. "My groups" (`claimable_by`) and "involved" mean "unassigned, and a candidate row names
   me or one of my groups". The database cannot walk that in sort order: it checks every
   unassigned task (SQLite) or sorts all matches (PostgreSQL). Instead there is one arm per
   candidate name, walking `task_candidates` (kind, name, unassigned, <sort column>,
   task_id) — the candidate rows carry copies of their task's sort columns — plus, for
   "involved", one arm over the user's assigned tasks. Each arm stops after offset+limit
   rows; their union, without duplicates (a task may be in two of my groups), is sorted,
   cut to the page and joined to `tasks`. That is exact: a task among the first N of the
   whole result is among the first N of every arm holding it, since whatever precedes it
   in an arm are distinct tasks that also precede it in the result.
2. Tasks without a due date come last in both directions (as in `rules.sort_tasks`),
   an order no single index gives on both SQLite (NULLs first) and PostgreSQL (NULLs last).
   A page by due date walks the dated and the undated tasks as two arms, each in index
   order.

Due-date and priority filters are checked on the candidate rows' copies, so with only those
an arm never touches `tasks`; other filters (process, name, business key, ...) join the task
row of each candidate the arm walks. Counting can stop at a limit (`count_query`): counting
60,000 matches to print "60,000 tasks" would cost more than the page.

Not indexed: the order by name (a task's name, else its activity id) and the name filter
(a case-insensitive substring): they cost a scan of the view's tasks, about 30-50 ms per
100,000 on SQLite. A name that matches nothing in "All open" costs a walk of every task.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from engine.store import schema as s
from engine.store.dialects import py_lower
from engine.store.predicates import Params, value_of
from engine.store.rules import Claimable, HasCandidate, NameContains, parse_sort, task_filter
from engine.store.sql_predicates import LeafSql, where

_T, _C = s.tasks, s.task_candidates
# filters a candidate row answers from its copies of the task's columns
_ON_COPIES = ("overdue_at", "due_before", "priority_min")
_DATED = ("overdue_at", "due_before")       # only tasks with a due date can match these


def display_name() -> Any:
    """`rules.display_name` in SQL: the task's name, else its activity id."""
    return sa.case((sa.or_(_T.c.name.is_(None), _T.c.name == ""), _T.c.activity_id),
                   else_=_T.c.name)


def _sort_column(key: str, pg: bool, table: sa.Table = _T) -> Any:
    if key == "name":
        col = display_name()
        return col.collate("C") if pg else col        # code point order, like Python's sort
    return table.c[key]


def _candidate(kind: str, names: Any) -> Any:
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        return sa.false()
    c = _C.c
    cond = c.name == names[0] if len(names) == 1 else c.name.in_(list(names))
    return sa.select(sa.literal(1)).where(c.task_id == _T.c.id, c.kind == kind, cond).exists()


def _claimable(user: str, groups: Any) -> Any:
    """Unassigned, with a candidate row naming the user or one of the groups (an IN over
    the candidate rows of those names: the database reads them once, instead of probing
    the candidates of every unassigned task)."""
    c = _C.c
    named = [sa.and_(c.kind == "user", c.name == user)]
    if groups:
        named.append(sa.and_(c.kind == "group", c.name.in_(list(groups))))
    ids = sa.select(c.task_id).where(c.unassigned == sa.true(), sa.or_(*named))
    return sa.and_(_T.c.assignee.is_(None), _T.c.id.in_(ids))


def _name_contains(pg: bool) -> LeafSql:
    def write(leaf: NameContains, _table: Any, values: Params) -> Any:
        name = display_name()
        text = value_of(leaf.text, values).lower()
        if pg:
            return sa.func.strpos(sa.func.lower(name), text) > 0
        return sa.func.instr(py_lower(name), text) > 0        # SQLite, MariaDB

    return write


def _leaves(pg: bool) -> dict[type, LeafSql]:
    """How the SQL store writes the task rules that have no general form."""
    return {
        HasCandidate: lambda leaf, _t, values: _candidate(leaf.kind,
                                                          value_of(leaf.names, values)),
        Claimable: lambda leaf, _t, values: _claimable(*value_of(leaf.who, values)),
        NameContains: _name_contains(pg),
    }


_LEAVES = {False: _leaves(False), True: _leaves(True)}


def task_where(f: dict[str, Any], pg: bool) -> list[Any]:
    """The SQL of `rules.task_filter`, filter by filter, the values written in (task
    queries are built per query: their pages depend on the filters' values)."""
    out: list[Any] = []
    for k, v in f.items():
        if v is not None:
            one = task_filter({k: v})
            out.extend(where(one.pred, _T, _LEAVES[pg], values={k: v}))
    return out


def task_order(sort: str, pg: bool) -> list[Any]:
    """`rules.sort_tasks` in SQL: ties by id; tasks without a due date last both ways.
    Only the nullable due date gets the `IS NULL` term, so created and priority orders
    match their indexes."""
    key, desc = parse_sort(sort)
    col = _sort_column(key, pg)
    return _order(col, _T.c.id, key == "due", desc)


def _order(col: Any, id_col: Any, nulls_last: bool, desc: bool) -> list[Any]:
    out = [col.is_(None)] if nulls_last else []
    return out + ([col.desc(), id_col.desc()] if desc else [col.asc(), id_col.asc()])


# ====================================================================== pages and counts
class _Source(NamedTuple):
    """Rows of one arm: FROM, WHERE, the task id, the sort column (None: counting), and
    whether the same task may come more than once (candidate rows)."""

    froms: Any
    where: list[Any]
    id: Any
    key: Any
    dupes: bool


def _not_walked(col: Any, walked: str | None, pg: bool) -> Any:
    """`col` as a range filter of a query that walks the index of the sort column
    `walked`. SQLite, which keeps no statistics here, would rather walk an index with a
    range on `col` and sort all it finds; `+col` (no index) makes it walk the page's order
    and stop after the page. PostgreSQL weighs both with its statistics."""
    if pg or walked is None or col.name == walked:
        return col
    return UnaryExpression(col, operator=operators.custom_op("+"), type_=col.type)


def _range_filters(f: dict[str, Any], table: Any, walked: str | None, pg: bool) -> list[Any]:
    """The due-date and priority filters on `table` (tasks, or the candidates' copies)."""
    out = []
    for k in _ON_COPIES:
        v = f.get(k)
        if v is None:
            continue
        if k == "priority_min":
            out.append(_not_walked(table.c.priority, walked, pg) >= v)
        else:       # NULL < v is not true: no IS NOT NULL needed
            out.append(_not_walked(table.c.due, walked, pg) < v)
    return out


def _sources(f: dict[str, Any], key: str | None, pg: bool) -> list[_Source]:
    """The arms of a task query (see the module docstring)."""
    f = {k: v for k, v in f.items() if v is not None}
    walked = key if key in ("created", "due", "priority") else None
    ranges = {k: f.pop(k) for k in _ON_COPIES if k in f}
    driver = next((d for d in ("involving", "claimable_by") if d in f), None)
    sort_col = None if key is None else _sort_column(key, pg)
    if driver is None:
        return [_Source(_T, [*task_where(f, pg), *_range_filters(ranges, _T, walked, pg)],
                        _T.c.id, sort_col, False)]
    user, groups = f.pop(driver)
    groups = list(dict.fromkeys(groups))
    on_task = task_where(f, pg)
    c = _C.c
    froms = _C.join(_T, _T.c.id == c.task_id) if on_task or key == "name" else _C
    named = [sa.and_(c.kind == "user", c.name == user),
             *[sa.and_(c.kind == "group", c.name == g) for g in groups]]
    on_copies = [c.unassigned == sa.true(), *_range_filters(ranges, _C, walked, pg), *on_task]
    out = [_Source(froms, [cond, *on_copies], c.task_id,
                   None if key is None else sort_col if key == "name" else c[key], True)
           for cond in named]
    if driver == "involving":      # assigned: never also an unassigned candidate row
        out.append(_Source(_T, [_T.c.assignee == user, *on_task,
                                *_range_filters(ranges, _T, walked, pg)],
                           _T.c.id, sort_col, False))
    return out


def page_query(columns: list[Any], f: dict[str, Any], sort: str, limit: int, offset: int,
               pg: bool) -> Any:
    """SELECT `columns` (of `tasks`) of one page of the tasks matching `f`, in `sort`
    order: exactly `find_tasks(..., sort, limit, offset)` (see the module docstring)."""
    key, desc = parse_sort(sort)
    sources = _sources(f, key, pg)
    dated_only = any(f.get(k) is not None for k in _DATED)
    nulls_last = key == "due" and not dated_only
    if len(sources) == 1 and not sources[0].dupes and not nulls_last:
        # one walk in index order: the plain query is the page
        src = sources[0]
        return (sa.select(*columns).where(*src.where)
                .order_by(*_order(src.key, _T.c.id, False, desc))
                .limit(limit).offset(offset))
    n = limit + offset

    def walk(src: _Source, cond: list[Any], cols: list[Any]) -> Any:
        q = (sa.select(src.id.label("id"), src.key.label("k")).select_from(src.froms)
             .where(*src.where, *cond)
             .order_by(*[col.desc() if desc else col.asc() for col in cols]).limit(n))
        return q.subquery().select()      # SQLite: no ORDER BY/LIMIT in a bare UNION arm

    arms = []
    for src in sources:
        if not nulls_last:
            arms.append(walk(src, [], [src.key, src.id]))
        else:
            arms.append(walk(src, [src.key.is_not(None)], [src.key, src.id]))
            arms.append(walk(src, [src.key.is_(None)], [src.id]))
    u = (arms[0] if len(arms) == 1 else sa.union_all(*arms)).subquery("arms")
    k = u.c.k.collate("C") if key == "name" and pg else u.c.k
    page = (sa.select(u.c.id, u.c.k).group_by(u.c.id, u.c.k)
            .order_by(*_order(k, u.c.id, nulls_last, desc))
            .limit(limit).offset(offset).subquery("page"))
    k = page.c.k.collate("C") if key == "name" and pg else page.c.k
    return (sa.select(*columns).select_from(page.join(_T, _T.c.id == page.c.id))
            .order_by(*_order(k, page.c.id, nulls_last, desc)))


def count_query(f: dict[str, Any], limit: int | None, pg: bool) -> Any:
    """SELECT the number of tasks matching `f`; with `limit`, any number from `limit` on
    means "at least `limit`": each arm stops there. Candidate arms may share tasks (their
    union counts each once: if an arm stopped, it alone holds `limit` distinct tasks);
    assigned tasks have no unassigned candidate rows, so that arm is simply added."""
    counts = []
    shared = []
    for src in _sources(f, None, pg):
        ids = sa.select(src.id.label("id")).select_from(src.froms).where(*src.where)
        if src.dupes:
            shared.append(ids if limit is None else ids.limit(limit).subquery().select())
        elif limit is None:
            counts.append(sa.select(sa.func.count()).select_from(src.froms).where(*src.where))
        else:
            counts.append(sa.select(sa.func.count()).select_from(ids.limit(limit).subquery()))
    if shared:
        union = sa.union(*shared) if len(shared) > 1 else shared[0]
        counts.append(sa.select(sa.func.count()).select_from(union.subquery("shared")))
    if len(counts) == 1:
        return counts[0]
    return sa.select(sum((q.scalar_subquery() for q in counts[1:]),
                         counts[0].scalar_subquery()))
