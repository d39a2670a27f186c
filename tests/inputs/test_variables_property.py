"""Generated variables through every door: the value is stored and read back equal, or the
door answers 4xx (the Python API: an EngineError with a 4xx status) and nothing is stored.

The values are what callers send by mistake or on purpose: deep (to 10,000 levels), wide
(10,000 entries and one more), huge integers, NaN and infinities, NUL and lone surrogates,
dict keys that spell the store codec's tag, strings near the size limit; and, from Python,
dates, decimals, bytes, sets and non-string keys. Each door runs on the memory store and on
SQLite, whose driver refuses what the memory store would keep (a lone surrogate).
"""

from __future__ import annotations

import json
import math
import os
import reprlib
from collections.abc import Callable, Iterator
from datetime import UTC
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from engine import Engine
from engine.errors import EngineError
from engine.limits import MAX_DEPTH, MAX_ENTRIES, MAX_INSTANCE_BYTES
from tests.inputs.conftest import USER, Client, new_app, new_engine

EXAMPLES = int(os.environ.get("BATON_PROPERTY_EXAMPLES", "30"))   # more for a long hunt
# no shrinking: a failure is reported as generated (Shapes keep it readable), and the
# suite's time stays bounded even while a door fails
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# ============================================================================ shapes


class Shape:
    """A large value drawn by size, shown by size: Hypothesis prints failing examples, and
    the repr of a list 10,000 levels deep would itself raise RecursionError."""

    def __init__(self, kind: str, size: int) -> None:
        self.kind, self.size = kind, size

    def __repr__(self) -> str:
        return f"Shape({self.kind!r}, {self.size})"

    def build(self) -> Any:
        if self.kind == "deep":
            value: Any = "leaf"
            for i in range(self.size):
                value = [value] if i % 2 else {"k": value}
            return value
        if self.kind == "wide_list":
            return list(range(self.size))
        if self.kind == "wide_dict":
            return {f"k{i}": i for i in range(self.size)}
        return "x" * self.size                                  # "big"


SHAPES = st.builds(Shape, st.just("deep"),
                   st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 200, 1500, 10_000])) \
    | st.builds(Shape, st.sampled_from(["wide_list", "wide_dict"]),
                st.sampled_from([MAX_ENTRIES, MAX_ENTRIES + 1])) \
    | st.builds(Shape, st.just("big"), st.sampled_from([MAX_INSTANCE_BYTES - 4096,
                                                        MAX_INSTANCE_BYTES + 1]))


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 8, 60, 60


def shown(variables: dict[str, Any]) -> None:
    """Note the drawn variables for a failure report, cut short and never recursing far."""
    note(f"variables = {_SHORT.repr(variables)}")


def materialize(value: Any) -> Any:
    """`value` with its Shapes built (Shapes only appear as whole variable values)."""
    if isinstance(value, Shape):
        return value.build()
    return value


# ============================================================================ strategies

ODD_TEXT = ["\x00", "a\x00b", "\ud800", "x\udfff", "\U0010ffff", "\u2028", "", " ", "\ufeff"]
TEXT = st.text(st.characters(exclude_categories=()), max_size=12) | st.sampled_from(ODD_TEXT)
INTS = st.integers() | st.sampled_from([2 ** 63 - 1, 2 ** 63, -(2 ** 63), -(2 ** 63) - 1,
                                        10 ** 30, -(10 ** 300)])
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
JSON_LEAVES = st.none() | st.booleans() | INTS | FLOATS | TEXT
TAGS = st.sampled_from(["datetime", "date", "time", "timedelta", "decimal", "bytes", "set",
                        "unknown"])
KEYS = TEXT | st.sampled_from(["__baton__", "v"])
NAMES = st.from_regex(r"[a-z][a-zA-Z0-9_]{0,10}", fullmatch=True) \
    | st.sampled_from(["_hidden", "1st", "a-b", "", "x" * 129, "größe", "class", "__baton__"])


