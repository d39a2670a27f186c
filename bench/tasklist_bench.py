"""How fast the tasklist answers with 100,000 open tasks in the database.

    .venv/bin/python bench/tasklist_bench.py                       # SQLite (temp file)
    .venv/bin/python bench/tasklist_bench.py --pg postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python bench/tasklist_bench.py --tasks 5000 --requests 30   # smoke run

Fills a fresh database with `--tasks` open user tasks (cloned from one real insurance-claim
instance, so every row is valid), spread over 20 groups and 40 users the way a real
tasklist looks: most tasks belong to other teams, ~5 % are the adjusters' unassigned queue,
~100 are assigned to alice. Then it times, through Flask's test client (routing, session,
query, template, everything but the socket):

- the HTML list page: alice's "My groups" (by creation, by due date, filtered "overdue,
  priority >= 50", page 40) and "My tasks", a supervisor's "All open" sorted by due date
  and filtered by process, highest priority first;
- the JSON API's "my groups" query (`GET /api/tasks?view=claimable`, bearer token) and its
  default view ("involved": mine and my groups');
- an analyst's instance list (100,000 running instances, newest first);

and prints the median and 95th percentile of each. The goal is a p95 under 50 ms. With
`--pg URL` the same runs against PostgreSQL: a database `baton_tasklist_bench` is created on
that server (dropped afterwards unless `--keep`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.registry import Registry  # noqa: E402
from engine import Engine  # noqa: E402
from engine.store import open_store  # noqa: E402
from tasklist_ui.app import create_app  # noqa: E402
from tasklist_ui.demo import register_demo_connectors  # noqa: E402

CLAIM = ROOT / "bpmn_models" / "insurance_claim.bpmn"
PASSWORD = "bench-password"
GOAL_MS = 50.0
BATCH = 2_000
PG_DB = "baton_tasklist_bench"


def populate(engine: Engine, count: int, seed: int = 7) -> None:
    """`count` open tasks, cloned from one real claim instance, in large transactions."""
    rng = random.Random(seed)
    engine.deploy(CLAIM)
    groups = [f"team-{i:02d}" for i in range(20)]
    users = [f"user{i:02d}" for i in range(40)]
    engine.add_user("alice", "Alice", PASSWORD, roles=["staff"], groups=["adjusters", "team-03"])
    engine.add_user("bob", "Bob", PASSWORD, roles=["staff", "supervisor"],
                    groups=["supervisors"])
    engine.add_user("carol", "Carol", PASSWORD, roles=["analyst"])
    template_id = engine.start("insurance_claim", {"amount": 1200, "claimant": "Template"})
    engine.run_due_jobs()
    with engine.store.transaction() as tx:
        instance = tx.get_instance(template_id)
        task = tx.find_tasks(instance_id=template_id)[0]
    now = engine.clock()
    made = 1
    while made < count:
        with engine.store.transaction() as tx:
            for _ in range(min(BATCH, count - made)):
                iid = uuid.uuid4().hex
                roll = rng.random()
                if roll < 0.001:
                    assignee, cgroups = "alice", ["adjusters"]
                elif roll < 0.05:
                    assignee, cgroups = None, ["adjusters"]
                elif roll < 0.35:
                    assignee, cgroups = rng.choice(users), [rng.choice(groups)]
                else:
                    assignee, cgroups = None, rng.sample(groups, rng.choice((1, 1, 2)))
                created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
                tx.add_instance(replace(instance, id=iid, business_key=f"CLM-{made:06d}",
                                        started=created, revision=0,
                                        variables=dict(instance.variables)))
                tx.add_task(replace(
                    task, id=uuid.uuid4().hex, instance_id=iid, assignee=assignee,
                    candidate_groups=cgroups, candidate_users=[], created=created,
                    due=created + timedelta(days=rng.choice((1, 2, 5, 10))),
                    priority=rng.randrange(0, 101), business_key=f"CLM-{made:06d}"))
                made += 1
        if sys.stderr.isatty():
            print(f"\r  {made:,} tasks", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)


def login(client, user: str) -> None:  # noqa: ANN001
    r = client.post("/login", data={"username": user, "password": PASSWORD})
    assert r.status_code == 302, f"login failed for {user}: {r.status_code}"


def timed(client, url: str, n: int, headers: dict | None = None) -> list[float]:  # noqa: ANN001
    for _ in range(3):                                   # warm caches and templates
        r = client.get(url, headers=headers)
        assert r.status_code == 200, f"{url}: {r.status_code} {r.get_data(as_text=True)[:300]}"
    out = []
    for _ in range(n):
        start = time.perf_counter()
        r = client.get(url, headers=headers)
        out.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200
    return out


def report(label: str, samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    median = statistics.median(samples)
    p95 = samples[max(0, int(round(0.95 * len(samples))) - 1)]
    flag = "ok " if p95 < GOAL_MS else "SLOW"
    print(f"  {flag} {label:<46} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    return median, p95


def run(url: str, tasks: int, requests: int) -> bool:
    print(f"\n== {url.split('@')[-1]}: {tasks:,} open tasks")
    registry = Registry()
    register_demo_connectors(registry)
    engine = Engine(store=open_store(url, auto_upgrade=True), connectors=registry)
    start = time.perf_counter()
    populate(engine, tasks)
    print(f"  filled in {time.perf_counter() - start:.1f} s")
    app = create_app(engine, {"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    alice = app.test_client()
    login(alice, "alice")
    bob = app.test_client()
    login(bob, "bob")
    carol = app.test_client()
    login(carol, "carol")
    token = engine.new_api_token("alice")
    bearer = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    ok = True
    for label, client, path, headers in (
        ("list page: alice, My groups", alice, "/tasks?view=claimable", None),
        ("list page: alice, My groups by due date", alice, "/tasks?view=claimable&sort=due",
         None),
        ("list page: alice, My tasks", alice, "/tasks?view=mine", None),
        ("list page: bob, All open by due date", bob, "/tasks?view=all&sort=due", None),
        ("list page: bob, All open, process, -priority", bob,
         "/tasks?view=all&process=insurance_claim&sort=-priority", None),
        ("list page: alice, My groups, overdue, prio>=50", alice,
         "/tasks?view=claimable&overdue=1&priority=50", None),
        ("list page: alice, My groups, page 40", alice, "/tasks?view=claimable&page=40", None),
        ("API: GET /api/tasks?view=claimable", api, "/api/tasks?view=claimable", bearer),
        ("API: GET /api/tasks (involved)", api, "/api/tasks", bearer),
        ("instance list: carol, running, newest first", carol, "/instances", None),
    ):
        _median, p95 = report(label, timed(client, path, requests, headers))
        ok = ok and p95 < GOAL_MS
    for label, view in (("engine.task_list claimable (no HTTP)", "claimable"),):
        samples = []
        for _ in range(requests):
            t0 = time.perf_counter()
            engine.task_list("alice", view)
            samples.append((time.perf_counter() - t0) * 1000)
        report(label, samples)
    engine.store.close()
    return ok


def postgres_database(server_url: str, keep: bool) -> tuple[str, callable]:  # noqa: ANN001
    """Create (fresh) the bench database on the server; return its URL and a cleanup."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(server_url.replace("postgresql+psycopg://", "postgresql://"))
    conninfo = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    bench_url = admin_url.set(database=PG_DB).render_as_string(hide_password=False)

    def cleanup() -> None:
        if keep:
            return
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")

    return bench_url, cleanup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sqlite", default=None,
                        help="SQLite URL (default: a file in a temporary directory)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg", metavar="URL", default=None,
                        help="PostgreSQL server URL; the bench database is created there")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    ok = True
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            ok = run(args.sqlite or f"sqlite:///{tmp}/bench.db", args.tasks, args.requests) and ok
    if args.pg:
        url, cleanup = postgres_database(args.pg, args.keep)
        try:
            ok = run(url, args.tasks, args.requests) and ok
        finally:
            cleanup()
    print("\nall p95 under", GOAL_MS, "ms" if ok else "ms: NO, see SLOW lines")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
