"""External-task throughput: tasks completed per second by 4 Camunda client workers over HTTP.

The server is `baton serve --no-worker` on PostgreSQL (a fresh database created for the run
and dropped after it), reached by the real Camunda 7 Python client
(`camunda-external-task-client-python3`: `ExternalTaskClient.fetch_and_lock` + `complete`).
The bench process pre-starts N instances of a one-external-task process, then 4 worker
threads fetch-and-lock and complete until every task is done; the figure is N divided by
the wall time from the first fetch to the last completion. It is run with maxTasks=1 (one
round trip per fetch and per completion) and maxTasks=10 (batched fetches).

Fallbacks, printed with the figures: no PostgreSQL reachable -> a SQLite file; no `baton`
command -> an in-process threaded werkzeug server with the engine-rest blueprint.

Usage: python bench/external_bench.py [--quick] [--tasks N] [--workers 4]
           [--db URL] [--admin-url postgresql://127.0.0.1/postgres] [--in-process]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USER, PASSWORD = "bench-worker", "bench-worker-password"
TOPIC = "bench"
DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="bench">
  <process id="externalBench" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <serviceTask id="work" camunda:type="external" camunda:topic="{TOPIC}"/>
    <sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------- database
@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this run (dropped afterwards), or None."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    name = f"baton_xbench_{os.getpid()}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as e:
        print(f"note: PostgreSQL not reachable at {admin_url} ({str(e).strip()[:120]})")
        yield None
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        info = admin.info
        user = info.user
        host = info.host or "127.0.0.1"
        port = info.port
        try:
            yield f"postgresql://{user}@{host}:{port}/{name}"
        finally:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def prepare(url: str) -> None:
    """Schema, the worker user (role analyst) and the diagram."""
    from engine import Engine
    from engine.store.sql import SqlStore

    store = SqlStore(url, auto_upgrade=True)
    engine = Engine(store=store)
    engine.add_user(USER, "Bench worker", PASSWORD, roles=["analyst"])
    engine.deploy(DIAGRAM)
    store.close()


def start_instances(url: str, n: int) -> float:
    from engine import Engine
    from engine.store import open_store

    store = open_store(url)
    engine = Engine(store=store)
    t = time.perf_counter()
    for i in range(n):
        engine.start("externalBench", {"i": i, "payload": "x" * 64})
    elapsed = time.perf_counter() - t
    store.close()
    return n / elapsed


# ------------------------------------------------------------------------- server
@contextmanager
def baton_serve(url: str, in_process: bool) -> Iterator[tuple[str, str]]:
    """(base URL of /engine-rest, description of the server)."""
    port = free_port()
    baton = shutil.which("baton", path=str(Path(sys.executable).parent)) or shutil.which("baton")
    if baton and not in_process:
        # the server logs every request: to a file, since an unread pipe would fill up and
        # block it
        log = tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(
            [baton, "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port),
             "--no-worker"], stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}/engine-rest"
        try:
            wait_ready(base, proc, log)
            yield base, "baton serve --no-worker (separate process, werkzeug threaded)"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        return
    from types import SimpleNamespace

    from flask import Flask
    from werkzeug.serving import make_server

    from engine import Engine
    from engine.store import open_store
    from tasklist_ui.engine_rest import bp

    store = open_store(url)
    app = Flask("external_bench")
    app.extensions["baton"] = SimpleNamespace(engine=Engine(store=store))
    app.register_blueprint(bp)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield (f"http://127.0.0.1:{port}/engine-rest",
               "in-process werkzeug server (threaded) with the engine-rest blueprint")
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def wait_ready(base: str, proc: subprocess.Popen[str], log: Any,
               timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"baton serve exited with {proc.returncode}:\n{log.read()}")
        try:
            urllib.request.urlopen(f"{base}/engine", timeout=2)
            return
        except urllib.error.HTTPError:
            return            # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("baton serve did not answer within 60s")


# ------------------------------------------------------------------------- workers
def make_client(base: str, worker_id: str, max_tasks: int) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from camunda.client.external_task_client import ExternalTaskClient

    return ExternalTaskClient(worker_id, base, {
        "auth_basic": {"username": USER, "password": PASSWORD}, "maxTasks": max_tasks,
        "lockDuration": 60_000, "asyncResponseTimeout": 500, "httpTimeoutMillis": 30_000})


def run_workers(base: str, n: int, workers: int, max_tasks: int) -> tuple[float, int, int]:
    """Seconds to complete n tasks, the count completed, and fetch calls made."""
    done = 0
    fetches = 0
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(workers + 1)
    deadline = time.monotonic() + 600

    def work(k: int) -> None:
        nonlocal done, fetches
        client = make_client(base, f"bench-{k}", max_tasks)
        start.wait()
        try:
            while time.monotonic() < deadline:
                with lock:
                    if done >= n:
                        return
                tasks = client.fetch_and_lock(TOPIC)
                with lock:
                    fetches += 1
                for task in tasks:
                    client.complete(task["id"], {"result": task["variables"]["i"]["value"]})
                    with lock:
                        done += 1
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(workers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"a worker failed: {errors[0]!r}") from errors[0]
    return elapsed, done, fetches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="200 tasks per round (smoke)")
    parser.add_argument("--db", help="use this database as is (it must be empty)")
    parser.add_argument("--admin-url", default=os.environ.get(
        "BATON_BENCH_PG_ADMIN", "postgresql://127.0.0.1/postgres"),
        help="PostgreSQL to create the throwaway bench database in")
    parser.add_argument("--in-process", action="store_true",
                        help="serve from this process instead of `baton serve`")
    args = parser.parse_args()
    n = 200 if args.quick else args.tasks

    with tempfile.TemporaryDirectory() as tmp, \
            (nullcontext(args.db) if args.db else postgres_database(args.admin_url)) as url:
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            print("note: falling back to SQLite (figures are not PostgreSQL's)")
        prepare(url)
        with baton_serve(url, args.in_process) as (base, server):
            print(f"database: {redact(url)}")
            print(f"server:   {server}")
            print(f"client:   camunda-external-task-client-python3, {args.workers} worker "
                  f"threads, Basic auth, lockDuration 60s")
            print(f"cores:    {os.cpu_count()} (server, database and clients share them)")
            for max_tasks in (1, 10):
                rate = start_instances(url, n)
                elapsed, done, fetches = run_workers(base, n, args.workers, max_tasks)
                print(f"maxTasks={max_tasks:<3} {done} tasks in {elapsed:.2f}s = "
                      f"{done / elapsed:,.0f} tasks/s completed ({fetches} fetches; "
                      f"instances started beforehand at {rate:,.0f}/s)")
    return 0


@contextmanager
def nullcontext(value: Any) -> Iterator[Any]:
    yield value


def redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':')[0]}@{host}"
    return url


if __name__ == "__main__":
    sys.exit(main())
