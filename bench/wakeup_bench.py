"""Latency of one asynchronous step: from `engine.start(...)` to the instance completing,
with `baton worker` in another process, polling every 0.5 s, with and without the
PostgreSQL LISTEN/NOTIFY wake-up (engine/store/pg_wakeup.py; `--no-wakeup` turns it off).

Why: without the wake-up an idle worker notices a new job only at its next poll, so each
async boundary waits about poll/2 on average (the poll is jittered 0.5x-1.5x); with it the
committing transaction's NOTIFY wakes the worker at once. The bench starts instances of a
one-async-step diagram one at a time, at random gaps (so the starts do not fall into step
with the worker's poll), and waits for each to complete, reading its status every 0.5 ms.

The database is a schema of its own on $BATON_TEST_PG_URL's server (default
postgresql://postgres@127.0.0.1:5432/test), created for the run and dropped after it.

Usage: python bench/wakeup_bench.py [--samples 40] [--poll 0.5] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIAGRAM = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="bench">
  <process id="wakeBench" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
    <scriptTask id="a" camunda:asyncBefore="true"><script>x = 1</script></scriptTask>
    <sequenceFlow id="f2" sourceRef="a" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>"""


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def one_run(url: str, poll: float, samples: int, wakeup: bool) -> list[float]:
    """Latencies (seconds) of `samples` instances with a worker process started for them."""
    from engine.service import Engine
    from engine.store.sql import SqlStore

    store = SqlStore(url)
    engine = Engine(store=store)
    engine.deploy(DIAGRAM)
    cmd = [sys.executable, "-m", "engine.cli", "worker", "--db", url, "--poll", str(poll)]
    if not wakeup:
        cmd.append("--no-wakeup")
    env = {**os.environ, "BATON_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    out: list[float] = []
    try:
        for i in range(samples + 2):        # the first two warm the worker up
            time.sleep(random.uniform(0.05, 0.4))
            started = time.perf_counter()
            iid = engine.start("wakeBench")
            while engine.instance(iid).status != "completed":
                if time.perf_counter() - started > 30:
                    raise SystemExit("an instance took over 30 s: is the worker running?")
                time.sleep(0.0005)
            if i >= 2:
                out.append(time.perf_counter() - started)
    finally:
        proc.terminate()
        proc.wait(30)
        store.close()
    return out


def summary(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p90 = xs[int(0.9 * (len(xs) - 1))]
    return (f"{name:<14} median {statistics.median(xs) * 1000:7.1f} ms   mean "
            f"{statistics.fmean(xs) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   "
            f"min {xs[0] * 1000:6.1f} ms   max {xs[-1] * 1000:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--url", default=os.environ.get(
        "BATON_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()

    import psycopg

    from engine.store.sql import SqlStore

    schema = f"baton_wakebench_{secrets.token_hex(3)}"
    admin = psycopg.connect(args.url, autocommit=True)
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = with_search_path(args.url, schema)
    try:
        SqlStore(url, auto_upgrade=True).close()
        print(f"one async step, worker process polling every {args.poll}s, "
              f"{args.samples} instances each")
        polled = one_run(url, args.poll, args.samples, wakeup=False)
        print(summary("poll only", polled))
        woken = one_run(url, args.poll, args.samples, wakeup=True)
        print(summary("LISTEN/NOTIFY", woken))
        print(f"median ratio poll only / woken: "
              f"{statistics.median(polled) / statistics.median(woken):.1f}x")
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


if __name__ == "__main__":
    main()
