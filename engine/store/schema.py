"""The SQL schema at the newest migration, as SQLAlchemy Core tables.

The store builds its statements from these tables; the Alembic migrations under
`migrations/versions/` create and change the real tables and are frozen once released. A
test compares the two, so this file and the migrations never drift apart.

Design choices worth knowing:
- Column names equal the record field names (`engine/store/records.py`), so simple
  equality filters map one to one.
- JSON values (variables, state, payloads, lists) are TEXT written by `engine.store.codec`,
  which keeps dates; the store never asks the database to look inside them.
- Candidate users and groups of a task live in `task_candidates` (one row per name) with a
  primary key that starts with (kind, name): "the unassigned tasks of my groups" is an index
  range scan on both SQLite and PostgreSQL, without JSON or array operators. Since
  migration 0003 each candidate row also carries copies of its task's sort columns
  (created, due, priority) and whether the task is unassigned, indexed as (kind, name,
  unassigned, <sort column>, task_id): a page of "My groups" in any of those orders is a
  few short index walks, one per group, however many tasks are open. The store keeps the
  copies in step with the task row (`SqlTx.update_task`).
- Task sort indexes end with the id, the tie-breaker of every task order, so the database
  walks them in the page's order and stops after the page.
- `revision` columns on tasks, jobs, external tasks and incidents are not part of the
  records: the store remembers what it read in a transaction and updates with
  `WHERE revision = <read>`, so two workers or users racing on one row cannot silently
  overwrite each other (the loser's command is retried on the new state).
- Timestamps are aware UTC datetimes in Python; SQLite stores them as UTC text that sorts
  correctly, PostgreSQL as `timestamptz`, MariaDB as `DATETIME(6)` holding UTC
  (microseconds, as the other two keep them).
- MariaDB/MySQL (see `dialects.py`) needs what the other two do not: a length for every
  indexed text column (ids, keys, anything in an index or a primary key: `S`, 255
  characters, as Camunda's own columns; `SL`, 768, for ids made of other ids), so names
  and other free text (`N`) are TEXT there, and the JSON columns (`T`) and diagrams
  LONGTEXT and LONGBLOB (TEXT and BLOB stop at 64 KB). The tables are utf8mb4 with the
  binary collation (migration 0001): ids compare case-sensitively and strings sort by
  code point, as in Python. MariaDB has no deferred constraints, so the foreign keys a
  command would break in passing (`_fk`: children are inserted before their new instance
  row) do not exist there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

# version table of our own so Baton can share a database with an application that uses
# Alembic for its own tables
VERSION_TABLE = "baton_alembic_version"
MYSQL_NAMES = ("mysql", "mariadb")
_NAIVE_UTC = ("sqlite", *MYSQL_NAMES)      # databases that keep datetimes without a zone


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every dialect (naive input is taken as UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if dialect.name in _NAIVE_UTC:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in MYSQL_NAMES:     # microseconds; DATETIME alone keeps seconds
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.tzinfo is not UTC:
            return value.astimezone(UTC)
        return value


def BigId() -> sa.types.TypeEngine:  # noqa: N802 - reads like a type
    """BIGINT on PostgreSQL; INTEGER on SQLite so the column is the rowid (autoincrement)."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


metadata = sa.MetaData()
# ids, keys and every text column in an index: VARCHAR(255) on MariaDB (see the docstring)
S = sa.String().with_variant(sa.String(255), *MYSQL_NAMES)
# ids made of other ids (a definition's is key:version:deployment, a start subscription's
# adds the node and the message name): VARCHAR(768) on MariaDB, the longest one-column
# index InnoDB takes, so every id the BPMN parser lets through (255 characters) fits
SL = sa.String().with_variant(sa.String(768), *MYSQL_NAMES)
# names and other free text, in no index: TEXT on MariaDB
N = sa.String().with_variant(mysql.TEXT(), *MYSQL_NAMES)
# JSON and long text: LONGTEXT on MariaDB
T = sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL_NAMES)
BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), *MYSQL_NAMES)
I = sa.Integer  # noqa: E741
DT = UTCDateTime

# MariaDB: what a foreign key in `info` carries when MariaDB has none (`_fk`)
NOT_ON_MYSQL = "baton_not_on_mysql"


def _fk(target: str, **kw: Any) -> sa.ForeignKey:
    # deferred: a command inserts children (tasks, jobs) before the new instance row itself;
    # MariaDB checks foreign keys at once, so it has none of these (migration 0001)
    return sa.ForeignKey(target, deferrable=True, initially="DEFERRED",
                         info={NOT_ON_MYSQL: True}, **kw)


deployments = sa.Table(
    "deployments", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("name", N),
    sa.Column("time", DT, nullable=False),
    sa.Column("resources", T, nullable=False),
)

