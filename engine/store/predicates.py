"""A small language for the conditions a store checks on its records, so each rule is
written once (`engine/store/rules.py`) and both stores apply that same rule: the memory
store runs it as Python (`compile_predicate`), the SQL store renders it as SQL
(`engine/store/sql_predicates.py`).

The one place the two could disagree is a missing value: SQL compares NULL to anything
as unknown, and `NOT unknown` is unknown again (no row), where Python's `not False` is
True. So here a comparison with a missing value is false, `Eq(field, None)` means "is
missing", and the SQL renderer guards the comparisons under a `Not` with `IS NOT NULL`:
the two answers are then the same by construction, not by care at each rule.

Nodes are frozen and hashable when their constants are, so a predicate built from a
filter's shape (values as `Param`s) is also the cache key of its compiled form.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Params = Mapping[str, Any]
Test = Callable[[Any, Params], bool]


@dataclass(frozen=True, slots=True)
class Param:
    """A value supplied when the rule is applied (the time now, the topics asked for);
    with `index`, that item of it (the user of a (user, groups) filter)."""

    name: str
    index: int | None = None


class Predicate:
    """A condition on one record."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Cmp(Predicate):
    """`field <op> value` for an order comparison (<, <=, >, >=); false when missing."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Eq(Predicate):
    """`field == value`; a value of None means the field is missing."""

    field: str
    value: Any


@dataclass(frozen=True, slots=True)
class IsNull(Predicate):
    field: str


@dataclass(frozen=True, slots=True)
class Blank(Predicate):
    """Missing or the empty string (a lease owner of "" holds nothing)."""

    field: str


@dataclass(frozen=True, slots=True)
class In(Predicate):
    """The field's value is one of `values` (a Param naming a collection, or a tuple)."""

    field: str
    values: Any


@dataclass(frozen=True, slots=True, init=False)
class And(Predicate):
    parts: tuple[Predicate, ...]

    def __init__(self, *parts: Predicate) -> None:
        object.__setattr__(self, "parts", parts)


@dataclass(frozen=True, slots=True, init=False)
class Or(Predicate):
    parts: tuple[Predicate, ...]

    def __init__(self, *parts: Predicate) -> None:
        object.__setattr__(self, "parts", parts)


@dataclass(frozen=True, slots=True)
class Not(Predicate):
    part: Predicate


class Leaf(Predicate):
    """A condition with no general form (a task's candidate rows, its display name): it
    tests itself in Python, and the SQL renderer is given how to write it."""

    __slots__ = ()

    def test(self, rec: Any, params: Params) -> bool:
        raise NotImplementedError


TRUE = And()
FALSE = Or()

ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def value_of(value: Any, params: Params) -> Any:
    """A node's operand: a Param's value from `params`, else the constant itself."""
    if not isinstance(value, Param):
        return value
    got = params[value.name]
    return got if value.index is None else got[value.index]


def _operand(value: Any) -> Callable[[Params], Any] | None:
    """How to get a Param operand from the params; None for the common plain Param (the
    callers inline `p[name]`, this being the hot path of the memory store)."""
    if isinstance(value, Param) and value.index is not None:
        name, index = value.name, value.index
        return lambda p: p[name][index]
    return None


def compile_predicate(pred: Predicate) -> Test:
    """`pred` as a Python function of (record, params)."""
    if isinstance(pred, Cmp):
        op, field, value = ORDER_OPS[pred.op], pred.field, pred.value
        if (get := _operand(value)) is not None:
            return lambda r, p: (v := getattr(r, field)) is not None and op(v, get(p))
        if isinstance(value, Param):
            name = value.name
            return lambda r, p: (v := getattr(r, field)) is not None and op(v, p[name])
        return lambda r, p: (v := getattr(r, field)) is not None and op(v, value)
    if isinstance(pred, Eq):
        field, value = pred.field, pred.value
        if (get := _operand(value)) is not None:
            return lambda r, p: getattr(r, field) == get(p)
        if isinstance(value, Param):
            name = value.name
            return lambda r, p: getattr(r, field) == p[name]
        return lambda r, p: getattr(r, field) == value
    if isinstance(pred, IsNull):
        field = pred.field
        return lambda r, p: getattr(r, field) is None
    if isinstance(pred, Blank):
        field = pred.field
        return lambda r, p: not getattr(r, field)
    if isinstance(pred, In):
        field, values = pred.field, pred.values
        if (get := _operand(values)) is not None:
            return lambda r, p: (v := getattr(r, field)) is not None and v in get(p)
        if isinstance(values, Param):
            name = values.name
            return lambda r, p: (v := getattr(r, field)) is not None and v in p[name]
        return lambda r, p: (v := getattr(r, field)) is not None and v in values
    if isinstance(pred, And):
        return _all([compile_predicate(x) for x in pred.parts])
    if isinstance(pred, Or):
        return _any([compile_predicate(x) for x in pred.parts])
    if isinstance(pred, Not):
        inner = compile_predicate(pred.part)
        return lambda r, p: not inner(r, p)
    if isinstance(pred, Leaf):
        return pred.test
    raise TypeError(f"not a predicate: {pred!r}")


def _all(tests: list[Test]) -> Test:
    """The tests ANDed, nested pairwise: no generator per record on the hot path."""
    if not tests:
        return lambda r, p: True
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda r, p: a(r, p) and b(r, p)
    a, rest = tests[0], _all(tests[1:])
    return lambda r, p: a(r, p) and rest(r, p)


def _any(tests: list[Test]) -> Test:
    if not tests:
        return lambda r, p: False
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda r, p: a(r, p) or b(r, p)
    a, rest = tests[0], _any(tests[1:])
    return lambda r, p: a(r, p) or rest(r, p)


_COMPILED: dict[int, tuple[Predicate, Test]] = {}


def compiled(pred: Predicate) -> Test:
    """`compile_predicate`, remembered per predicate object: for rules and filter shapes,
    which are built once (rules.Filter) and hold their values as Params. Looked up by
    identity, which costs nothing, where hashing a nested predicate would cost more than
    the test; bounded, in case fresh predicates come this way."""
    got = _COMPILED.get(id(pred))
    if got is not None and got[0] is pred:
        return got[1]
    if len(_COMPILED) >= 4096:
        _COMPILED.clear()
    test = compile_predicate(pred)
    _COMPILED[id(pred)] = (pred, test)
    return test


def sort_records(rows: list[Any], order: tuple[str, ...]) -> list[Any]:
    """Sort in place by fields, "-" in front for descending (fields never missing)."""
    directions = {key.startswith("-") for key in order}
    if len(directions) == 1:        # one pass: every key the same way
        rows.sort(key=operator.attrgetter(*[k.lstrip("-") for k in order]),
                  reverse=directions.pop())
        return rows
    for key in reversed(order):     # stable passes, the last key first
        rows.sort(key=operator.attrgetter(key.lstrip("-")), reverse=key.startswith("-"))
    return rows


__all__ = ["And", "Blank", "Cmp", "Eq", "FALSE", "In", "IsNull", "Leaf", "Not", "Or",
           "Param", "Params", "Predicate", "TRUE", "Test", "compile_predicate", "compiled",
           "sort_records", "value_of"]
