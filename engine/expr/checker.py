"""The allow-list walk over a Python AST, and the name analysis the wrapper needs.

Why an allow-list: a diagram is an untrusted upload, and CPython has many roads from a plain
object to `os.system` (`().__class__.__bases__[0].__subclasses__()`, generator frames,
`str.format` attribute lookups...). Every node type, name and attribute not known to be
harmless is refused here, before anything is compiled or run; `guards.py` then bounds the
resources of what is left.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from engine.expr.errors import Refused
from engine.expr.guards import (
    GUARDED_METHODS,
    SAFE_BUILTINS,
    attribute_problem,
    format_spec_problem,
)

_EXPRESSION_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call,
    ast.FormattedValue, ast.JoinedStr, ast.Constant, ast.Attribute, ast.Subscript,
    ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice, ast.comprehension, ast.keyword,
    ast.expr_context, ast.boolop, ast.unaryop, ast.cmpop,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
    ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
)
_SCRIPT_NODES = _EXPRESSION_NODES + (
    ast.Module, ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.While, ast.Break,
    ast.Continue, ast.Pass, ast.Delete, ast.Assert, ast.NamedExpr,
)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

# Refusals with a reason, for the constructs people (or attackers) actually try.
_REFUSED_NODES: dict[type, str] = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.FunctionDef: "def is only allowed in scripts (an expression may use lambda)",
    ast.AsyncFunctionDef: "async def is not allowed",
    ast.ClassDef: "defining classes is not allowed",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.Try: "try/except is not supported",
    ast.With: "with is not supported",
    ast.AsyncWith: "with is not supported",
    ast.Raise: "raise is not supported; use assert condition, 'message' to fail a script",
    ast.Return: "return is only allowed inside a function (def)",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Await: "await is not allowed",
    ast.AsyncFor: "async for is not allowed",
    ast.MatMult: "operator @ is not supported",
    ast.AnnAssign: "type annotations are not supported; write a plain assignment",
    ast.NamedExpr: "assignment (:=) is not allowed in an expression",
}
for _name in ("Match", "TryStar", "TypeAlias"):
    if hasattr(ast, _name):
        _REFUSED_NODES[getattr(ast, _name)] = f"{_name.lower()} statements are not supported"

# Never useful in a diagram, only in an escape: refused wherever they appear.
_FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars",
    "breakpoint", "memoryview", "bytearray", "super", "classmethod", "staticmethod",
})
# Called with no arguments, these give a copy of the variables visible there (rewrite.py),
# never the interpreter's namespaces; any other use is refused (they are forbidden names).
VARIABLE_VIEWS = frozenset({"vars", "globals", "locals"})
# Refused when called; as plain names they may well be process variables (`type == 'car'`).
_FORBIDDEN_CALLS = frozenset({
    "open", "type", "input", "help", "dir", "id", "object", "iter", "next", "callable",
    "issubclass", "hasattr", "property", "bytes", "format", "ascii", "hash", "exit", "quit",
    "repr", "bin", "hex", "oct", "copyright", "credits", "license",
})
# Methods that change a collection in place: expressions must leave variables untouched,
# and in scripts they mark the variable as changed.
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
    "popitem", "sort", "reverse", "add", "discard", "difference_update",
    "intersection_update", "symmetric_difference_update",
})


@dataclass
class NameUse:
    """What the wrapper needs to know about the names of a checked tree."""

    reads: set[str] = field(default_factory=set)      # free names loaded (not only called)
    assigned: set[str] = field(default_factory=set)   # names bound at the top level
    mutated: set[str] = field(default_factory=set)    # roots of d[k] = v, d.append(...)
    deleted: set[str] = field(default_factory=set)    # names of top-level `del name`
    called: set[str] = field(default_factory=set)     # host functions called (not variables)
    has_loops: bool = False
    has_functions: bool = False                       # defines functions (def, lambda)


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_constant_default(node: ast.AST) -> bool:
    """A default value fixed by the text: a constant, a negated number, a tuple of those."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.Tuple):
        return all(_is_constant_default(e) for e in node.elts)
    return False


def parameter_names(args: ast.arguments) -> list[str]:
    """Every name a function's parameters bind, in order."""
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return names


def local_names(function: ast.FunctionDef | ast.Lambda) -> set[str]:
    """The names local to a function, by Python's rule: its parameters and every name
    bound anywhere in its body (assigned, a loop target, deleted, a nested def, a `:=`),
    except inside nested functions and except comprehension targets (their own scope)."""
    names = set(parameter_names(function.args))
    body = function.body if isinstance(function, ast.FunctionDef) else [function.body]
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, _FUNCTIONS):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
            # defaults are evaluated here; the body is the nested function's own scope
            stack.extend(d for d in (*node.args.defaults, *node.args.kw_defaults) if d)
            continue
        if isinstance(node, _COMPREHENSIONS):
            for gen in node.generators:       # the targets belong to the comprehension
                stack.append(gen.iter)
                stack.extend(gen.ifs)
            stack.extend([node.key, node.value] if isinstance(node, ast.DictComp)
                         else [node.elt])
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return names


