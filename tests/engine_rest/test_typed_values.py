"""Camunda's typed variables on /engine-rest, both ways, on every store.

Why: a Camunda client says what a value is (`{"value": "false", "type": "Boolean"}`), and
the engine stores a Python value that conditions and scripts then compute with. A value
converted wrongly on the way in (the text "false" taken as true, a Date's offset dropped,
a Double kept as an int, Bytes kept as base64 text) does not fail anywhere: the diagram
just takes another path. So each type is checked three ways: the Python value the engine
holds, the typed value read back, and the refusal (400 naming the variable) of values that
are not of the type. The SQL stores round-trip the values through their codec, which is
why the engine fixture runs each case on the memory store, SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine import Engine
from engine.store.codec import Long, ObjectValue, Short
from tests.engine_rest.conftest import WORKER, Api, create_app
from tests.engine_rest.diagrams import PAYMENT


@pytest.fixture
def iid(engine: Engine) -> str:
    """A running instance (it waits at its external task) to hold the variables."""
    engine.deploy(PAYMENT)
    return engine.start("payment", {"price": 1, "quantity": 1})


def put(api: Api, iid: str, name: str, typed: dict[str, Any]) -> tuple[int, Any]:
    return api.put(f"/process-instance/{iid}/variables/{name}", typed)


def stored(api: Api, engine: Engine, iid: str, typed: dict[str, Any]) -> tuple[Any, Any]:
    """PUT `typed` as variable v; (the engine's value, the typed value read back)."""
    status, err = put(api, iid, "v", typed)
    assert status == 204, err
    status, back = api.get(f"/process-instance/{iid}/variables/v")
    assert status == 200, back
    return engine.variables(iid)["v"], back


@pytest.fixture
def door() -> tuple[Api, Engine, str]:
    """For refusals: the conversion happens in the door before any store is touched, so
    the memory store is enough (the stored cases above run on every store)."""
    engine = Engine()
    engine.add_user(WORKER[0], "Worker", WORKER[1], roles=["admin"])
    engine.deploy(PAYMENT)
    return Api(create_app(engine)), engine, engine.start("payment", {"price": 1, "quantity": 1})


def refused(door: tuple[Api, Engine, str], typed: dict[str, Any], message: str) -> None:
    api, engine, iid = door
    before = engine.variables(iid)
    status, err = put(api, iid, "bad", typed)
    assert status == 400, err
    assert err["type"] == "InvalidRequestException" and message in err["message"], err
    assert "bad" in err["message"]                    # names the variable
    assert engine.variables(iid) == before            # nothing half-applied


# --------------------------------------------------------------------------- Boolean
@pytest.mark.parametrize(("sent", "value"), [
    (True, True), (False, False), ("true", True), ("false", False), ("TRUE", True),
    ("False", False)])
def test_boolean(api: Api, engine: Engine, iid: str, sent: Any, value: bool) -> None:
    held, back = stored(api, engine, iid, {"value": sent, "type": "Boolean"})
    assert held is value
    assert back == {"value": value, "type": "Boolean", "valueInfo": {}}


@pytest.mark.parametrize("sent", [1, 0, "yes", "", [True]])
def test_not_a_boolean(door: tuple[Api, Engine, str], sent: Any) -> None:
    refused(door, {"value": sent, "type": "Boolean"}, "is not a Boolean")


# --------------------------------------------------------------------------- Double
@pytest.mark.parametrize(("sent", "value"), [
    (12.5, 12.5), (3, 3.0), ("2.25", 2.25), (-0.5, -0.5), ("1e3", 1000.0)])
def test_double(api: Api, engine: Engine, iid: str, sent: Any, value: float) -> None:
    held, back = stored(api, engine, iid, {"value": sent, "type": "Double"})
    assert type(held) is float and held == value
    assert back == {"value": value, "type": "Double", "valueInfo": {}}


@pytest.mark.parametrize(("sent", "message"), [
    (True, "is not a Double"), ("twelve", "is not a Double"), ([1.5], "is not a Double"),
    ("NaN", "is not a finite Double"), ("inf", "is not a finite Double")])
def test_not_a_double(door: tuple[Api, Engine, str], sent: Any, message: str) -> None:
    refused(door, {"value": sent, "type": "Double"}, message)


# --------------------------------------------------------------------------- integers
@pytest.mark.parametrize(("kind", "sent", "value", "cls"), [
    ("Integer", 7, 7, int), ("Integer", "-7", -7, int), ("Integer", 2.0, 2, int),
    ("Long", 2 ** 40, 2 ** 40, Long), ("Long", "5000", 5000, Long),
    ("Short", -300, -300, Short), ("integer", 5, 5, int)])
def test_integers_keep_their_declared_type(api: Api, engine: Engine, iid: str, kind: str,
                                           sent: Any, value: int, cls: type) -> None:
    held, back = stored(api, engine, iid, {"value": sent, "type": kind})
    assert held == value and type(held) is cls
    assert back == {"value": value, "type": kind.capitalize(), "valueInfo": {}}


@pytest.mark.parametrize(("kind", "sent", "message"), [
    ("Integer", 2 ** 31, "out of range for Integer"), ("Short", 40_000, "out of range for Short"),
    ("Long", 2 ** 63, "out of range for Long"), ("Integer", 1.5, "is not an Integer"),
    ("Integer", True, "is not an Integer"), ("Long", "12abc", "is not an Long")])
def test_integers_out_of_range_or_not_integers(door: tuple[Api, Engine, str], kind: str,
                                               sent: Any, message: str) -> None:
    refused(door, {"value": sent, "type": kind}, message)


# --------------------------------------------------------------------------- Bytes
def test_bytes_are_base64_both_ways_and_raw_from_data(api: Api, engine: Engine,
                                                      iid: str) -> None:
    raw = bytes(range(256))
    held, back = stored(api, engine, iid, {"value": base64.b64encode(raw).decode(),
                                           "type": "Bytes"})
    assert held == raw and isinstance(held, bytes)
    assert back == {"value": base64.b64encode(raw).decode(), "type": "Bytes", "valueInfo": {}}
    resp = api.client.get(f"/engine-rest/process-instance/{iid}/variables/v/data",
                          headers=api.headers)
    assert resp.status_code == 200 and resp.data == raw
    assert resp.mimetype == "application/octet-stream"


@pytest.mark.parametrize(("sent", "message"), [
    ("not base64!", "Bytes value is not valid base64"), ("QUJ", "not valid base64"),
    (123, "Bytes must be a base64 string")])
def test_not_bytes(door: tuple[Api, Engine, str], sent: Any, message: str) -> None:
    refused(door, {"value": sent, "type": "Bytes"}, message)


# --------------------------------------------------------------------------- Date
@pytest.mark.parametrize(("sent", "instant"), [
    ("2026-03-01T10:00:00.000+0100", datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
    ("2026-03-01T10:00:00.000-0530", datetime(2026, 3, 1, 15, 30, tzinfo=UTC)),
    ("2026-03-01T10:00:00+01:00", datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
    ("2026-03-01T10:00:00.250Z", datetime(2026, 3, 1, 10, 0, 0, 250_000, tzinfo=UTC)),
    ("2026-03-01T10:00:00", datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),   # no offset: UTC
])
def test_date_keeps_the_instant(api: Api, engine: Engine, iid: str, sent: str,
                                instant: datetime) -> None:
    held, back = stored(api, engine, iid, {"value": sent, "type": "Date"})
    assert isinstance(held, datetime) and held.tzinfo is not None
    assert held == instant
    assert back["type"] == "Date" and back["valueInfo"] == {}
    # Camunda's format, millisecond precision, numeric offset: the same instant
    read = datetime.strptime(back["value"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert read == instant and back["value"][-5] in "+-"


def test_a_date_keeps_its_offset(api: Api, engine: Engine, iid: str) -> None:
    """Every store keeps the offset a client sent (the codec stores it), so the text comes
    back as sent, and a script reading the hour sees the sender's 10 o'clock."""
    held, back = stored(api, engine, iid, {"value": "2026-03-01T10:00:00.000+0100",
                                           "type": "Date"})
    assert held.utcoffset() == timedelta(hours=1) and held.hour == 10
    assert back["value"] == "2026-03-01T10:00:00.000+0100"


@pytest.mark.parametrize(("sent", "message"), [
    ("01.03.2026", "is not a date like 2026-01-01T09:30:00.000+0100"),
    ("2026-02-30T10:00:00", "is not a valid date"),
    (1_767_225_600_000, "a date must be a string"),
])
def test_not_a_date(door: tuple[Api, Engine, str], sent: Any, message: str) -> None:
    refused(door, {"value": sent, "type": "Date"}, message)


# --------------------------------------------------------------------------- the rest
def test_string_null_json_and_object(api: Api, engine: Engine, iid: str) -> None:
    assert stored(api, engine, iid, {"value": "x", "type": "String"}) == (
        "x", {"value": "x", "type": "String", "valueInfo": {}})
    assert stored(api, engine, iid, {"value": None, "type": "Null"}) == (
        None, {"value": None, "type": "Null", "valueInfo": {}})
    held, back = stored(api, engine, iid, {"value": '{"a": [1, 2]}', "type": "Json"})
    assert held == {"a": [1, 2]} and back["type"] == "Json"
    held, back = stored(api, engine, iid, {
        "value": '{"id": 4}', "type": "Object",
        "valueInfo": {"serializationDataFormat": "application/json",
                      "objectTypeName": "com.example.Order"}})
    assert isinstance(held, ObjectValue) and held == {"id": 4}
    assert back == {"value": {"id": 4}, "type": "Object",
                    "valueInfo": {"serializationDataFormat": "application/json",
                                  "objectTypeName": "com.example.Order"}}


@pytest.mark.parametrize(("typed", "message"), [
    ({"value": 5, "type": "String"}, "is not a String"),
    ({"value": "{oops", "type": "Json"}, "Json value is not valid JSON"),
    ({"value": "rO0AB", "type": "Object",
      "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"}},
     "cannot be read"),
    ({"value": "x", "type": "File"}, "File variables are not supported"),
    ({"value": 1, "type": "Decimal"}, "unknown variable type 'Decimal'"),
    ({"value": 1, "type": 7}, "type must be a string"),
])
def test_other_refusals(door: tuple[Api, Engine, str], typed: dict[str, Any],
                        message: str) -> None:
    refused(door, typed, message)


def test_untyped_values_are_inferred_from_json(api: Api, engine: Engine, iid: str) -> None:
    """The camunda Python client often sends no type: the JSON value is the value."""
    assert stored(api, engine, iid, {"value": 2.5})[0] == 2.5
    assert stored(api, engine, iid, {"value": False})[0] is False
    held, back = stored(api, engine, iid, {"value": 3_000_000_000})
    assert held == 3_000_000_000 and back["type"] == "Long"     # past Integer's range
