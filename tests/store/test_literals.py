"""PostgreSQL: the store writes the parameters of its batches as SQL literals itself
(`engine.store.fastexec.literals`), faster than psycopg's `mogrify`. Text that is written
into SQL must come back exactly as it went in, whatever it holds: quotes, backslashes,
comment markers, statement separators. Values it does not write itself go to psycopg."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from engine.store.fastexec import literals

pytestmark = pytest.mark.postgres

TRICKY_TEXT = [
    "", "plain", "it's", "''", "'); DROP TABLE tasks; --", "back\\slash", "\\'", "$1",
    "$$ dollar $$", "%s %(name)s", "line\nbreak\ttab", "ünïcødé ✓ 日本", "a" * 5000,
    "E'x'", "/* not a comment */", "\\x00 is not a NUL",
]
OTHERS: list[Any] = [
    None, True, False, 0, -1, 2**62, -(2**62), 1.5, -0.25,
    datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
]
FALLBACK: list[Any] = [b"\x00\x01bytes", Decimal("1.10"), [1, 2]]


@pytest.fixture
def conn(pg_url: str) -> Iterator[Any]:
    psycopg = pytest.importorskip("psycopg")
    from engine.store.sql import normalize_url

    with psycopg.connect(normalize_url(pg_url).replace("postgresql+psycopg://",
                                                       "postgresql://")) as c:
        assert c.info.parameter_status("standard_conforming_strings") == "on"
        yield c


def round_trip(conn: Any, values: list[Any]) -> list[Any]:
    import psycopg

    cur = psycopg.ClientCursor(conn)
    row = conn.execute(f"SELECT {literals(values, cur)}").fetchone()
    return list(row)


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_text_comes_back_as_it_went_in(conn: Any, text: str) -> None:
    assert round_trip(conn, [text, "after"]) == [text, "after"]


def test_numbers_none_booleans_and_aware_datetimes(conn: Any) -> None:
    got = round_trip(conn, OTHERS)
    assert got[:6] == OTHERS[:6]
    assert [float(v) for v in got[7:9]] == OTHERS[7:9]
    assert got[9] == OTHERS[9] and got[10] == OTHERS[10]


def test_values_it_does_not_write_itself_go_to_psycopg(conn: Any) -> None:
    import psycopg

    got = round_trip(conn, ["it's", *FALLBACK])
    assert got == ["it's", *FALLBACK]
    # an array of text, as job acquisition passes ids (`= ANY($1::VARCHAR[])`)
    text = literals([["a", "b'c", "); --"]], psycopg.ClientCursor(conn))
    assert conn.execute(f"SELECT ({text})::varchar[]").fetchone()[0] == ["a", "b'c", "); --"]


def test_a_nul_character_is_refused_not_cut(conn: Any) -> None:
    import psycopg

    with pytest.raises(psycopg.DataError):
        round_trip(conn, ["before\x00after"])
