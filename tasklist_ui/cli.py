"""The `baton` command: the web tasklist (`serve`, `demo`), users and groups, plus the
engine's and the connectors' sub-commands when those modules are installed.

Every sub-command stores its function as `func` (called with the parsed arguments, returns
the exit code), the convention `engine.cli` and `connectors.cli` follow too.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from engine import Engine, EngineError

DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Baton: a BPMN 2.0 process engine with human tasks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_engine_commands(sub)
    _add_serve(sub)
    _add_demo(sub)
    _add_users(sub)
    _add_groups(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=os.environ.get("BATON_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)     # migrations: quiet unless wrong
    try:
        return int(func(args) or 0)
    except EngineError as e:
        print(f"baton: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _add_engine_commands(sub: Any) -> None:
    """`engine.cli` (db upgrade, deploy, start, tasks, worker, ...) and `connectors.cli`."""
    try:
        from engine.cli import add_engine_commands
    except ImportError:
        pass
    else:
        add_engine_commands(sub)
    try:
        from connectors.cli import add_connector_commands
    except ImportError:
        pass
    else:
        add_connector_commands(sub)


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL (default: $BATON_DATABASE_URL or sqlite:///baton.db)")


def open_cli_engine(url: str | None) -> Engine:
    """An engine over the database, with every connector this process can see (built-ins,
    entry points, $BATON_CONNECTOR_MODULES) registered, as `baton worker` has them."""
    from engine.store import resolve_url

    try:
        from engine.cli import open_engine
    except ImportError:
        from tasklist_ui.app import open_engine
    return open_engine(resolve_url(url))


# ---------------------------------------------------------------------- serve


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web tasklist and a job worker",
                       description="Run the web tasklist with an in-process job worker.")
    _db_option(p)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on ({DEFAULT_PORT})")
    p.add_argument("--demo", action="store_true",
                   help="load demo users, the sample diagrams and a few claims (idempotent)")
    p.add_argument("--no-worker", action="store_true",
                   help="do not run jobs in this process (a separate `baton worker` does)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between job worker passes (1.0)")
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from tasklist_ui.app import create_app
    from tasklist_ui.worker_thread import JobWorkerThread

    engine = open_cli_engine(args.db)
    if args.demo:
        from tasklist_ui.demo import load_demo

        for line in load_demo(engine).lines():
            print(line)
    app = create_app(engine)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, SystemExit) as e:
        # werkzeug reports a port in use itself and exits; say it Baton's way, once
        reason = e.strerror if isinstance(e, OSError) else "the address is in use or refused"
        print(f"baton: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    worker = None                      # started once the port is ours: nothing to undo
    if not args.no_worker:
        worker = JobWorkerThread(engine, args.interval)
        worker.start()
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    print(f"Baton tasklist running on http://{host}:{server.server_port}/ (Ctrl+C to stop)")
    if args.demo:
        from tasklist_ui.demo import DEMO_PASSWORD

        print(f"Log in as alice (adjuster), bob (supervisor), ann (analyst) or admin; "
              f"password '{DEMO_PASSWORD}'")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.server_close()
        if worker is not None:
            worker.stop()
    return 0


# ---------------------------------------------------------------------- demo


def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="load demo users, the sample diagrams and a few claims",
                       description="Load demo data into the database (idempotent).")
    _db_option(p)
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from tasklist_ui.demo import load_demo

    for line in load_demo(open_cli_engine(args.db)).lines():
        print(line)
    return 0


# ---------------------------------------------------------------------- users and groups


def _add_users(sub: Any) -> None:
    p = sub.add_parser("user", help="manage tasklist users")
    actions = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user",
                             description="Add a user. The password is asked for unless "
                                         "--password or $BATON_PASSWORD gives it.")
    _db_option(add)
    add.add_argument("user_id", help="login name")
    add.add_argument("--name", help="display name (default: the login name)")
    add.add_argument("--password", help="password (prefer the prompt: shells keep history)")
    add.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                     help="staff, analyst, supervisor or admin (repeatable; default staff)")
    add.add_argument("--group", action="append", dest="groups", default=[], metavar="GROUP",
                     help="a group the user belongs to (repeatable)")
    add.add_argument("--email")
    add.set_defaults(func=run_user_add)


def run_user_add(args: argparse.Namespace) -> int:
    password = args.password or os.environ.get("BATON_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("baton: give a password with --password or $BATON_PASSWORD", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Password for {args.user_id}: ")
        if getpass.getpass("Again: ") != password:
            print("baton: the passwords differ", file=sys.stderr)
            return 2
    engine = open_cli_engine(args.db)
    rec = engine.add_user(args.user_id, args.name, password, roles=args.roles or ["staff"],
                          groups=args.groups, email=args.email)
    print(f"added user {rec.id} (roles: {', '.join(rec.roles)}; groups: "
          f"{', '.join(rec.groups) or 'none'})")
    return 0


def _add_groups(sub: Any) -> None:
    p = sub.add_parser("group", help="manage groups")
    actions = p.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a group")
    _db_option(add)
    add.add_argument("group_id")
    add.add_argument("--name", help="display name")
    add.add_argument("--member", action="append", default=[], metavar="USER",
                     help="add this existing user to the group (repeatable)")
    add.set_defaults(func=run_group_add)


def run_group_add(args: argparse.Namespace) -> int:
    engine = open_cli_engine(args.db)
    engine.add_group(args.group_id, args.name)
    for user_id in args.member:
        engine.add_to_group(user_id, args.group_id)
    print(f"added group {args.group_id}"
          + (f" with {', '.join(args.member)}" if args.member else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
