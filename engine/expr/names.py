"""Reserved names of compiled code, and how the translators refer to runtime helpers.

Every helper lives under a name starting with `__baton_`: user text cannot spell such a name
(the checker refuses names starting with '__'), so only nodes built by Baton itself - marked
with `baton_internal` - may use them.
"""

from __future__ import annotations

import ast

VARS = "__baton_vars"   # parameter: the variables mapping handed to evaluate()/run()
FUEL = "__baton_fuel"   # parameter: the per-run budget iterator (None without loops)
CTX = "__baton_ctx"     # parameter: facts about the running instance (scripts and actions only)
VALUE = "__baton_value"  # local: the value of a script's last expression (its "result")
OUT = "__baton_out"     # local: variables set by JUEL's execution.setVariable (name, value, local)
DEPTH = "__baton_depth"  # local: [calls of script-defined functions in progress] (see guards)


def internal(name: str) -> ast.Name:
    """A reference to a runtime helper, marked so the checker does not refuse its '__'."""
    node = ast.Name(id=name, ctx=ast.Load())
    node.baton_internal = True  # type: ignore[attr-defined]
    return node
