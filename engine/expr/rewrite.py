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
from engine.expr.host import CALL_HELPER, HOST_GLOBALS
from engine.expr.names import CTX, DEPTH, FUEL, VALUE, VARS, internal
from engine.expr.work import COMPARISON_HELPERS, SANDBOX_CODE, WORK_GLOBALS, guarded_floordiv

_FOLDERS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Mult: guarded_mul, ast.Pow: guarded_pow, ast.LShift: guarded_lshift,
    ast.Add: guarded_add, ast.Sub: guarded_sub, ast.Mod: guarded_mod,
    ast.FloorDiv: guarded_floordiv,
}
_HELPER = {ast.Mult: "__baton_mul", ast.Pow: "__baton_pow", ast.LShift: "__baton_lshift",
           ast.Add: "__baton_add", ast.Sub: "__baton_sub", ast.Mod: "__baton_mod",
           ast.FloorDiv: "__baton_floordiv", ast.BitOr: "__baton_or",
           ast.BitAnd: "__baton_and", ast.BitXor: "__baton_xor"}
_IN_PLACE_HELPER = {**_HELPER, ast.Mult: "__baton_imul", ast.Add: "__baton_iadd",
                    ast.BitOr: "__baton_ior", ast.BitAnd: "__baton_iand",
                    ast.BitXor: "__baton_ixor"}
# Builtins whose cost does not depend on the size of their arguments: called directly.
_CHEAP_CALLS = frozenset({"len", "abs", "bool", "isinstance", "chr", "ord", "print"})
_UNCHARGED_HELPERS = frozenset({"__baton_feel_index"})
# Methods whose cost is constant when their arguments are constants (hash a literal key).
_UNCHARGED_METHODS = frozenset({"get", "setdefault", "keys", "values", "items", "add",
                                "discard", "startswith", "endswith", "isoformat", "strftime"})
_NUMBER = (int, float, complex)
_counter = itertools.count()
_GLOBALS: dict[str, Any] = {**RUNTIME_GLOBALS, **WORK_GLOBALS, **FEEL_GLOBALS,
                            **EXECUTION_GLOBALS, **HOST_GLOBALS}


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
    if isinstance(op, ast.FloorDiv | ast.BitOr | ast.BitAnd | ast.BitXor):
        # big integers divide in quadratic time; sets and dicts are walked
        return not (_is_constant(left, _NUMBER) or _is_constant(right, _NUMBER))
    return False


