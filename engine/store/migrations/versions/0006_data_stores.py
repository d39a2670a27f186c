"""Data stores shared between process instances (BPMN dataStore / dataStoreReference).

A diagram's dataStore is a named value that outlives the instances using it: an activity
with a data output association writes it, any later instance reading it gets the value
(SpiffWorkflow's data stores). One row per store name, the value as JSON text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-01-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_stores",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("data_stores")
