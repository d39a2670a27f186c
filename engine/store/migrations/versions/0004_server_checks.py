"""`baton_check(ok, what)` on PostgreSQL: a check the server makes inside the command's own
batch, so the batch can end with its COMMIT.

The SQL store sends a command's writes and its COMMIT in one round trip. Some writes must
change exactly one row (a task updated only if nobody changed it since it was read), and
some facts must still hold at commit (no newer version of the definition an instance was
started from, when the store answered "latest" from its cache). Counted on the client,
each of these cost a second round trip before the COMMIT; checked by the server, a miss
raises serialization_failure (SQLSTATE 40001) right there: the transaction aborts, the
COMMIT that follows turns into nothing, and the command is retried like any other conflict.

SQLite runs every statement in-process, one at a time, and checks row counts as it goes:
nothing to add there. MariaDB runs the same portable path (statements one at a time,
row counts checked by the client), so it has no such function either.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-05
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CREATE = """
CREATE OR REPLACE FUNCTION baton_check(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'changed concurrently: %', what USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS baton_check(boolean, text)")
