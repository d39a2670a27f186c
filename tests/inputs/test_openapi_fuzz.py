"""Schemathesis against /api/openapi.json: every operation, with valid and invalid inputs
generated from the schema, authenticated as an admin, must never answer 5xx.

Bounded to keep the suite quick: a few examples per operation and mode, derandomized (the
same cases each run, so a failure reproduces), no example database, no shrinking.

The cases are drawn from each operation's Hypothesis strategy rather than through
`schema.parametrize()`: schemathesis 4's pytest plugin and pytest 9 disagree on the test
node's internals, and one test looping over the operations needs neither."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from engine import Engine
from tests.inputs.conftest import USER, new_app, new_engine

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 10          # per operation, generation mode and kind of path ids
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


def seeded_engine() -> tuple[Engine, str, dict[str, str]]:
    """A waiting user task, an external task and their instances, and the ids to put in
    paths, so that generated requests meet real rows as well as unknown ids."""
    eng = new_engine()
    token = eng.new_api_token(USER)
    iid = eng.start("work", {"amount": 5})
    eng.start("external")
    task = eng.tasks(instance_id=iid)[0]
    ids = {"task_id": task.id, "instance_id": iid, "key": "work",
           "definition_id": eng.instance(iid).definition_id}
    return eng, token, ids


def strategies(operation: Any, ids: dict[str, str]) -> list[Any]:
    """Both generation modes, each with generated path ids and with the seeded ones."""
    names = {p.name for p in operation.path_parameters}
    known = {k: v for k, v in ids.items() if k in names}
    out = []
    for mode in schemathesis.GenerationMode:
        out.append(operation.as_strategy(generation_mode=mode))
        if known and len(known) == len(names):
            out.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
    return out


def test_no_generated_request_gets_a_server_error() -> None:
    eng, token, ids = seeded_engine()
    app = new_app(eng)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for strategy in strategies(operation, ids):

            @BOUNDED
            @given(case=strategy)
            def call(case: Any) -> None:
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} query={case.query} "
                        f"body={case.body!r:.200} -> {response.status_code}: "
                        f"{response.text[:300]}")

            call()
    assert operations >= 10, "the OpenAPI document lists fewer operations than expected"
    assert not failures, "\n".join(failures[:20])
