"""The safe expression and script sandbox: compile once, evaluate many times.

Every condition, assignee, timer, multi-instance expression and script task body of an
uploaded (untrusted) diagram goes through here. Three expression syntaxes are detected:

- Python: `amount > 1000 and not approved`, `len(items) == 3`, `x.get('a')`;
- JUEL (Camunda 7): `${amount > 1000 && !approved}`, or a template `Review claim ${claimId}`;
- FEEL (Camunda 8), after a leading `=`: `= amount > 1000`, `= if a then "x" else "y"`.

JUEL and FEEL are translated into Python syntax trees, so all three share one safety path:
an allow-list check of the tree (`expr/checker.py`), guards on the operations that can exhaust
memory or CPU (`expr/guards.py`, `expr/work.py`), a metered loop budget, and one compiled
function per text (`expr/rewrite.py`). Compiled objects hold no per-evaluation state: cache
them on the process graph and call them from any thread.

Scripts are a Python subset: assignments, if/for/while, comprehensions, calls of safe
builtins, and small functions of their own (`def`, and `lambda` in expressions too); no
import, class, try, with, raise (use `assert cond, 'message'`), global, nonlocal, yield,
decorators, attribute assignment, or names/attributes starting with '_'/'__'. A script's
last expression statement is its value (Camunda's camunda:resultVariable on script tasks).

Functions run under the same guards and the same operation budget: every call of one takes
a budget step, calls nest at most `MAX_CALL_DEPTH` (100) deep, parameter defaults must be
constants, and a function is never data: it is not kept as a variable (a script's `def`
disappears with the run, as in SpiffWorkflow) and a value holding one is refused, so it
cannot run later on another run's budget. Their attributes (`__code__`, `__globals__`,
`__closure__`, ...) are private names like any other, refused before anything runs.

Camunda 7's `execution` object is translated at compile time (`expr/execution.py`), never
exposed: `execution.getVariable('x')`/`hasVariable` work everywhere; `setVariable`,
`removeVariable` and facts such as `execution.processInstanceId` only where side effects
belong - scripts (`compile_script`) and *actions* (`compile_action`: execution listeners,
`camunda:expression` service tasks, JUEL script tasks), which return an `Outcome` from
`perform(variables, context)`. Groovy/JavaScript scripts run when they are also Python
(typically a few `execution.setVariable("x", true);` lines): `//` comment lines are dropped
and `true`/`false`/`null` read as Python's True/False/None.
"""

from __future__ import annotations

import ast
import re
import reprlib
import textwrap
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from engine.expr import execution, feel, juel
from engine.expr.checker import check
from engine.expr.errors import BudgetExhausted, GuardError, Refused
from engine.expr.guards import current_fuel, new_fuel
from engine.expr.names import OUT, VALUE
from engine.expr.rewrite import (
    build_function,
    expression_return,
    guard,
    script_return,
    store_value,
    unique_filename,
)
from engine.expr.work import check_output

__all__ = [
    "EXPRESSION_BUDGET", "SCRIPT_BUDGET", "Expression", "ExpressionError", "Outcome", "Script",
    "compile_action", "compile_expression", "compile_script", "is_truthy_condition",
]

EXPRESSION_BUDGET = 100_000      # loop steps (comprehension items) per evaluation
SCRIPT_BUDGET = 1_000_000        # loop steps per script run
MAX_EXPRESSION_LENGTH = 20_000   # characters
MAX_SCRIPT_LENGTH = 200_000
_MISSING = object()
_PLAIN_TYPES = frozenset({int, float, str, bool, type(None), list, dict, tuple, set})
_CONTAINERS = frozenset({list, dict, set})   # what a function may change in place


