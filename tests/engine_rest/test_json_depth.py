"""Request bodies nested too deeply are refused by Baton's own depth check, before Python's
parser runs: Python 3.11 and 3.12 raise RecursionError near 1,000 levels, 3.13 parses
5,000, and the answer must not depend on which one runs Baton (issue 10)."""

from __future__ import annotations

import json

import pytest

from engine import Engine
from tasklist_ui.strict_json import MAX_BODY_DEPTH, NestedTooDeep, strict_json
from tests.engine_rest.conftest import Api


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 1, 900, 5000, 100_000])
def test_too_deep_is_refused_before_parsing(depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("json.loads was reached")

    monkeypatch.setattr(json, "loads", never)
    with pytest.raises(NestedTooDeep, match=f"deeper than {MAX_BODY_DEPTH} levels"):
        strict_json(nested(depth))
    with pytest.raises(NestedTooDeep, match=f"deeper than {MAX_BODY_DEPTH} levels"):
        strict_json(nested(depth).encode())


def test_up_to_the_limit_parses_and_brackets_in_strings_do_not_count() -> None:
    assert strict_json(nested(MAX_BODY_DEPTH)) is not None
    assert strict_json(json.dumps({"text": "[" * 10_000})) == {"text": "[" * 10_000}
    wide = json.dumps([[{"a": [1]}] for _ in range(5000)])      # many brackets, shallow
    assert len(strict_json(wide)) == 5000


PLAIN = """<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">
<process id="plain" isExecutable="true"><startEvent id="s"/></process></definitions>"""


def test_engine_rest_answers_the_same_on_every_python(api: Api, engine: Engine) -> None:
    engine.deploy(PLAIN.encode())
    status, err = api.post("/process-definition/key/plain/start", None,
                           data=nested(5000), content_type="application/json")
    assert (status, err["type"]) == (400, "InvalidRequestException")
    assert "nested too deeply" in err["message"]
    body = {"variables": {"a": {"value": nested(5000), "type": "Json"}}}
    status, err = api.post("/process-definition/key/plain/start", body)
    assert (status, err["type"]) == (400, "InvalidRequestException")
    assert "variables.a: Json value is nested too deeply" in err["message"]
    assert engine.instances() == []
