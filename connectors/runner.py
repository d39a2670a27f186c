"""Calling a connector handler under its policy (timeout)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from typing import Any

from connectors.registry import ConnectorContext, Registration

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="connector")


def call_connector(reg: Registration, ctx: ConnectorContext) -> Mapping[str, Any] | None:
    timeout = reg.policy.timeout
    if timeout is None:
        result = reg.handler(ctx)
    else:
        future = _pool.submit(reg.handler, ctx)
        try:
            result = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as e:
            raise TimeoutError(f"connector '{reg.name}' took longer than {timeout}s") from e
    if result is not None and not isinstance(result, Mapping):
        raise TypeError(f"connector '{reg.name}' returned {type(result).__name__}, "
                        "not a dict of output variables")
    return result
