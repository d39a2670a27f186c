"""External tasks: the fetch-and-lock protocol of Camunda's workers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from engine.commands import external as cmd
from engine.commands.instances import checked_variables
from engine.services.base import Service
from engine.store.records import ExternalTaskRecord


class ExternalTaskService(Service):
    def external_tasks(self, topic: str | None = None, *, user: str | None = None,
                       **filters: Any) -> list[ExternalTaskRecord]:
        return self.executor.execute(cmd.ExternalTasks(topic, filters, user))

    def fetch_and_lock(self, worker_id: str, topics: Mapping[str, float], max_tasks: int = 10,
                       use_priority: bool = False, *,
                       user: str | None = None) -> list[ExternalTaskRecord]:
        """Lock up to `max_tasks` tasks of the given topics (topic -> lock seconds)."""
        return [task for task, _ in self.executor.execute(cmd.FetchAndLock(
            worker_id, dict(topics), max_tasks, use_priority, None, user))]

    def fetch_and_lock_with_variables(
            self, worker_id: str, topics: Mapping[str, float], max_tasks: int = 10,
            use_priority: bool = False, local_topics: Collection[str] = (), *,
            user: str | None = None,
            topic_filters: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[tuple[ExternalTaskRecord, dict[str, Any]]]:
        """`fetch_and_lock`, each task with the variables its token sees (only the token's
        own scope for topics in `local_topics`), read in the same transaction as the lock.

        `topic_filters`: topic -> what its tasks must also match (`business_key`,
        `definition_ids`, `definition_keys`, `tenant_ids`, `without_tenant`, `version_tag`:
        the definition's camunda:versionTag, `variables`: any of these process variables
        has this value); see commands.external.TopicFilter."""
        return self.executor.execute(cmd.FetchAndLock(
            worker_id, dict(topics), max_tasks, use_priority, frozenset(local_topics), user,
            topic_filters))

    def complete_external(self, task_id: str, variables: Mapping[str, Any] | None = None,
                          worker_id: str | None = None,
                          local_variables: Mapping[str, Any] | None = None, *,
                          user: str | None = None) -> None:
        self.executor.execute(cmd.CompleteExternal(
            task_id, checked_variables(variables), worker_id,
            checked_variables(local_variables), user))

    def fail_external(self, task_id: str, error: str, retries: int | None = None,
                      retry_timeout: float = 0.0, worker_id: str | None = None,
                      details: str | None = None, *, user: str | None = None) -> None:
        """Report a worker's failure: with retries left the task is fetchable again after
        `retry_timeout` seconds; at 0 retries an incident is opened."""
        self.executor.execute(cmd.FailExternal(task_id, error, retries, retry_timeout,
                                               worker_id, details, user))

    def set_external_retries(self, task_id: str, retries: int, *,
                             user: str | None = None) -> None:
        self.executor.execute(cmd.SetExternalRetries(task_id, retries, user))

    def throw_bpmn_error(self, task_id: str, code: str, message: str | None = None,
                         variables: Mapping[str, Any] | None = None,
                         worker_id: str | None = None, *, user: str | None = None) -> None:
        self.executor.execute(cmd.ThrowBpmnError(task_id, code, message,
                                                 checked_variables(variables), worker_id, user))

    def extend_lock(self, task_id: str, seconds: float, worker_id: str, *,
                    user: str | None = None) -> None:
        self.executor.execute(cmd.ExtendLock(task_id, seconds, worker_id, user))

    def lock_external(self, task_id: str, seconds: float, worker_id: str, *,
                      user: str | None = None) -> None:
        """Lock one task for `worker_id` for `seconds` without fetching it; refused while
        another worker holds a live lock on it."""
        self.executor.execute(cmd.LockExternal(task_id, seconds, worker_id, user))

    def unlock_external(self, task_id: str, *, user: str | None = None) -> None:
        self.executor.execute(cmd.UnlockExternal(task_id, user))
