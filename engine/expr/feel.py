"""FEEL (`= ...`, Camunda 8 / Zeebe) translated to a Python AST - a practical subset.

Supported: literals (numbers, "strings", true/false/null, [lists], {contexts}), `=` and
`!=` equality, `< <= > >=`, `between a and b`, `x in [..]` / `x in (..)`, `and`/`or`,
`not(x)`, `+ - * / **`, paths `a.b` (missing -> null), 1-based indexing `a[1]` (negative from
the end, out of range -> null), `if c then a else b`, `some/every x in xs satisfies cond`,
`for x in xs return expr`, and the functions in `FEEL_FUNCTIONS`.

Not FEEL: numbers are Python int/float (not decimals), comparing null with a number fails
instead of giving null, names cannot contain spaces, ranges (`[1..5]`), filters
(`xs[item > 3]`) and temporal literals are not supported. A refusal names the construct.
"""

from __future__ import annotations

import ast
import datetime as _dt
import math
from collections.abc import Callable, Sized
from typing import Any

import isodate

from engine.expr.errors import GuardError, Refused
from engine.expr.guards import attribute_problem, check_text, juel_property
from engine.expr.lexer import Cursor, tokenize
from engine.expr.names import internal

_OPERATORS = ("**", "!=", "<=", ">=", "..", "<", ">", "=", "+", "-", "*", "/", ".", "[", "]",
              "(", ")", ",", "{", "}", ":")
_ESCAPES = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
_COMPARE = {"=": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt,
            ">=": ast.GtE}
_RESERVED = frozenset({"and", "or", "if", "then", "else", "some", "every", "in", "satisfies",
                       "for", "return", "between", "true", "false", "null", "instance"})


# --------------------------------------------------------------------------- functions
def _flatten(args: tuple[Any, ...]) -> list[Any]:
    return list(args[0]) if len(args) == 1 and isinstance(args[0], list | tuple) else list(args)


def _count(items: Sized) -> int:
    return len(items)


def _sum(*args: Any) -> Any:
    return sum(_flatten(args))


def _min(*args: Any) -> Any:
    items = _flatten(args)
    return min(items) if items else None


def _max(*args: Any) -> Any:
    items = _flatten(args)
    return max(items) if items else None


def _mean(*args: Any) -> Any:
    items = _flatten(args)
    return sum(items) / len(items) if items else None


def _string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    check_text(value)
    return str(value)


def _number(text: str) -> int | float | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def _substring(text: str, start: int, length: int | None = None) -> str:
    begin = start - 1 if start > 0 else len(text) + start
    return text[begin:] if length is None else text[begin:begin + length]


def _contains(text: str, match: str) -> bool:
    return match in text


def _list_contains(items: list[Any], item: Any) -> bool:
    return item in items


def _append(items: list[Any], *more: Any) -> list[Any]:
    if len(items) + len(more) > 1_000_000:
        raise GuardError("append() would build a list over the limit of 1000000 items")
    return [*items, *more]


def _distinct(items: list[Any]) -> list[Any]:
    """In first-seen order. Hashable items are tracked in a set: `item not in out` on a list
    is quadratic, minutes for a long list (unhashable items, rare, still take that path)."""
    out: list[Any] = []
    seen: set[Any] = set()
    for item in items:
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:
            if item in out:
                continue
        out.append(item)
    return out


def _date(text: Any) -> _dt.date:
    return text if isinstance(text, _dt.date) else _dt.date.fromisoformat(text)


def _date_and_time(text: Any) -> _dt.datetime:
    return text if isinstance(text, _dt.datetime) else _dt.datetime.fromisoformat(text)


def _duration(text: str) -> Any:
    return isodate.parse_duration(text)


FEEL_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "count": _count, "sum": _sum, "min": _min, "max": _max, "mean": _mean,
    "abs": abs, "floor": math.floor, "ceiling": math.ceil, "string": _string,
    "number": _number, "string length": len, "upper case": str.upper,
    "lower case": str.lower, "contains": _contains, "starts with": str.startswith,
    "ends with": str.endswith, "substring": _substring, "list contains": _list_contains,
    "append": _append, "distinct values": _distinct, "date": _date,
    "date and time": _date_and_time, "duration": _duration,
}
# Multi-word names are matched word by word; the longest match wins.
_MULTI_WORD = sorted((tuple(name.split()) for name in FEEL_FUNCTIONS if " " in name),
                     key=len, reverse=True)


