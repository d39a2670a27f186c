"""Tasklist pages that stay fast with 100,000 open tasks.

- `task_candidates` gets copies of its task's sort columns (created, due, priority) and an
  "unassigned" flag, indexed as (kind, name, unassigned, <column>, task_id): a page of "My
  groups" is one short index walk per group instead of checking every unassigned task;
- the task sort indexes get the id (every task order's tie-breaker) as their last column,
  so a page sorted by created, due or priority reads only that page's index entries;
- likewise the instance list (newest first, optionally of one status).

Existing candidate rows are filled from their tasks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SORT_COLUMNS = ("created", "due", "priority")
MYSQL = ("mysql", "mariadb")

# row-value assignment from a correlated subquery: PostgreSQL and SQLite >= 3.15 alike
FILL_CANDIDATES = """
UPDATE task_candidates SET (unassigned, created, due, priority) = (
    SELECT t.assignee IS NULL, t.created, t.due, t.priority
    FROM tasks t WHERE t.id = task_candidates.task_id)
"""
# MariaDB has no row-value SET: the same as an UPDATE of a join
FILL_CANDIDATES_MYSQL = """
UPDATE task_candidates c JOIN tasks t ON t.id = c.task_id
SET c.unassigned = t.assignee IS NULL, c.created = t.created, c.due = t.due,
    c.priority = t.priority
"""


def DT():  # noqa: N802
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def upgrade() -> None:
    op.add_column("task_candidates", sa.Column("unassigned", sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.add_column("task_candidates", sa.Column("created", DT()))
    op.add_column("task_candidates", sa.Column("due", DT()))
    op.add_column("task_candidates", sa.Column("priority", sa.Integer()))
    op.execute(FILL_CANDIDATES_MYSQL if op.get_bind().dialect.name in MYSQL
               else FILL_CANDIDATES)
    for col in SORT_COLUMNS:
        op.create_index(f"ix_task_candidates_{col}", "task_candidates",
                        ["kind", "name", "unassigned", col, "task_id"])
        op.drop_index(f"ix_tasks_{col}", table_name="tasks")
        op.create_index(f"ix_tasks_{col}", "tasks", [col, "id"])
    op.drop_index("ix_instances_started", table_name="instances")
    op.create_index("ix_instances_started", "instances", ["started", "id"])
    op.create_index("ix_instances_status_started", "instances", ["status", "started", "id"])


def downgrade() -> None:
    op.drop_index("ix_instances_status_started", table_name="instances")
    op.drop_index("ix_instances_started", table_name="instances")
    op.create_index("ix_instances_started", "instances", ["started"])
    for col in SORT_COLUMNS:
        op.drop_index(f"ix_tasks_{col}", table_name="tasks")
        op.create_index(f"ix_tasks_{col}", "tasks", [col])
        op.drop_index(f"ix_task_candidates_{col}", table_name="task_candidates")
    with op.batch_alter_table("task_candidates") as batch:
        for col in ("priority", "due", "created", "unassigned"):
            batch.drop_column(col)