class ExpressionError(ValueError):
    """Raised at compile time (refused) or evaluation time (failed).

    str(e) is a plain sentence naming the text and `where` (e.g. "sequenceFlow 'Flow_3'
    condition"); `problem` is the bare reason, `lineno` the script line when known."""

    where: str
    source: str

    def __init__(self, problem: str, *, source: str = "", where: str = "",
                 refused: bool = False, lineno: int | None = None, kind: str = "expression"):
        if len(problem) > 400:
            problem = problem[:397] + "..."
        self.problem = problem.rstrip(".")
        self.source = source
        self.where = where
        self.refused = refused
        self.lineno = lineno
        self.kind = kind
        label = where or kind
        verb = "was refused" if refused else "failed"
        line = f" on line {lineno}" if lineno and "\n" in source.strip() else ""
        super().__init__(f"{label} {_excerpt(source)} {verb}{line}: {self.problem}.")


    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.problem, self.source, self.where, self.refused,
                                 self.lineno, self.kind))


def _rebuild_error(problem: str, source: str, where: str, refused: bool, lineno: int | None,
                   kind: str) -> ExpressionError:
    return ExpressionError(problem, source=source, where=where, refused=refused, lineno=lineno,
                           kind=kind)


def _excerpt(source: str, limit: int = 80) -> str:
    """The text as it appears in messages: one line, quoted, shortened."""
    text = " ".join(source.split())
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"`{text}`"


def is_truthy_condition(value: Any) -> bool:
    """How a Python condition's value decides a flow: plain bool() semantics (JUEL and FEEL
    conditions must give a boolean, see `Expression.holds`)."""
    return bool(value)


# --------------------------------------------------------------------------- failures
_UNBOUND = re.compile(r"'([^']+)'")


def _problem_of(exc: BaseException, budget: int) -> str:
    """A plain reason for an exception raised while evaluating user code."""
    if isinstance(exc, BudgetExhausted):
        return (f"exceeded its operation budget of {budget} steps (loop iterations and "
                "large values built)")
    if isinstance(exc, GuardError):
        return exc.problem
    if isinstance(exc, NameError):
        match = _UNBOUND.search(str(exc))
        name = match.group(1) if match else "?"
        return f"unknown variable {name!r} (no variable of that name is set)"
    if isinstance(exc, KeyError):
        return f"key {_short(exc.args[0])} not found" if exc.args else "key not found"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, AssertionError):
        if not exc.args:
            return "assertion failed"
        message = exc.args[0]
        return f"assertion failed: {message if isinstance(message, str) else _short(message)}"
    if isinstance(exc, RecursionError):
        return "a value is nested too deeply"
    if isinstance(exc, MemoryError):
        return "it ran out of memory"
    return f"{type(exc).__name__}: {exc}"


# Values from user code are shown through reprlib: bounded, whatever their size.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 3


def _short(value: Any) -> str:
    return _REPR.repr(value)


def _line_of(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class _Compiled:
    """What Expression and Script share: the compiled function and how to report failures."""

    __slots__ = ("source", "where", "_fn", "_budget", "_metered", "_filename")
    _kind = "expression"

    def _init(self, source: str, where: str, fn: Callable[..., Any], budget: int,
              metered: bool, filename: str) -> None:
        self.source = source
        self.where = where
        self._fn = fn
        self._budget = budget
        self._metered = metered
        self._filename = filename

    def _call_metered(self, variables: Mapping[str, Any],
                      context: Mapping[str, Any] | None = None) -> Any:
        """Run with a fresh budget, visible to the guards that charge big allocations."""
        fuel = new_fuel(self._budget)
        token = current_fuel.set(fuel)
        try:
            return self._fn(variables, fuel, context)
        except Exception as exc:
            raise self._failure(exc) from exc
        finally:
            current_fuel.reset(token)

    def _failure(self, exc: Exception) -> ExpressionError:
        return ExpressionError(_problem_of(exc, self._budget), source=self.source,
                               where=self.where, lineno=_line_of(exc, self._filename),
                               kind=self._kind)

    def _checked(self, value: Any, name: str | None = None) -> Any:
        """A value leaving the sandbox: refused if too large to store or show (a few nested
        lists that share their items can stand for 10**12 values)."""
        try:
            return check_output(value, name)
        except GuardError as exc:
            raise self._failure(exc) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, where={self.where!r})"


