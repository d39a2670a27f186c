"""Jobs and incidents."""

from __future__ import annotations

from typing import Any

from engine.commands import jobs as cmd
from engine.services.base import Service
from engine.store.records import IncidentRecord, JobRecord


class JobService(Service):
    def jobs(self, *, user: str | None = None, **filters: Any) -> list[JobRecord]:
        return self.executor.execute(cmd.ReadJobs(filters, user))

    def incidents(self, open_only: bool = True, *, user: str | None = None,
                  **filters: Any) -> list[IncidentRecord]:
        return self.executor.execute(cmd.ReadIncidents(open_only, filters, user))

    def retry_incident(self, incident_id: str, retries: int = 1, *,
                       user: str | None = None) -> None:
        self.executor.execute(cmd.RetryIncident(incident_id, retries, user))

    def set_job_retries(self, job_id: str, retries: int, *, user: str | None = None) -> None:
        """Resume a failed job (resolving its incident) or set its retries (0 parks it)."""
        self.executor.execute(cmd.SetJobRetries(job_id, retries, user))
