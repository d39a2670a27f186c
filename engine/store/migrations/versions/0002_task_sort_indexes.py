"""Indexes for the tasklist's other sort orders (by due date, by priority).

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_due", "tasks", ["due"])
    op.create_index("ix_tasks_priority", "tasks", ["priority"])


def downgrade() -> None:
    op.drop_index("ix_tasks_priority", table_name="tasks")
    op.drop_index("ix_tasks_due", table_name="tasks")
