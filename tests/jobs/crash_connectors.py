"""Connectors for the worker-process tests, loaded with BATON_CONNECTOR_MODULES.

`crash-echo` appends `<idempotency key> <pid>` to BATON_TEST_CALLS_FILE, then sleeps a
little (BATON_TEST_CONNECTOR_DELAY seconds) so that a SIGKILL can land in the middle of a call;
`crash-fail` always fails.
"""

from __future__ import annotations

import os
import time
from typing import Any

from connectors.registry import ConnectorContext, connector


@connector("crash-echo", timeout=None, retries=5, backoff=0.2)
def echo(ctx: ConnectorContext) -> dict[str, Any]:
    calls = os.environ.get("BATON_TEST_CALLS_FILE")
    if calls:   # recorded when the call starts: a worker killed mid-call leaves its trace
        with open(calls, "a", encoding="utf-8") as f:   # one short O_APPEND write: atomic
            f.write(f"{ctx.idempotency_key} {os.getpid()}\n")
    time.sleep(float(os.environ.get("BATON_TEST_CONNECTOR_DELAY", "0.01")))
    return {"echoed": ctx.variables.get("n")}


@connector("crash-fail", timeout=None, retries=1)
def fail(ctx: ConnectorContext) -> dict[str, Any]:
    raise ConnectionError(f"crash-fail refuses {ctx.idempotency_key}")
