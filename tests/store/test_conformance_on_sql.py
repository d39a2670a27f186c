"""The conformance corpus (tests/conformance: Camunda and SpiffWorkflow diagrams replayed as
their own test suites did) again, with the engine on SQLite and PostgreSQL.

The scenarios and known differences are the conformance suite's; only the store changes,
so a diagram that passes in memory but not here points at the SQL store (or at a runtime
behaviour that depends on live objects surviving between commands)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.service import Engine
from tests.conformance import camunda_scenarios, harness, spiff  # noqa: F401 - register scenarios
from tests.store.conftest import SQL_KINDS

# the conformance suite's rows, without its `corpus_row` mark: its pass count stays its own
ROWS = [pytest.param(*p.values, id=p.id, marks=[m for m in p.marks if m.name != "corpus_row"])
        for p in harness.corpus_params("camunda") + harness.corpus_params("spiff")]


@pytest.fixture(params=SQL_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sql_context(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the harness's `Ctx` build its engine on this test's SQL store."""

    def post_init(ctx: harness.Ctx) -> None:
        ctx.engine = Engine(store=store, clock=ctx.clock)

    monkeypatch.setattr(harness.Ctx, "__post_init__", post_init)


@pytest.mark.parametrize("row", ROWS)
def test_corpus_on_sql(row: harness.Row, sql_context: None) -> None:
    harness.run_row(row)