def _is_literal(node: ast.AST) -> bool:
    """A constant, or a tuple/list/set display of constants: small and fixed by the text."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_literal(element) for element in node.elts)
    return False


def _has_starred(target: ast.AST) -> bool:
    return any(isinstance(node, ast.Starred) for node in ast.walk(target))


def _is_slice_target(target: ast.AST) -> bool:
    return isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice)


def _slice_object(node: ast.Slice) -> ast.expr:
    parts = [part if part is not None else ast.Constant(value=None)
             for part in (node.lower, node.upper, node.step)]
    return ast.copy_location(ast.Call(func=internal("__baton_slice"), args=parts, keywords=[]),
                             node)


def _call(helper: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    return ast.copy_location(ast.Call(func=internal(helper), args=args, keywords=[]), like)


class Guarder(ast.NodeTransformer):
    """Routes risky operations through guards and meters every loop iteration."""

    def __init__(self, bound: frozenset[str] = frozenset()) -> None:
        self.sites = 0       # guarded operations inserted (each bounded in size)
        self.work_sites = 0  # operations charged for the work they do (expr/work.py)
        self.bound = bound   # names the text binds: `len = max` must not make max() cheap

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
        if _is_slice_target(node.target):
            raise Refused("augmented assignment to a slice is not supported; write "
                          "items[a:b] = items[a:b] + more", getattr(node, "lineno", None))
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
        if getattr(node, "baton_variables", False):  # vars() -> a copy of what is visible
            self.work_sites += 1
            return _call("__baton_visible", [internal(VARS), _call("__baton_locals", [], node)],
                         node)
        if getattr(node, "baton_host_call", False):  # name(...) -> __baton_call('name', ...)
            return ast.copy_location(ast.Call(
                func=internal(CALL_HELPER),
                args=[ast.Constant(value=func.id), *node.args],  # type: ignore[attr-defined]
                keywords=node.keywords), node)
        for keyword in node.keywords:
            if keyword.arg is None:      # f(**d)
                keyword.value = _call("__baton_sized", [keyword.value], keyword.value)
        if isinstance(func, ast.Attribute) and func.attr in GUARDED_METHODS:
            self.sites += 1
            self.work_sites += 1
            return ast.copy_location(ast.Call(
                func=internal("__baton_method"),
                args=[func.value, ast.Constant(value=func.attr), *node.args],
                keywords=node.keywords), node)
        if (isinstance(func, ast.Attribute) and func.attr in _UNCHARGED_METHODS
                and all(_is_literal(arg) for arg in node.args)
                and all(_is_literal(kw.value) for kw in node.keywords)):
            return node      # d.get('key'), s.startswith('x'), d.keys(): constant cost
        if isinstance(func, ast.Attribute) and func.attr == "append" and len(node.args) == 1:
            return node      # items.append(x): amortised constant cost, whatever x is
        if isinstance(func, ast.Name):
            if getattr(func, "baton_internal", False):
                if not func.id.startswith("__baton_feel_") or func.id in _UNCHARGED_HELPERS:
                    return node
            elif func.id in _CHEAP_CALLS and func.id not in self.bound:
                return node
        # Any other call - builtins, methods, FEEL functions - is charged for its work.
        self.work_sites += 1
        return ast.copy_location(ast.Call(func=internal("__baton_invoke"),
                                          args=[func, *node.args], keywords=node.keywords),
                                 node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        # `x in s` scans s, or hashes x (a tuple item by item); `a == b` walks both
        risky = [
            type(op) in COMPARISON_HELPERS and (
                not (_is_literal(left) or _is_literal(right))
                or (isinstance(op, ast.In | ast.NotIn)
                    and not (_is_literal(left) and _is_literal(right))))
            for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True)]
        if not any(risky):
            return node
        self.work_sites += 1
        if len(node.ops) == 1:
            helper = COMPARISON_HELPERS[type(node.ops[0])][0]
            return _call(helper, operands, node)
        # a chained comparison (a < b < c): charge each computed operand by its size
        node.left, *node.comparators = [
            operand if _is_literal(operand) else _call("__baton_deep", [operand], operand)
            for operand in operands]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice):
            if isinstance(node.ctx, ast.Load):   # a copy as long as the slice
                self.work_sites += 1
                return _call("__baton_sized", [node], node)
            return node                          # stores and deletions: see the statements
        if not _is_literal(node.slice):          # a tuple key is hashed item by item
            self.work_sites += 1
            node.slice = _call("__baton_key", [node.slice], node.slice)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):       # [*items], f(*items)
            self.work_sites += 1
            node.value = _call("__baton_sized", [node.value], node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        for index, (key, value) in enumerate(zip(node.keys, node.values, strict=True)):
            if key is None:                      # {**d}
                node.values[index] = _call("__baton_sized", [value], value)
            elif not _is_literal(key):
                node.keys[index] = _call("__baton_key", [key], key)
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [e if _is_literal(e) or isinstance(e, ast.Starred)
                     else _call("__baton_key", [e], e) for e in node.elts]
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = _call("__baton_key", [node.elt], node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = _call("__baton_key", [node.key], node.key)
        return node

    def visit_Delete(self, node: ast.Delete) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        statements: list[ast.stmt] = []
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                # `del items[0]` shifts every item behind it: charged by the list's length
                key = (_slice_object(target.slice) if isinstance(target.slice, ast.Slice)
                       else target.slice)
                statements.append(ast.copy_location(ast.Expr(value=_call(
                    "__baton_delitem", [target.value, key], target)), node))
            else:
                statements.append(ast.copy_location(ast.Delete(targets=[target]), node))
        return statements

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        slices = [t for target in node.targets for t in ast.walk(target) if _is_slice_target(t)]
        if slices:
            if len(node.targets) != 1 or not _is_slice_target(node.targets[0]):
                raise Refused("assign to a slice in a statement of its own "
                              "(items[a:b] = values)", getattr(node, "lineno", None))
            target = node.targets[0]
            return ast.copy_location(ast.Expr(value=_call(
                "__baton_setslice", [target.value, _slice_object(target.slice), node.value],
                node)), node)
        if any(_has_starred(target) for target in node.targets):   # a, *rest = items
            node.value = _call("__baton_sized", [node.value], node.value)
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
        _refuse_starred_target(node.target)
        self.generic_visit(node)
        node.iter = self._metered(node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        _refuse_starred_target(node.target)
        self.generic_visit(node)
        node.iter = self._metered(node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        tick = ast.Expr(value=ast.Call(func=internal("__baton_next"), args=[internal(FUEL)],
                                       keywords=[]))
        node.body.insert(0, ast.copy_location(tick, node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        """`def f(...): body` -> `def f(...): enter; try: body finally: depth -= 1`: each
        call takes a budget step and one level of the run's call depth (guards.py)."""
        self.generic_visit(node)
        enter = ast.Expr(value=_call("__baton_enter", [internal(FUEL), internal(DEPTH)], node))
        leave = ast.Expr(value=_call("__baton_leave", [internal(DEPTH),
                                                        ast.Constant(value=None)], node))
        guarded = ast.Try(body=node.body, handlers=[], orelse=[], finalbody=[leave])
        node.body = [ast.copy_location(enter, node), ast.copy_location(guarded, node)]
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        """`lambda ...: e` -> `lambda ...: __baton_leave(__baton_enter(fuel, depth), e)`:
        entered before `e` is evaluated, left with its value (an exception ends the whole
        run: the sandbox has no try)."""
        self.generic_visit(node)
        enter = _call("__baton_enter", [internal(FUEL), internal(DEPTH)], node)
        node.body = _call("__baton_leave", [enter, node.body], node.body)
        return node


