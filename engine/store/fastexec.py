"""Running SQLAlchemy Core statements straight on the DBAPI cursor.

The store's statements are SQLAlchemy Core expressions (one source of truth for table and
column names, dialect-correct SQL), but a command runs a handful of tiny statements and
SQLAlchemy's per-execution machinery (cache-key generation, execution context, result
objects, type processors) costs more than the round trip to a local PostgreSQL. So each
statement is compiled once per dialect; executing it is then one DBAPI call plus the few
conversions the types need (UTC datetimes on SQLite and MariaDB, booleans), derived from
the same column types.

On PostgreSQL every statement is `PREPARE`d on the server under a name of its own, so
several of them run as `EXECUTE`s in one multi-statement round trip without being planned
again (see `SqlTx._send`); reads too, so psycopg's own prepared statements are switched
off (its every rollback would `DEALLOCATE ALL`, ours included). Statements with expanding
IN parameters (lists) go through the normal SQLAlchemy path.

Which names a database session holds is tracked per connection (`SessionStatements`), and
that bookkeeping is never trusted past a failure: a batch that fails half-way has run some
of its `PREPARE`s and not others, a pooler may reset the session. Guessing there is how
"prepared statement already exists" (and "does not exist") used to fail commands; after
any of these the next batch asks the server instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from engine.store.schema import UTCDateTime

Conv = Callable[[Any], Any] | None


_names = itertools.count(1)      # process-wide: no two Prepared objects share a name
SERVER_PREFIX = "baton_"
CHECK_PARAM = "baton_check_what"   # the parameter naming what a checked write guards


def _dollar_dialect() -> Any:
    """A PostgreSQL dialect that renders `$1, $2, ...` placeholders (the asyncpg dialect's
    compiler; nothing of asyncpg is imported or needed)."""
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    return PGDialect_asyncpg()


_DOLLAR = _dollar_dialect()


def _sqlite_dt_in(v: Any) -> Any:
    if v is None:
        return None
    if v.tzinfo is not None:
        v = v.astimezone(UTC)
    # SQLAlchemy's SQLite DATETIME text format: fixed width, so text order = time order
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:"
            f"{v.second:02d}.{v.microsecond:06d}")


def _sqlite_dt_out(v: Any) -> Any:
    if v is None:
        return None
    return datetime.fromisoformat(v).replace(tzinfo=UTC)


def _pg_dt_in(v: Any) -> Any:
    if v is None or v.tzinfo is not None:
        return v
    return v.replace(tzinfo=UTC)


def _pg_dt_out(v: Any) -> Any:
    if v is None or v.tzinfo is UTC:
        return v
    return v.astimezone(UTC)


def _naive_utc_in(v: Any) -> Any:
    """MariaDB's DATETIME(6) holds UTC without a zone (PyMySQL would drop one unread)."""
    if v is None or v.tzinfo is None:
        return v
    return v.astimezone(UTC).replace(tzinfo=None)


def _naive_utc_out(v: Any) -> Any:
    return None if v is None else v.replace(tzinfo=UTC)


# (datetime in, datetime out) per SQLAlchemy dialect name
_DATETIMES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "sqlite": (_sqlite_dt_in, _sqlite_dt_out),
    "postgresql": (_pg_dt_in, _pg_dt_out),
    "mysql": (_naive_utc_in, _naive_utc_out),
    "mariadb": (_naive_utc_in, _naive_utc_out),
}


def _bool_out(v: Any) -> Any:
    return None if v is None else bool(v)


class Prepared:
    """One statement compiled for one dialect, with its parameter and column converters."""

    __slots__ = ("sql", "names", "defaults", "in_conv", "out_conv", "positional", "locks",
                 "stmt", "keys", "server_name", "_server", "_checked")

    def __init__(self, stmt: Any, dialect: Any, keys: tuple[str, ...] | None = None) -> None:
        # `keys`: for INSERT/UPDATE, the columns to write (bind names = column names)
        self.stmt = stmt
        self.keys = keys
        # named now, not when first prepared: threads sharing this object agree on the name
        self.server_name = f"{SERVER_PREFIX}{next(_names)}"
        self._server: tuple[str, str, list[str]] | None = None
        self._checked: tuple[str, str, list[str]] | None = None
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql = str(compiled)
        self.locks = "FOR UPDATE" in self.sql       # a locking read: inside a transaction
        dt_in, dt_out = _DATETIMES.get(dialect.name, _DATETIMES["postgresql"])
        ints_for_bools = dialect.name != "postgresql"     # SQLite and MariaDB give 0 and 1
        self.positional = bool(compiled.positional)
        self.names: list[str] = list(compiled.positiontup or []) if self.positional \
            else list(compiled.binds)
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.in_conv: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            if isinstance(bind.type, UTCDateTime):
                self.in_conv[name] = dt_in
        out: list[Conv] = []
        if getattr(stmt, "selected_columns", None) is not None and getattr(stmt, "is_select",
                                                                            False):
            for col in stmt.selected_columns:
                t = col.type
                if isinstance(t, UTCDateTime):
                    out.append(dt_out)
                elif isinstance(t, sa.Boolean) and ints_for_bools:
                    out.append(_bool_out)
                else:
                    out.append(None)
        self.out_conv: list[tuple[int, Callable[[Any], Any]]] = [
            (i, f) for i, f in enumerate(out) if f is not None]

    def params(self, given: dict[str, Any] | None) -> Any:
        """DBAPI parameters from a dict by bind name (a missing name raises KeyError)."""
        p = dict(self.defaults)
        if given:
            p.update(given)
        for name, conv in self.in_conv.items():
            if name in p:
                p[name] = conv(p[name])
        if self.positional:
            return tuple(p[n] for n in self.names)
        return p

    def server_prepared(self) -> tuple[str, str, list[str]]:
        """PostgreSQL: (name, `$n` SQL, bind names in `$n` order) for `PREPARE name AS ...`,
        so the statement can run as `EXECUTE name(...)` inside a multi-statement query
        without being planned again."""
        if self._server is None:
            compiled = self.stmt.compile(dialect=_DOLLAR,
                                         column_keys=list(self.keys) if self.keys else None)
            self._server = (self.server_name, str(compiled), list(compiled.positiontup or []))
        return self._server

    def server_checked(self) -> tuple[str, str, list[str]]:
        """PostgreSQL: this INSERT/UPDATE/DELETE as a statement the server itself refuses
        unless it changed exactly one row (`baton_check`, migration 0004, raises
        serialization_failure with the text in the `CHECK_PARAM` parameter). A checked
        write can then travel in the same round trip as the COMMIT: a miss aborts the
        transaction there, instead of the client counting rows before it dares commit."""
        if self._checked is None:
            name, sql, order = self.server_prepared()
            self._checked = (f"{name}_c", f"WITH w AS ({sql} RETURNING 1) SELECT "
                             f"baton_check(count(*) = 1, ${len(order) + 1}::text) FROM w",
                             [*order, CHECK_PARAM])
        return self._checked

    def rows(self, raw: Sequence[Any]) -> list[Any]:
        conv = self.out_conv
        if not conv:
            return list(raw)
        out = []
        for r in raw:
            r = list(r)
            for i, f in conv:
                r[i] = f(r[i])
            out.append(r)
        return out


