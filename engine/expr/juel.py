"""JUEL (`${...}` / `#{...}`, Camunda 7) translated to a Python AST.

Camunda 7 diagrams carry conditions like `${amount > 1000 && !approved}`, assignees like
`${initiator}` and texts like `Review claim ${claimId}`. We parse the EL grammar ourselves
(precedence from the EL 3.0 spec, section 1.17) and emit Python nodes, which then pass the
same checker and guards as Python text - no second sandbox to keep safe.

Semantics follow EL where it matters for diagrams: `a.b` and `a[b]` on a map read a key
(missing -> null), `empty x`, null renders as '' in templates, booleans as true/false, and
the common Java methods (`s.equals(x)`, `s.toUpperCase()`, `list.contains(x)`, `size()`...)
are translated to their Python equivalents.
Not EL: `+` also joins strings (EL would coerce to numbers), `==` does not coerce types,
`%` is Python's modulo (sign of the divisor), and functions (`fn:...`) and lambdas are not
supported.
"""

from __future__ import annotations

import ast

from engine.expr import execution
from engine.expr.errors import Refused
from engine.expr.guards import attribute_problem
from engine.expr.lexer import Cursor, tokenize
from engine.expr.names import internal

_OPERATORS = ("&&", "||", "==", "!=", "<=", ">=", "->", "<", ">", "!", "?", ":", "+", "-",
              "*", "/", "%", ".", "[", "]", "(", ")", ",", "{", "}", "=", ";")
_ESCAPES = {"\\": "\\"}
_KEYWORDS = frozenset({"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod",
                       "empty", "true", "false", "null", "instanceof"})
_COMPARE = {"==": ast.Eq, "eq": ast.Eq, "!=": ast.NotEq, "ne": ast.NotEq,
            "<": ast.Lt, "lt": ast.Lt, ">": ast.Gt, "gt": ast.Gt,
            "<=": ast.LtE, "le": ast.LtE, ">=": ast.GtE, "ge": ast.GtE}
