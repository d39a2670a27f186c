"""Runtime guards and the safe builtins of the sandbox.

The rewriter (`rewrite.py`) replaces only the operations that can blow up - `**`, `*`, `<<`,
`+`/`-` between two non-constant operands, `%` formatting, a few string/list methods - by calls
to the helpers here. Everything else runs as plain CPython bytecode, which is why a condition
costs about a microsecond. The helpers check sizes *before* allocating whenever the result size
can be predicted, so a payload like `'a' * 10**10` never reaches the allocator.

Loop metering uses no Python-level counter: every loop iterates `compress(iterable, fuel)`,
where `fuel` is `chain(repeat(True, budget), _EMPTY_TANK)`; once the budget's `True`s are used
up, the next step pulls from `_EMPTY_TANK`, which raises `BudgetExhausted`. All of this runs in
C, roughly 20 ns a step.

Big allocations are charged too: a guarded operation or builtin that builds a sequence of more
than `FREE_ITEMS` items uses up one step per 16 items, so `[[0] * 10**6 for i in range(10**5)]`
stops after a few hundred megabytes at most instead of asking for 800 GB. The run's fuel
reaches the guards through a context variable, set only for code that loops or has many
guarded operations (otherwise the amount a text can allocate is bounded by its length).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from itertools import chain, compress, islice, repeat
from typing import Any

from engine.expr.errors import BudgetExhausted, GuardError
from engine.expr.fuel import (  # noqa: F401 - re-exported: the sandbox's size limits
    BIG_INT_BITS,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_WORK,
    WORK_SHIFT,
    current_fuel,
    int_product_units,
    int_units,
    spend,
)
from engine.expr.work import call_units, shallow_units

MAX_FORMAT_WIDTH = 1_000       # widths and precisions in f-strings and % formatting
MAX_STRFTIME_FORMAT = 1_000    # strftime output is bounded by 256 x its format length
FREE_ITEMS = 4_096             # results up to this size cost no budget steps


# Attributes that reach interpreter internals without a leading underscore.
_INTERNAL_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
_REFUSED_ATTRIBUTES = {
    "format": "str.format can read attributes of its arguments; use an f-string",
    "format_map": "str.format_map can read attributes of its arguments; use an f-string",
    "mro": "it exposes the class hierarchy",
}


def attribute_problem(name: str) -> str | None:
    """Why attribute `name` may not be used, or None when it is fine."""
    if name.startswith("_"):
        return f"attribute {name!r} is private (attributes starting with '_' are not allowed)"
    reason = _REFUSED_ATTRIBUTES.get(name)
    if reason is not None:
        return f"attribute {name!r} is not allowed: {reason}"
    if name.startswith(_INTERNAL_PREFIXES):
        return f"attribute {name!r} is not allowed: it reaches interpreter internals"
    return None


# --------------------------------------------------------------------------- size checks
def _int_too_big(bits: float) -> GuardError:
    return GuardError(f"the result would be an integer of about {int(bits)} bits "
                      f"(the limit is {MAX_INT_BITS} bits)")


def _too_long(length: int) -> GuardError:
    return GuardError(f"the result would hold {length} characters or items "
                      f"(the limit is {MAX_LENGTH})")


def charge(items: int) -> None:
    """Use up budget steps for building `items` items (one step per 16 beyond FREE_ITEMS)."""
    if items > FREE_ITEMS:
        fuel = current_fuel.get()
        if fuel is not None:
            next(islice(fuel, (items >> 4) - 1, None), None)


def _check_result(result: Any) -> Any:
    kind = type(result)
    if kind is int:
        if result.bit_length() > MAX_INT_BITS:
            raise _int_too_big(result.bit_length())
    elif kind in (str, list, tuple, bytes):
        if len(result) > MAX_LENGTH:
            raise _too_long(len(result))
        charge(len(result))
    elif kind in (set, frozenset, dict):
        charge(len(result))
    return result


def _check_repeat(seq: Any, times: int) -> None:
    """`seq * times` for a sequence: predict the length before allocating."""
    try:
        length = len(seq)
    except TypeError:
        return  # not a sequence: the operation itself raises TypeError
    if length and times > 0:
        if length * times > MAX_LENGTH:
            raise _too_long(length * times)
        charge(length * times)


def guarded_mul(a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:
        return a * b
    if isinstance(a, int):
        if isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise _int_too_big(a.bit_length() + b.bit_length())
            spend(int_product_units(a, b))
        else:
            _check_repeat(b, a)
    elif isinstance(b, int):
        _check_repeat(a, b)
    return a * b


def guarded_imul(a: Any, b: Any) -> Any:
    """`a *= b`, in place for lists like Python does."""
    if isinstance(b, int) and not isinstance(a, int | float):
        _check_repeat(a, b)
        a *= b
        return a
    return guarded_mul(a, b)


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 1 and abs(base) > 1:
        bits = exponent * math.log2(abs(base))
        if bits > MAX_INT_BITS:
            raise _int_too_big(bits)


def guarded_pow(base: Any, exponent: Any, mod: Any = None) -> Any:
    """`**` and the builtin pow(); a three-argument pow is bounded by its modulus."""
    if mod is None:
        _check_power(base, exponent)
        result = base ** exponent
        if type(result) is int:
            spend(int_units(result))
        return result
    if isinstance(exponent, int) and isinstance(mod, int):
        # modular exponentiation: one multiplication of mod-sized numbers per exponent bit
        spend((abs(exponent).bit_length() * mod.bit_length() ** 2) >> 12)
    return pow(base, exponent, mod)


def guarded_lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        if a.bit_length() + b > MAX_INT_BITS:
            raise _int_too_big(a.bit_length() + b)
    return a << b


def guarded_add(a: Any, b: Any) -> Any:
    # Inputs are already capped, so checking the result (at most twice the cap) is enough.
    return _check_result(a + b)


def guarded_iadd(a: Any, b: Any) -> Any:
    """`a += b`: lists grow in place, like Python; check before extending."""
    if type(a) is list:
        try:
            grown = len(a) + len(b)
        except TypeError:
            grown = 0
        if grown > MAX_LENGTH:
            raise _too_long(grown)
        charge(grown)
        a += b
        return a
    return _check_result(a + b)


def guarded_sub(a: Any, b: Any) -> Any:
    if type(a) in (set, frozenset, dict):    # a set difference walks its operands
        spend(shallow_units(a) + shallow_units(b))
    return _check_result(a - b)


_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsab%]")


def percent_format_problem(template: str | bytes) -> str | None:
    """Why a `%` format string may not be used (huge or `*` widths), or None."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*":
                return "'*' widths in % formatting are not allowed"
            if number is not None and int(number) > MAX_FORMAT_WIDTH:
                return (f"a width or precision of {number} in % formatting is over the "
                        f"limit of {MAX_FORMAT_WIDTH}")
    return None


