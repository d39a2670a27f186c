"""The engine's `baton` sub-commands: db upgrade, deploy, start, instances, tasks, complete,
worker, incidents, retry.

`add_engine_commands(subparsers)` plugs them into the `baton` parser (tasklist_ui/cli.py);
`main()` runs them alone. Every sub-command takes `--db URL` (default: $BATON_DATABASE_URL,
else sqlite:///baton.db), stores its handler as `func` (called with the parsed arguments,
returning the exit code), prints results on stdout and problems on stderr, and exits
non-zero on failure: 1 for a refused command or bad input, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.store import DEFAULT_URL, ENV_URL, resolve_url

Handler = Callable[[argparse.Namespace], int]


# ====================================================================== plumbing
def _guard(fn: Handler) -> Handler:
    """Turn the errors a user can cause into one clear line on stderr and exit code 1."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from engine.bpmn.errors import BpmnValidationError
        from engine.errors import EngineError
        from engine.store.codec import UnstorableValue
        from engine.store.sql import StoreError

        try:
            return fn(args)
        except (EngineError, StoreError, BpmnValidationError, UsageError,
                UnstorableValue) as e:
            print(f"baton: {e}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"baton: {e}", file=sys.stderr)
            return 1
        except Exception as e:  # noqa: BLE001 - e.g. the database went away mid-command
            import sqlalchemy.exc

            if isinstance(e, sqlalchemy.exc.SQLAlchemyError):
                print(f"baton: database error: {e}", file=sys.stderr)
                return 1
            raise

    return run


class UsageError(ValueError):
    """Bad command-line input (a --var without '=', a non-positive number, ...)."""


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                   help=f"database URL (default: ${ENV_URL} or {DEFAULT_URL})")


def _url(args: argparse.Namespace) -> str:
    return resolve_url(getattr(args, "db", None))


def open_engine(url: str, *, discover: bool = True) -> Any:
    """An Engine over the store at `url`, with the connectors this process can see (built-in,
    entry points, $BATON_CONNECTOR_MODULES) registered: a service task is routed to a
    connector job only when its connector is known where the task is created."""
    from connectors.registry import registry
    from engine.service import Engine
    from engine.store import open_store

    if discover:
        for problem in registry.discover():
            print(f"baton: warning: connector {problem.name} not loaded ({problem.source}): "
                  f"{problem.error}", file=sys.stderr)
    return Engine(store=open_store(url), connectors=registry)


