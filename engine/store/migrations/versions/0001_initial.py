"""The first schema: deployments, definitions, instances, tasks, jobs, external tasks,
subscriptions, incidents, history, comments, users, groups, secrets.

MariaDB/MySQL, added after this revision was released, gets the same tables with what it
needs and the other two do not (their DDL is unchanged): lengths for the text columns in
keys and indexes (`S`, VARCHAR(255); `SL`, VARCHAR(768), for ids made of other ids), TEXT
for free text (`N`), LONGTEXT and LONGBLOB for JSON and diagrams, DATETIME(6), utf8mb4
tables with the binary collation, and none of the deferred foreign keys (MariaDB checks
every foreign key at once).

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")
S = sa.String().with_variant(sa.String(255), *MYSQL)          # keys and indexed text
SL = sa.String().with_variant(sa.String(768), *MYSQL)         # ids made of other ids
N = sa.String().with_variant(mysql.TEXT(), *MYSQL)            # free text, in no index
T = sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL)
BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), *MYSQL)
I = sa.Integer  # noqa: E741
# MariaDB: InnoDB (row locks, transactions), 4-byte UTF-8, case-sensitive ids and code
# point order, as on the other two
TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def DT():  # noqa: N802
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def FK(target, name, **kw):  # noqa: N802
    """A deferred foreign key (a command inserts children before their new instance row);
    none on MariaDB, whose foreign keys are checked at once: use as `*FK(...)`."""
    if op.get_bind().dialect.name in MYSQL:
        return ()
    return (sa.ForeignKey(target, name=name, deferrable=True, initially="DEFERRED", **kw),)


# one row per history event, for reporting and ad-hoc SQL (the store reads `history`)
HISTORY_VIEW_PG = """
CREATE VIEW history_events AS
SELECT h.seq, e.ord AS position, h.instance_id,
       e.ev ->> 0 AS type, e.ev ->> 1 AS activity_id,
       COALESCE((e.ev ->> 2)::timestamptz, h.time) AS time,
       e.ev ->> 3 AS kind, e.ev ->> 4 AS name, e.ev ->> 5 AS "user", e.ev -> 6 AS detail,
       (e.ev ->> 7)::integer AS token
FROM history h CROSS JOIN LATERAL jsonb_array_elements(h.events::jsonb)
     WITH ORDINALITY AS e(ev, ord)
"""
HISTORY_VIEW_SQLITE = """
CREATE VIEW history_events AS
SELECT h.seq, e.key + 1 AS position, h.instance_id,
       json_extract(e.value, '$[0]') AS type, json_extract(e.value, '$[1]') AS activity_id,
       COALESCE(json_extract(e.value, '$[2]'), h.time) AS time,
       json_extract(e.value, '$[3]') AS kind,
       json_extract(e.value, '$[4]') AS name, json_extract(e.value, '$[5]') AS user,
       json_extract(e.value, '$[6]') AS detail, json_extract(e.value, '$[7]') AS token
FROM history h, json_each(h.events) e
"""
# MariaDB 10.6+ (JSON_TABLE); the event's time is ISO 8601 UTC text ("...T...+00:00")
HISTORY_VIEW_MYSQL = """
CREATE VIEW history_events AS
SELECT h.seq, e.position, h.instance_id, e.type, e.activity_id,
       COALESCE(CAST(SUBSTRING_INDEX(REPLACE(e.time, 'T', ' '), '+', 1) AS DATETIME(6)),
                h.time) AS time,
       e.kind, e.name, e.user, e.detail, e.token
FROM history h, JSON_TABLE(h.events, '$[*]' COLUMNS (
    position FOR ORDINALITY,
    type VARCHAR(255) PATH '$[0]', activity_id VARCHAR(255) PATH '$[1]',
    time VARCHAR(64) PATH '$[2]', kind VARCHAR(255) PATH '$[3]', name TEXT PATH '$[4]',
    user VARCHAR(255) PATH '$[5]', detail JSON PATH '$[6]', token INT PATH '$[7]')) AS e
