"""JSON request bodies as the store can keep them.

Python's json module accepts NaN, Infinity, numbers that overflow to infinity and lone
UTF-16 surrogates ("\\ud800"); none of these can be stored (the codec writes strict JSON in
UTF-8), so a body carrying one would fail deep inside a transaction with a 500. Both REST
APIs parse bodies here and answer 400 naming the problem instead.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def strict_json(data: bytes | str) -> Any:
    """json.loads, refusing what Python's parser lets through but nothing can store: NaN and
    Infinity, numbers that overflow to infinity, and lone UTF-16 surrogates ("\\ud800")."""
    body = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite)
    if "\\u" in (data if isinstance(data, str) else data.decode("utf-8", "replace")):
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), which is not "
                             "text") from None
    return body
