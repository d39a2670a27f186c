"""Reads the REST API needs that the Engine facade does not offer (yet).

Camunda hands an external worker the variables *visible from the task's execution* (its
local input parameters, then the enclosing subprocesses, then the process), not just the
process-level ones that `Engine.variables` returns; and `POST /message` tells whether a
message went to a waiting instance or started a new one. Both are read-only looks at the
store, kept here in one place so they can move into the facade as they are (the first has:
`Engine.token_variables`, and `Engine.fetch_and_lock_with_variables` reads them while it
locks).
"""

from __future__ import annotations

from typing import Any


def token_variables(engine: Any, instance_id: str, token_id: int,
                    local_only: bool = False) -> dict[str, Any]:
    """Variables visible from a token (nearest scope wins): `Engine.token_variables`."""
    return engine.token_variables(instance_id, token_id, local_only)


def message_waiters(engine: Any, name: str, business_key: str | None,
                    instance_id: str | None) -> bool:
    """True when some running instance waits for message `name` (matching the business key
    or instance id when given): the engine will deliver to it rather than start one."""
    with engine.store.transaction() as tx:
        subs = tx.find_subscriptions(kind="message", name=name)
        for s in subs:
            if s.instance_id is None:
                continue
            if instance_id is not None and s.instance_id != instance_id:
                continue
            if business_key is not None:
                inst = tx.get_instance(s.instance_id)
                if inst is None or inst.business_key != business_key:
                    continue
            return True
    return False


def set_job_retries(engine: Any, job_id: str, retries: int) -> None:
    """Camunda's `PUT /job/{id}/retries`: a job with an open incident is resumed through
    `Engine.retry_incident`; otherwise its retries are set (0 parks it)."""
    from engine import NotFound

    incidents = [i for i in engine.incidents(job_id=job_id)]
    if incidents and retries > 0:
        for inc in incidents:
            engine.retry_incident(inc.id, retries)
        return

    def cmd(c: Any) -> None:
        job = c.tx.get_job(job_id)
        if job is None:
            raise NotFound(f"job '{job_id}' not found")
        job.retries = retries
        c.tx.update_job(job)

    engine._execute(cmd)