definitions = sa.Table(
    "definitions", metadata,
    sa.Column("id", SL, primary_key=True),
    sa.Column("key", S, nullable=False),
    sa.Column("version", I, nullable=False),
    sa.Column("name", N),
    sa.Column("xml", BLOB, nullable=False),
    sa.Column("checksum", S, nullable=False),
    sa.Column("deployment_id", S, _fk("deployments.id", name="fk_definitions_deployment"),
              nullable=False),
    sa.Column("resource", N),
    sa.Column("deployed_at", DT, nullable=False),
    sa.Column("executable", sa.Boolean, nullable=False),
    sa.Column("has_start_form", sa.Boolean, nullable=False),
    sa.Column("tenant_id", S),                 # Camunda's deployment tenant (migration 0005)
    sa.Column("version_tag", S),               # camunda:versionTag (migration 0007)
    sa.Column("compat", S),                    # migration mode, "spiffworkflow" (migration 0008)
    sa.UniqueConstraint("key", "version", name="uq_definitions_key_version"),
)

instances = sa.Table(
    "instances", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("definition_id", SL, _fk("definitions.id", name="fk_instances_definition"),
              nullable=False),
    sa.Column("key", S, nullable=False),
    sa.Column("version", I, nullable=False),
    sa.Column("status", S, nullable=False),
    sa.Column("state", T, nullable=False),
    sa.Column("variables", T, nullable=False),
    sa.Column("business_key", S),
    sa.Column("parent_id", S),
    sa.Column("parent_token", I),
    sa.Column("started", DT, nullable=False),
    sa.Column("ended", DT),
    sa.Column("revision", I, nullable=False),
    sa.Index("ix_instances_status_key", "status", "key"),
    sa.Index("ix_instances_business_key", "business_key"),
    sa.Index("ix_instances_parent", "parent_id", "parent_token"),
    sa.Index("ix_instances_definition", "definition_id"),
    # the instance list: newest first, ties by id, optionally one status (migration 0003)
    sa.Index("ix_instances_started", "started", "id"),
    sa.Index("ix_instances_status_started", "status", "started", "id"),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("instance_id", S, _fk("instances.id", name="fk_tasks_instance"), nullable=False),
    sa.Column("token", I, nullable=False),
    sa.Column("activity_id", S, nullable=False),
    sa.Column("name", N),
    sa.Column("definition_key", S, nullable=False),
    sa.Column("definition_id", SL, nullable=False),
    sa.Column("assignee", S),
    sa.Column("candidate_users", T, nullable=False),
    sa.Column("candidate_groups", T, nullable=False),
    sa.Column("due", DT),
    sa.Column("follow_up", DT),
    sa.Column("priority", I, nullable=False),
    sa.Column("form_key", N),
    sa.Column("created", DT, nullable=False),
    sa.Column("business_key", S),
    sa.Column("process_name", N),
    sa.Column("owner", S),
    sa.Column("delegation", S),
    sa.Column("escalated", I, nullable=False),
    sa.Column("note", T),
    sa.Column("lane", N),
    sa.Column("claimed", DT),
    sa.Column("revision", I, nullable=False),
    sa.Index("ix_tasks_instance_token", "instance_id", "token"),
    sa.Index("ix_tasks_assignee_created", "assignee", "created"),
    sa.Index("ix_tasks_definition_key", "definition_key"),
    # the tasklist's sort orders, ties broken by id (migration 0003; 0001/0002 had them
    # without the id)
    sa.Index("ix_tasks_created", "created", "id"),
    sa.Index("ix_tasks_due", "due", "id"),
    sa.Index("ix_tasks_priority", "priority", "id"),
)

task_candidates = sa.Table(
    "task_candidates", metadata,
    sa.Column("kind", sa.String(8), primary_key=True),        # "user" | "group"
    sa.Column("name", S, primary_key=True),
    sa.Column("task_id", S,
              sa.ForeignKey("tasks.id", name="fk_task_candidates_task", ondelete="CASCADE"),
              primary_key=True),
    # copies of the task's columns the tasklist filters and sorts "My groups" by (0003)
    sa.Column("unassigned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created", DT),
    sa.Column("due", DT),
    sa.Column("priority", I),
    sa.Index("ix_task_candidates_task", "task_id"),
    sa.Index("ix_task_candidates_created", "kind", "name", "unassigned", "created", "task_id"),
    sa.Index("ix_task_candidates_due", "kind", "name", "unassigned", "due", "task_id"),
    sa.Index("ix_task_candidates_priority", "kind", "name", "unassigned", "priority",
             "task_id"),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("kind", S, nullable=False),
    sa.Column("instance_id", S, _fk("instances.id", name="fk_jobs_instance")),
    sa.Column("due", DT, nullable=False),
    sa.Column("token", I),
    sa.Column("sub", I),
    sa.Column("activity_id", S),
    sa.Column("definition_id", SL),
    sa.Column("retries", I, nullable=False),
    sa.Column("retry_cycle", N),
    sa.Column("lock_owner", S),
    sa.Column("lock_expires", DT),
    sa.Column("payload", T, nullable=False),
    sa.Column("attempts", I, nullable=False),
    sa.Column("last_error", T),
    sa.Column("created", DT),
    sa.Column("suspended", sa.Boolean, nullable=False),
    sa.Column("revision", I, nullable=False),
    sa.Index("ix_jobs_due", "due"),
    sa.Index("ix_jobs_instance", "instance_id"),
    sa.Index("ix_jobs_definition", "definition_id"),
    sa.Index("ix_jobs_lock_owner", "lock_owner"),
)

