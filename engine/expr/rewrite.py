"""From a checked AST to one Python function, compiled once and called per evaluation.

The user's text becomes the body of

    def __baton_code(__baton_vars, __baton_fuel):
        try:
            amount = __baton_vars['amount']      # one prologue load per variable read
        except __baton_KeyError:
            pass                                 # unset: reading it raises UnboundLocalError
        return amount > 1000                     # expression; a script ends with return locals()

so variables are fast locals (no dict lookups in the hot path), a missing variable fails only
if it is actually read, and the mapping handed in is never written. The function's globals
are the shared, never-mutated `_GLOBALS`: only names starting with `__baton_` live
there, and user text cannot spell those.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from typing import Any

from engine.expr.errors import GuardError, Refused
from engine.expr.execution import EXECUTION_GLOBALS
from engine.expr.feel import FEEL_GLOBALS
from engine.expr.guards import (
    GUARDED_METHODS,
    RUNTIME_GLOBALS,
    SAFE_BUILTINS,
    guarded_add,
    guarded_lshift,
    guarded_mod,
    guarded_mul,
    guarded_pow,
    guarded_sub,
    percent_format_problem,
)
from engine.expr.names import CTX, FUEL, VALUE, VARS, internal
from engine.script_functions import CALL_HELPER, HOST_GLOBALS

_FOLDERS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Mult: guarded_mul, ast.Pow: guarded_pow, ast.LShift: guarded_lshift,
    ast.Add: guarded_add, ast.Sub: guarded_sub, ast.Mod: guarded_mod,
}
_HELPER = {ast.Mult: "__baton_mul", ast.Pow: "__baton_pow", ast.LShift: "__baton_lshift",
           ast.Add: "__baton_add", ast.Sub: "__baton_sub", ast.Mod: "__baton_mod"}
_IN_PLACE_HELPER = {**_HELPER, ast.Mult: "__baton_imul", ast.Add: "__baton_iadd"}
_NUMBER = (int, float, complex)
_counter = itertools.count()
_GLOBALS: dict[str, Any] = {**RUNTIME_GLOBALS, **FEEL_GLOBALS, **EXECUTION_GLOBALS,
                            **HOST_GLOBALS}


def _is_constant(node: ast.AST, kinds: tuple[type, ...]) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, kinds)
            and not isinstance(node.value, bool))


def _is_short_text(node: ast.AST) -> bool:
    return _is_constant(node, (str, bytes)) and len(node.value) <= 16  # type: ignore[attr-defined]


def _needs_guard(op: ast.operator, left: ast.expr, right: ast.expr) -> bool:
    """Can this operation grow a value faster than linearly, or format without limits?"""
    if isinstance(op, ast.Mult | ast.Pow):
        return not (_is_constant(left, (float, complex)) or _is_constant(right, (float, complex)))
    if isinstance(op, ast.LShift):
        return True
    if isinstance(op, ast.Add | ast.Sub):
        # x + 1, s + '.': growth per step is bounded by a number or a short text.
        return not (_is_constant(left, _NUMBER) or _is_constant(right, _NUMBER)
                    or _is_short_text(left) or _is_short_text(right))
    if isinstance(op, ast.Mod):
        # '%s' % value must still check the size of value as text.
        return not _is_constant(left, _NUMBER)
    return False


class Guarder(ast.NodeTransformer):
    """Routes risky operations through guards and meters every loop iteration."""

    def __init__(self) -> None:
        self.sites = 0  # guarded operations inserted

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op_type = type(node.op)
        if op_type not in _HELPER:
            return node
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            folded = self._fold(node, _FOLDERS[op_type])
            if folded is not None:
                return folded
        if isinstance(node.op, ast.Mod) and _is_constant(node.left, (str, bytes)):
            problem = percent_format_problem(node.left.value)  # type: ignore[attr-defined]
            if problem:
                raise Refused(problem, getattr(node, "lineno", None))
        if not _needs_guard(node.op, node.left, node.right):
            return node
        self.sites += 1
        return ast.copy_location(
            ast.Call(func=internal(_HELPER[op_type]), args=[node.left, node.right],
                     keywords=[]), node)

    def _fold(self, node: ast.BinOp, guard: Callable[[Any, Any], Any]) -> ast.AST | None:
        """Constant operands: compute now, so `10**10**10` is refused before it ever runs."""
        left, right = node.left.value, node.right.value  # type: ignore[attr-defined]
        try:
            value = guard(left, right)
        except GuardError as exc:
            # JUEL/FEEL nodes have no line numbers
            raise Refused(exc.problem, getattr(node, "lineno", None)) from None
        except Exception:
            return None  # e.g. 1 % 0: leave it to fail at run time with its own message
        return ast.copy_location(ast.Constant(value=value), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        op_type = type(node.op)
        if op_type not in _IN_PLACE_HELPER:
            return node
        if not _needs_guard(node.op, node.target, node.value):
            return node
        # Note: a subscript target's index expression is evaluated twice.
        self.sites += 1
        load = _as_load(node.target)
        call = ast.Call(func=internal(_IN_PLACE_HELPER[op_type]), args=[load, node.value],
                        keywords=[])
        return ast.copy_location(ast.Assign(targets=[node.target], value=call), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if getattr(node, "baton_host_call", False):  # name(...) -> __baton_call('name', ...)
            return ast.copy_location(ast.Call(
                func=internal(CALL_HELPER),
                args=[ast.Constant(value=func.id), *node.args],  # type: ignore[attr-defined]
                keywords=node.keywords), node)
        if isinstance(func, ast.Attribute) and func.attr in GUARDED_METHODS:
            self.sites += 1
            return ast.copy_location(ast.Call(
                func=internal("__baton_method"),
                args=[func.value, ast.Constant(value=func.attr), *node.args],
                keywords=node.keywords), node)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.value, ast.Constant):
            node.value = ast.copy_location(ast.Call(
                func=internal("__baton_text_value"), args=[node.value], keywords=[]),
                node.value)
        return node

    def _metered(self, iterable: ast.expr) -> ast.expr:
        return ast.copy_location(ast.Call(func=internal("__baton_compress"),
                                          args=[iterable, internal(FUEL)], keywords=[]),
                                 iterable)

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.iter = self._metered(node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.iter = self._metered(node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        tick = ast.Expr(value=ast.Call(func=internal("__baton_next"), args=[internal(FUEL)],
                                       keywords=[]))
        node.body.insert(0, ast.copy_location(tick, node))
        return node


def _as_load(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Name):
        return ast.copy_location(ast.Name(id=target.id, ctx=ast.Load()), target)
    if isinstance(target, ast.Subscript):
        return ast.copy_location(
            ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), target)
    raise Refused("this augmented assignment target is not supported",
                  getattr(target, "lineno", None))


def _prologue(reads: set[str]) -> list[ast.stmt]:
    """Load every variable the code reads into a local; builtins stay the fallback."""
    statements: list[ast.stmt] = []
    for name in sorted(reads):
        load = ast.Subscript(value=internal(VARS), slice=ast.Constant(value=name),
                             ctx=ast.Load())
        if name in SAFE_BUILTINS:
            fallback: ast.stmt = ast.Assign(
                targets=[ast.Name(id=name, ctx=ast.Store())],
                value=ast.Subscript(value=internal("__baton_builtins"),
                                    slice=ast.Constant(value=name), ctx=ast.Load()))
        else:
            fallback = ast.Pass()
        statements.append(ast.Try(
            body=[ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=load)],
            handlers=[ast.ExceptHandler(type=internal("__baton_KeyError"), name=None,
                                        body=[fallback])],
            orelse=[], finalbody=[]))
    return statements


def build_function(body: list[ast.stmt], reads: set[str], filename: str) -> Callable[..., Any]:
    """Wrap checked, guarded statements in `__baton_code(vars, fuel, ctx=None)` and compile
    it once (`ctx`: facts about the running instance, for scripts and actions)."""
    arguments = ast.arguments(posonlyargs=[],
                              args=[ast.arg(arg=VARS), ast.arg(arg=FUEL), ast.arg(arg=CTX)],
                              kwonlyargs=[], kw_defaults=[],
                              defaults=[ast.Constant(value=None)])
    function = ast.FunctionDef(name="__baton_code", args=arguments,
                               body=_prologue(reads) + body, decorator_list=[],
                               returns=None, type_comment=None)
    module = ast.Module(body=[function], type_ignores=[])
    # The wrapper and prologue get line 1; the user's nodes keep their own line numbers,
    # and inserted helper calls take the line of the node they replace.
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    namespace: dict[str, Any] = {}
    exec(code, _GLOBALS, namespace)  # defines the function; runs no user code
    return namespace["__baton_code"]


def unique_filename(where: str) -> str:
    """A code filename per compiled text, so error line numbers can be found in tracebacks."""
    return f"<baton {where or 'expression'} #{next(_counter)}>"


def script_return() -> ast.stmt:
    return ast.Return(value=ast.Call(func=internal("__baton_locals"), args=[], keywords=[]))


def store_value(expression: ast.expr) -> ast.stmt:
    """`__baton_value = expression`: keeps a script's last expression as its result."""
    target = ast.Name(id=VALUE, ctx=ast.Store())
    target.baton_internal = True  # type: ignore[attr-defined]
    return ast.copy_location(ast.Assign(targets=[target], value=expression), expression)


def expression_return(expression: ast.expr) -> ast.stmt:
    return ast.copy_location(ast.Return(value=expression), expression)


# Without loops, a text with at most this many guarded operations (each capped at MAX_LENGTH)
# needs no budget; with more, it is metered like a loop.
UNMETERED_GUARD_SITES = 8


def guard(tree: ast.AST) -> tuple[ast.AST, bool]:
    """Insert the guards; also say whether the code must run with a budget even if it has
    no loops (many guarded operations, each able to allocate up to the size limit)."""
    guarder = Guarder()
    guarded = guarder.visit(tree)
    return guarded, guarder.sites > UNMETERED_GUARD_SITES
