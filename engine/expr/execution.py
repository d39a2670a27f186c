"""Camunda 7's `execution` object, translated away at compile time.

Diagrams drawn for Camunda 7 call `execution.setVariable('approved', true)` in script tasks,
execution listeners and `camunda:expression`s. Handing the sandbox a real object named
`execution` would open a door (its class, its attributes, whatever it references), so there
is none: every `execution.<member>` is rewritten here, statically, into plain Python the
checker then verifies like any other text, or refused with the list of what works.

What each member becomes:

- `execution.getVariable('x')` / `getVariableLocal('x')`: a read of `x` (an unset variable
  fails, as a bare name does); with a computed name, a guarded lookup by name.
- `execution.hasVariable('x')` / `hasVariableLocal('x')`: whether `x` is set.
- `execution.setVariable('x', v)` / `setVariableLocal('x', v)`: in a Python script, a
  statement of its own becomes the assignment `x = v` (so later lines read the new value);
  in JUEL, a call recording `(x, v)` in the run's `__baton_out` list. The name must be
  quoted text naming a plain identifier that does not start with '_'.
- `execution.removeVariable('x')` (`removeVariableLocal`): in a Python script a statement
  `del x` when x is set (the runtime then removes the variable); in JUEL, recorded.
- read-only facts about the running instance, from the `__baton_ctx` mapping the runtime
  passes to scripts and actions: `id`/`getId()` and `processInstanceId` (the process
  instance id: Baton has no separate execution ids), `processBusinessKey`/`businessKey`,
  `currentActivityId`, `currentActivityName`, `eventName` (start/end/take in listeners),
  `processDefinitionId`, each also as a getter (`getProcessInstanceId()`).

Conditions and other expressions stay free of side effects: there, setters and removals are
refused, and so are the facts (expressions are evaluated without the instance context).
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Mapping
from typing import Any

from engine.expr.errors import GuardError, Refused
from engine.expr.names import CTX, OUT, VARS, internal

NAME = "execution"
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")    # names scripts may set
_READABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")     # names they may read ('__' refused later)

# property name -> context key; each also works as a getter: getProcessInstanceId()
_FACTS = {
    "id": "instance_id",
    "processInstanceId": "instance_id",
    "processBusinessKey": "business_key",
    "businessKey": "business_key",
    "currentActivityId": "activity_id",
    "currentActivityName": "activity_name",
    "eventName": "event_name",
    "processDefinitionId": "definition_id",
}
_FACT_GETTERS = {"get" + name[0].upper() + name[1:]: key for name, key in _FACTS.items()}
_READS = frozenset({"getVariable", "getVariableLocal"})
_HAS = frozenset({"hasVariable", "hasVariableLocal"})
SETTERS = frozenset({"setVariable", "setVariableLocal"})
REMOVERS = frozenset({"removeVariable", "removeVariableLocal"})
_FACT_LABELS = {
    "instance_id": "the process instance id", "business_key": "the business key",
    "activity_id": "the current activity id", "activity_name": "the current activity name",
    "event_name": "the listener event name", "definition_id": "the process definition id",
}
SUPPORTED = ("execution.getVariable('name'), hasVariable('name'), setVariable('name', value), "
             "setVariableLocal, removeVariable('name'), and the read-only id, "
             "processInstanceId, processBusinessKey, currentActivityId, currentActivityName, "
             "eventName, processDefinitionId (or their getters)")
_READ_ONLY_WHERE = ("in conditions and other expressions (they must not change variables); "
                    "it works in scripts, execution listeners and camunda:expression tasks")
_FACT_WHERE = ("in conditions and other expressions; it works in scripts, execution "
               "listeners and camunda:expression tasks")


def is_execution(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == NAME


def unsupported(member: str, call: bool) -> Refused:
    suffix = "()" if call else ""
    return Refused(f"execution.{member}{suffix} is not supported (Baton offers {SUPPORTED})")


def bare_use() -> Refused:
    return Refused("'execution' can only be used as execution.getVariable('name'), "
                   "execution.setVariable('name', value) and the like; it is not a value "
                   "that can be passed around")


def variable_name(argument: ast.expr, member: str) -> str:
    """The constant variable name a setter or remover names, checked at compile time."""
    if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
        raise Refused(f"the variable name of execution.{member}() must be quoted text such as "
                      f"execution.{member}('approved', ...), not a computed value")
    name = argument.value
    if not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise Refused(f"execution.{member}({name!r}, ...): a variable name must be a plain "
                      "identifier (letters, digits and '_', not starting with '_' or a digit)")
    return name


def _arity(member: str, arguments: list[ast.expr], count: int) -> None:
    if len(arguments) != count:
        what = {0: "no arguments", 1: "exactly one variable name",
                2: "a variable name and a value"}[count]
        raise Refused(f"execution.{member}() takes {what}, got {len(arguments)} "
                      f"argument{'s' if len(arguments) != 1 else ''}")


def _helper(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=internal(name), args=list(args), keywords=[])


def translate(member: str, arguments: list[ast.expr] | None, *, actions: bool,
              local_scope: ast.expr | None = None) -> ast.expr:
    """`execution.<member>` (a call when `arguments` is not None) as a Python expression.

    `actions`: side effects and facts are allowed (scripts, listeners, expression tasks);
    setters and removers then become calls that record into the run's `__baton_out` list
    (the Python translator turns statement-level setters into assignments before this).
    `local_scope`: an expression for the script's own bindings, consulted before the
    variables by computed reads (a Python script's `__baton_locals()`)."""
    if arguments is None:
        key = _FACTS.get(member)
        if key is None:
            raise unsupported(member, call=False)
        return _fact(member, key, actions)
    if member in _FACT_GETTERS:
        _arity(member, arguments, 0)
        return _fact(member + "()", _FACT_GETTERS[member], actions)
    if member in _READS or member in _HAS:
        _arity(member, arguments, 1)
        argument = arguments[0]
        scope = local_scope if local_scope is not None else ast.Constant(value=None)
        if member in _HAS:
            return _helper("__baton_hasvar", internal(VARS), argument, scope)
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            if not _READABLE.match(argument.value) or keyword.iskeyword(argument.value):
                raise Refused(f"{argument.value!r} is not a valid variable name")
            return ast.Name(id=argument.value, ctx=ast.Load())  # the checker vets the name
        return _helper("__baton_getvar", internal(VARS), argument, scope)
    if member in SETTERS or member in REMOVERS:
        if not actions:
            raise Refused(f"execution.{member}() is not supported {_READ_ONLY_WHERE}")
        local = ast.Constant(value=member.endswith("Local"))
        if member in SETTERS:
            _arity(member, arguments, 2)
            name = variable_name(arguments[0], member)
            return _helper("__baton_record", internal(OUT), ast.Constant(value=name),
                           arguments[1], local)
        _arity(member, arguments, 1)
        name = variable_name(arguments[0], member)
        return _helper("__baton_record_removal", internal(OUT), ast.Constant(value=name), local)
    raise unsupported(member, call=True)


def _fact(label: str, key: str, actions: bool) -> ast.expr:
    if not actions:
        raise Refused(f"execution.{label} is not supported {_FACT_WHERE}")
    return _helper("__baton_execution", internal(CTX), ast.Constant(value=key))


class PythonTranslator(ast.NodeTransformer):
    """Rewrites `execution.*` in a Python tree (a script module or an expression).

    In a script (`statements=True`), `execution.setVariable('x', v)` standing as a statement
    becomes `x = v`, and `execution.removeVariable('x')` becomes `if 'x' is bound: del x`;
    anywhere else a setter is refused, because the value of a call is not where a variable
    can be set. `local_names` collects the names set with setVariableLocal."""

    def __init__(self, *, statements: bool) -> None:
        self.statements = statements
        self.local_names: set[str] = set()
        self.in_function = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.in_function += 1
        try:
            return self.generic_visit(node)
        finally:
            self.in_function -= 1

    visit_Lambda = visit_FunctionDef

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        member = _member_call(call)
        if self.statements and member in SETTERS | REMOVERS and self.in_function:
            raise Refused(f"execution.{member}() cannot be used inside a function (it would "
                          "change a name of the function only); return the value and set "
                          "the variable at the top level of the script",
                          getattr(node, "lineno", None))
        if self.statements and member in SETTERS | REMOVERS:
            arguments = call.args  # type: ignore[attr-defined]
            if call.keywords:  # type: ignore[attr-defined]
                raise Refused(f"execution.{member}() takes no keyword arguments")
            if member in SETTERS:
                _arity(member, arguments, 2)
                name = variable_name(arguments[0], member)
                value = self.visit(arguments[1])
                if member == "setVariableLocal":
                    self.local_names.add(name)
                target = ast.Name(id=name, ctx=ast.Store())
                return ast.copy_location(ast.Assign(targets=[target], value=value), node)
            _arity(member, arguments, 1)
            name = variable_name(arguments[0], member)
            bound = ast.Compare(left=ast.Constant(value=name), ops=[ast.In()],
                                comparators=[_helper("__baton_locals")])
            remove = ast.Delete(targets=[ast.Name(id=name, ctx=ast.Del())])
            statement = ast.If(test=bound, body=[remove], orelse=[])
            return ast.fix_missing_locations(ast.copy_location(statement, node))
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        member = _member_call(node)
        if member is None:
            return self.generic_visit(node)
        if node.keywords:
            raise Refused(f"execution.{member}() takes no keyword arguments")
        if self.statements and member in SETTERS | REMOVERS:
            raise Refused(f"execution.{member}(...) must be a statement on its own line in a "
                          "script (its value cannot be used)")
        arguments = [self.visit(argument) for argument in node.args]
        scope = _helper("__baton_locals") if self.statements else None
        translated = translate(member, arguments, actions=self.statements, local_scope=scope)
        return ast.copy_location(translated, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if is_execution(node.value):
            translated = translate(node.attr, None, actions=self.statements)
            return ast.copy_location(translated, node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == NAME:
            raise Refused(bare_use().problem, getattr(node, "lineno", None))
        return node


def _member_call(node: ast.AST) -> str | None:
    """`m` when node is the call `execution.m(...)`."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and is_execution(node.func.value)):
        return node.func.attr
    return None


def mentions_execution(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Name) and node.id == NAME for node in ast.walk(tree))


def uses_helper(tree: ast.AST, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(tree))


# --------------------------------------------------------------------------- run time
_REMOVED = object()  # marks a recorded removal in __baton_out


def _checked_name(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise GuardError(f"execution.{what}() needs a text variable name, got "
                         f"{type(name).__name__}")
    if name.startswith("__"):
        raise GuardError(f"execution.{what}({name!r}): names starting with '__' are reserved")
    return name


def read_variable(variables: Mapping[str, Any], name: Any,
                  scope: Mapping[str, Any] | None = None) -> Any:
    """execution.getVariable(expr) with a computed name; a script's own bindings first."""
    name = _checked_name(name, "getVariable")
    if scope is not None and name in scope:
        return scope[name]
    try:
        return variables[name]
    except KeyError:
        raise NameError(f"name {name!r} is not defined") from None


def has_variable(variables: Mapping[str, Any], name: Any,
                 scope: Mapping[str, Any] | None = None) -> bool:
    name = _checked_name(name, "hasVariable")
    return (scope is not None and name in scope) or name in variables


def record_variable(out: list[tuple[str, Any, bool]], name: str, value: Any,
                    local: bool) -> None:
    """JUEL's execution.setVariable: remember it; the runtime applies it after the run."""
    out.append((name, value, local))


def record_removal(out: list[tuple[str, Any, bool]], name: str, local: bool) -> None:
    out.append((name, _REMOVED, local))


def is_removal(value: Any) -> bool:
    return value is _REMOVED


def execution_fact(context: Mapping[str, Any] | None, key: str) -> Any:
    """A read-only fact about the running instance (instance id, business key...)."""
    if context is None or key not in context:
        raise GuardError(f"{_FACT_LABELS.get(key, key)} is not known here (only scripts, "
                         "execution listeners and expression tasks run inside an instance)")
    return context[key]


EXECUTION_GLOBALS: dict[str, Any] = {
    "__baton_getvar": read_variable,
    "__baton_hasvar": has_variable,
    "__baton_record": record_variable,
    "__baton_record_removal": record_removal,
    "__baton_execution": execution_fact,
}
