"""The store codec's two paths: orjson first, the standard library for what orjson would
do differently (engine/store/codec.py). Whatever path a value takes, it reads back as the
value it was, and as the standard library alone would have read it; and the values orjson
would write differently from the standard library (NaN, infinities, UUIDs, enums) are
refused before they reach the codec, with an error naming the variable, on every store."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import ConnectorPolicy, Registry
from engine import Engine
from engine.errors import EngineError
from engine.store import codec
from engine.store.codec import (
    Long,
    ObjectList,
    ObjectValue,
    UnstorableValue,
    dumps,
    loads,
    plain_dumps,
    plain_loads,
)
from engine.store.sql import SqlStore
from tests.test_modification import bpmn, flows


class Color(enum.Enum):
    RED = 1


# ---------------------------------------------------------------- values and round trips
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2 ** 80), max_value=2 ** 80),   # beyond 64 bits too
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.datetimes(timezones=st.just(UTC)), st.dates(), st.times(),
    st.timedeltas(), st.decimals(allow_nan=False, allow_infinity=False),
    st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, database=None)
@given(values)
def test_both_paths_keep_every_storable_value(value: Any) -> None:
    text = dumps(value)
    assert loads(text) == value
    assert plain_loads(text) == value            # the text is JSON the old reader reads
    assert loads(plain_dumps(value)) == value    # rows written before read the same


@pytest.mark.parametrize("value", [
    2 ** 64, -(2 ** 63) - 1, 10 ** 30, [1, 2 ** 70], {"n": -(10 ** 19)},
])
def test_integers_beyond_64_bits_keep_every_digit(value: Any) -> None:
    # orjson refuses to write them, and would read them back as floats
    text = dumps(value)
    assert text == plain_dumps(value)
    assert loads(text) == value
    assert type(loads(text)) is type(value)


def test_digits_inside_strings_read_back_as_text() -> None:
    value = {"account": "1234567890123456789012", "n": 7}
    assert loads(dumps(value)) == value


@pytest.mark.parametrize("value", [
    {1: "a", None: "b", False: "c", 2.5: "d"},     # keys orjson refuses
    {"bad": "\ud800"},                              # a lone surrogate
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
])
def test_what_orjson_refuses_is_written_as_before(value: Any) -> None:
    assert dumps(value) == plain_dumps(value)


def test_nesting_past_orjsons_limit_is_written_as_before() -> None:
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    assert dumps(deep) == plain_dumps(deep)


def test_subclasses_are_written_as_their_base_type() -> None:
    class Name(str):
        pass

    value = {"who": Name("alice"), "inner": {"amount": Long(5), "obj": ObjectValue("a.B", x=1),
                                             "list": ObjectList("java.util.List", [1])}}
    assert dumps(value) == plain_dumps(value)
    assert loads(dumps(value)) == {"who": "alice", "inner": {"amount": 5, "obj": {"x": 1},
                                                             "list": [1]}}


def test_typed_values_at_the_top_keep_their_type() -> None:
    text = dumps({"amount": Long(5), "obj": ObjectValue("a.B", {"x": 1})})
    back = loads(text)
    assert type(back["amount"]) is Long and back["amount"] == 5
    assert type(back["obj"]) is ObjectValue and back["obj"].type_name == "a.B"


@pytest.mark.parametrize("value", [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), date(2026, 1, 2), time(9, 30),
    timedelta(days=1, seconds=5), Decimal("1.10"), b"\x00\xff", {1, 2},
])
def test_tagged_values_read_back_as_their_type(value: Any) -> None:
    text = dumps({"v": value})
    assert text == plain_dumps({"v": value})
    assert loads(text) == {"v": value}
    assert type(loads(text)["v"]) is type(value)


@pytest.mark.parametrize("value", [object(), [1, object()], {"x": object()}, print])
def test_types_no_tag_covers_are_refused(value: Any) -> None:
    with pytest.raises(UnstorableValue, match="cannot be stored"):
        dumps(value)


def test_what_orjson_writes_on_its_own_is_what_the_ways_in_refuse() -> None:
    """The standard library refused these; orjson writes them. No way in lets one through
    (the tests below), so the codec does not pay to look for them."""
    assert dumps([float("nan"), float("inf")]) == "[null,null]"
    assert dumps(uuid.UUID(int=1)) == '"00000000-0000-0000-0000-000000000001"'
    assert dumps(Color.RED) == "1"
    for value in ([float("nan")], uuid.UUID(int=1), Color.RED):
        with pytest.raises(UnstorableValue):
            plain_dumps(value)


def test_text_orjson_refuses_to_read_is_read_as_before() -> None:
    for text in ('"\\ud800"', '[1e400]', '{"a": NaN}'):
        assert repr(loads(text)) == repr(json.loads(text))


def test_text_too_deep_is_read_as_a_placeholder_on_both_paths() -> None:
    text = "[" * 100 + "]" * 100
    assert loads(text) == plain_loads(text)
    value, depth = loads(text), 1
    while isinstance(value, list):
        (value,), depth = value, depth + 1
    assert codec.is_unreadable(value) and depth == codec.MAX_READ_DEPTH


# ---------------------------------------------------------------- refused before the codec
SCRIPT_TASK = bpmn(
    '<startEvent id="s"/><scriptTask id="t" scriptFormat="python"><script>{}</script>'
    '</scriptTask><userTask id="u"/><endEvent id="e"/>' + flows("s>t", "t>u", "u>e"))


@pytest.fixture(params=["memory", "sqlite"])
def new_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    def make(**kw: Any) -> Engine:
        if request.param == "memory":
            return Engine(**kw)
        return Engine(store=SqlStore(f"sqlite:///{tmp_path}/codec.db"), **kw)
    return make


@pytest.mark.parametrize(("script", "said"), [
    ("x = float('nan')", "variable 'x' is nan, not a finite number"),
    ("x = 1e308 * 10", "variable 'x' is inf, not a finite number"),
    ("x = {'a': [1.5, -1e308 * 10]}", "variable 'x' holds NaN or an infinity"),
    ("x = [1, 2.0, {'b': float('nan')}]", "variable 'x' holds NaN or an infinity"),
])
def test_a_script_making_nan_fails_the_same_on_every_store(new_engine: Any, script: str,
                                                           said: str) -> None:
    engine = new_engine()
    engine.deploy(SCRIPT_TASK.replace(b"{}", script.encode()))
    with pytest.raises(EngineError, match=said):
        engine.start("p")
    assert engine.instances() == []


@pytest.mark.parametrize(("value", "said"), [
    (uuid.UUID(int=1), "variable 'x' is a UUID, which cannot be kept"),
    (1 + 2j, "variable 'x' is a complex, which cannot be kept"),
    ([uuid.UUID(int=1)], "variable 'x' holds a UUID, which cannot be kept"),
])
def test_a_script_function_returning_an_odd_type_fails_the_same_on_every_store(
        new_engine: Any, value: Any, said: str) -> None:
    engine = new_engine(script_functions={"odd": lambda: value})
    engine.deploy(SCRIPT_TASK.replace(b"{}", b"x = odd()"))
    with pytest.raises(EngineError, match=said):
        engine.start("p")
    assert engine.instances() == []


def test_a_script_keeps_finite_floats_and_tagged_types(new_engine: Any) -> None:
    engine = new_engine()
    engine.deploy(SCRIPT_TASK.replace(
        b"{}", b"x = [0.5, 1e300, -2.25]\ny = {'n': None, 'f': 3.5}\nz = 7.0"))
    iid = engine.start("p")
    assert engine.instance(iid).variables == {"x": [0.5, 1e300, -2.25],
                                              "y": {"n": None, "f": 3.5}, "z": 7.0}


CONNECTOR_TASK = bpmn(
    '<startEvent id="s"/><serviceTask id="c" camunda:type="external" camunda:topic="odd"/>'
    '<userTask id="u"/><endEvent id="e"/>' + flows("s>c", "c>u", "u>e"))


@pytest.mark.parametrize(("result", "said"), [
    ({"score": float("nan")}, "connector 'odd' result.score: nan is not a finite number"),
    ({"score": uuid.UUID(int=1)}, "connector 'odd' result.score: a value of type UUID"),
    ({"score": {"c": Color.RED}}, "connector 'odd' result.score.c: a value of type Color"),
])
def test_a_connector_result_that_cannot_be_kept_fails_its_attempt(
        new_engine: Any, result: dict[str, Any], said: str) -> None:
    registry = Registry()
    registry.register("odd", lambda ctx: result, ConnectorPolicy(timeout=None))
    engine = new_engine(connectors=registry)
    engine.deploy(CONNECTOR_TASK)
    iid = engine.start("p")
    assert engine.run_due_jobs() == 1
    (job,) = engine.jobs(instance_id=iid)
    assert said in (job.last_error or "")
    assert job.attempts == 1
    assert engine.tasks(instance_id=iid) == []
    assert "score" not in engine.instance(iid).variables
