"""Charging the budget for work done *inside* one operation.

Why: the loop budget counts iterations, but one iteration can hide millions of C-level steps
- `-1 in items` scans a list, `max(items)` walks it, `a == b` recurses through nested lists
(and a script can nest shared lists cheaply: `[[[[0]*1000]*1000]*1000]*1000` is four small
allocations, yet comparing two of them visits 10**12 items), `sorted(v, key=str)` calls a
function per item, `x * x` on 10,000-bit integers takes 75 us. Without a charge, a loop of a
million such steps runs for hours on a worker.

So the rewriter (`rewrite.py`) routes comparisons, calls, slices, unpacking, deletions and
hashed keys through the helpers here. Each estimates the *units* of work (about one item
visited; a per-item callback costs PER_CALL units) before running the operation, refuses
anything over MAX_WORK units outright, and spends one budget step per 2**WORK_SHIFT units
from the run's fuel when the code is metered. Nested values are measured by a walk that
visits each distinct container once (memoised by identity) but counts shared references as
often as they occur, because that is how often `==`, hashing and JSON encoding visit them.

`check_output` applies the same measure to values leaving the sandbox (variables a script
sets, an expression's value): the store encodes them as JSON and the web pages show them, so
a value whose text would be huge is refused here, naming the variable, instead of hanging
the worker that tries to store it.
"""

from __future__ import annotations

import ast
import math
import operator
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from engine.expr.errors import GuardError
from engine.expr.fuel import (
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_WORK,
    int_product_units,
    int_units,
    spend,
)

SANDBOX_CODE = "<baton "          # how the code compiled from diagram texts is named
PER_CALL = 32                     # units per item when a function is called per item
NEW_ITEM = 4                      # units per item of a list, tuple, set or dict a call returns
MAX_OUTPUT_UNITS = 10_000_000     # estimated characters of a value leaving the sandbox

_NESTED = frozenset({list, tuple, dict, set, frozenset})
_SIZED = frozenset({list, tuple, dict, set, frozenset, str, bytes, range,
                    type({}.keys()), type({}.values()), type({}.items())})
_HASHED = frozenset({dict, set, frozenset})
_TEXT = frozenset({str, bytes})

# Methods whose cost does not grow with the size of the object they are called on.
_CHEAP_METHODS = frozenset({
    "get", "setdefault", "keys", "values", "items", "append", "add", "discard", "popitem",
    "startswith", "endswith", "isoformat", "strftime", "date", "time", "replace_tzinfo",
    "bit_length", "conjugate", "is_integer",
})
# On a list these shift the items behind the position; on a dict or set they are cheap.
_LIST_SHIFTING = frozenset({"pop", "remove", "insert"})
# Functions and methods that compare or hash the items of their arguments (deep cost).
_COMPARING = frozenset({
    "min", "max", "sorted", "safe_sorted", "sort", "index", "count", "remove", "set",
    "frozenset", "dict", "fromkeys", "union", "intersection", "difference",
    "symmetric_difference", "issubset", "issuperset", "isdisjoint", "update",
    "intersection_update", "difference_update", "symmetric_difference_update",
    "_distinct", "_list_contains",
})
_SORTING = frozenset({"sorted", "safe_sorted", "sort"})


