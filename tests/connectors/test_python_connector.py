"""The built-in `python` connector: registered functions only, arguments, ctx, results."""

from __future__ import annotations

import pytest

from connectors import ConnectorError, Registry
from connectors.builtin.python import PythonConnector
from connectors.registry import ConnectorContext


def ctx(**variables: object) -> ConnectorContext:
    return ConnectorContext(variables, "inst", "act", 2, "inst:act:job", "python")


@pytest.fixture
def conn() -> PythonConnector:
    reg = Registry()
    reg.register_function("add", lambda a, b: a + b)
    reg.register_function("profile", lambda name: {"name": name, "vip": name == "Ann"})

    def keyed(order: str, ctx: ConnectorContext) -> str:
        return f"{order}@{ctx.idempotency_key}#{ctx.attempt}"

    reg.register_function("keyed", keyed)
    return PythonConnector(reg)


def test_a_non_dict_result_goes_to_result_variable(conn: PythonConnector) -> None:
    assert conn(ctx(function="add", arguments={"a": 2, "b": 3})) == {"result": 5}
    assert conn(ctx(function="add", arguments={"a": 1, "b": 1},
                    resultVariable="total")) == {"total": 2}


def test_a_dict_result_becomes_the_output_variables(conn: PythonConnector) -> None:
    assert conn(ctx(function="profile", arguments={"name": "Ann"})) == {"name": "Ann",
                                                                         "vip": True}


def test_functions_that_ask_for_ctx_get_it(conn: PythonConnector) -> None:
    assert conn(ctx(function="keyed", arguments={"order": "o-1"})) == {
        "result": "o-1@inst:act:job#2"}


@pytest.mark.parametrize("inputs, message", [
    ({}, "input 'function' is required"),
    ({"function": "os.system"}, "no function named 'os.system' is registered"),
    ({"function": "add", "arguments": {"a": 1}}, "cannot take these arguments"),
    ({"function": "add", "arguments": [1, 2]}, "'arguments' must be a map"),
    ({"function": "add", "arguments": {"a": 1, "b": 2}, "resultVariable": "not valid"},
     "resultVariable 'not valid'"),
])
def test_bad_calls_are_named(conn: PythonConnector, inputs: dict, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        conn(ctx(**inputs))
