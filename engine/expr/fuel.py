"""The run's fuel and the price of work done inside one operation.

Shared by `guards.py` (sizes of values built) and `work.py` (work done walking, comparing,
hashing and multiplying), so neither has to import the other's internals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from itertools import islice

from engine.expr.errors import GuardError

MAX_INT_BITS = 10_000          # 10**3000 is fine, 10**10**10 is not
MAX_LENGTH = 1_000_000         # characters of a str/bytes, items of a list/tuple/range
WORK_SHIFT = 5                 # work inside one operation: one budget step per 32 units
MAX_WORK = 32_000_000          # units of work one operation may cost (see expr/work.py)
BIG_INT_BITS = 512             # integer arithmetic below this size is not charged

# The fuel of the run in progress on this thread/task, for charging big allocations and work.
current_fuel: ContextVar[Iterator[bool] | None] = ContextVar("baton_fuel", default=None)


def spend(units: int) -> None:
    """Refuse one operation over MAX_WORK units of work; charge the run's fuel one step per
    2**WORK_SHIFT units when it is metered (`expr/work.py` says what a unit is)."""
    if units > MAX_WORK:
        raise GuardError(f"one operation here would do about {units:,} units of work (walking, "
                         f"comparing, hashing or multiplying); the limit is {MAX_WORK:,}")
    steps = units >> WORK_SHIFT
    if steps:
        fuel = current_fuel.get()
        if fuel is not None:
            next(islice(fuel, steps - 1, None), None)


def int_units(value: int) -> int:
    """Multiplying, dividing or printing an integer costs about the square of its size."""
    bits = value.bit_length()
    return (bits * bits) >> 12 if bits > BIG_INT_BITS else 0


def int_product_units(a: object, b: object) -> int:
    """Multiplying or dividing two big integers costs about the product of their sizes."""
    if type(a) is int and type(b) is int:
        bits_a, bits_b = a.bit_length(), b.bit_length()
        if bits_a > BIG_INT_BITS and bits_b > BIG_INT_BITS:
            return (bits_a * bits_b) >> 12
    return 0
