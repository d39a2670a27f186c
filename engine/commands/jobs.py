"""Commands on jobs and incidents that people and doors use (the job executor's own steps
run as function commands, see engine.jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.commands.context import CommandContext
from engine.commands.executor import BaseCommand
from engine.commands.external import retries_count
from engine.errors import NotFound
from engine.store.records import IncidentRecord, JobRecord


@dataclass(slots=True)
class RetryIncident(BaseCommand):
    """Resolve an open incident and make its job (or external task) runnable again now."""

    permission: ClassVar[tuple[str, str] | None] = ("incident", "resolve")
    incident_id: str
    retries: int = 1
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        retries_count(self.retries)
        inc = c.tx.get_incident(self.incident_id)
        if inc is None or inc.resolved is not None:
            raise NotFound(f"open incident '{self.incident_id}' not found")
        if inc.instance_id:
            c.load(inc.instance_id)        # serialise with commands on the same instance
        inc.resolved = c.now
        c.tx.update_incident(inc)
        if inc.job_id:
            job = c.tx.get_job(inc.job_id)
            if job is not None:
                job.retries = max(1, self.retries)
                job.suspended = False
                job.due = c.now
                job.lock_owner = None
                job.lock_expires = None
                c.tx.update_job(job)
        if inc.external_task_id:
            ext = c.tx.get_external(inc.external_task_id)
            if ext is not None:
                ext.retries = max(1, self.retries)
                ext.due = None
                c.tx.update_external(ext)


@dataclass(slots=True)
class ReadJobs(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("job", "read")
    writes: ClassVar[bool] = False
    filters: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> list[JobRecord]:
        return c.tx.find_jobs(**self.filters)


@dataclass(slots=True)
class ReadIncidents(BaseCommand):
    permission: ClassVar[tuple[str, str] | None] = ("incident", "read")
    writes: ClassVar[bool] = False
    open_only: bool = True
    filters: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None

    def execute(self, c: CommandContext) -> list[IncidentRecord]:
        return c.tx.find_incidents(open_only=self.open_only, **self.filters)


@dataclass(slots=True)
class SetJobRetries(BaseCommand):
    """Camunda's `PUT /job/{id}/retries`: a job with an open incident is resumed (the
    incident resolved); otherwise its retries are set (0 parks it)."""

    permission: ClassVar[tuple[str, str] | None] = ("job", "manage")
    job_id: str
    retries: int
    user: str | None = None

    def execute(self, c: CommandContext) -> None:
        retries_count(self.retries)
        job = c.tx.get_job(self.job_id) if isinstance(self.job_id, str) else None
        if job is None:
            raise NotFound(f"job '{self.job_id}' not found")
        if job.instance_id:
            c.load(job.instance_id)
            job = c.tx.get_job(self.job_id)
            if job is None:
                raise NotFound(f"job '{self.job_id}' not found")
        incidents = c.tx.find_incidents(job_id=self.job_id)
        if incidents and self.retries > 0:
            for inc in incidents:
                RetryIncident(inc.id, self.retries).execute(c)
            return
        job.retries = self.retries
        c.tx.update_job(job)
