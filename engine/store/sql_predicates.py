"""Predicates (`engine/store/predicates.py`) as SQLAlchemy conditions, for the SQL store.

A comparison under a `Not` gets an `IS NOT NULL` guard when its column is nullable: SQL's
`NOT (NULL > x)` is unknown (no row) where the memory store's Python says True. Outside a
`Not`, unknown and false select the same rows, so the condition is written plainly and
the statements stay what the indexes were chosen for.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from engine.store.predicates import (
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
    value_of,
)

LeafSql = Callable[[Any, Any, Params], Any]     # (the leaf, the table, values) -> condition

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class SqlPredicates:
    """Renders predicates on one table. Each Param becomes one bind parameter of its name
    (typed like the column it is compared with, so dates convert as that column's do), or,
    given `values`, its value (for statements built per query rather than per shape);
    `leaves` says how to write the Leaf kinds this table has."""

    def __init__(self, table: Any, leaves: Mapping[type, LeafSql] | None = None,
                 binds: dict[str, Any] | None = None, values: Params | None = None) -> None:
        self.table = table
        self.leaves = leaves or {}
        self.values = values
        # shared by the renderers of one statement (a subquery on an alias of the table
        # binds the same `now`)
        self.binds: dict[str, Any] = {} if binds is None else binds

    def where(self, pred: Predicate) -> list[Any]:
        """The conditions to AND in a WHERE clause (none for an empty And)."""
        if isinstance(pred, And):
            return [self.render(p) for p in pred.parts]
        return [self.render(pred)]

    def render(self, pred: Predicate, negated: bool = False) -> Any:
        c = self.table.c
        if isinstance(pred, Cmp):
            col = c[pred.field]
            return self._guard(col, _OPS[pred.op](col, self._value(pred.value, col)), negated)
        if isinstance(pred, Eq):
            col = c[pred.field]
            if pred.value is None:
                return col.is_(None)
            return self._guard(col, col == self._value(pred.value, col), negated)
        if isinstance(pred, IsNull):
            return c[pred.field].is_(None)
        if isinstance(pred, Blank):
            col = c[pred.field]
            return sa.or_(col.is_(None), col == "")
        if isinstance(pred, In):
            col = c[pred.field]
            values = pred.values
            if isinstance(values, Param) and self.values is not None:
                values = value_of(values, self.values)
            cond = (col.in_(self._bind(values.name, col, expanding=True))
                    if isinstance(values, Param) else col.in_(list(values)))
            return self._guard(col, cond, negated)
        if isinstance(pred, And):
            if not pred.parts:
                return sa.true()
            return sa.and_(*[self.render(p, negated) for p in pred.parts])
        if isinstance(pred, Or):
            if not pred.parts:
                return sa.false()
            return sa.or_(*[self.render(p, negated) for p in pred.parts])
        if isinstance(pred, Not):
            return sa.not_(self.render(pred.part, not negated))
        if isinstance(pred, Leaf):
            write = self.leaves.get(type(pred))
            if write is None:
                raise TypeError(f"no SQL for {type(pred).__name__} on {self.table.name}")
            return write(pred, self.table, self.values or {})
        raise TypeError(f"not a predicate: {pred!r}")

    def _value(self, value: Any, col: Any) -> Any:
        if not isinstance(value, Param):
            return value
        if self.values is not None:
            return value_of(value, self.values)
        if value.index is not None:
            raise TypeError(f"{value} needs values: a bind parameter has no items")
        return self._bind(value.name, col)

    def _bind(self, name: str, col: Any, expanding: bool = False) -> Any:
        bind = self.binds.get(name)
        if bind is None:
            bind = self.binds[name] = sa.bindparam(name, type_=col.type, expanding=expanding)
        return bind

    @staticmethod
    def _guard(col: Any, cond: Any, negated: bool) -> Any:
        if negated and col.nullable:
            return sa.and_(col.is_not(None), cond)
        return cond


def where(pred: Predicate, table: Any, leaves: Mapping[type, LeafSql] | None = None,
          binds: dict[str, Any] | None = None, values: Params | None = None) -> list[Any]:
    """`pred` as the conditions of a WHERE clause on `table`."""
    return SqlPredicates(table, leaves, binds, values).where(pred)


def order_by(table: Any, order: tuple[str, ...]) -> list[Any]:
    """A rules order ("-priority", "created", "id") as ORDER BY terms."""
    return [table.c[k[1:]].desc() if k.startswith("-") else table.c[k] for k in order]


__all__ = ["LeafSql", "SqlPredicates", "order_by", "where"]