def _helper_name(function: str) -> str:
    return "__baton_feel_" + function.replace(" ", "_")


def _feel_index(items: Any, position: Any) -> Any:
    """FEEL `list[i]`: 1-based, negative counts from the end, out of range gives null."""
    if isinstance(position, str):
        return juel_property(items, position)
    if items is None:
        return None
    if not isinstance(position, int) or isinstance(position, bool) or position == 0:
        return None
    index = position - 1 if position > 0 else position
    try:
        return items[index]
    except (IndexError, KeyError, TypeError):
        return None


FEEL_GLOBALS: dict[str, Any] = {_helper_name(name): f for name, f in FEEL_FUNCTIONS.items()}
FEEL_GLOBALS["__baton_feel_index"] = _feel_index


# --------------------------------------------------------------------------- parser
def parse(text: str) -> ast.expr:
    """Parse FEEL text (without its leading '=')."""
    tokens = tokenize(text, operators=_OPERATORS, quotes="\"'", escapes=_ESCAPES,
                      language="FEEL")
    parser = _Parser(Cursor(tokens, "FEEL"))
    node = parser.expression()
    if parser.cursor.current.kind != "end":
        parser.cursor.fail("unexpected text")
    return node


class _Parser:
    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    def expression(self) -> ast.expr:
        cursor = self.cursor
        if cursor.accept("if"):
            test = self.expression()
            cursor.expect("then")
            body = self.expression()
            cursor.expect("else")
            return ast.IfExp(test=test, body=body, orelse=self.expression())
        if token := cursor.accept("some", "every"):
            return self._quantified(token.value)
        if cursor.at("for") and cursor.peek().kind == "name" and cursor.peek(2).value == "in":
            cursor.advance()
            target, iterable = self._binding()
            cursor.expect("return")
            return ast.ListComp(elt=self.expression(), generators=[
                ast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)])
        return self.disjunction()

    def _binding(self) -> tuple[ast.Name, ast.expr]:
        name = self.cursor.advance()
        if name.kind != "name" or name.value in _RESERVED:
            self.cursor.fail("expected a variable name")
        self.cursor.expect("in")
        return ast.Name(id=name.value, ctx=ast.Store()), self.disjunction()

    def _quantified(self, kind: str) -> ast.expr:
        target, iterable = self._binding()
        if self.cursor.at(","):
            self.cursor.fail(f"only one variable is supported in '{kind}'")
        self.cursor.expect("satisfies")
        condition = self.expression()
        generator = ast.GeneratorExp(elt=condition, generators=[
            ast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)])
        function = "any" if kind == "some" else "all"
        return ast.Call(func=ast.Name(id=function, ctx=ast.Load()), args=[generator],
                        keywords=[])

    def disjunction(self) -> ast.expr:
        values = [self.conjunction()]
        while self.cursor.accept("or"):
            values.append(self.conjunction())
        return values[0] if len(values) == 1 else ast.BoolOp(op=ast.Or(), values=values)

    def conjunction(self) -> ast.expr:
        values = [self.comparison()]
        while self.cursor.accept("and"):
            values.append(self.comparison())
        return values[0] if len(values) == 1 else ast.BoolOp(op=ast.And(), values=values)

    def comparison(self) -> ast.expr:
        cursor = self.cursor
        left = self.additive()
        if token := cursor.accept(*_COMPARE):
            return ast.Compare(left=left, ops=[_COMPARE[token.value]()],
                               comparators=[self.additive()])
        if cursor.accept("between"):
            low = self.additive()
            cursor.expect("and")
            high = self.additive()
            return ast.Compare(left=low, ops=[ast.LtE(), ast.LtE()],
                               comparators=[left, high])
        if cursor.accept("in"):
            return ast.Compare(left=left, ops=[ast.In()], comparators=[self._in_target()])
        if cursor.at("instance"):
            cursor.fail("'instance of' is not supported")
        return left

    def _in_target(self) -> ast.expr:
        if self.cursor.accept("("):
            items = self._items(")")
            return ast.Tuple(elts=items, ctx=ast.Load())
        return self.additive()

    def additive(self) -> ast.expr:
        node = self.multiplicative()
        while token := self.cursor.accept("+", "-"):
            op = ast.Add() if token.value == "+" else ast.Sub()
            node = ast.BinOp(left=node, op=op, right=self.multiplicative())
        return node

    def multiplicative(self) -> ast.expr:
        node = self.power()
        while token := self.cursor.accept("*", "/"):
            op = ast.Mult() if token.value == "*" else ast.Div()
            node = ast.BinOp(left=node, op=op, right=self.power())
        return node

    def power(self) -> ast.expr:
        node = self.unary()
        while self.cursor.accept("**"):
            node = ast.BinOp(left=node, op=ast.Pow(), right=self.unary())
        return node

    def unary(self) -> ast.expr:
        if self.cursor.accept("-"):
            return ast.UnaryOp(op=ast.USub(), operand=self.unary())
        return self.postfix()

    def postfix(self) -> ast.expr:
        node = self.primary()
        while True:
            if self.cursor.accept("."):
                token = self.cursor.advance()
                if token.kind != "name":
                    self.cursor.fail("expected a name after '.'")
                problem = attribute_problem(token.value)
                if problem:
                    raise Refused(problem)
                node = ast.Call(func=internal("__baton_prop"),
                                args=[node, ast.Constant(value=token.value)], keywords=[])
            elif self.cursor.accept("["):
                if self.cursor.at("]"):
                    self.cursor.fail("expected an index")
                index = self.expression()
                if isinstance(index, ast.Compare | ast.BoolOp):
                    raise Refused("list filters (xs[condition]) are not supported")
                self.cursor.expect("]")
                node = ast.Call(func=internal("__baton_feel_index"), args=[node, index],
                                keywords=[])
            else:
                return node

    def primary(self) -> ast.expr:
        cursor = self.cursor
        token = cursor.current
        if token.kind in ("number", "string"):
            cursor.advance()
            return ast.Constant(value=token.value)
        if token.kind == "name":
            return self._name()
        if cursor.accept("("):
            node = self.expression()
            cursor.expect(")")
            return node
        if cursor.accept("["):
            items = self._items("]")
            return ast.List(elts=items, ctx=ast.Load())
        if cursor.accept("{"):
            return self._context()
        cursor.fail("expected a value")
        raise AssertionError("unreachable")

    def _name(self) -> ast.expr:
        cursor = self.cursor
        literal = {"true": True, "false": False, "null": None}
        word = cursor.current.value
        if word in literal:
            cursor.advance()
            return ast.Constant(value=literal[word])
        if word == "not" and cursor.peek().value == "(":
            cursor.advance()
            cursor.expect("(")
            operand = self.expression()
            cursor.expect(")")
            return ast.UnaryOp(op=ast.Not(), operand=operand)
        function = self._function_name()
        if function is not None:
            return ast.Call(func=internal(_helper_name(function)),
                            args=self._arguments(), keywords=[])
        if cursor.peek().value == "(" and cursor.peek().kind == "op":
            raise Refused(f"the FEEL function {word}() is not supported")
        if word in _RESERVED:
            cursor.fail(f"the keyword {word!r} cannot start a value")
        cursor.advance()
        return ast.Name(id=word, ctx=ast.Load())

    def _function_name(self) -> str | None:
        """A known function name (possibly several words) followed by '(', consumed."""
        cursor = self.cursor
        for words in _MULTI_WORD:
            if all(cursor.peek(i).kind == "name" and cursor.peek(i).value == word
                   for i, word in enumerate(words)) and cursor.peek(len(words)).value == "(":
                for _ in words:
                    cursor.advance()
                return " ".join(words)
        word = cursor.current.value
        if word in FEEL_FUNCTIONS and cursor.peek().value == "(":
            cursor.advance()
            return word
        return None

    def _arguments(self) -> list[ast.expr]:
        self.cursor.expect("(")
        return self._items(")")

    def _items(self, closing: str) -> list[ast.expr]:
        items: list[ast.expr] = []
        if self.cursor.accept(closing):
            return items
        while True:
            items.append(self.expression())
            if self.cursor.at(".."):
                self.cursor.fail("ranges are not supported")
            if self.cursor.accept(closing):
                return items
            self.cursor.expect(",")

    def _context(self) -> ast.expr:
        keys: list[ast.expr | None] = []
        values: list[ast.expr] = []
        if not self.cursor.accept("}"):
            while True:
                key = self.cursor.advance()
                if key.kind not in ("name", "string"):
                    self.cursor.fail("expected a context key")
                self.cursor.expect(":")
                keys.append(ast.Constant(value=key.value))
                values.append(self.expression())
                if self.cursor.accept("}"):
                    break
                self.cursor.expect(",")
        return ast.Dict(keys=keys, values=values)