class Expression(_Compiled):
    """A compiled expression; `evaluate` never writes to the variables it is given.

    `dialect` is the syntax it was read as: "python", "juel" or "feel"."""

    __slots__ = ("names", "_language", "dialect")

    def __init__(self, source: str, where: str, fn: Callable[..., Any], names: frozenset[str],
                 budget: int, metered: bool, filename: str, language: str | None,
                 dialect: str = "python") -> None:
        self._init(source, where, fn, budget, metered, filename)
        self.names = names
        self._language = language
        self.dialect = dialect

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its text: unpickling compiles it again."""
        return (_recompile_expression, (self.source, self.where, self._budget, self._language))

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        if self._metered:
            value = self._call_metered(variables)
        else:
            try:
                value = self._fn(variables, None)
            except Exception as exc:
                raise self._failure(exc) from exc
        return self._checked(value)

    def holds(self, variables: Mapping[str, Any]) -> bool:
        """The verdict of a condition (a sequence flow's, a conditional event's, a
        completion condition...).

        JUEL and FEEL conditions must give a boolean: anything else (a string, a number,
        null) is an error naming the condition, as in Camunda 7 ("condition expression
        returns non-Boolean") and Zeebe, rather than a silent guess. A Python condition
        keeps Python's truthiness (`items` is true when the list is not empty), which is
        how SpiffWorkflow diagrams are written (see `is_truthy_condition`)."""
        value = self.evaluate(variables)
        if value is True or value is False:
            return value
        if self.dialect == "python":
            return bool(value)
        shown = "null" if value is None else f"{_kind_of(value)} {_short(value)}"
        raise ExpressionError(
            f"it gave {shown}, not true or false (a "
            f"{self.dialect.upper()} condition must evaluate to a boolean)",
            source=self.source, where=self.where, kind="condition")


def _kind_of(value: Any) -> str:
    """How a message names a value's type: "the text", "the number"..."""
    if isinstance(value, str):
        return "the text"
    if isinstance(value, int | float):
        return "the number"
    return f"a value of type {type(value).__name__}"


class Outcome(NamedTuple):
    """What a script or action did, for the runtime to apply (`Script.perform`)."""

    value: Any                  # its last expression's value (a JUEL action's value), or None
    variables: dict[str, Any]   # set like Camunda's setVariable: the nearest scope that has it
    local: dict[str, Any]       # set with execution.setVariableLocal: the current scope
    deleted: tuple[str, ...]    # removed (`del name`, execution.removeVariable)


def _plain(value: Any) -> Any:
    """A value fit to become a variable; _MISSING for functions, modules and iterators."""
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, range):
        return list(value)
    if callable(value) or isinstance(value, types.ModuleType | Iterator):
        return _MISSING
    return value


