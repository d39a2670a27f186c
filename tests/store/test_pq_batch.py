"""A PostgreSQL batch with reads, sent with libpq and read without a cursor
(engine/store/pq_batch.py): the same rows a psycopg cursor gives, the same errors, and a
connection left ready for the next statement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.adapt import Transformer

from engine.store.pq_batch import exec_rows

pytestmark = pytest.mark.postgres

BATCH = ("BEGIN; CREATE TEMP TABLE t (id int, at timestamptz, ok bool, name text, doc jsonb, "
         "n numeric); INSERT INTO t VALUES (1, '2026-01-02 03:04:05.678+00', true, 'it''s', "
         "'{\"a\": [1, 2]}', 1.5), (2, NULL, false, NULL, NULL, NULL); "
         "SELECT * FROM t ORDER BY id; SELECT count(*) FROM t WHERE false; "
         "SELECT 'x' || repeat('y', 3); COMMIT")


@pytest.fixture
def conn(pg_url: str) -> Iterator[Any]:
    c = psycopg.connect(pg_url, autocommit=True)
    try:
        yield c
    finally:
        c.close()


def test_rows_are_what_a_cursor_gives(conn: Any) -> None:
    got = exec_rows(conn, BATCH, Transformer(conn))
    assert len(got) == 7                             # one entry per statement
    assert got[0] == got[1] == got[2] == got[6] == []
    with psycopg.ClientCursor(conn) as cur:
        cur.execute(BATCH.replace("CREATE TEMP TABLE t", "CREATE TEMP TABLE u")
                    .replace("INTO t", "INTO u").replace("FROM t", "FROM u"))
        for _ in range(3):
            cur.nextset()
        assert got[3] == cur.fetchall()
        cur.nextset()
        assert got[4] == cur.fetchall() == [(0,)]
        cur.nextset()
        assert got[5] == cur.fetchall() == [("xyyy",)]
    first = got[3][0]
    assert first[1].utcoffset().total_seconds() == 0 and first[1].microsecond == 678000
    assert first[2:5] == (True, "it's", {"a": [1, 2]})
    assert got[3][1][1:] == (None, False, None, None, None)


def test_an_error_half_way_raises_as_psycopg_and_leaves_the_connection_usable(
        conn: Any) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable) as caught:
        exec_rows(conn, "BEGIN; SELECT 1; SELECT * FROM no_such_table; SELECT 2; COMMIT",
                  Transformer(conn))
    assert caught.value.sqlstate == "42P01" and "no_such_table" in str(caught.value)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    conn.rollback()
    assert exec_rows(conn, "SELECT 41 + 1", Transformer(conn)) == [[(42,)]]


def test_a_result_larger_than_one_network_read_arrives_whole(conn: Any) -> None:
    (rows,) = exec_rows(conn, "SELECT g, repeat('z', 1000) FROM generate_series(1, 5000) g",
                        Transformer(conn))
    assert len(rows) == 5000 and rows[-1] == (5000, "z" * 1000)
