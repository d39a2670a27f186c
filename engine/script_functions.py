"""Host script functions: trusted Python that scripts may call (`@script_function()`).

The implementation lives with the sandbox that calls it (engine/expr/host.py); this is the
public name the README documents."""

from engine.expr.host import (
    ENGINE_FUNCTIONS,
    ENTRY_POINT_GROUP,
    ScriptFunctions,
    call,
    check_name,
    checked_functions,
    resolve,
    script_function,
    script_functions,
)

__all__ = ["ENGINE_FUNCTIONS", "ENTRY_POINT_GROUP", "ScriptFunctions", "call", "check_name",
           "checked_functions", "resolve", "script_function", "script_functions"]
