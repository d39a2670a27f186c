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
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MYSQL = ("mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "data_stores",
        sa.Column("name", sa.String().with_variant(sa.String(255), *MYSQL), primary_key=True),
        sa.Column("value", sa.Text().with_variant(mysql.LONGTEXT(), *MYSQL), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True).with_variant(
            mysql.DATETIME(fsp=6), *MYSQL), nullable=False),
        # MariaDB: as the tables of migration 0001
        mysql_engine="InnoDB", mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    )


def downgrade() -> None:
    op.drop_table("data_stores")