external_tasks = sa.Table(
    "external_tasks", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("instance_id", S, _fk("instances.id", name="fk_external_tasks_instance"),
              nullable=False),
    sa.Column("token", I, nullable=False),
    sa.Column("activity_id", S, nullable=False),
    sa.Column("topic", S, nullable=False),
    sa.Column("definition_key", S, nullable=False),
    sa.Column("definition_id", SL, nullable=False),
    sa.Column("created", DT, nullable=False),
    sa.Column("business_key", S),
    sa.Column("priority", I, nullable=False),
    sa.Column("retries", I),
    sa.Column("worker_id", S),
    sa.Column("lock_expires", DT),
    sa.Column("error_message", T),
    sa.Column("error_details", T),
    sa.Column("due", DT),
    sa.Column("revision", I, nullable=False),
    sa.Index("ix_external_tasks_topic_created", "topic", "created"),
    sa.Index("ix_external_tasks_instance_token", "instance_id", "token"),
)

subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("id", SL, primary_key=True),
    sa.Column("kind", S, nullable=False),
    sa.Column("name", S),
    sa.Column("instance_id", S, _fk("instances.id", name="fk_subscriptions_instance")),
    sa.Column("sub", I),
    sa.Column("activity_id", S, nullable=False),
    sa.Column("definition_id", SL),
    sa.Column("business_key", S),
    sa.Column("created", DT),
    sa.Index("ix_subscriptions_kind_name", "kind", "name"),
    sa.Index("ix_subscriptions_instance", "instance_id"),
    sa.Index("ix_subscriptions_definition", "definition_id"),
)

incidents = sa.Table(
    "incidents", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("type", S, nullable=False),
    sa.Column("instance_id", S),
    sa.Column("activity_id", S),
    sa.Column("message", T, nullable=False),
    sa.Column("created", DT, nullable=False),
    sa.Column("job_id", S),
    sa.Column("external_task_id", S),
    sa.Column("stack", T),
    sa.Column("resolved", DT),
    sa.Column("revision", I, nullable=False),
    sa.Index("ix_incidents_resolved_created", "resolved", "created"),
    sa.Index("ix_incidents_instance", "instance_id"),
    sa.Index("ix_incidents_job", "job_id"),
    sa.Index("ix_incidents_external_task", "external_task_id"),
)

# One row per command and instance: the events that command recorded, as a JSON array of
# [type, activity_id, time, kind, name, user, detail, token] (time null: the row's time). A straight-through instance
# of ten script tasks writes one row instead of two dozen; the `history_events` view
# (created by the migrations, one row per event) serves ad-hoc SQL and reporting.
history = sa.Table(
    "history", metadata,
    sa.Column("seq", BigId(), primary_key=True, autoincrement=True),
    sa.Column("instance_id", S, nullable=False),
    sa.Column("time", DT, nullable=False),
    sa.Column("events", T, nullable=False),
    sa.Index("ix_history_instance_seq", "instance_id", "seq"),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("instance_id", S, nullable=False),
    sa.Column("task_id", S),
    sa.Column("author", S, nullable=False),
    sa.Column("text", T, nullable=False),
    sa.Column("time", DT, nullable=False),
    sa.Index("ix_comments_instance", "instance_id"),
    sa.Index("ix_comments_task", "task_id"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("name", N, nullable=False),
    sa.Column("password_hash", N, nullable=False),
    sa.Column("roles", T, nullable=False),
    sa.Column("email", N),
    sa.Column("deputy", S),
    sa.Column("away_from", DT),
    sa.Column("away_until", DT),
    sa.Column("api_token", S),
    sa.Index("ix_users_api_token", "api_token"),
)

groups = sa.Table(
    "groups", metadata,
    sa.Column("id", S, primary_key=True),
    sa.Column("name", N, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("user_id", S,
              sa.ForeignKey("users.id", name="fk_memberships_user", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", S, primary_key=True),
    sa.Column("position", I, nullable=False),          # keeps the user's group order
    sa.Index("ix_memberships_group", "group_id"),
)

secrets = sa.Table(
    "secrets", metadata,
    sa.Column("name", S, primary_key=True),
    sa.Column("value", T, nullable=False),
)

# data stores (BPMN dataStore, as SpiffWorkflow runs them): one value per store name,
# shared by every instance that reads or writes it (migration 0006)
data_stores = sa.Table(
    "data_stores", metadata,
    sa.Column("name", S, primary_key=True),
    sa.Column("value", T, nullable=False),              # JSON (engine.store.codec)
    sa.Column("updated", DT, nullable=False),
)

# every table the store owns, parents before children (for truncation in tests)
ALL_TABLES = [deployments, definitions, instances, tasks, task_candidates, jobs,
              external_tasks, subscriptions, incidents, history, comments, users, groups,
              memberships, secrets, data_stores]