_MULTIPLY = {"*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod}
# Java method -> number of arguments; translated in _Parser._java_method.
_JAVA_METHODS = {"equals": 1, "equalsIgnoreCase": 1, "contains": 1, "containsKey": 1,
                 "length": 0, "size": 0, "isEmpty": 0, "toString": 0, "toUpperCase": 0,
                 "toLowerCase": 0, "trim": 0, "startsWith": 1, "endsWith": 1}
_JAVA_RENAMES = {"toUpperCase": "upper", "toLowerCase": "lower", "trim": "strip",
                 "startsWith": "startswith", "endsWith": "endswith"}


def contains_juel(text: str) -> bool:
    return "${" in text or "#{" in text


def parse(text: str, *, actions: bool = False) -> ast.expr:
    """`${expr}` alone gives the value of expr; text around `${}` parts gives a string.

    `actions`: the text may change variables through `execution.setVariable(...)` and read
    facts such as `execution.processInstanceId` (listeners, expression tasks, JUEL scripts);
    see `engine/expr/execution.py`."""
    parts = _split_template(text, actions)
    if len(parts) == 1 and isinstance(parts[0], ast.expr):
        return parts[0]
    values: list[ast.expr] = []
    for part in parts:
        if isinstance(part, str):
            values.append(ast.Constant(value=part))
        else:
            rendered = ast.Call(func=internal("__baton_text"), args=[part], keywords=[])
            values.append(ast.FormattedValue(value=rendered, conversion=-1, format_spec=None))
    return ast.JoinedStr(values=values)


def parse_bare(text: str, *, actions: bool = False) -> ast.expr:
    """EL text without the `${}` delimiters (when the caller says the language is JUEL)."""
    return _Parser(text, actions).parse()


def _split_template(text: str, actions: bool) -> list[str | ast.expr]:
    parts: list[str | ast.expr] = []
    literal: list[str] = []
    pos = 0
    while pos < len(text):
        if text.startswith(("\\${", "\\#{"), pos):
            literal.append(text[pos + 1:pos + 3])
            pos += 3
            continue
        if text.startswith(("${", "#{"), pos):
            close = _closing_brace(text, pos + 2)
            if literal:
                parts.append("".join(literal))
                literal = []
            inner = text[pos + 2:close]
            if not inner.strip():
                raise Refused(f"empty {text[pos:pos + 2]}}} at position {pos + 1}")
            parts.append(_Parser(inner, actions).parse())
            pos = close + 1
            continue
        literal.append(text[pos])
        pos += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _closing_brace(text: str, pos: int) -> int:
    depth, quote = 0, ""
    start = pos
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        pos += 1
    raise Refused(f"'{text[start - 2:start]}' at position {start - 1} is never closed with '}}'")


class _Parser:
    def __init__(self, text: str, actions: bool = False) -> None:
        self.cursor = Cursor(tokenize(text, operators=_OPERATORS, quotes="'\"",
                                      escapes=_ESCAPES, language="JUEL"), "JUEL")
        self.actions = actions

    def parse(self) -> ast.expr:
        node = self.ternary()
        if self.cursor.current.kind != "end":
            self.cursor.fail("unexpected text")
        return node

    def ternary(self) -> ast.expr:
        test = self.disjunction()
        if self.cursor.accept("?"):
            body = self.ternary()
            self.cursor.expect(":")
            orelse = self.ternary()
            return ast.IfExp(test=test, body=body, orelse=orelse)
        return test

    def _bool_chain(self, operators: tuple[str, ...], op: ast.boolop, operand) -> ast.expr:
        values = [operand()]
        while self.cursor.accept(*operators):
            values.append(operand())
        return values[0] if len(values) == 1 else ast.BoolOp(op=op, values=values)

    def disjunction(self) -> ast.expr:
        return self._bool_chain(("||", "or"), ast.Or(), self.conjunction)

    def conjunction(self) -> ast.expr:
        return self._bool_chain(("&&", "and"), ast.And(), self.equality)

    def equality(self) -> ast.expr:
        return self._comparison(("==", "!=", "eq", "ne"), self.relational)

    def relational(self) -> ast.expr:
        return self._comparison(("<", ">", "<=", ">=", "lt", "gt", "le", "ge"), self.additive)

    def _comparison(self, operators: tuple[str, ...], operand) -> ast.expr:
        # EL comparisons are left-associative: a < b < c is (a < b) < c, not a chain.
        node = operand()
        while token := self.cursor.accept(*operators):
            node = ast.Compare(left=node, ops=[_COMPARE[token.value]()],
                               comparators=[operand()])
        if self.cursor.at("instanceof"):
            self.cursor.fail("instanceof is not supported")
        return node

    def additive(self) -> ast.expr:
        node = self.multiplicative()
        while token := self.cursor.accept("+", "-"):
            op = ast.Add() if token.value == "+" else ast.Sub()
            node = ast.BinOp(left=node, op=op, right=self.multiplicative())
        return node

    def multiplicative(self) -> ast.expr:
        node = self.unary()
        while token := self.cursor.accept(*_MULTIPLY):
            node = ast.BinOp(left=node, op=_MULTIPLY[token.value](), right=self.unary())
        return node

    def unary(self) -> ast.expr:
        if self.cursor.accept("-"):
            return ast.UnaryOp(op=ast.USub(), operand=self.unary())
        if self.cursor.accept("!", "not"):
            return ast.UnaryOp(op=ast.Not(), operand=self.unary())
        if self.cursor.accept("empty"):
            return ast.Call(func=internal("__baton_empty"), args=[self.unary()], keywords=[])
        return self.postfix()

    def postfix(self) -> ast.expr:
        node = self.primary()
        if execution.is_execution(node) and not self.cursor.at("."):
            raise execution.bare_use()
        while True:
            if self.cursor.accept("."):
                token = self.cursor.advance()
                if token.kind != "name":
                    self.cursor.fail("expected a property name after '.'")
                node = self._member(node, token.value)
            elif self.cursor.accept("["):
                key = self.ternary()
                self.cursor.expect("]")
                node = ast.Call(func=internal("__baton_index"), args=[node, key], keywords=[])
            elif self.cursor.at("(") and isinstance(node, ast.Name):
                node = ast.Call(func=node, args=self._arguments(), keywords=[])
            else:
                return node

    def _member(self, node: ast.expr, name: str) -> ast.expr:
        is_call = self.cursor.at("(")
        if execution.is_execution(node):
            arguments = self._arguments() if is_call else None
            return execution.translate(name, arguments, actions=self.actions)
        if is_call and name in _JAVA_METHODS:
            return self._java_method(node, name, self._arguments())
        problem = attribute_problem(name)
        if problem:
            raise Refused(problem)
        if is_call:
            method = ast.Attribute(value=node, attr=name, ctx=ast.Load())
            return ast.Call(func=method, args=self._arguments(), keywords=[])
        return ast.Call(func=internal("__baton_prop"), args=[node, ast.Constant(value=name)],
                        keywords=[])

    def _java_method(self, target: ast.expr, name: str, arguments: list[ast.expr]) -> ast.expr:
        """The Java String/Collection/Map methods diagrams call, in Python terms."""
        arity = _JAVA_METHODS[name]
        if len(arguments) != arity:
            raise Refused(f"{name}() takes {arity} argument{'s' if arity != 1 else ''} "
                          f"here, got {len(arguments)}")

        def method(python_name: str, *args: ast.expr) -> ast.expr:
            return ast.Call(func=ast.Attribute(value=target, attr=python_name, ctx=ast.Load()),
                            args=list(args), keywords=[])

        def builtin(python_name: str, *args: ast.expr) -> ast.expr:
            return ast.Call(func=ast.Name(id=python_name, ctx=ast.Load()), args=list(args),
                            keywords=[])

        argument = arguments[0] if arguments else None
        if name == "equals":
            return ast.Compare(left=target, ops=[ast.Eq()], comparators=[argument])
        if name == "equalsIgnoreCase":
            other = ast.Call(func=ast.Attribute(value=argument, attr="lower", ctx=ast.Load()),
                             args=[], keywords=[])
            return ast.Compare(left=method("lower"), ops=[ast.Eq()], comparators=[other])
        if name in ("contains", "containsKey"):
            return ast.Compare(left=argument, ops=[ast.In()], comparators=[target])
        if name in ("length", "size"):
            return builtin("len", target)
        if name == "isEmpty":
            return ast.Call(func=internal("__baton_empty"), args=[target], keywords=[])
        if name == "toString":
            return builtin("str", target)
        return method(_JAVA_RENAMES[name], *arguments)

    def _arguments(self) -> list[ast.expr]:
        self.cursor.expect("(")
        arguments: list[ast.expr] = []
        if not self.cursor.accept(")"):
            arguments.append(self.ternary())
            while self.cursor.accept(","):
                arguments.append(self.ternary())
            self.cursor.expect(")")
        return arguments

    def primary(self) -> ast.expr:
        token = self.cursor.current
        if token.kind in ("number", "string"):
            self.cursor.advance()
            return ast.Constant(value=token.value)
        if token.kind == "name":
            literal = {"true": True, "false": False, "null": None}
            if token.value in literal:
                self.cursor.advance()
                return ast.Constant(value=literal[token.value])
            if token.value in _KEYWORDS:
                self.cursor.fail(f"the keyword {token.value!r} cannot start a value")
            self.cursor.advance()
            return ast.Name(id=token.value, ctx=ast.Load())
        if self.cursor.accept("("):
            node = self.ternary()
            self.cursor.expect(")")
            return node
        if self.cursor.accept("["):
            items: list[ast.expr] = []
            if not self.cursor.accept("]"):
                items.append(self.ternary())
                while self.cursor.accept(","):
                    items.append(self.ternary())
                self.cursor.expect("]")
            return ast.List(elts=items, ctx=ast.Load())
        if self.cursor.at("->"):
            self.cursor.fail("lambda expressions are not supported")
        self.cursor.fail("expected a value")
        raise AssertionError("unreachable")
