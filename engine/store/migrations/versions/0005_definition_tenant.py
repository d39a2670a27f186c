"""A tenant id on process definitions (Camunda's `tenant-id` deployment field).

Tenants are a label of a definition: external task workers fetch the tasks of some
tenants only (`tenantIdIn`, `withoutTenantId`), and the REST answers carry it. Existing
definitions belong to no tenant (NULL).

Revision ID: 0005
Revises: 0004
Create Date: 2026-01-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # VARCHAR(255) on MariaDB, which wants a length (as for every id of migration 0001)
    op.add_column("definitions", sa.Column(
        "tenant_id", sa.String().with_variant(sa.String(255), "mysql", "mariadb"),
        nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("definitions") as batch:
        batch.drop_column("tenant_id")
