"""`baton connectors`: what is registered, where it came from, and what failed to load.

`add_connector_commands(subparsers)` adds the sub-command to the `baton` console script's
argparse sub-parsers; the command's function is stored as `func` (called with the parsed
arguments, returns the exit code).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from connectors.registry import Registry
from connectors.registry import registry as default_registry


def add_connector_commands(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "connectors", help="list the registered connectors and where they came from",
        description="List the connectors service tasks can call in process (built-ins, "
                    "entry points in the 'baton.connectors' group, modules named in "
                    "BATON_CONNECTOR_MODULES), the functions the 'python' connector may call, "
                    "and any plug-in that failed to load.")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run_connectors_command)
    return parser


def run_connectors_command(args: argparse.Namespace, registry: Registry | None = None,
                           out: TextIO | None = None) -> int:
    """Print the listing; exit code 1 when a plug-in failed to load, else 0."""
    reg = registry if registry is not None else default_registry
    out = out or sys.stdout
    connectors = reg.all()
    problems = list(reg.problems)
    if getattr(args, "json", False):
        json.dump({
            "connectors": [{
                "name": r.name, "source": r.source, "description": r.description,
                "policy": {"timeout": r.policy.timeout, "retries": r.policy.retries,
                           "backoff": r.policy.backoff, "backoff_factor": r.policy.backoff_factor,
                           "max_backoff": r.policy.max_backoff,
                           "breaker_failures": r.policy.breaker_failures,
                           "breaker_window": r.policy.breaker_window,
                           "breaker_cooldown": r.policy.breaker_cooldown},
                "breaker": r.breaker.state if r.breaker is not None else None,
            } for r in connectors],
            "functions": [{"name": n, "source": s} for n, (_f, s) in sorted(reg.functions.items())],
            "problems": [{"name": p.name, "source": p.source, "error": p.error} for p in problems],
        }, out, indent=2)
        out.write("\n")
        return 1 if problems else 0
    if not connectors:
        out.write("no connectors registered\n")
    else:
        width = max(len(r.name) for r in connectors)
        out.write(f"{'NAME'.ljust(width)}  SOURCE / POLICY\n")
        for r in connectors:
            p = r.policy
            timeout = "none" if p.timeout is None else f"{p.timeout:g}s"
            breaker = (f", breaker {p.breaker_failures} in {p.breaker_window:g}s "
                       f"({r.breaker.state if r.breaker else 'off'})"
                       if p.breaker_failures else "")
            out.write(f"{r.name.ljust(width)}  {r.source}\n")
            out.write(f"{''.ljust(width)}  timeout {timeout}, {p.retries} attempts, backoff "
                      f"{p.backoff:g}s x{p.backoff_factor:g}{breaker}\n")
            if r.description:
                out.write(f"{''.ljust(width)}  {r.description}\n")
    if reg.functions:
        out.write("\nfunctions for the 'python' connector:\n")
        for name, (_fn, source) in sorted(reg.functions.items()):
            out.write(f"  {name}  ({source})\n")
    if problems:
        out.write("\nnot loaded:\n")
        for prob in problems:
            out.write(f"  {prob.name}  from {prob.source}: {prob.error}\n")
    return 1 if problems else 0
