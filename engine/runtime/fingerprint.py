"""Short, stable fingerprints of variable values: to tell later whether a value changed
without keeping a copy of it.

Why: a call activity without mappings hands the called instance all of its variables and
takes back only those the child changed (see `CallActivity`); keeping the values it handed
over would double the caller's state for the length of the call. A fingerprint is a
digest of a canonical text of the value, the same in every process and after the value
went through the store (key order, tuples and lists, dates written as text do not matter).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, time
from typing import Any

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            default=lambda o: _plain(o))


def _plain(value: Any) -> Any:
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)


def fingerprint(value: Any) -> str:
    """16 hex digits that change when the value does (as far as a store can tell)."""
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted: fall back
        text = repr(value)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def fingerprints(variables: Mapping[str, Any]) -> dict[str, str]:
    return {name: fingerprint(value) for name, value in variables.items()}


def changed(given: Mapping[str, str], variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables that are new or whose value differs from the one fingerprinted."""
    return {name: value for name, value in variables.items()
            if given.get(name) != fingerprint(value)}


__all__ = ["changed", "fingerprint", "fingerprints"]