def parse_var(text: str) -> tuple[str, Any]:
    """`name=value`: JSON when the value parses as JSON (numbers, true/false/null, lists,
    objects, "quoted strings"), else the plain string. `amount=5000` is the number 5000,
    `ok=true` the boolean, `name=Ann` the string."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"--var {text!r}: expected NAME=VALUE, e.g. --var amount=5000")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name, value


def _vars(items: Sequence[str] | None) -> dict[str, Any]:
    return dict(parse_var(v) for v in items or ())


def _var_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action="append", metavar="NAME=VALUE", default=[],
                   help="a variable (repeatable); values are JSON when they parse as JSON "
                        "(5000, true, null, [1,2], \"text\"), else text")


def _when(v: datetime | None) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if v else "-"


def _table(rows: list[list[str]], header: list[str]) -> None:
    if not rows:
        return
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _positive(kind: type) -> Callable[[str], Any]:
    def conv(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return v
    return conv


# ====================================================================== commands
def add_engine_commands(subparsers: Any) -> None:
    """Add the engine's sub-commands to an argparse sub-parser collection."""
    from engine.bpmn.compat import COMPAT_MODES  # a leaf module: the list for --compat's help

    db = subparsers.add_parser("db", help="database schema (migrations)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or migrate Baton's tables to this version")
    _db_option(up)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_guard(cmd_db_upgrade))
    cur = db_sub.add_parser("current", help="show the database's schema revision")
    _db_option(cur)
    cur.set_defaults(func=_guard(cmd_db_current))
    db.set_defaults(func=lambda args: _usage(db))

    p = subparsers.add_parser("deploy", help="deploy BPMN files (one deployment)")
    _db_option(p)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--name", help="deployment name")
    p.add_argument("--strict", action="store_true",
                   help="refuse the deployment on validation warnings too")
    # not argparse choices: the engine checks the value, so every door refuses a wrong
    # one with the same sentence
    p.add_argument("--compat", metavar="MODE",
                   help="migration mode for diagrams written for another engine: "
                        f"{', '.join(COMPAT_MODES)} (default: Camunda 7 semantics)")
    p.add_argument("--user", help="act as this user: the engine's policy decides (without it the "
                                  "command line acts as the trusted operator)")
    p.set_defaults(func=_guard(cmd_deploy))

    p = subparsers.add_parser("start", help="start a process instance")
    _db_option(p)
    p.add_argument("key", help="process key (the BPMN process id)")
    _var_option(p)
    p.add_argument("--business-key", help="business key of the instance")
    p.add_argument("--version", type=_positive(int), help="a named version (default: latest)")
    p.add_argument("--user", help="act as this user: the engine's policy decides (without it the "
                                  "command line acts as the trusted operator)")
    p.set_defaults(func=_guard(cmd_start))

    p = subparsers.add_parser("instances", help="list process instances")
    _db_option(p)
    p.add_argument("--status", help="running, completed, terminated, failed")
    p.add_argument("--key", help="process key")
    p.add_argument("--business-key")
    p.add_argument("--limit", type=_positive(int), default=100)
    p.add_argument("--user", help="act as this user: the engine's policy decides (without it the "
                                  "command line acts as the trusted operator)")
    p.set_defaults(func=_guard(cmd_instances))

    p = subparsers.add_parser("tasks", help="list open user tasks")
    _db_option(p)
    p.add_argument("--assignee", help="tasks assigned to this user")
    p.add_argument("--user", help="tasks this user may work on (assigned or claimable; "
                                  "uses the user's groups)")
    p.add_argument("--group", action="append", default=[],
                   help="tasks offered to this candidate group (repeatable)")
    p.add_argument("--unassigned", action="store_true", help="only unassigned tasks")
    p.add_argument("--instance", help="tasks of one instance")
    p.add_argument("--process", help="tasks of one process key")
    p.add_argument("--sort", default="created",
                   help="created, due, priority or name; a leading - sorts descending "
                        "(write it with '=': --sort=-priority)")
    p.add_argument("--limit", type=_positive(int), default=100)
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    p.set_defaults(func=_guard(cmd_tasks))

    p = subparsers.add_parser("complete", help="complete a user task")
    _db_option(p)
    p.add_argument("task", help="task id")
    _var_option(p)
    p.add_argument("--user", help="complete as this user (checks assignee/candidates)")
    p.set_defaults(func=_guard(cmd_complete))

    p = subparsers.add_parser("worker", help="run jobs: timers, async steps, connectors")
    _db_option(p)
    p.add_argument("--concurrency", type=_positive(int), default=1,
                   help="worker threads (default 1)")
    p.add_argument("--poll", type=_positive(float), default=0.5,
                   help="seconds to wait when no job is due (default 0.5)")
    p.add_argument("--lease", type=_positive(float), default=300.0,
                   help="seconds a job stays leased to this worker before others may take "
                        "it over (default 300; keep it above your connector timeouts)")
    p.add_argument("--batch", type=_positive(int), default=10,
                   help="jobs leased per thread at a time (default 10)")
    p.add_argument("--once", action="store_true",
                   help="run what is due, then exit (cron style)")
    p.add_argument("--no-wakeup", dest="wakeup", action="store_false",
                   help="only poll: do not LISTEN for new jobs (PostgreSQL) or wake on "
                        "this process's own commits")
    p.set_defaults(func=_guard(cmd_worker))

    p = subparsers.add_parser("incidents", help="list incidents (failed jobs)")
    _db_option(p)
    p.add_argument("--all", action="store_true", help="resolved ones too")
    p.add_argument("--stack", action="store_true", help="print each incident's stack trace")
    p.add_argument("--user", help="act as this user: the engine's policy decides (without it the "
                                  "command line acts as the trusted operator)")
    p.set_defaults(func=_guard(cmd_incidents))

    p = subparsers.add_parser("retry", help="resolve an incident: run its job again")
    _db_option(p)
    p.add_argument("incident", help="incident id")
    p.add_argument("--retries", type=_positive(int), default=1,
                   help="attempts to give the job (default 1)")
    p.add_argument("--user", help="act as this user: the engine's policy decides (without it the "
                                  "command line acts as the trusted operator)")
    p.set_defaults(func=_guard(cmd_retry))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from engine.store import migrate
    from engine.store.sql import StoreError, error_reason, normalize_url

    url = _url(args)
    try:
        engine = sa.create_engine(normalize_url(url))
    except Exception as e:  # noqa: BLE001
        raise StoreError(f"cannot use database URL '{url}': {e}") from e
    try:
        before = migrate.current_revision(engine)
        after = migrate.upgrade(engine, args.revision)
    except sa.exc.DBAPIError as e:
        raise StoreError(f"cannot upgrade {_safe(url)}: {error_reason(e)}") from e
    finally:
        engine.dispose()
    if before == after:
        print(f"database {_safe(url)} is at revision {after} (nothing to do)")
    else:
        print(f"database {_safe(url)} upgraded from {before or 'empty'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from engine.store import migrate
    from engine.store.sql import StoreError, error_reason, normalize_url

    url = _url(args)
    engine = sa.create_engine(normalize_url(url))
    try:
        current = migrate.current_revision(engine)
    except sa.exc.DBAPIError as e:
        raise StoreError(f"cannot read {_safe(url)}: {error_reason(e)}") from e
    finally:
        engine.dispose()
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind: this Baton needs {head}"
    print(f"{current or 'empty'} ({state})")
    return 0 if current == head else 1


def _safe(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return url


def cmd_deploy(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args), discover=False)
    deployed = engine.deploy(*args.files, name=args.name, strict=args.strict, user=args.user,
                             compat=args.compat)
    for d in deployed:
        what = "deployed" if d.new else "unchanged"
        mode = f" [compat {d.compat}]" if d.compat else ""
        print(f"{what}: {d.key} version {d.version} ({d.id}) from {d.resource or '-'}{mode}")
    for warning in dict.fromkeys(w for d in deployed for w in d.warnings):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args))
    iid = engine.start(args.key, _vars(args.var), business_key=args.business_key, user=args.user,
                       version=args.version)
    view = engine.instance(iid)
    waiting = f", waiting at {', '.join(view.waiting)}" if view.waiting else ""
    print(f"started {iid}: {view.key} version {view.version}, {view.status}{waiting}")
    return 0


