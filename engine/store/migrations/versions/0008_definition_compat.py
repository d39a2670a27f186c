"""The migration mode a process definition was deployed in (`compat`, e.g. "spiffworkflow").

A deployment may ask Baton to read its diagrams as the engine they were written for reads
them (engine.bpmn.compat: SpiffWorkflow's multi-instance data rules). The mode changes the
compiled graph, so it is stored with the definition: a process that loads the definition
later (a restart, another worker) compiles the same graph. Definitions deployed before
this revision were read the Camunda 7 way, which is what NULL means.

Revision ID: 0008
Revises: 0007
Create Date: 2026-01-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # VARCHAR(255) on MariaDB, which wants a length (as the other columns of the table)
    op.add_column("definitions", sa.Column(
        "compat", sa.String().with_variant(sa.String(255), "mysql", "mariadb"),
        nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("definitions") as batch:
        batch.drop_column("compat")