def _refuse_starred_target(target: ast.AST) -> None:
    """`for first, *rest in rows` copies each row, at a cost the loop budget cannot see."""
    if _has_starred(target):
        raise Refused("starred loop targets (for a, *rest in ...) are not supported; "
                      "index the item instead", getattr(target, "lineno", None))


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
    prologue = _prologue(reads)
    if _defines_functions(body):   # the run's call depth, shared by its functions
        target = ast.Name(id=DEPTH, ctx=ast.Store())
        prologue.append(ast.Assign(targets=[target],
                                   value=ast.List(elts=[ast.Constant(value=0)],
                                                  ctx=ast.Load())))
    function = ast.FunctionDef(name="__baton_code", args=arguments,
                               body=prologue + body, decorator_list=[],
                               returns=None, type_comment=None)
    module = ast.Module(body=[function], type_ignores=[])
    # The wrapper and prologue get line 1; the user's nodes keep their own line numbers,
    # and inserted helper calls take the line of the node they replace.
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    namespace: dict[str, Any] = {}
    exec(code, _GLOBALS, namespace)  # defines the function; runs no user code
    return namespace["__baton_code"]


def _defines_functions(body: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.FunctionDef | ast.Lambda)
               for statement in body for node in ast.walk(statement))


def unique_filename(where: str) -> str:
    """A code filename per compiled text, so error line numbers can be found in tracebacks."""
    return f"{SANDBOX_CODE}{where or 'expression'} #{next(_counter)}>"


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
# ... and at most this many operations charged for their work (each at most MAX_WORK units).
UNMETERED_WORK_SITES = 2


def guard(tree: ast.AST) -> tuple[ast.AST, bool]:
    """Insert the guards; also say whether the code must run with a budget even if it has
    no loops (many guarded operations, each able to allocate up to the size limit)."""
    # names the text binds (variables, functions, parameters): a call of such a name may
    # be anything, so it is never taken for a cheap builtin
    bound = frozenset(
        name for node in ast.walk(tree) for name in (
            (node.id,) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
            else (node.name,) if isinstance(node, ast.FunctionDef)
            else (node.arg,) if isinstance(node, ast.arg) else ()))
    guarder = Guarder(bound)
    guarded = guarder.visit(tree)
    return guarded, (guarder.sites > UNMETERED_GUARD_SITES
                     or guarder.work_sites > UNMETERED_WORK_SITES)