class Script(_Compiled):
    """A compiled script or action; it returns the variables it set instead of writing them.

    `has_value`: the script ends with an expression (its value is `Outcome.value`);
    `uses_context`: it reads facts about the instance (pass `context` to `perform`)."""

    __slots__ = ("_reported", "_compare", "_deleted", "_local", "_records", "has_value",
                 "uses_context", "_language", "_action", "_aliased")
    _kind = "script"

    def __init__(self, source: str, where: str, fn: Callable[..., Any], reported: tuple[str, ...],
                 compare: frozenset[str], budget: int, metered: bool, filename: str,
                 deleted: tuple[str, ...] = (), *, local: frozenset[str] = frozenset(),
                 records: bool = False, has_value: bool = False, uses_context: bool = False,
                 language: str | None = None, action: bool = False,
                 aliased: bool = False) -> None:
        self._init(source, where, fn, budget, metered, filename)
        self._aliased = aliased     # defines functions: containers read may have changed
        self._reported = reported   # names the script may bind or mutate
        self._compare = compare     # of those, names that were loaded from the variables
        self._deleted = deleted     # names a `del name` statement may remove
        self._local = local         # names set with execution.setVariableLocal
        self._records = records     # JUEL execution.setVariable calls fill __baton_out
        self.has_value = has_value
        self.uses_context = uses_context
        self._language = language
        self._action = action

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its text: unpickling compiles it again."""
        return (_recompile_script, (self.source, self.where, self._budget, self._language,
                                    self._action))

    def run(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Execute; return {name: value} for every top-level name the script assigned, and
        every variable it changed in place (d[k] = v, items.append(x)). Functions, modules
        and iterators are dropped; a range becomes a list."""
        return self.run_with_deletions(variables)[0]

    def run_with_deletions(self, variables: Mapping[str, Any]
                           ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Like `run`, and also name the variables the script removed with `del name`
        (so the caller can remove them too instead of silently keeping them)."""
        outcome = self.perform(variables)
        return {**outcome.variables, **outcome.local}, outcome.deleted

    def perform(self, variables: Mapping[str, Any],
                context: Mapping[str, Any] | None = None) -> Outcome:
        """Execute with `context` (instance_id, business_key, activity_id, activity_name,
        event_name, definition_id - what `execution.*` facts read) and say what changed."""
        if self._metered:
            scope = self._call_metered(variables, context)
        else:
            try:
                scope = self._fn(variables, None, context)
            except Exception as exc:
                raise self._failure(exc) from exc
        result: dict[str, Any] = {}
        for name in self._reported:
            value = scope.get(name, _MISSING)
            if value is _MISSING:
                continue  # never assigned on the path taken, or deleted
            if name in self._compare and value is variables.get(name, _MISSING) and not (
                    self._aliased and type(value) in _CONTAINERS):
                continue  # still the variable's own value
            value = _plain(value)
            if value is not _MISSING:
                result[name] = self._checked(value, name)
        gone = [n for n in self._deleted if n not in scope and n in variables]
        local = ({name: result.pop(name) for name in self._local if name in result}
                 if self._local else {})
        if self._records:
            for name, value, is_local in scope[OUT]:
                result.pop(name, None)
                local.pop(name, None)
                if execution.is_removal(value):
                    if name not in gone:
                        gone.append(name)
                    continue
                if name in gone:
                    gone.remove(name)
                value = _plain(value)
                if value is not _MISSING:
                    (local if is_local else result)[name] = self._checked(value, name)
        value = None
        if self.has_value:
            value = _plain(scope.get(VALUE))
            value = None if value is _MISSING else self._checked(value)
        return Outcome(value, result, local, tuple(gone))


# --------------------------------------------------------------------------- compiling
def _refusal(exc: Exception, source: str, where: str, kind: str) -> ExpressionError:
    if isinstance(exc, Refused):
        problem, line = exc.problem, exc.lineno
    elif isinstance(exc, SyntaxError):
        detail = "" if exc.msg == "invalid syntax" else f" ({exc.msg})"
        column = f" at column {exc.offset}" if exc.offset else ""
        problem, line = f"invalid syntax{column}{detail}", exc.lineno
    elif isinstance(exc, RecursionError | MemoryError):
        problem, line = "it is nested too deeply", None
    else:  # ValueError from compile(), e.g. a NUL character
        problem, line = str(exc), None
    return ExpressionError(problem, source=source, where=where, refused=True, lineno=line,
                           kind=kind)


def _detect(text: str, language: str | None) -> str:
    lowered = (language or "").strip().lower()
    if "feel" in lowered:
        return "feel"
    if "juel" in lowered or lowered in ("el", "uel"):
        return "juel"
    if "python" not in lowered:  # no (or an unknown) language: read the text itself
        if text.startswith("="):
            return "feel"
        if juel.contains_juel(text):
            return "juel"
    return "python"


def _parse_expression(text: str, dialect: str, actions: bool = False) -> ast.expr:
    if dialect == "feel":
        return feel.parse(text[1:] if text.startswith("=") else text)
    if dialect == "juel":
        if juel.contains_juel(text):
            return juel.parse(text, actions=actions)
        return juel.parse_bare(text, actions=actions)
    if text in ("true", "false"):  # what a Camunda 7 diagram means by a bare true/false
        return ast.Constant(value=text == "true")
    tree = ast.parse(text, mode="eval")
    if execution.mentions_execution(tree):
        tree = execution.PythonTranslator(statements=False).visit(tree)
    return tree.body


def compile_expression(source: str, *, where: str = "", budget: int = EXPRESSION_BUDGET,
                       language: str | None = None) -> Expression:
    """Compile a condition/assignee/timer/collection expression (Python, JUEL or FEEL).

    `language` (optional) forces a dialect: "python", "juel" or "feel" (a BPMN language URI
    containing one of these works too); otherwise it is detected from the text."""
    if not isinstance(source, str):
        raise ExpressionError(f"expected text, got {type(source).__name__}", source=str(source),
                              where=where, refused=True)
    text = source.strip()
    try:
        if not text:
            raise Refused("it is empty")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise Refused(f"it is longer than {MAX_EXPRESSION_LENGTH} characters")
        dialect = _detect(text, language)
        tree = ast.Expression(body=_parse_expression(text, dialect))
        use = check(tree, script=False)
        guarded, many_guards = guard(tree)
        filename = unique_filename(where)
        fn = build_function([expression_return(guarded.body)],  # type: ignore[attr-defined]
                            use.reads, filename)
    except (Refused, SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        raise _refusal(exc, source, where, "expression") from None
    return Expression(source, where, fn, frozenset(use.reads), budget,
                      use.has_loops or many_guards, filename, language, dialect)


def compile_script(source: str, *, where: str = "", budget: int = SCRIPT_BUDGET,
                   language: str | None = None) -> Script:
    """Compile a script task body (a Python subset, see the module docstring).

    `language` is the diagram's scriptFormat: groovy/javascript bodies get the compatibility
    steps of the module docstring; any other value changes nothing."""
    return _compile_statements(source, where, budget, language, action=False)


def compile_action(source: str, *, where: str = "", budget: int = SCRIPT_BUDGET,
                   language: str | None = None) -> Script:
    """Compile something run for its effect: an execution listener (its `expression` or
    script), a service task's `camunda:expression`, a JUEL/FEEL script task.

    A JUEL (`${...}`/`#{...}`) or FEEL (`= ...`) text is one expression whose value is
    `Outcome.value` and whose `execution.setVariable(...)` calls are the outcome's variables;
    any other text is a script (`compile_script`). `language` forces the dialect as in
    `compile_expression` (groovy/javascript mean a script)."""
    if not isinstance(source, str):
        raise ExpressionError(f"expected text, got {type(source).__name__}", source=str(source),
                              where=where, refused=True, kind="script")
    text = source.strip()
    dialect = "python" if _is_java_like(language) else _detect(text, language)
    if dialect == "python":
        return _compile_statements(source, where, budget, language, action=True)
    try:
        if not text:
            raise Refused("it is empty")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise Refused(f"it is longer than {MAX_EXPRESSION_LENGTH} characters")
        tree = ast.Expression(body=_parse_expression(text, dialect, actions=True))
        use = check(tree, script=False)
        guarded, many_guards = guard(tree)
        records = execution.uses_helper(guarded, "__baton_record") or execution.uses_helper(
            guarded, "__baton_record_removal")
        body: list[ast.stmt] = [_start_recording()] if records else []
        body += [store_value(guarded.body), script_return()]  # type: ignore[attr-defined]
        filename = unique_filename(where or "action")
        fn = build_function(body, use.reads, filename)
    except (Refused, SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        raise _refusal(exc, source, where, "expression") from None
    return Script(source, where, fn, (), frozenset(), budget, use.has_loops or many_guards,
                  filename, records=records, has_value=True,
                  uses_context=execution.uses_helper(guarded, "__baton_execution"),
                  language=language, action=True)


_JAVA_LIKE = ("groovy", "javascript", "ecmascript", "js", "nashorn", "graal")


def _is_java_like(language: str | None) -> bool:
    lowered = (language or "").strip().lower()
    return any(lowered == name or lowered.startswith(name) for name in _JAVA_LIKE)


_LINE_COMMENT = re.compile(r"^[ \t]*//.*$", re.MULTILINE)


class _JavaLiterals(ast.NodeTransformer):
    """Groovy/JavaScript `true`, `false` and `null` as Python constants (unless the script
    itself binds such a name)."""

    _VALUES = {"true": True, "false": False, "null": None}

    def __init__(self, bound: set[str]) -> None:
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if (isinstance(node.ctx, ast.Load) and node.id in self._VALUES
                and node.id not in self.bound):
            return ast.copy_location(ast.Constant(value=self._VALUES[node.id]), node)
        return node


def _java_compatible(text: str) -> ast.Module:
    """Parse a groovy/javascript body that is also Python: drop `//` comment lines (kept as
    blank lines, so line numbers still match), read true/false/null as Python constants."""
    module = ast.parse(_LINE_COMMENT.sub("", text), mode="exec")
    bound = {node.id for node in ast.walk(module)
             if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    return _JavaLiterals(bound).visit(module)


def _start_recording() -> ast.stmt:
    """`__baton_out = []`: where JUEL's execution.setVariable calls are recorded."""
    target = ast.Name(id=OUT, ctx=ast.Store())
    target.baton_internal = True  # type: ignore[attr-defined]
    return ast.Assign(targets=[target], value=ast.List(elts=[], ctx=ast.Load()))


def _compile_statements(source: str, where: str, budget: int, language: str | None,
                        action: bool) -> Script:
    if not isinstance(source, str):
        raise ExpressionError(f"expected text, got {type(source).__name__}", source=str(source),
                              where=where, refused=True, kind="script")
    try:
        if len(source) > MAX_SCRIPT_LENGTH:
            raise Refused(f"it is longer than {MAX_SCRIPT_LENGTH} characters")
        # Scripts pasted into XML are often indented as a block.
        text = textwrap.dedent(source)
        if _is_java_like(language):
            module = _java_compatible(text)
        else:
            module = ast.parse(text, mode="exec")
        translator = execution.PythonTranslator(statements=True)
        if execution.mentions_execution(module):
            module = translator.visit(module)
        has_value = bool(module.body) and isinstance(module.body[-1], ast.Expr)
        if has_value:
            module.body[-1] = store_value(module.body[-1].value)  # type: ignore[attr-defined]
        use = check(module, script=True)
        guarded, many_guards = guard(module)
        filename = unique_filename(where or "script")
        fn = build_function([*guarded.body, script_return()],  # type: ignore[attr-defined]
                            use.reads, filename)
    except (Refused, SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        raise _refusal(exc, source, where, "script") from None
    reported = tuple(sorted(use.assigned | use.mutated))
    compare = frozenset(use.reads - use.mutated)
    if use.has_functions:
        # a function's parameter may be a variable's list or dict, changed in place where
        # the checker cannot see it: every variable read is reported when it is a container
        # (and so checked for size and for functions put in it)
        reported = tuple(sorted(use.assigned | use.mutated | use.reads))
    return Script(source, where, fn, reported, compare, budget, use.has_loops or many_guards,
                  filename, tuple(sorted(use.deleted)),
                  local=frozenset(translator.local_names), has_value=has_value,
                  uses_context=execution.uses_helper(guarded, "__baton_execution"),
                  language=language, action=action, aliased=use.has_functions)


def _recompile_expression(source: str, where: str, budget: int,
                          language: str | None) -> Expression:
    return compile_expression(source, where=where, budget=budget, language=language)


def _recompile_script(source: str, where: str, budget: int, language: str | None = None,
                      action: bool = False) -> Script:
    if action:
        return compile_action(source, where=where, budget=budget, language=language)
    return compile_script(source, where=where, budget=budget, language=language)