"""


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", S, primary_key=True),
        sa.Column("name", N),
        sa.Column("time", DT(), nullable=False),
        sa.Column("resources", T, nullable=False),
        **TABLE,
    )
    op.create_table(
        "definitions",
        sa.Column("id", SL, primary_key=True),
        sa.Column("key", S, nullable=False),
        sa.Column("version", I, nullable=False),
        sa.Column("name", N),
        sa.Column("xml", BLOB, nullable=False),
        sa.Column("checksum", S, nullable=False),
        sa.Column("deployment_id", S, *FK("deployments.id", "fk_definitions_deployment"),
                  nullable=False),
        sa.Column("resource", N),
        sa.Column("deployed_at", DT(), nullable=False),
        sa.Column("executable", sa.Boolean, nullable=False),
        sa.Column("has_start_form", sa.Boolean, nullable=False),
        sa.UniqueConstraint("key", "version", name="uq_definitions_key_version"),
        **TABLE,
    )
    op.create_table(
        "instances",
        sa.Column("id", S, primary_key=True),
        sa.Column("definition_id", SL, *FK("definitions.id", "fk_instances_definition"),
                  nullable=False),
        sa.Column("key", S, nullable=False),
        sa.Column("version", I, nullable=False),
        sa.Column("status", S, nullable=False),
        sa.Column("state", T, nullable=False),
        sa.Column("variables", T, nullable=False),
        sa.Column("business_key", S),
        sa.Column("parent_id", S),
        sa.Column("parent_token", I),
        sa.Column("started", DT(), nullable=False),
        sa.Column("ended", DT()),
        sa.Column("revision", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_instances_status_key", "instances", ["status", "key"])
    op.create_index("ix_instances_business_key", "instances", ["business_key"])
    op.create_index("ix_instances_parent", "instances", ["parent_id", "parent_token"])
    op.create_index("ix_instances_definition", "instances", ["definition_id"])
    op.create_index("ix_instances_started", "instances", ["started"])

    op.create_table(
        "tasks",
        sa.Column("id", S, primary_key=True),
        sa.Column("instance_id", S, *FK("instances.id", "fk_tasks_instance"), nullable=False),
        sa.Column("token", I, nullable=False),
        sa.Column("activity_id", S, nullable=False),
        sa.Column("name", N),
        sa.Column("definition_key", S, nullable=False),
        sa.Column("definition_id", SL, nullable=False),
        sa.Column("assignee", S),
        sa.Column("candidate_users", T, nullable=False),
        sa.Column("candidate_groups", T, nullable=False),
        sa.Column("due", DT()),
        sa.Column("follow_up", DT()),
        sa.Column("priority", I, nullable=False),
        sa.Column("form_key", N),
        sa.Column("created", DT(), nullable=False),
        sa.Column("business_key", S),
        sa.Column("process_name", N),
        sa.Column("owner", S),
        sa.Column("delegation", S),
        sa.Column("escalated", I, nullable=False),
        sa.Column("note", T),
        sa.Column("lane", N),
        sa.Column("claimed", DT()),
        sa.Column("revision", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_tasks_instance_token", "tasks", ["instance_id", "token"])
    op.create_index("ix_tasks_assignee_created", "tasks", ["assignee", "created"])
    op.create_index("ix_tasks_created", "tasks", ["created"])
    op.create_index("ix_tasks_definition_key", "tasks", ["definition_key"])

    op.create_table(
        "task_candidates",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("name", S, primary_key=True),
        sa.Column("task_id", S,
                  sa.ForeignKey("tasks.id", name="fk_task_candidates_task", ondelete="CASCADE"),
                  primary_key=True),
        **TABLE,
    )
    op.create_index("ix_task_candidates_task", "task_candidates", ["task_id"])

    op.create_table(
        "jobs",
        sa.Column("id", S, primary_key=True),
        sa.Column("kind", S, nullable=False),
        sa.Column("instance_id", S, *FK("instances.id", "fk_jobs_instance")),
        sa.Column("due", DT(), nullable=False),
        sa.Column("token", I),
        sa.Column("sub", I),
        sa.Column("activity_id", S),
        sa.Column("definition_id", SL),
        sa.Column("retries", I, nullable=False),
        sa.Column("retry_cycle", N),
        sa.Column("lock_owner", S),
        sa.Column("lock_expires", DT()),
        sa.Column("payload", T, nullable=False),
        sa.Column("attempts", I, nullable=False),
        sa.Column("last_error", T),
        sa.Column("created", DT()),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("revision", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_jobs_due", "jobs", ["due"])
    op.create_index("ix_jobs_instance", "jobs", ["instance_id"])
    op.create_index("ix_jobs_definition", "jobs", ["definition_id"])
    op.create_index("ix_jobs_lock_owner", "jobs", ["lock_owner"])

    op.create_table(
        "external_tasks",
        sa.Column("id", S, primary_key=True),
        sa.Column("instance_id", S, *FK("instances.id", "fk_external_tasks_instance"),
                  nullable=False),
        sa.Column("token", I, nullable=False),
        sa.Column("activity_id", S, nullable=False),
        sa.Column("topic", S, nullable=False),
        sa.Column("definition_key", S, nullable=False),
        sa.Column("definition_id", SL, nullable=False),
        sa.Column("created", DT(), nullable=False),
        sa.Column("business_key", S),
        sa.Column("priority", I, nullable=False),
        sa.Column("retries", I),
        sa.Column("worker_id", S),
        sa.Column("lock_expires", DT()),
        sa.Column("error_message", T),
        sa.Column("error_details", T),
        sa.Column("due", DT()),
        sa.Column("revision", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_external_tasks_topic_created", "external_tasks", ["topic", "created"])
    op.create_index("ix_external_tasks_instance_token", "external_tasks",
                    ["instance_id", "token"])

    op.create_table(
        "subscriptions",
        sa.Column("id", SL, primary_key=True),
        sa.Column("kind", S, nullable=False),
        sa.Column("name", S),
        sa.Column("instance_id", S, *FK("instances.id", "fk_subscriptions_instance")),
        sa.Column("sub", I),
        sa.Column("activity_id", S, nullable=False),
        sa.Column("definition_id", SL),
        sa.Column("business_key", S),
        sa.Column("created", DT()),
        **TABLE,
    )
    op.create_index("ix_subscriptions_kind_name", "subscriptions", ["kind", "name"])
    op.create_index("ix_subscriptions_instance", "subscriptions", ["instance_id"])
    op.create_index("ix_subscriptions_definition", "subscriptions", ["definition_id"])

    op.create_table(
        "incidents",
        sa.Column("id", S, primary_key=True),
        sa.Column("type", S, nullable=False),
        sa.Column("instance_id", S),
        sa.Column("activity_id", S),
        sa.Column("message", T, nullable=False),
        sa.Column("created", DT(), nullable=False),
        sa.Column("job_id", S),
        sa.Column("external_task_id", S),
        sa.Column("stack", T),
        sa.Column("resolved", DT()),
        sa.Column("revision", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_incidents_resolved_created", "incidents", ["resolved", "created"])
    op.create_index("ix_incidents_instance", "incidents", ["instance_id"])
    op.create_index("ix_incidents_job", "incidents", ["job_id"])
    op.create_index("ix_incidents_external_task", "incidents", ["external_task_id"])

    op.create_table(
        "history",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("instance_id", S, nullable=False),
        sa.Column("time", DT(), nullable=False),
        sa.Column("events", T, nullable=False),
        **TABLE,
    )
    op.create_index("ix_history_instance_seq", "history", ["instance_id", "seq"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(HISTORY_VIEW_PG)
    elif dialect in MYSQL:
        op.execute(HISTORY_VIEW_MYSQL)
    else:
        op.execute(HISTORY_VIEW_SQLITE)

    op.create_table(
        "comments",
        sa.Column("id", S, primary_key=True),
        sa.Column("instance_id", S, nullable=False),
        sa.Column("task_id", S),
        sa.Column("author", S, nullable=False),
        sa.Column("text", T, nullable=False),
        sa.Column("time", DT(), nullable=False),
        **TABLE,
    )
    op.create_index("ix_comments_instance", "comments", ["instance_id"])
    op.create_index("ix_comments_task", "comments", ["task_id"])

    op.create_table(
        "users",
        sa.Column("id", S, primary_key=True),
        sa.Column("name", N, nullable=False),
        sa.Column("password_hash", N, nullable=False),
        sa.Column("roles", T, nullable=False),
        sa.Column("email", N),
        sa.Column("deputy", S),
        sa.Column("away_from", DT()),
        sa.Column("away_until", DT()),
        sa.Column("api_token", S),
        **TABLE,
    )
    op.create_index("ix_users_api_token", "users", ["api_token"])
    op.create_table(
        "groups",
        sa.Column("id", S, primary_key=True),
        sa.Column("name", N, nullable=False),
        **TABLE,
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", S,
                  sa.ForeignKey("users.id", name="fk_memberships_user", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("group_id", S, primary_key=True),
        sa.Column("position", I, nullable=False),
        **TABLE,
    )
    op.create_index("ix_memberships_group", "memberships", ["group_id"])
    op.create_table(
        "secrets",
        sa.Column("name", S, primary_key=True),
        sa.Column("value", T, nullable=False),
        **TABLE,
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS history_events")
    for name in ("secrets", "memberships", "groups", "users", "comments", "history",
                 "incidents", "subscriptions", "external_tasks", "jobs", "task_candidates",
                 "tasks", "instances", "definitions", "deployments"):
        op.drop_table(name)
