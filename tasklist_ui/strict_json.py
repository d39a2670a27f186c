"""JSON request bodies as the store can keep them.

Python's json module accepts NaN, Infinity, numbers that overflow to infinity and lone
UTF-16 surrogates ("\\ud800"); none of these can be stored (the codec writes strict JSON in
UTF-8), so a body carrying one would fail deep inside a transaction with a 500. Both REST
APIs parse bodies here and answer 400 naming the problem instead.

Nesting has its own limit, MAX_BODY_DEPTH, checked on the text before it is parsed: how deep
Python's own parser gets before a RecursionError differs between versions (3.11 and 3.12
stop near 1,000 levels, 3.13 parses 5,000), and a body must get the same answer on all of
them. Variables are limited further, to engine.limits.MAX_DEPTH, with a message naming
the path inside them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engine.limits import MAX_DEPTH
from engine.store.codec import too_deep

# a variable's own limit, and room for the request's wrappers around it (body, variables,
# the typed value, a list of instructions ...)
MAX_BODY_DEPTH = 2 * MAX_DEPTH


class NestedTooDeep(ValueError):
    """A JSON document nesting arrays and objects deeper than MAX_BODY_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"the JSON nests arrays and objects deeper than {MAX_BODY_DEPTH} "
                         "levels")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def strict_json(data: bytes | str) -> Any:
    """json.loads, refusing what Python's parser lets through but nothing can store: NaN and
    Infinity, numbers that overflow to infinity, and lone UTF-16 surrogates ("\\ud800");
    and, before parsing, nesting deeper than MAX_BODY_DEPTH (NestedTooDeep)."""
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    # a cheap count first: only a text with that many brackets can be that deep
    if text.count("[") + text.count("{") > MAX_BODY_DEPTH and too_deep(text, MAX_BODY_DEPTH):
        raise NestedTooDeep()
    body = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    if "\\u" in text:
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not "
                             "text") from None
    return body