def _measure(value: Any, flat_cost: Callable[[Any, set[type]], int], limit: int) -> int:
    """Size of a nested value: each distinct container is measured once (memoised by
    identity), and a container shared by several parents counts in each of them.

    `flat_cost(items, kinds)` prices the non-container items of one container; it gets the
    set of their types so that it can use C-speed shortcuts (`sum(map(len, items))`) when
    they are all of one kind. Stops counting just past `limit`."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack = [value]
    while stack:
        obj = stack[-1]
        key = id(obj)
        if key in sizes:
            stack.pop()
            continue
        items = [*obj.keys(), *obj.values()] if type(obj) is dict else obj
        kinds = set(map(type, items))
        total = 2
        if _NESTED.isdisjoint(kinds):
            total += flat_cost(items, kinds)
        else:
            if key not in in_progress:
                in_progress.add(key)
                children = [c for c in items if type(c) in _NESTED
                            and id(c) not in sizes and id(c) not in in_progress]
                if children:
                    stack.extend(children)
                    continue
            leaves = [c for c in items if type(c) not in _NESTED]
            total += flat_cost(leaves, set(map(type, leaves)))
            # a child still in progress is a cycle: Python's own recursion limit stops it
            total += sum(sizes.get(id(c), 0) for c in items if type(c) in _NESTED)
        if total > limit:
            return limit + 1
        sizes[key] = total
        stack.pop()
    return sizes[id(value)]


def _count(items: Any, kinds: set[type]) -> int:
    return len(items)


def deep_units(value: Any, limit: int = MAX_WORK) -> int:
    """Items an element-wise comparison or a hash of `value` may visit (shared references
    counted each time they occur); stops counting just past `limit`."""
    if type(value) not in _NESTED:
        return 1
    return _measure(value, _count, limit)


def shallow_units(value: Any) -> int:
    """Work proportional to a value's length (or an integer's size)."""
    kind = type(value)
    if kind in _SIZED:
        return len(value)
    if kind is int:
        return int_units(value)
    return 0


def _hash_units(value: Any) -> int:
    """Hashing a tuple hashes every item inside it, recursively (tuple hashes are not cached)."""
    return deep_units(value) if type(value) is tuple else 0


# --------------------------------------------------------------------------- comparisons
SMALL = 32    # a container this short costs less than one budget step to scan


def contains_units(needle: Any, container: Any) -> int:
    kind = type(container)
    if kind in _HASHED:
        return _hash_units(needle)
    if kind in _TEXT:
        return len(container) >> 3           # substring search: a few ns per character
    if kind is range or kind not in _SIZED:
        return 0                             # O(1), or an iterator already charged per item
    size = len(container)
    needle_units = deep_units(needle)
    if needle_units <= 1:
        return size
    return size + min(size * needle_units, deep_units(container))


def guarded_in(a: Any, b: Any) -> bool:
    """`a in b` with `b` computed: scanning a list, or hashing a tuple, is charged."""
    kind = type(b)
    if kind in _HASHED:
        if type(a) is tuple:
            spend(deep_units(a))
    elif kind in _SIZED and (len(b) > SMALL or type(a) in _NESTED):
        spend(contains_units(a, b))
    return a in b


def guarded_not_in(a: Any, b: Any) -> bool:
    return not guarded_in(a, b)


def compare_units(a: Any, b: Any) -> int:
    if type(a) in _NESTED and type(b) in _NESTED:
        return min(deep_units(a), deep_units(b))
    if type(a) in _TEXT and type(b) in _TEXT:
        return min(len(a), len(b)) >> 6
    return 0


def _comparison(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def guarded(a: Any, b: Any) -> Any:
        # element-wise comparison of two lists, tuples, dicts or texts is charged
        if type(a) in _HEAVY and type(b) in _HEAVY:
            spend(compare_units(a, b))
        return op(a, b)
    guarded.__name__ = f"guarded_{op.__name__}"
    return guarded


_HEAVY = _NESTED | _TEXT
COMPARISON_HELPERS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("__baton_eq", _comparison(operator.eq)),
    ast.NotEq: ("__baton_ne", _comparison(operator.ne)),
    ast.Lt: ("__baton_lt", _comparison(operator.lt)),
    ast.LtE: ("__baton_le", _comparison(operator.le)),
    ast.Gt: ("__baton_gt", _comparison(operator.gt)),
    ast.GtE: ("__baton_ge", _comparison(operator.ge)),
    ast.In: ("__baton_in", guarded_in),
    ast.NotIn: ("__baton_not_in", guarded_not_in),
}


def guarded_deep(value: Any) -> Any:
    """An operand of a chained comparison (`a < b < c`): charged by its nested size."""
    spend(deep_units(value))
    return value


def guarded_key(key: Any) -> Any:
    """A dict key or set item that is computed: a tuple is hashed item by item."""
    if type(key) is tuple:
        spend(deep_units(key))
    return key


def guarded_sized(value: Any) -> Any:
    """A value unpacked with `*`/`**`, or a slice just taken: charged by its length."""
    if type(value) in _SIZED:
        spend(len(value))
    return value


def guarded_delitem(container: Any, key: Any) -> None:
    """`del container[key]`: deleting from a list shifts every item behind it."""
    if type(container) is list:
        spend(len(container))
    elif type(key) is tuple:
        spend(deep_units(key))
    del container[key]


def guarded_setslice(container: Any, key: slice, value: Any) -> None:
    """`container[a:b] = value`: moves the items behind the slice."""
    spend(shallow_units(container) + shallow_units(value))
    container[key] = value


# --------------------------------------------------------------------------- calls
def call_units(fn: Any, args: tuple, kwargs: dict, receiver: Any = None) -> int:
    """The work a call of `fn` (a builtin, a method, a FEEL helper) may do, from the sizes of
    its receiver (the object a builtin method is bound to, or `receiver`) and arguments."""
    if type(fn) is types.FunctionType and fn.__code__.co_filename.startswith(SANDBOX_CODE):
        return 0   # a function the script defined: it charges its own call and work
    if receiver is None and type(fn) is _BUILTIN_METHOD:
        receiver = fn.__self__
    name = ""
    units = items = 0
    if type(receiver) in _SIZED:
        name = fn.__name__
        if name not in _CHEAP_METHODS and (name not in _LIST_SHIFTING
                                          or type(receiver) is list):
            units = deep_units(receiver) if name in _COMPARING else len(receiver)
            items = len(receiver)
    if not args and not kwargs:
        return units
    if not name:
        name = getattr(fn, "__name__", "")
    deep = name in _COMPARING
    callback = False
    if len(args) > 16:                   # f(*items): measure the items as one tuple
        units += deep_units(args) if deep else len(args)
        items += len(args)
        args = ()
    for arg in (*args, *kwargs.values()) if kwargs else args:
        kind = type(arg)
        if kind in _SIZED:
            units += deep_units(arg) if deep or kind is tuple else len(arg)
            items += len(arg)
        elif kind is int:
            units += int_units(arg)
        elif callable(arg):
            callback = True
    if name in _SORTING and items > 1:
        units *= max(1, math.ceil(math.log2(items)))
    if callback:
        units += items * PER_CALL
    return units


_BUILTIN_METHOD = types.BuiltinMethodType


def check_result(value: Any) -> Any:
    """What a call returned: no integer over MAX_INT_BITS (int.from_bytes, int(s, 16)), no
    text or list over MAX_LENGTH (str.upper can triple a text)."""
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:
        raise GuardError(f"the result would be an integer of about {value.bit_length()} bits "
                         f"(the limit is {MAX_INT_BITS} bits)")
    if kind in _TEXT_OR_LIST and len(value) > MAX_LENGTH:
        raise GuardError(f"the result would hold {len(value)} characters or items "
                         f"(the limit is {MAX_LENGTH})")
    if kind in _NESTED:
        spend(len(value) * NEW_ITEM)         # list(enumerate(v)): a new object per item
    return value


_TEXT_OR_LIST = frozenset({str, bytes, list, tuple})


def guarded_invoke(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """A call the rewriter routed here: charge its work, run it, check its result."""
    units = call_units(fn, args, kwargs)
    if units:
        spend(units)
    result = fn(*args, **kwargs)
    if type(result) in _RESULT_CHECKED:
        check_result(result)
    return result


_RESULT_CHECKED = frozenset({int, str, bytes, list, tuple, dict, set, frozenset})


# --------------------------------------------------------------------------- integers
def guarded_floordiv(a: Any, b: Any) -> Any:
    spend(int_product_units(a, b))
    return a // b


# --------------------------------------------------------------------------- set/dict operators
def _bitop(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def guarded(a: Any, b: Any) -> Any:
        # `|`, `&`, `^` on sets and dicts walk both operands; on integers they are linear
        spend(shallow_units(a) + shallow_units(b) if type(a) is not int else 0)
        return op(a, b)
    guarded.__name__ = f"guarded_{op.__name__}"
    return guarded


guarded_or, guarded_and, guarded_xor = (_bitop(operator.or_), _bitop(operator.and_),
                                        _bitop(operator.xor))
guarded_ior, guarded_iand, guarded_ixor = (_bitop(operator.ior), _bitop(operator.iand),
                                           _bitop(operator.ixor))


# --------------------------------------------------------------------------- leaving the sandbox
_NUMBERS = frozenset({int, bool})
_SHORT_SCALARS = frozenset({float, bool, type(None)})


def _text_cost(items: Any, kinds: set[type]) -> int:
    """Characters the scalars `items` take as JSON, about (C-speed for one kind of item)."""
    if not items:
        return 0
    if kinds <= _NUMBERS:
        return sum(map(int.bit_length, items)) // 3 + 2 * len(items)
    if kinds == {str}:
        return sum(map(len, items)) + 3 * len(items)
    if kinds <= _SHORT_SCALARS:
        if float in kinds and not all(map(math.isfinite, filter(_is_float, items))):
            raise NotFinite("NaN or an infinity")
        return 24 * len(items)
    total = 0
    for item in items:
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 3
        elif kind is int:
            total += item.bit_length() // 3 + 2
        elif kind is types.FunctionType or isinstance(item, Iterator):
            raise FunctionValue     # code, or a generator/iterator running it, is not data
        elif kind is float:
            if not math.isfinite(item):
                raise NotFinite("NaN or an infinity")
            total += 24
        elif kind in _KEPT_SCALARS or isinstance(item, KEPT_LEAVES):
            total += 24
        else:
            raise NotKept(kind.__name__)
    return total


def _is_float(item: Any) -> bool:
    return type(item) is float


class FunctionValue(GuardError):
    """A value leaving the sandbox holds a function a script defined (see check_output)."""

    def __init__(self) -> None:
        super().__init__("a function")


class NotFinite(GuardError):
    """A value leaving the sandbox holds NaN or an infinity (see check_output)."""


class NotKept(GuardError):
    """A value leaving the sandbox holds a type no store keeps (see check_output)."""


# what a store keeps besides str, int, float, bool, None and containers (engine.limits
# refuses the rest at the command boundary; engine.store.codec tags these)
KEPT_LEAVES = (datetime, date, time, timedelta, Decimal, bytes, bytearray, str, int, dict,
               list)
_KEPT_SCALARS = frozenset({bool, type(None), str, int, float})


def output_units(value: Any, limit: int = MAX_OUTPUT_UNITS) -> int:
    """About how many characters `value` takes as JSON text (shared references counted each
    time they occur); stops counting just past `limit`."""
    if type(value) not in _NESTED:
        return _text_cost([value], {type(value)})
    return _measure(value, _text_cost, limit)


def check_output(value: Any, name: str | None = None) -> Any:
    """Refuse a value too large to keep as a variable (or to use as a result), or one that
    holds a function a script defined (def, lambda): only data leaves the sandbox, so a
    function never runs outside the run that made it, on another run's budget."""
    kind = type(value)
    what = f"variable {name!r}" if name else "the result"
    if kind is float:
        if not math.isfinite(value):
            raise GuardError(f"{what} is {value}, not a finite number; only finite numbers "
                             "can be kept (test for it, e.g. math.isfinite, and keep a "
                             "number or None)")
        return value
    if kind is types.FunctionType:
        raise GuardError(f"{what} is a function (def/lambda); only data can be kept or "
                         "returned (call the function and keep its value)")
    if name is not None and kind not in _KEPT_SCALARS and kind not in _NESTED \
            and not isinstance(value, KEPT_LEAVES):
        raise GuardError(f"{what} is a {kind.__name__}, which cannot be kept; use strings, "
                         "numbers, booleans, None, lists, dicts, dates, datetimes or decimals")
    if kind in _NESTED or (kind in _TEXT and len(value) > MAX_OUTPUT_UNITS):
        try:
            units = output_units(value)
        except FunctionValue:
            raise GuardError(f"{what} holds a function (def/lambda) or an iterator; only "
                             "data can be kept (call it, or make a list, and keep the "
                             "value)") from None
        except NotFinite:
            raise GuardError(f"{what} holds NaN or an infinity; only finite numbers can be "
                             "kept") from None
        except NotKept as e:
            raise GuardError(f"{what} holds a {e}, which cannot be kept; use strings, "
                             "numbers, booleans, None, lists, dicts, dates, datetimes or "
                             "decimals") from None
        if units > MAX_OUTPUT_UNITS:
            raise GuardError(f"{what} would take over {MAX_OUTPUT_UNITS:,} characters as "
                             "stored text (nested lists repeat what they share)")
    return value


WORK_GLOBALS: dict[str, Any] = {
    "__baton_invoke": guarded_invoke,
    **dict(COMPARISON_HELPERS.values()),
    "__baton_deep": guarded_deep,
    "__baton_key": guarded_key,
    "__baton_sized": guarded_sized,
    "__baton_delitem": guarded_delitem,
    "__baton_setslice": guarded_setslice,
    "__baton_floordiv": guarded_floordiv,
    "__baton_or": guarded_or, "__baton_and": guarded_and, "__baton_xor": guarded_xor,
    "__baton_ior": guarded_ior, "__baton_iand": guarded_iand, "__baton_ixor": guarded_ixor,
    "__baton_slice": slice,
}
