"""Persisted throughput: Baton's SQL store against a bare commit and against SpiffWorkflow, on
SQLite and PostgreSQL, all measured in the same run on the same database.

What one run prints for each database:
- `floor`: a bare DBAPI loop of `INSERT` of one small row + `COMMIT` (psycopg / sqlite3,
  no ORM, same machine, same database, same durability settings as Baton's connections).
  No command that commits can beat it, so it is the yardstick for the rest.
- `straight`: ../shared/bench-models/straight.bpmn (ten script tasks), start to end in one
  command, instances/s.
- `lifecycle`: a user task's life as a tasklist lives it: start (one command), find the
  task with `engine.tasks(instance_id=...)` (a read), complete it (another command).
  Printed as lifecycles/s and as commands/s (the two committing commands per lifecycle),
  and `lifecycle/floor: P%` = those commands/s over the floor's commits/s (the median of
  the per-round ratios: each round measures the floor and Baton back to back).
- with `--threads 1,4`: the same with N client threads sharing one engine, and the
  speed-up over one thread;
- with `--workers 1,2` (PostgreSQL): instances of a diagram of five asynchronous script
  steps (`camunda:asyncBefore`) created up front, then run by that many `baton worker`
  processes; jobs/s between 10% and 90% done (process start-up excluded).

Baton runs through the `Engine` facade on `SqlStore`. SpiffWorkflow (with `--spiff`, the
default) runs the same diagrams and stores its serialized workflow
(`BpmnWorkflowSerializer.serialize_json`) in a table of the same database, one INSERT per
start and SELECT + UPDATE per completion, on the raw DBAPI connection; its user-task
lifecycle keeps the workflow id (it has no task query).

Figures are medians of several rounds, the contenders taking turns so all see the same
machine load. Read ratios, not absolute numbers, on a shared machine.

Usage: python bench/store_bench.py [--quick] [--db sqlite,postgres] [--pg-url URL]
                                   [--threads 1,4] [--workers 1,2] [-n N] [--no-spiff]
                                   [--async-commit]
PostgreSQL: --pg-url or $BATON_BENCH_PG_URL (default postgresql://postgres@127.0.0.1/test);
the bench works in a schema of its own and drops it at the end. `--async-commit` sets
synchronous_commit=off for every side (floor included): an opt-in, never a default.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import subprocess
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
ASYNC_STEPS = 5


def async_diagram(steps: int = ASYNC_STEPS) -> bytes:
    """start -> `steps` script tasks, each asyncBefore (one job per step) -> end."""
    tasks, flows = [], []
    prev = "start"
    for i in range(1, steps + 1):
        tasks.append(f'<bpmn:scriptTask id="s{i}" camunda:asyncBefore="true" '
                     f'scriptFormat="python"><bpmn:script>x = x + 1</bpmn:script>'
                     f'</bpmn:scriptTask>')
        flows.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="s{i}"/>')
        prev = f"s{i}"
    flows.append(f'<bpmn:sequenceFlow id="f_end" sourceRef="{prev}" targetRef="end"/>')
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            f'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_async" '
            f'targetNamespace="http://example.org/bpmn-bench"><bpmn:process id="async_steps" '
            f'isExecutable="true"><bpmn:startEvent id="start"/>{"".join(tasks)}'
            f'<bpmn:endEvent id="end"/>{"".join(flows)}</bpmn:process></bpmn:definitions>'
            ).encode()


PG_DEFAULT = "postgresql://postgres@127.0.0.1/test"
# issue 9: on PostgreSQL, one thread
GOAL_STRAIGHT = 2000.0          # instances/s
# the same goal against the floor: the issue set 2,000/s where a bare INSERT+COMMIT ran
# 3,820/s; on a machine whose disk commits slower (or faster) the absolute figure says more
# about the disk than about Baton, so the bench judges the ratio too
GOAL_STRAIGHT_FLOOR = GOAL_STRAIGHT / 3820.0
GOAL_LIFECYCLE_FLOOR = 0.35     # lifecycle commands/s over floor commits/s
GOAL_SCALE = 1.5                # threads=4 (or 2 worker processes) over one


# ============================================================================ databases
class Database:
    """A fresh database for one backend: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, pg_url: str, async_commit: bool = False) -> None:
        self.kind = kind
        self.async_commit = async_commit
        self._schema: str | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kind == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix="baton-bench-")
            self.path = f"{self._tmp.name}/bench.db"
            self.url = f"sqlite:///{self.path}"
        else:
            import psycopg

            self._base = pg_url
            self._schema = f"baton_bench_{os.getpid()}_{secrets.token_hex(3)}"
            with psycopg.connect(pg_url, autocommit=True) as c:
                c.execute(f'CREATE SCHEMA "{self._schema}"')
            from urllib.parse import quote, urlencode, urlsplit, urlunsplit

            parts = urlsplit(pg_url)
            options = f"-csearch_path={self._schema}"
            if async_commit:
                options += " -csynchronous_commit=off"
            query = "&".join(p for p in [parts.query, urlencode({"options": options}, quote_via=quote)]
                             if p)
            self.url = urlunsplit(parts._replace(query=query))

    def drop(self) -> None:
        if self._schema is not None:
            import psycopg

            with psycopg.connect(self._base, autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{self._schema}" CASCADE')
        if self._tmp is not None:
            self._tmp.cleanup()


# ============================================================================ the floor
class Floor:
    """A bare `INSERT` + `COMMIT` loop on the DBAPI: the fastest a committing command can go
    on this database, machine and durability setting."""

    def __init__(self, db: Database) -> None:
        if db.kind == "sqlite":
            # the settings of Baton's own SQLite connections (engine/store/sql.py)
            self.conn: Any = sqlite3.connect(db.path, isolation_level=None, timeout=30,
                                             check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("CREATE TABLE IF NOT EXISTS bench_floor "
                              "(id VARCHAR PRIMARY KEY, v TEXT NOT NULL)")
            self.step = self._sqlite
        else:
            import psycopg

            from engine.store.sql import normalize_url

            url = normalize_url(db.url).replace("postgresql+psycopg://", "postgresql://")
            self.conn = psycopg.connect(url)
            self.conn.execute("CREATE TABLE IF NOT EXISTS bench_floor "
                              "(id VARCHAR PRIMARY KEY, v TEXT NOT NULL)")
            self.conn.commit()
            self.step = self._pg

    def _sqlite(self) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO bench_floor VALUES (?, ?)", (uuid.uuid4().hex, "x"))
        c.execute("COMMIT")

    def _pg(self) -> None:
        self.conn.execute("INSERT INTO bench_floor VALUES (%s, %s)", (uuid.uuid4().hex, "x"))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


# ============================================================================ Baton
class BatonSide:
    def __init__(self, url: str) -> None:
        from engine.service import Engine
        from engine.store.sql import SqlStore

        self.store = SqlStore(url, auto_upgrade=True)
        self.engine = Engine(store=self.store)
        self.engine.deploy(STRAIGHT)
        self.engine.deploy(USER_TASK)
        self.engine.deploy(async_diagram())

    def straight(self) -> None:
        iid = self.engine.start("straight", {"x": 0})
        assert iid

    def lifecycle(self) -> None:
        engine = self.engine
        iid = engine.start("one_task", {"x": 0})
        (task,) = engine.tasks(instance_id=iid)
        engine.complete_task(task.id, {"ok": True})

    def check(self) -> str:
        with self.store.transaction() as tx:
            done = tx.count_instances(status="completed")
        running = [i for i in self.engine.instances(status="running")
                   if i.key != "async_steps"]
        assert not running, f"{len(running)} Baton instances did not complete"
        return f"{done} Baton instances completed"

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

    def lifecycle(self) -> None:
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
    """Calls/s of one run of n calls split over `threads` client threads."""
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


def rounds(contenders: dict[str, tuple[Callable[[], None], int]], repeats: int,
           threads: int) -> dict[str, list[float]]:
    """Each contender once per round, in turns, so all see the same machine load."""
    out: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, (fn, n) in contenders.items():
            out[name].append(one_run(fn, n, 1 if name == "floor" else threads))
    return out


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def mark(ok: bool, goal: str) -> str:
    return f"  goal {goal}: {'met' if ok else 'MISSED'}"


def run_backend(kind: str, pg_url: str, n: int, repeats: int, thread_counts: list[int],
                worker_counts: list[int], spiff_on: bool,
                async_commit: bool = False) -> None:
    db = Database(kind, pg_url, async_commit)
    baton = spiff = floor = None
    pg = kind == "postgresql"
    try:
        floor = Floor(db)
        baton = BatonSide(db.url)
        spiff = SpiffSide(db.url, kind) if spiff_on else None
        warm = [floor.step, baton.straight, baton.lifecycle]
        if spiff is not None:
            warm += [spiff.straight, spiff.lifecycle]
        for fn in warm:
            for _ in range(30):
                fn()                                    # warm caches, prepare statements
        sn = max(20, n // 5)
        single: dict[str, float] = {}
        for threads in thread_counts:
            contenders: dict[str, tuple[Callable[[], None], int]] = {
                "floor": (floor.step, 2 * n),
                "straight": (baton.straight, n),
                "lifecycle": (baton.lifecycle, n // 2),
            }
            if spiff is not None:
                contenders["spiff straight"] = (spiff.straight, sn)
                contenders["spiff lifecycle"] = (spiff.lifecycle, sn // 2)
            r = rounds(contenders, repeats, threads)
            fl = med(r["floor"])
            st = med(r["straight"])
            lc = med(r["lifecycle"])
            ratio = med([2 * b / f for b, f in zip(r["lifecycle"], r["floor"], strict=True)])
            spiff_st = spiff_lc = ""
            if spiff is not None:
                spiff_st = (f"   spiffworkflow {med(r['spiff straight']):6.0f}/s   ratio "
                            f"{med([b / s for b, s in zip(r['straight'], r['spiff straight'], strict=True)]):4.1f}x")  # noqa: E501
                spiff_lc = (f"   spiffworkflow {med(r['spiff lifecycle']):6.0f}/s   ratio "
                            f"{med([b / s for b, s in zip(r['lifecycle'], r['spiff lifecycle'], strict=True)]):4.1f}x")  # noqa: E501
            if threads == 1:
                single = {"straight": st, "lifecycle": lc}
                print(f"  {kind:10s} floor                 bare INSERT+COMMIT {fl:7.0f}/s",
                      flush=True)
            scale = ""
            if threads != 1 and single:
                scale = (f"   x{st / single['straight']:.2f} of threads=1"
                         + (mark(st / single["straight"] >= GOAL_SCALE, f">= {GOAL_SCALE}x")
                            if pg else ""))
            goal = (mark(st >= GOAL_STRAIGHT, f">= {GOAL_STRAIGHT:.0f}/s")
                    if pg and threads == 1 else "")
            print(f"  {kind:10s} straight  threads={threads}  {st:7.0f} instances/s"
                  f"{spiff_st}{scale}{goal}", flush=True)
            scale = ""
            if threads != 1 and single:
                scale = (f"   x{lc / single['lifecycle']:.2f} of threads=1"
                         + (mark(lc / single["lifecycle"] >= GOAL_SCALE, f">= {GOAL_SCALE}x")
                            if pg else ""))
            print(f"  {kind:10s} lifecycle threads={threads}  {lc:7.0f} lifecycles/s = "
                  f"{2 * lc:6.0f} commands/s{spiff_lc}{scale}", flush=True)
            if threads == 1:
                st_ratio = med([b / f for b, f in zip(r["straight"], r["floor"], strict=True)])
                goal = mark(st_ratio >= GOAL_STRAIGHT_FLOOR,
                            f">= {GOAL_STRAIGHT_FLOOR:.0%}, the issue's 2,000/s at its "
                            "3,820/s floor") if pg else ""
                print(f"  {kind:10s} straight/floor: {st_ratio:.0%}   (one commit per instance: "
                      f"100% is a bare commit's pace){goal}", flush=True)
                goal = mark(ratio >= GOAL_LIFECYCLE_FLOOR,
                            f">= {GOAL_LIFECYCLE_FLOOR:.0%}") if pg else ""
                print(f"  {kind:10s} lifecycle/floor: {ratio:.0%}   (start + complete "
                      f"commands/s over bare commits/s, per-round median){goal}", flush=True)
        if worker_counts:
            run_workers(kind, db, baton, worker_counts, n, repeats)
        print(f"  {kind:10s} check: {baton.check()}"
              + (f"; {spiff.check()}" if spiff is not None else ""))
    finally:
        for side in (baton, spiff, floor):
            if side is not None:
                side.close()
        db.drop()


# ============================================================================ workers
def run_workers(kind: str, db: Database, baton: BatonSide, counts: list[int], n: int,
                repeats: int) -> None:
    """Jobs/s of `baton worker` processes draining asynchronous steps, per process count,
    taking turns like the rest."""
    instances = max(50, n // 2)
    rates: dict[int, list[float]] = {c: [] for c in counts}
    for _ in range(max(1, repeats // 2)):
        for count in counts:
            rates[count].append(drain(db, baton, count, instances))
    base = med(rates[counts[0]])
    for count in counts:
        r = med(rates[count])
        scale = ""
        if count != counts[0]:
            scale = f"   x{r / base:.2f} of workers={counts[0]}" + (
                mark(r / base >= GOAL_SCALE, f">= {GOAL_SCALE}x")
                if kind == "postgresql" else "")
        print(f"  {kind:10s} async     workers={count}  {r:7.0f} jobs/s   ({instances} "
              f"instances x {ASYNC_STEPS} async steps, `baton worker` processes){scale}",
              flush=True)


def drain(db: Database, baton: BatonSide, processes: int, instances: int) -> float:
    """Jobs/s of `processes` workers between 10% and 90% of the steps done. Progress is
    read from the history's sequence (each step writes one history row), which costs the
    database nothing like counting jobs would."""
    import psycopg

    from engine.store.sql import normalize_url

    url = normalize_url(db.url).replace("postgresql+psycopg://", "postgresql://")
    probe = psycopg.connect(url, autocommit=True)

    def last_seq() -> int:
        return int(probe.execute("SELECT coalesce(max(seq), 0) FROM history").fetchone()[0])

    engine = baton.engine
    for _ in range(instances):
        engine.start("async_steps", {"x": 0})
    base = last_seq()
    total = instances * ASYNC_STEPS
    env = dict(os.environ, PYTHONPATH=str(ROOT), BATON_LOG_LEVEL="WARNING")
    procs = [subprocess.Popen([sys.executable, "-m", "engine.cli", "worker", "--db", db.url,
                               "--poll", "0.05", "--batch", "10"], cwd=ROOT, env=env)
             for _ in range(processes)]
    marks: dict[float, float] = {}
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = (last_seq() - base) / total
            now = time.perf_counter()
            for q in (0.1, 0.9):
                if done >= q and q not in marks:
                    marks[q] = now
            if done >= 1:
                break
            time.sleep(0.01)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        probe.close()
    if 0.1 not in marks or 0.9 not in marks or marks[0.9] <= marks[0.1]:
        raise RuntimeError("the workers did not drain the jobs")
    return 0.8 * total / (marks[0.9] - marks[0.1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small counts, one round (smoke)")
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("BATON_BENCH_PG_URL", PG_DEFAULT))
    ap.add_argument("--threads", default="1,4", help="client thread counts, e.g. 1,4")
    ap.add_argument("--workers", default="1,2",
                    help="`baton worker` process counts for async steps ('' for none)")
    ap.add_argument("-n", type=int, default=None, help="Baton instances per run")
    ap.add_argument("--repeats", type=int, default=None, help="rounds (median taken)")
    ap.add_argument("--no-spiff", action="store_true", help="leave SpiffWorkflow out")
    ap.add_argument("--async-commit", action="store_true",
                    help="PostgreSQL: synchronous_commit=off for every side, floor included "
                         "(what is left when the WAL flush per commit is not waited for; an "
                         "opt-in, never a default)")
    args = ap.parse_args(argv)
    n = args.n or (200 if args.quick else 1000)
    repeats = args.repeats or (1 if args.quick else 5)
    threads = [int(t) for t in args.threads.split(",") if t]
    if 1 not in threads:
        threads.insert(0, 1)
    workers = [int(w) for w in args.workers.split(",") if w]
    print(f"store_bench: median of {repeats} round(s); Baton n={n} per run; "
          f"python {sys.version.split()[0]}; {os.cpu_count()} cpu(s)"
          + ("; synchronous_commit=off" if args.async_commit else ""))
    for kind in args.db.split(","):
        kind = {"postgres": "postgresql", "pg": "postgresql"}.get(kind, kind)
        if kind == "postgresql":
            try:
                import psycopg

                psycopg.connect(args.pg_url, connect_timeout=3).close()
            except Exception as e:  # noqa: BLE001
                print(f"  postgresql skipped: not reachable at {args.pg_url}: {e}")
                continue
        run_backend(kind, args.pg_url, n, repeats, threads,
                    workers if kind == "postgresql" else [], not args.no_spiff,
                    args.async_commit and kind == "postgresql")
    return 0


if __name__ == "__main__":
    sys.exit(main())