def guarded_mod(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        spend(int_product_units(a, b))
    if isinstance(a, str | bytes):
        problem = percent_format_problem(a)
        if problem:
            raise GuardError(problem)
        check_text(b)
    return _check_result(a % b)


# --------------------------------------------------------------------------- text
_SCALARS = frozenset({str, int, float, bool, type(None), _dt.date, _dt.datetime,
                      _dt.timedelta})


def check_text(value: Any) -> None:
    """Refuse to turn a value into text when the text would be over MAX_LENGTH characters.

    `str([s] * 10**6)` with a long `s` is small as a list (shared references) but huge as
    text; the walk estimates the size of the text without building it."""
    if type(value) in _SCALARS and (type(value) is not int or value.bit_length() < BIG_INT_BITS):
        return
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 4
        elif kind in (list, tuple, set, frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif kind is dict:
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind is int:
            total += item.bit_length() // 3 + 2
            spend(int_units(item))    # int -> decimal text is quadratic in its size
        else:
            total += 40
        if total > MAX_LENGTH:
            raise GuardError(f"turning this value into text would make over {MAX_LENGTH} "
                             "characters")
    charge(total)


def guarded_text_value(value: Any) -> Any:
    """An f-string placeholder's value, checked, unchanged (a big integer's decimal text
    takes quadratic time to make)."""
    if type(value) not in _SCALARS or type(value) is int:
        check_text(value)
    return value


class _TextType(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, str)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, str)


class SafeStr(str, metaclass=_TextType):
    """`str` inside the sandbox: str(x) checks the size of the text first.

    It is still usable as the type: isinstance(x, str), str.upper, str.maketrans."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> str:  # type: ignore[misc]
        if args and not kwargs and len(args) == 1:
            check_text(args[0])
        return str(*args, **kwargs)


def format_spec_problem(spec: str) -> str | None:
    """Why an f-string format spec may not be used (a width over the limit), or None."""
    for number in re.findall(r"\d+", spec):
        if int(number) > MAX_FORMAT_WIDTH:
            return (f"the width or precision {number} in the f-string format spec "
                    f"{spec!r} is over the limit of {MAX_FORMAT_WIDTH}")
    return None


# --------------------------------------------------------------------------- methods
def _check_join(obj: Any, args: tuple, kwargs: dict) -> tuple:
    if not isinstance(obj, str | bytes) or len(args) != 1 or kwargs:
        return args
    items = args[0] if isinstance(args[0], list | tuple) else list(args[0])
    if len(items) > MAX_LENGTH:
        raise _too_long(len(items))
    total = len(obj) * max(len(items) - 1, 0)
    for item in items:
        if isinstance(item, str | bytes):
            total += len(item)
    if total > MAX_LENGTH:
        raise _too_long(total)
    charge(total)
    return (items,)


def _check_replace(obj: Any, args: tuple, kwargs: dict) -> tuple:
    if isinstance(obj, str | bytes) and len(args) >= 2 and not kwargs:
        old, new = args[0], args[1]
        if isinstance(old, str | bytes) and isinstance(new, str | bytes):
            hits = len(obj) + 1 if not old else obj.count(old)
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                hits = min(hits, args[2])
            length = len(obj) + hits * (len(new) - len(old))
            if length > MAX_LENGTH:
                raise _too_long(length)
            charge(length)
    return args


def _check_width(obj: Any, args: tuple, kwargs: dict) -> tuple:
    width = args[0] if args else kwargs.get("width", 0)
    if isinstance(width, int):
        if width > MAX_LENGTH:
            raise _too_long(width)
        charge(width)
    return args


def _check_expandtabs(obj: Any, args: tuple, kwargs: dict) -> tuple:
    size = args[0] if args else kwargs.get("tabsize", 8)
    if isinstance(obj, str | bytes) and isinstance(size, int) and size > 0:
        tabs = obj.count("\t" if isinstance(obj, str) else b"\t")
        if len(obj) + tabs * size > MAX_LENGTH:
            raise _too_long(len(obj) + tabs * size)
    return args


def _check_translate(obj: Any, args: tuple, kwargs: dict) -> tuple:
    if isinstance(obj, str) and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        if len(obj) * longest > MAX_LENGTH:
            raise _too_long(len(obj) * longest)
    return args


def _check_extend(obj: Any, args: tuple, kwargs: dict) -> tuple:
    if isinstance(obj, list) and len(args) == 1 and hasattr(args[0], "__len__"):
        if len(obj) + len(args[0]) > MAX_LENGTH:
            raise _too_long(len(obj) + len(args[0]))
        charge(len(obj) + len(args[0]))
    return args


def _check_strftime(obj: Any, args: tuple, kwargs: dict) -> tuple:
    if args and isinstance(args[0], str) and len(args[0]) > MAX_STRFTIME_FORMAT:
        raise GuardError(f"a strftime format of {len(args[0])} characters is over the "
                         f"limit of {MAX_STRFTIME_FORMAT}")
    return args


def _check_index(obj: Any, args: tuple, kwargs: dict) -> tuple:
    # list.index and range.index put repr(value) in their error message, unbounded.
    if args:
        check_text(args[0])
    return args


_METHOD_CHECKS = {
    "index": _check_index,
    "join": _check_join,
    "replace": _check_replace,
    "center": _check_width,
    "ljust": _check_width,
    "rjust": _check_width,
    "zfill": _check_width,
    "to_bytes": _check_width,
    "expandtabs": _check_expandtabs,
    "translate": _check_translate,
    "extend": _check_extend,
    "strftime": _check_strftime,
}
GUARDED_METHODS = frozenset(_METHOD_CHECKS)


def guarded_method(obj: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """`obj.name(*args)` for a method whose output size depends on its arguments.

    `name` is a literal the checker already validated. Called on a class (`str.join(sep,
    items)`), the first argument is the receiver and is checked as such."""
    method = getattr(obj, name)
    if isinstance(obj, type) and args:
        receiver, rest = args[0], args[1:]
        rest = _METHOD_CHECKS[name](receiver, rest, kwargs)
        spend(call_units(method, rest, kwargs, receiver))
        return method(receiver, *rest, **kwargs)
    args = _METHOD_CHECKS[name](obj, args, kwargs)
    spend(call_units(method, args, kwargs, obj))
    return method(*args, **kwargs)


# --------------------------------------------------------------------------- functions
MAX_CALL_DEPTH = 100           # calls of script-defined functions inside one another


def enter_function(fuel: Iterator[bool] | None, depth: list[int]) -> list[int]:
    """The first thing a script-defined function (def, lambda) does when called: one
    budget step per call, so recursion and callbacks are counted like loop iterations,
    and a depth well below Python's own recursion limit, so a recursion bomb ends with a
    clear error instead of a RecursionError deep inside the engine. `depth` is the run's
    own counter (a local of the compiled code, never shared between runs)."""
    if depth[0] >= MAX_CALL_DEPTH:
        raise GuardError(f"functions were called more than {MAX_CALL_DEPTH} levels deep "
                         "(a recursion that does not end?)")
    depth[0] += 1
    if fuel is not None:
        next(fuel)
    return depth


def leave_function(depth: list[int], value: Any) -> Any:
    """A lambda's return: one level up again, its value unchanged."""
    depth[0] -= 1
    return value


def visible_variables(variables: Mapping[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """`vars()`, `globals()`, `locals()` (no arguments): a new dict of the variables visible
    where it is called - the instance's, then the names the script (or function) bound -
    so `'x' in vars()` tells whether x is set. Never the interpreter's namespaces: Baton's
    own names (`__baton_*`) and a comprehension's hidden iterator are left out."""
    out = dict(variables)
    out.update((k, v) for k, v in scope.items()
               if k.isidentifier() and not k.startswith("__"))
    charge(len(out))
    return out


# --------------------------------------------------------------------------- budget
def _out_of_fuel(_: Any) -> Any:
    raise BudgetExhausted


# Stateless and shared: every pull calls _out_of_fuel again.
_EMPTY_TANK: Iterator[Any] = map(_out_of_fuel, repeat(None))


def new_fuel(budget: int) -> Iterator[bool]:
    """A per-run iterator yielding `budget` steps, then raising BudgetExhausted."""
    return chain(repeat(True, budget), _EMPTY_TANK)


# --------------------------------------------------------------------------- JUEL / FEEL
def juel_property(obj: Any, name: str) -> Any:
    """EL `a.b`: a map key (missing -> null) or a public attribute of an object."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    if obj is None:
        raise GuardError(f"cannot read property {name!r} of null")
    problem = attribute_problem(name)
    if problem:
        raise GuardError(problem)
    return getattr(obj, name)


def juel_index(obj: Any, key: Any) -> Any:
    """EL `a[b]`: map lookup or list index; a missing key or index gives null."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    if obj is None:
        raise GuardError(f"cannot index null with {key!r}")
    if isinstance(key, str):
        if isinstance(obj, list | tuple | str) and key.lstrip("-").isdigit():
            key = int(key)
        else:
            return juel_property(obj, key)
    try:
        return obj[key]
    except IndexError:
        return None


def juel_empty(value: Any) -> bool:
    """EL `empty x`: null, or a string/collection/map with no items."""
    if value is None:
        return True
    try:
        return len(value) == 0
    except TypeError:
        return False


def juel_text(value: Any) -> str:
    """How EL renders a value inside a template: null is '', booleans are lower case."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    check_text(value)
    return str(value)


# --------------------------------------------------------------------------- builtins
def safe_range(*args: int) -> range:
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_LENGTH + 1
    if length > MAX_LENGTH:
        raise GuardError(f"range() of {length if length <= 2**63 else 'over 2**63'} numbers "
                         f"is larger than the limit of {MAX_LENGTH}")
    charge(length)
    return numbers


def safe_sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    if not isinstance(start, int | float | complex):
        raise GuardError("sum() only adds numbers; use ''.join() for strings "
                         "or a loop for lists")
    return _check_result(sum(iterable, start))


def safe_sorted(iterable: Iterable[Any], /, **options: Any) -> list[Any]:
    result = sorted(iterable, **options)
    charge(len(result))
    return result


def safe_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_FORMAT_WIDTH:
        raise GuardError(f"round() to {ndigits} digits is over the limit of {MAX_FORMAT_WIDTH}")
    return round(number, ndigits)


def safe_print(*args: Any, **kwargs: Any) -> None:
    """print() in a diagram script: accepted and ignored (a worker has no console)."""
    return None


# The time of the command being run, set by the runtime: scripts and expressions that ask
# datetime.now() get the engine's clock (a manual clock in tests), never the wall clock.
SCRIPT_CLOCK: ContextVar[_dt.datetime | None] = ContextVar("baton_script_clock", default=None)


class _PlainDatetimeCheck(type):
    """isinstance(x, datetime) in a script still answers for plain datetimes."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _dt.datetime)


class ClockDatetime(_dt.datetime, metaclass=_PlainDatetimeCheck):
    """`datetime` as diagrams see it. now()/today()/utcnow() read `SCRIPT_CLOCK` when the
    runtime set it (naive results are UTC, Baton's one zone); every constructor returns a
    plain `datetime`, so no instance of this class ever reaches the variables."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _dt.datetime:  # type: ignore[misc]
        return _dt.datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        current = SCRIPT_CLOCK.get()
        if current is None:
            return _dt.datetime.now(tz)
        if tz is not None:
            return current.astimezone(tz)
        return current.astimezone(_dt.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now()

    @classmethod
    def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now()

    fromisoformat = staticmethod(_dt.datetime.fromisoformat)  # type: ignore[assignment]
    fromtimestamp = staticmethod(_dt.datetime.fromtimestamp)  # type: ignore[assignment]
    combine = staticmethod(_dt.datetime.combine)  # type: ignore[assignment]
    strptime = staticmethod(_dt.datetime.strptime)  # type: ignore[assignment]


SAFE_BUILTINS: dict[str, Any] = {
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "dict": dict,
    "divmod": divmod, "enumerate": enumerate, "filter": filter, "float": float,
    "frozenset": frozenset, "int": int, "isinstance": isinstance, "len": len, "list": list,
    "map": map, "max": max, "min": min, "ord": ord, "pow": guarded_pow, "print": safe_print,
    "range": safe_range, "reversed": reversed, "round": safe_round, "set": set,
    "sorted": safe_sorted, "str": SafeStr, "sum": safe_sum, "tuple": tuple, "zip": zip,
    # SpiffWorkflow diagrams use these names; the classes have no dangerous public surface.
    "datetime": ClockDatetime, "date": _dt.date, "timedelta": _dt.timedelta,
    "timezone": _dt.timezone,
}

# Names that compiled code refers to; user text cannot spell them (names starting with '__'
# are refused), and variables cannot shadow them (variables only become function locals).
RUNTIME_GLOBALS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "__baton_builtins": SAFE_BUILTINS,
    "__baton_mul": guarded_mul,
    "__baton_imul": guarded_imul,
    "__baton_pow": guarded_pow,
    "__baton_lshift": guarded_lshift,
    "__baton_add": guarded_add,
    "__baton_iadd": guarded_iadd,
    "__baton_sub": guarded_sub,
    "__baton_mod": guarded_mod,
    "__baton_method": guarded_method,
    "__baton_text_value": guarded_text_value,
    "__baton_compress": compress,
    "__baton_next": next,
    "__baton_locals": locals,
    "__baton_visible": visible_variables,
    "__baton_enter": enter_function,
    "__baton_leave": leave_function,
    "__baton_KeyError": KeyError,
    "__baton_prop": juel_property,
    "__baton_index": juel_index,
    "__baton_empty": juel_empty,
    "__baton_text": juel_text,
}