def cmd_instances(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args), discover=False)
    rows = engine.instances(user=args.user, status=args.status, key=args.key,
                            business_key=args.business_key)[:args.limit]
    if not rows:
        print("no instances")
        return 0
    _table([[v.id, f"{v.key}:{v.version}", v.status, v.business_key or "-", _when(v.started),
             ", ".join(v.waiting) or "-"] for v in rows],
           ["ID", "PROCESS", "STATUS", "BUSINESS KEY", "STARTED", "WAITING AT"])
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args), discover=False)
    filters: dict[str, Any] = {"assignee": args.assignee, "instance_id": args.instance,
                               "definition_key": args.process}
    if args.group:
        filters["candidate_groups"] = list(args.group)
    if args.unassigned:
        filters["unassigned"] = True
    try:
        tasks = engine.tasks(sort=args.sort, limit=args.limit, user=args.user or None,
                             **filters)
    except ValueError as e:
        raise UsageError(str(e)) from e
    if args.json:
        for t in tasks:
            print(json.dumps({
                "id": t.id, "name": t.name, "activity_id": t.activity_id,
                "instance_id": t.instance_id, "process": t.definition_key,
                "assignee": t.assignee, "candidate_groups": t.candidate_groups,
                "candidate_users": t.candidate_users, "priority": t.priority,
                "due": t.due.isoformat() if t.due else None, "created": t.created.isoformat(),
            }))
        return 0
    if not tasks:
        print("no open tasks")
        return 0
    _table([[t.id, t.name or t.activity_id, t.definition_key, t.assignee or "-",
             ",".join(t.candidate_groups) or "-", str(t.priority), _when(t.due),
             t.instance_id] for t in tasks],
           ["ID", "TASK", "PROCESS", "ASSIGNEE", "GROUPS", "PRIO", "DUE", "INSTANCE"])
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args))
    task = engine.task(args.task)
    engine.complete_task(args.task, _vars(args.var), user=args.user)
    view = engine.instance(task.instance_id)
    waiting = f", waiting at {', '.join(view.waiting)}" if view.waiting else ""
    print(f"completed {task.name or task.activity_id}; instance {view.id} is "
          f"{view.status}{waiting}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from engine.worker import serve

    if not logging.getLogger().handlers:
        logging.basicConfig(level=os.environ.get("BATON_LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = open_engine(_url(args))
    stats = serve(engine, args.concurrency, poll=args.poll,
                  lease=timedelta(seconds=args.lease), batch=args.batch, until_idle=args.once,
                  wakeup=args.wakeup)
    if args.once:
        print(f"ran {stats.ran} job(s), {stats.failed} failed")
    return 0


def cmd_incidents(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args), discover=False)
    incidents = engine.incidents(open_only=not args.all, user=args.user)
    if not incidents:
        print("no open incidents" if not args.all else "no incidents")
        return 0
    _table([[i.id, _when(i.created), i.instance_id or "-", i.activity_id or "-",
             "resolved" if i.resolved else "open", i.message.splitlines()[0][:100]]
            for i in incidents],
           ["ID", "CREATED", "INSTANCE", "ACTIVITY", "STATE", "ERROR"])
    if args.stack:
        for i in incidents:
            print(f"\n--- {i.id}\n{i.stack or '(no stack)'}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    engine = open_engine(_url(args), discover=False)
    engine.retry_incident(args.incident, args.retries, user=args.user)
    print(f"incident {args.incident} resolved; its job runs again at the next worker pass")
    return 0


# ====================================================================== standalone
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baton", description="Baton engine commands")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_engine_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