class Checker(ast.NodeVisitor):
    """Refuses anything outside the allow-list and records which names are used how."""

    def __init__(self, *, script: bool) -> None:
        self.script = script
        self.allowed = _SCRIPT_NODES if script else _EXPRESSION_NODES
        self.use = NameUse()
        self.bound_in_comprehension: list[set[str]] = []
        # the local names of each function (def, lambda) being walked, innermost last:
        # a name not local to any of them is the script's own (a variable)
        self.functions: list[set[str]] = []
        self.host_calls: list[ast.Call] = []   # name(...) of no builtin: see `check`

    def refuse(self, node: ast.AST, problem: str) -> None:
        raise Refused(problem, getattr(node, "lineno", None))

    # ------------------------------------------------------------------ generic
    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, self.allowed):
            reason = _REFUSED_NODES.get(type(node))
            if reason is None:
                kind = "statement" if isinstance(node, ast.stmt) else "construct"
                where = "" if self.script else " in an expression"
                reason = f"the {kind} {type(node).__name__} is not allowed{where}"
            self.refuse(node, reason)
        super().generic_visit(node)

    # ------------------------------------------------------------------ names
    def visit_Name(self, node: ast.Name) -> None:
        if getattr(node, "baton_internal", False):
            return
        name = node.id
        if name.startswith("__"):
            self.refuse(node, f"name {name!r} is not allowed (names starting with '__' are "
                              "reserved)")
        if name in _FORBIDDEN_NAMES:
            self.refuse(node, f"{name}() is not available in Baton expressions and scripts")
        if self._bound(name) or (self.functions and not isinstance(node.ctx, ast.Load)):
            return  # a function's own name (every name a function binds is its local)
        if isinstance(node.ctx, ast.Store):
            self.use.assigned.add(name)
        else:  # Load, or Del (`del x` needs x loaded first, like a read)
            self.use.reads.add(name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        problem = attribute_problem(node.attr)
        if problem:
            self.refuse(node, problem)
        if not isinstance(node.ctx, ast.Load):
            self.refuse(node, f"assigning or deleting attribute {node.attr!r} is not "
                              "supported; use d['key'] = value for dictionaries")
        if node.attr in GUARDED_METHODS and not getattr(node, "baton_called", False):
            self.refuse(node, f"the method {node.attr!r} must be called directly")
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Name) and func.id in VARIABLE_VIEWS
                and not getattr(func, "baton_internal", False) and not self._bound(func.id)):
            # `'x' in vars()`: SpiffWorkflow diagrams test whether a variable is set so
            if node.args or node.keywords:
                self.refuse(node, f"{func.id}() takes no arguments in Baton (it gives a copy "
                                  "of the variables visible where it is called)")
            node.baton_variables = True  # type: ignore[attr-defined]
            return
        if isinstance(func, ast.Name) and not getattr(func, "baton_internal", False):
            if func.id in _FORBIDDEN_CALLS:
                self.refuse(node, f"{func.id}() is not available in Baton expressions and "
                                  "scripts")
            if func.id in SAFE_BUILTINS and not self._bound(func.id):
                # A builtin call: not a read of a variable of that name.
                self._visit_all(node.args, node.keywords)
                return
            if (not self._bound(func.id) and not func.id.startswith("_")
                    and func.id not in _FORBIDDEN_NAMES):
                # Maybe a host-registered script function (engine/script_functions.py).
                self.host_calls.append(node)
                self._visit_all(node.args, node.keywords)
                return
        if isinstance(func, ast.Attribute):
            func.baton_called = True  # type: ignore[attr-defined]
            if func.attr in MUTATING_METHODS:
                if not self.script:
                    self.refuse(node, f"the method {func.attr}() changes a value; expressions "
                                      "must not change variables (use a script task)")
                root = _root_name(func.value)
                if root is not None and not self._bound(root):
                    self.use.mutated.add(root)
        self.generic_visit(node)

    def _bound(self, name: str) -> bool:
        """A name of a comprehension or function being walked, not a script variable."""
        return (any(name in scope for scope in self.bound_in_comprehension)
                or any(name in scope for scope in self.functions))

    def _visit_all(self, *groups: list[ast.AST]) -> None:
        for group in groups:
            for item in group:
                self.visit(item)

    # ------------------------------------------------------------------ f-strings
    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) for p in parts):
                self.refuse(node, "computed format specs in f-strings are not allowed")
            problem = format_spec_problem("".join(str(p.value) for p in parts))
            if problem:
                self.refuse(node, problem)
        self.visit(node.value)

    # ------------------------------------------------------------------ comprehensions
    def _visit_comprehension(self, node: ast.AST, results: list[ast.AST]) -> None:
        self.use.has_loops = True
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        scope: set[str] = set()
        # The first iterable is evaluated in the enclosing scope.
        self.visit(generators[0].iter)
        self.bound_in_comprehension.append(scope)
        try:
            for index, gen in enumerate(generators):
                if gen.is_async:
                    self.refuse(node, "async comprehensions are not allowed")
                if index:
                    self.visit(gen.iter)
                for target in ast.walk(gen.target):
                    if isinstance(target, ast.Name):
                        if target.id.startswith("__"):
                            self.refuse(target, f"name {target.id!r} is not allowed")
                        scope.add(target.id)
                    elif not isinstance(target, ast.Tuple | ast.List | ast.Starred |
                                        ast.expr_context):
                        self.refuse(target, "comprehension targets must be plain names")
                for condition in gen.ifs:
                    self.visit(condition)
            for result in results:
                self.visit(result)
        finally:
            self.bound_in_comprehension.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._visit_comprehension(node, [node.elt])

    visit_SetComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._visit_comprehension(node, [node.key, node.value])

    # ------------------------------------------------------------------ functions
    def _check_signature(self, node: ast.FunctionDef | ast.Lambda) -> None:
        """Plain parameters with constant defaults: a default computed from other names
        (`lambda f=something: ...`) is evaluated where the function is defined and is
        the classic way to smuggle a value into a function, so it is refused."""
        args = node.args
        for name in parameter_names(args):
            if name.startswith("__"):
                self.refuse(node, f"parameter name {name!r} is not allowed (names starting "
                                  "with '__' are reserved)")
        every = (*args.posonlyargs, *args.args, *args.kwonlyargs,
                 *(a for a in (args.vararg, args.kwarg) if a is not None))
        if any(a.annotation is not None for a in every):
            self.refuse(node, "type annotations are not supported")
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            if not _is_constant_default(default):
                self.refuse(default, "a parameter's default value must be a constant (a "
                                     "default computed from other names is refused)")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if not self.script:
            self.refuse(node, _REFUSED_NODES[ast.FunctionDef])
        if node.decorator_list:
            self.refuse(node, "decorators are not allowed")
        if node.returns is not None or getattr(node, "type_params", None):
            self.refuse(node, "type annotations and type parameters are not supported")
        if node.name.startswith("__"):
            self.refuse(node, f"function name {node.name!r} is not allowed (names starting "
                              "with '__' are reserved)")
        self._check_signature(node)
        if not self.functions and not self.bound_in_comprehension:
            self.use.assigned.add(node.name)   # the script's own name, not a variable
        self.use.has_loops = True              # calls are counted against the budget
        self.use.has_functions = True
        self.functions.append(local_names(node))
        try:
            for statement in node.body:
                self.visit(statement)
        finally:
            self.functions.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._check_signature(node)
        self.use.has_loops = self.use.has_functions = True
        self.functions.append(local_names(node))
        try:
            self.visit(node.body)
        finally:
            self.functions.pop()

    def visit_Return(self, node: ast.Return) -> None:
        if not self.functions:
            self.refuse(node, _REFUSED_NODES[ast.Return])
        if node.value is not None:
            self.visit(node.value)

    # ------------------------------------------------------------------ statements
    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        if not self.script:
            self.refuse(node, _REFUSED_NODES[ast.NamedExpr])
        # PEP 572: the target binds in the enclosing (top-level) scope even in a comprehension.
        if node.target.id.startswith("__"):
            self.refuse(node, f"name {node.target.id!r} is not allowed")
        if not self.functions:
            self.use.assigned.add(node.target.id)
        self.visit(node.value)

    def _note_mutation(self, target: ast.AST) -> None:
        if isinstance(target, ast.Subscript):
            root = _root_name(target)
            if root is not None and not self._bound(root):
                self.use.mutated.add(root)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._note_mutation(element)
        elif isinstance(target, ast.Starred):
            self._note_mutation(target.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._note_mutation(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._note_mutation(node.target)
        if isinstance(node.target, ast.Name) and not self._bound(node.target.id):
            self.use.reads.add(node.target.id)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._note_mutation(target)
            if (isinstance(target, ast.Name) and not self.bound_in_comprehension
                    and not self.functions):
                self.use.deleted.add(target.id)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.use.has_loops = True
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self.use.has_loops = True
        self.generic_visit(node)


def check(tree: ast.AST, *, script: bool) -> NameUse:
    """Refuse (raise Refused) anything outside the allow-list; return how names are used."""
    checker = Checker(script=script)
    checker.visit(tree)
    use = checker.use
    for call in checker.host_calls:
        name = call.func.id  # type: ignore[attr-defined]
        if name in use.assigned:
            use.reads.add(name)  # the script's own name: called as the value it holds
        else:  # resolved at call time against the registered functions, never a value
            call.baton_host_call = True  # type: ignore[attr-defined]
            use.called.add(name)
    return use