def tagged(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict that spells the codec's tag ({"__baton__": "bytes", "v": 5}): stored as is,
    it would be read back as another type, or not at all."""
    return st.fixed_dictionaries({"__baton__": TAGS, "v": children})


def json_values() -> st.SearchStrategy[Any]:
    nested = st.recursive(
        JSON_LEAVES,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4) | tagged(c),
        max_leaves=12)
    return nested | SHAPES


def python_values() -> st.SearchStrategy[Any]:
    # a signalling NaN cannot be hashed, so it is not drawn for sets
    hashable = st.none() | st.booleans() | INTS | FLOATS | TEXT | st.binary(max_size=6) \
        | st.dates() | st.decimals(allow_nan=False, allow_infinity=True, places=None)
    leaves = hashable | st.datetimes(timezones=st.none() | st.just(UTC)) \
        | st.sampled_from([Decimal("NaN"), Decimal("sNaN")]) \
        | st.timedeltas() | st.sets(hashable, max_size=3) \
        | st.sets(st.tuples(st.integers(), st.integers()), min_size=1, max_size=2)
    nested = st.recursive(
        leaves,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4) | tagged(c)
        | st.dictionaries(st.integers() | st.tuples(st.integers()), c, min_size=1, max_size=2),
        max_leaves=12)
    return nested | SHAPES


JSON_VARIABLES = st.dictionaries(NAMES, json_values(), max_size=4)
PYTHON_VARIABLES = st.dictionaries(NAMES, python_values(), max_size=4)


# ============================================================================ helpers


class _Raw(str):
    """Text already encoded, on the encoder's stack."""


def to_json(value: Any) -> str:
    """JSON text for a value of any depth, built with an explicit stack (json.dumps recurses
    and would fail before the door sees the body). NaN and infinities are written as Python
    writes them, lone surrogates as \\ud800 escapes: what a careless client sends."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item)
        elif isinstance(item, Shape):
            stack.append(item.build())
        elif isinstance(item, dict):
            parts: list[Any] = [_Raw("{")]
            for i, (k, v) in enumerate(item.items()):
                parts += [_Raw(("," if i else "") + json.dumps(k) + ":"), v]
            parts.append(_Raw("}"))
            stack.extend(reversed(parts))
        elif isinstance(item, list):
            parts = [_Raw("[")]
            for i, v in enumerate(item):
                if i:
                    parts.append(_Raw(","))
                parts.append(v)
            parts.append(_Raw("]"))
            stack.extend(reversed(parts))
        else:
            out.append(json.dumps(item))
    return "".join(out)


def same(sent: Any, got: Any) -> bool:
    """Equality that holds for what a store gives back: no recursion limit, NaN never
    equal (a stored NaN is a bug in itself)."""
    stack = [(sent, got)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, float) and math.isnan(a):
            return False
        if isinstance(a, dict):
            if not isinstance(b, dict) or a.keys() != b.keys():
                return False
            stack.extend((a[k], b[k]) for k in a)
        elif isinstance(a, list):
            if not isinstance(b, list) or len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif type(a) is not type(b) and not (isinstance(a, int | float)
                                              and isinstance(b, int | float)):
            return False
        elif a != b:
            return False
    return True


def stored_as_sent(eng: Engine, instance_id: str, sent: dict[str, Any]) -> None:
    got = eng.variables(instance_id)
    for name, value in sent.items():
        assert name in got, f"variable {name!r} was accepted but not stored"
        assert same(value, got[name]), f"variable {name!r} came back changed"


@pytest.fixture(params=["memory", "sqlite"], scope="module")
def door(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Client]]:
    import engine.identity

    method, engine.identity.PASSWORD_METHOD = engine.identity.PASSWORD_METHOD, "pbkdf2:sha256:1"
    try:
        eng = new_engine(request.param)
        client = Client(new_app(eng), eng.new_api_token(USER))
    finally:
        engine.identity.PASSWORD_METHOD = method
    yield eng, client
    close = getattr(eng.store, "close", None)
    if close is not None:
        close()


def check_http(eng: Engine, before: int, response: Any, sent: dict[str, Any],
               instance_id: Callable[[Any], str]) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert eng.count_instances() == before, "a refused start stored an instance"
        return
    assert eng.count_instances() == before + 1
    stored_as_sent(eng, instance_id(response.get_json()), sent)


# ============================================================================ the doors


@PROPERTY
@given(variables=PYTHON_VARIABLES)
def test_python_api_start(door: tuple[Engine, Client], variables: dict[str, Any]) -> None:
    shown(variables)
    eng, _ = door
    sent = {k: materialize(v) for k, v in variables.items()}
    before = eng.count_instances()
    try:
        iid = eng.start("work", sent)
    except EngineError as e:
        assert 400 <= e.status < 500
        assert eng.count_instances() == before, "a refused start stored an instance"
        return
    assert eng.count_instances() == before + 1
    stored_as_sent(eng, iid, sent)


@PROPERTY
@given(variables=JSON_VARIABLES)
def test_api_start(door: tuple[Engine, Client], variables: dict[str, Any]) -> None:
    shown(variables)
    eng, client = door
    before = eng.count_instances()
    r = client.post("/api/processes/work/start", data=to_json({"variables": variables}),
                    content_type="application/json")
    check_http(eng, before, r, {k: materialize(v) for k, v in variables.items()},
               lambda body: body["id"])


@PROPERTY
@given(variables=JSON_VARIABLES)
def test_engine_rest_start(door: tuple[Engine, Client], variables: dict[str, Any]) -> None:
    shown(variables)
    eng, client = door
    before = eng.count_instances()
    body = {"variables": {k: {"value": v} for k, v in variables.items()}}
    r = client.post("/engine-rest/process-definition/key/work/start", data=to_json(body),
                    content_type="application/json")
    check_http(eng, before, r, {k: materialize(v) for k, v in variables.items()},
               lambda body: body["id"])


@pytest.mark.parametrize("path", ["/engine-rest/task/{id}/complete", "/api/tasks/{id}/complete"])
@PROPERTY
@given(variables=JSON_VARIABLES)
def test_task_complete(door: tuple[Engine, Client], path: str,
                       variables: dict[str, Any]) -> None:
    shown(variables)
    eng, client = door
    iid = eng.start("work", {"kept": 1})
    task = eng.tasks(instance_id=iid)[0]
    before = eng.count_instances()
    values = {k: {"value": v} for k, v in variables.items()} if "engine-rest" in path \
        else variables
    r = client.post(path.format(id=task.id), data=to_json({"variables": values}),
                    content_type="application/json")
    assert r.status_code < 500, r.get_data(as_text=True)[:500]
    assert eng.count_instances() == before
    if r.status_code >= 400:
        assert eng.task(task.id).id == task.id, "a refused completion closed the task"
        assert eng.variables(iid) == {"kept": 1}, "a refused completion stored variables"
        return
    assert eng.instance(iid).status == "completed"
    stored_as_sent(eng, iid, {k: materialize(v) for k, v in variables.items()})