def literals(values: list[Any], cur: Any) -> str:
    """`values` as SQL literals separated by commas, for an `EXECUTE name(...)` of the
    simple-protocol batch (see `SqlTx._send`).

    The store's parameters are nearly all text, integers, None, booleans and aware
    datetimes; writing those here costs a fraction of psycopg's general `mogrify` (adapter
    lookup, dumper objects, encoding per value), which was the largest client-side cost of
    a command. Text is quoted the standard way (quotes doubled, backslashes literal): only
    valid with `standard_conforming_strings` on, which the caller checks per session.
    Anything else (bytes, decimals, NUL characters, naive datetimes, non-finite floats) goes
    to psycopg's `mogrify` on `cur`, a `ClientCursor`, as a whole."""
    out: list[str] = []
    for v in values:
        kind = type(v)
        if kind is str:
            if "\x00" in v:
                break
            out.append("'" + v.replace("'", "''") + "'" if "'" in v else "'" + v + "'")
        elif v is None:
            out.append("NULL")
        elif kind is int:
            out.append(str(v))
        elif kind is bool:
            out.append("true" if v else "false")
        elif kind is datetime and v.tzinfo is not None:
            out.append(f"'{v.isoformat()}'::timestamptz")
        elif kind is float and v == v and v not in (float("inf"), float("-inf")):
            out.append(repr(v))
        else:
            break
    else:
        return ", ".join(out)
    return str(cur.mogrify(", ".join(["%s"] * len(values)), values))


class FastExec:
    """Compiled statements of one SQL store (one per dialect), run on a raw connection."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.cache: dict[tuple[int, Any], tuple[Any, Prepared]] = {}

    def prepared(self, stmt: Any, keys: tuple[str, ...] | None = None) -> Prepared:
        """The compiled form of `stmt` (a long-lived statement object: cached by identity)."""
        got = self.cache.get((id(stmt), keys))
        if got is None or got[0] is not stmt:
            got = (stmt, Prepared(stmt, self.dialect, keys))
            self.cache[(id(stmt), keys)] = got
        return got[1]


class SessionStatements:
    """The statements `PREPARE`d on one PostgreSQL session (kept in the pool's per-connection
    `info`). `unsure` means the bookkeeping may be wrong (see the module docstring): the
    next batch re-reads the names from the server before deciding what to prepare."""

    __slots__ = ("names", "unsure", "batcher", "transformer")

    INFO_KEY = "baton_statements"

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.unsure = False
        # the session's ClientCursor for the store's batches, kept (a new one per query
        # costs more), and the Transformer that makes the rows of their reads
        self.batcher: Any = None
        self.transformer: Any = None

    @classmethod
    def of(cls, info: dict[str, Any]) -> SessionStatements:
        """The bookkeeping of the connection whose pool `info` dict this is."""
        got = info.get(cls.INFO_KEY)
        if got is None:
            got = info[cls.INFO_KEY] = cls()
        return got

    def resync(self, raw: Any) -> None:
        """Take the names from the server (`raw`: a psycopg connection in a usable state)."""
        rows = raw.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE %s",
                           (SERVER_PREFIX.replace("_", r"\_") + "%",), prepare=False)
        self.names = {r[0] for r in rows.fetchall()}
        self.unsure = False

    @staticmethod
    def standard_strings(raw: Any) -> bool:
        """Whether the session reads backslashes in '...' literally (`literals` may quote
        text itself). PostgreSQL reports the setting whenever it changes, and libpq keeps
        the last report: asking costs nothing, so it is asked for every batch."""
        return bool(raw.pgconn.parameter_status(b"standard_conforming_strings") == b"on")
