"""A PostgreSQL batch sent with libpq directly, its results read without a cursor.

Why: a command's writes, guards and COMMIT go to the server as one simple-protocol query
(`SqlTx._send`) whose results nobody reads. psycopg's cursor wraps each execute in a
generator-driven send/wait loop, query conversion and result bookkeeping: about 86,000
client-side CPU instructions per call here, against about 2,500 for `PQexec` (callgrind,
a 2 KB batch), on every committing command. `PQexec` stops at the first failing statement
and hands back its error, which becomes the same `psycopg.Error` subclass the cursor would
raise (same SQLSTATE), so the callers' handling of conflicts and lost statements is
unchanged. psycopg's C implementation releases the GIL around `PQexec`, so other threads
run while the server works.

A batch whose reads return rows (`exec_rows`) is sent with `PQsendQuery` and its results
taken one statement at a time; rows are made by psycopg's own Transformer, the object its
cursors use, so each value comes back as the cursor would give it. The wait for the
server is a `poll` on the socket, which releases the GIL. The cursor took about 86,000
instructions a call here too, a tenth of a PostgreSQL user-task lifecycle's client side.
"""

from __future__ import annotations

import select
from typing import Any

# libpq's ExecStatusType values that mean the batch ran (COMMAND_OK, TUPLES_OK)
OK_STATUSES = frozenset({1, 2})
TUPLES_OK = 2


def exec_batch(raw: Any, text: str) -> None:
    """Run `text` (statements separated by semicolons) on the psycopg connection `raw`;
    raise the server's error as psycopg would."""
    import psycopg

    result = raw.pgconn.exec_(text.encode(raw.info.encoding))
    if result.status not in OK_STATUSES:
        raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)


def exec_rows(raw: Any, text: str, transformer: Any) -> list[list[tuple[Any, ...]]]:
    """Run `text` on the psycopg connection `raw` and return each statement's rows, in
    order (an empty list for a statement that returns none); raise the first failing
    statement's error as psycopg would, once the server has answered all of the batch
    (the connection is then ready for the ROLLBACK). `transformer`: a
    `psycopg.adapt.Transformer` of `raw`, kept by the caller."""
    import psycopg

    pgconn = raw.pgconn
    encoding = raw.info.encoding
    pgconn.send_query(text.encode(encoding))
    results = []
    poller = None
    while True:
        while pgconn.is_busy():
            if poller is None:
                poller = select.poll()
                poller.register(pgconn.socket, select.POLLIN)
            poller.poll()
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            break
        results.append(result)
    out: list[list[tuple[Any, ...]]] = []
    for result in results:
        if result.status not in OK_STATUSES:
            raise psycopg.errors.error_from_result(result, encoding=encoding)
        if result.status == TUPLES_OK and result.ntuples:
            transformer.set_pgresult(result)
            out.append(transformer.load_rows(0, result.ntuples, tuple))
        else:
            out.append([])
    return out
