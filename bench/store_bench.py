"""Persisted lifecycle throughput: Baton's SQL store against SpiffWorkflow + its JSON
serializer, on SQLite and PostgreSQL, measured in the same run on the same database.

Two lifecycles, each instance in its own transactions (what a server does per request):
- straight: ../shared/bench-models/straight.bpmn (ten script tasks), start to end in one
  command;
- user task: start -> userTask -> end; start (one transaction), then complete the task
  (another transaction).

Baton runs through the `Engine` facade on `SqlStore` (state, variables, tasks and history
rows, optimistic locking). SpiffWorkflow runs the same diagram and stores the serialized
workflow (`BpmnWorkflowSerializer.serialize_json`) in a table of the same database, one
INSERT per start and SELECT + UPDATE per completion, on the raw DBAPI connection (no ORM,
nothing extra), committing each time like Baton. Baton learns the new task's id from the
engine's `task_created` notification, as Spiff keeps the workflow id: neither side
searches the task list.

Figures are medians of several runs, Baton and SpiffWorkflow taking turns so both see the
same machine load (the ratio is the median of the per-turn ratios); single-threaded, and
with `--threads N` also with N client threads sharing one engine.

Usage: python bench/store_bench.py [--quick] [--db sqlite,postgres] [--pg-url URL]
                                   [--threads 1,4] [-n N] [--async-commit]
PostgreSQL: --pg-url or $BATON_BENCH_PG_URL (default postgresql://postgres@127.0.0.1/test);
the bench works in a schema of its own and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODELS = ROOT.parent / "shared" / "bench-models"
STRAIGHT = MODELS / "straight.bpmn"
USER_TASK = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_one"
    targetNamespace="http://example.org/bpmn-bench">
  <bpmn:process id="one_task" name="One user task" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="review">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
PG_DEFAULT = "postgresql://postgres@127.0.0.1/test"
GOALS = {("postgresql", "straight"): 1000.0, ("postgresql", "user task"): 300.0}


# ============================================================================ databases
class Database:
    """A fresh database for one backend: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, pg_url: str, async_commit: bool = False) -> None:
        self.kind = kind
        self._schema: str | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kind == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix="baton-bench-")
            self.url = f"sqlite:///{self._tmp.name}/bench.db"
        else:
            import psycopg

            self._base = pg_url
            self._schema = f"baton_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(pg_url, autocommit=True) as c:
                c.execute(f'CREATE SCHEMA "{self._schema}"')
            from urllib.parse import urlencode, urlsplit, urlunsplit

            parts = urlsplit(pg_url)
            options = f"-csearch_path={self._schema}"
            if async_commit:
                options += " -csynchronous_commit=off"
            query = "&".join(p for p in [parts.query, urlencode({"options": options})] if p)
            self.url = urlunsplit(parts._replace(query=query))

    def drop(self) -> None:
        if self._schema is not None:
            import psycopg

            with psycopg.connect(self._base, autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{self._schema}" CASCADE')
        if self._tmp is not None:
            self._tmp.cleanup()


# ============================================================================ Baton
class BatonSide:
    def __init__(self, url: str) -> None:
        from engine.service import Engine
        from engine.store.sql import SqlStore

        self.store = SqlStore(url, auto_upgrade=True)
        self.engine = Engine(store=self.store)
        self.engine.deploy(STRAIGHT)
        self.engine.deploy(USER_TASK)
        self.local = threading.local()
        self.engine.listeners.append(self._note)

    def _note(self, kind: str, obj: Any) -> None:
        if kind == "task_created":
            self.local.task = obj.id

    def straight(self) -> None:
        iid = self.engine.start("straight", {"x": 0})
        assert iid

    def user_task(self) -> None:
        self.engine.start("one_task", {"x": 0})
        self.engine.complete_task(self.local.task, {"ok": True})

    def check(self) -> str:
        done = self.engine.instances(status="completed")
        running = self.engine.instances(status="running")
        assert not running, f"{len(running)} Baton instances did not complete"
        return f"{len(done)} Baton instances completed"

    def close(self) -> None:
        self.store.close()


# ============================================================================ SpiffWorkflow
class SpiffSide:
    """SpiffWorkflow 3.2 with its JSON serializer, one row per workflow in the same DB."""

    def __init__(self, url: str, kind: str) -> None:
        import sqlalchemy as sa
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        from engine.store.sql import normalize_url

        self.BpmnWorkflow = BpmnWorkflow
        self.ready = TaskState.READY
        parser = BpmnParser()
        parser.add_bpmn_file(str(STRAIGHT))
        parser.add_bpmn_str(USER_TASK)
        self.specs = {k: parser.get_spec(k) for k in ("straight", "one_task")}
        self.serializer = BpmnWorkflowSerializer()
        self.engine = sa.create_engine(normalize_url(url), pool_size=16)
        self.ph = "?" if kind == "sqlite" else "%s"
        with self.engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE IF NOT EXISTS spiff_workflows (id VARCHAR PRIMARY "
                              "KEY, status VARCHAR NOT NULL, workflow TEXT NOT NULL)")
        self.local = threading.local()

    def _conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.engine.raw_connection()
        return conn

    def _save(self, wid: str, wf: Any, insert: bool) -> None:
        data = self.serializer.serialize_json(wf)
        status = "completed" if wf.is_completed() else "running"
        conn = self._conn()
        cur = conn.cursor()
        p = self.ph
        if insert:
            cur.execute(f"INSERT INTO spiff_workflows (id, status, workflow) VALUES ({p},{p},{p})",
                        (wid, status, data))
        else:
            cur.execute(f"UPDATE spiff_workflows SET status = {p}, workflow = {p} WHERE id = {p}",
                        (status, data, wid))
        conn.commit()

    def _load(self, wid: str) -> Any:
        conn = self._conn()
        cur = conn.cursor()
        cur.execute(f"SELECT workflow FROM spiff_workflows WHERE id = {self.ph}", (wid,))
        (data,) = cur.fetchone()
        conn.commit()
        return self.serializer.deserialize_json(data)

    def _start(self, key: str) -> tuple[str, Any]:
        wf = self.BpmnWorkflow(self.specs[key])
        wf.task_tree.data.update({"x": 0})
        wf.do_engine_steps()
        wid = uuid.uuid4().hex
        self._save(wid, wf, insert=True)
        return wid, wf

    def straight(self) -> None:
        _, wf = self._start("straight")
        assert wf.is_completed()

    def user_task(self) -> None:
        wid, _ = self._start("one_task")
        wf = self._load(wid)
        (task,) = wf.get_tasks(state=self.ready, manual=True)
        task.data.update({"ok": True})
        task.run()
        wf.do_engine_steps()
        self._save(wid, wf, insert=False)
        assert wf.is_completed()

    def check(self) -> str:
        with self.engine.connect() as c:
            rows = dict(c.exec_driver_sql(
                "SELECT status, count(*) FROM spiff_workflows GROUP BY status").fetchall())
        assert set(rows) <= {"completed"}, rows
        return f"{rows.get('completed', 0)} SpiffWorkflow workflows completed"

    def close(self) -> None:
        self.engine.dispose()


# ============================================================================ measuring
def one_run(fn: Callable[[], None], n: int, threads: int) -> float:
    """Instances/s of one run of n instances split over `threads` client threads."""
    per = max(1, n // threads)
    errors: list[BaseException] = []

    def work(count: int = per) -> None:
        try:
            for _ in range(count):
                fn()
        except BaseException as e:  # noqa: BLE001 - reported after the run
            errors.append(e)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise errors[0]
    return per * threads / elapsed


def paired_rates(b_fn: Callable[[], None], s_fn: Callable[[], None], n: int, sn: int,
                 repeats: int, threads: int) -> tuple[float, float, float]:
    """Baton and SpiffWorkflow runs taken in turns (so both see the same machine load):
    median Baton rate, median Spiff rate, median of the per-round ratios."""
    b_rates, s_rates = [], []
    for _ in range(repeats):
        b_rates.append(one_run(b_fn, n, threads))
        s_rates.append(one_run(s_fn, sn, threads))
    ratios = [b / s for b, s in zip(b_rates, s_rates, strict=True)]
    return statistics.median(b_rates), statistics.median(s_rates), statistics.median(ratios)


def run_backend(kind: str, pg_url: str, n: int, sn: int, repeats: int,
                thread_counts: list[int],
                async_commit: bool = False) -> list[tuple[str, int, float, float]]:
    db = Database(kind, pg_url, async_commit)
    baton = spiff = None
    results = []
    try:
        baton = BatonSide(db.url)
        spiff = SpiffSide(db.url, kind)
        for fn in (baton.straight, baton.user_task, spiff.straight, spiff.user_task):
            for _ in range(20):
                fn()                                        # warm caches, prepare statements
        for threads in thread_counts:
            for label, b_fn, s_fn in (("straight", baton.straight, spiff.straight),
                                      ("user task", baton.user_task, spiff.user_task)):
                b, s, ratio = paired_rates(b_fn, s_fn, n, sn, repeats, threads)
                results.append((label, threads, b, s))
                goal = GOALS.get((kind, label))
                mark = ""
                if goal is not None and threads == 1:
                    mark = "  goal " + ("met" if b >= goal else "MISSED") + f" (>= {goal:.0f}/s)"
                print(f"  {kind:10s} {label:9s} threads={threads}  baton {b:7.0f}/s   "
                      f"spiffworkflow {s:6.0f}/s   ratio {ratio:5.1f}x"
                      f"{'  (>= 10x met)' if ratio >= 10 else '  (< 10x)'}{mark}",
                      flush=True)
        print(f"  {kind:10s} check: {baton.check()}; {spiff.check()}")
    finally:
        for side in (baton, spiff):
            if side is not None:
                side.close()
        db.drop()
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small counts, one run (smoke test)")
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("BATON_BENCH_PG_URL", PG_DEFAULT))
    ap.add_argument("--threads", default="1", help="client thread counts, e.g. 1,4")
    ap.add_argument("-n", type=int, default=None, help="Baton instances per run")
    ap.add_argument("--async-commit", action="store_true",
                    help="PostgreSQL: synchronous_commit=off for both sides (shows what is "
                         "left when the WAL flush per commit is not waited for; not a default)")
    args = ap.parse_args(argv)
    n = args.n or (200 if args.quick else 2000)
    sn = max(20, n // 10) if args.quick else max(100, n // 5)
    repeats = 1 if args.quick else 5
    threads = [int(t) for t in args.threads.split(",")]
    print(f"store_bench: median of {repeats} run(s); Baton n={n}, SpiffWorkflow n={sn} "
          f"per run; python {sys.version.split()[0]}")
    for kind in args.db.split(","):
        kind = {"postgres": "postgresql", "pg": "postgresql"}.get(kind, kind)
        if kind == "postgresql":
            try:
                import psycopg

                psycopg.connect(args.pg_url, connect_timeout=3).close()
            except Exception as e:  # noqa: BLE001
                print(f"  postgresql skipped: not reachable at {args.pg_url}: {e}")
                continue
        run_backend(kind, args.pg_url, n, sn, repeats, threads,
                    args.async_commit and kind == "postgresql")
    return 0


if __name__ == "__main__":
    sys.exit(main())
