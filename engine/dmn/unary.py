"""Input entries of a decision table: FEEL *unary tests*, compiled once, matched many times.

A unary test is a predicate on one value, the input clause's value, written without naming
it: `< 10`, `[1..10]`, `"gold","silver"`, `not("red")`, `-` (anything). Supported FEEL:

- `-` or an empty cell: matches anything;
- a comparison `< e`, `<= e`, `> e`, `>= e`;
- an interval `[a..b]`, `(a..b]`, `]a..b[`, ... (`(`/`]` on the left and `)`/`[` on the
  right mean the end point is excluded);
- an expression `e` (a literal, a variable, a function call): the input equals its value; a
  list value matches any of its items; a boolean value computed from variables is the
  answer itself (so `amount > limit` works as a test);
- an expression using `?` for the input value (`? > 10 and ? < 20`): its value is the answer;
- comma-separated alternatives (`"a","b",< 0`) and `not(...)` around all of them.

Comparisons with a missing value or between different types (FEEL gives null) do not match.
The end points are compiled with the expression sandbox as FEEL; ones without variables are
evaluated once, at compile time.

SpiffWorkflow's flavour (its DMN tables hold Python): when a cell is not a FEEL unary test,
it is read as Python, the way SpiffWorkflow's DMN engine reads it:

1. text with `?` outside quotes (or naming the cell input variable, see below): `?` is the
   input value, the expression's truth is the answer (`? in {'a', 'b'}`, `len(?) > 3`);
2. text that is a whole Python expression (`'x' if flag else 'y'`, `True`, `x == 3`): the
   input must equal its value;
3. text that becomes an expression once the input is put in front (`== 3`, `!= 'a'`,
   `in [1, 2]`, `is None`): that comparison is the answer.

Text indexing with `[0]` (never meaningful in FEEL, which counts from 1) is read as Python
first. In both flavours the input value is also visible as a variable, named by the input clause's
`camunda:inputVariable` (Camunda 7's JUEL rule) or `cellInput` by default; a process variable
of that name is hidden inside the cell. A cell that is neither FEEL nor Python is refused when
the file is deployed.
"""

from __future__ import annotations

import ast
import operator
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.expr.errors import Refused
from engine.expr.lexer import Token, tokenize
from engine.expressions import Expression, ExpressionError, compile_expression

CELL_INPUT = "cellInput"
_OPERATORS = ("**", "!=", "<=", ">=", "..", "<", ">", "=", "+", "-", "*", "/", ".", "[", "]",
              "(", ")", ",", "{", "}", ":", "?")
_ESCAPES = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_OPENERS = ("[", "(", "]")
_CLOSERS = ("]", ")", "[")
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_ZERO_INDEX = re.compile(r"\[\s*0\s*\]")


class UnaryTestError(ValueError):
    """A cell that cannot be compiled; `problem` is the reason without the cell text."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


# --------------------------------------------------------------------------- values
@dataclass(frozen=True, slots=True)
class Operand:
    """An end point or compared value: a constant (folded at compile time) or an expression."""

    expression: Expression | None
    constant: Any = None

    @property
    def is_constant(self) -> bool:
        return self.expression is None

    def value(self, scope: Mapping[str, Any]) -> Any:
        return self.constant if self.expression is None else self.expression.evaluate(scope)


def _operand(text: str, where: str, language: str) -> Operand:
    expression = compile_expression(text, where=where, language=language)
    if not expression.names:
        try:
            return Operand(None, expression.evaluate({}))
        except ExpressionError:
            pass  # e.g. 1/0: let it fail when the rule is checked, with its own message
    return Operand(expression)


def same(a: Any, b: Any) -> bool:
    """FEEL equality: like ==, except that a boolean never equals a number."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _compare(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    """A FEEL comparison: null or mismatched types give null, which does not match."""
    if a is None or b is None or isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(op(a, b))
    except TypeError:
        return False


# --------------------------------------------------------------------------- tests
@dataclass(frozen=True, slots=True)
class _Comparison:
    op: Callable[[Any, Any], bool]
    operand: Operand

    def holds(self, value: Any, scope: Mapping[str, Any]) -> bool:
        return _compare(self.op, value, self.operand.value(scope))


@dataclass(frozen=True, slots=True)
class _Interval:
    low: Operand
    low_closed: bool
    high: Operand
    high_closed: bool

    def holds(self, value: Any, scope: Mapping[str, Any]) -> bool:
        low_op = operator.ge if self.low_closed else operator.gt
        high_op = operator.le if self.high_closed else operator.lt
        return (_compare(low_op, value, self.low.value(scope))
                and _compare(high_op, value, self.high.value(scope)))


@dataclass(frozen=True, slots=True)
class _Equals:
    """FEEL: equal to the value; in a list value; or a computed boolean answer."""

    operand: Operand

    def holds(self, value: Any, scope: Mapping[str, Any]) -> bool:
        expected = self.operand.value(scope)
        if same(value, expected):
            return True
        if isinstance(expected, list | tuple) and not isinstance(value, list | tuple):
            return any(same(value, item) for item in expected)
        if (isinstance(expected, bool) and not isinstance(value, bool)
                and not self.operand.is_constant):
            return expected
        return False


@dataclass(frozen=True, slots=True)
class _PythonEquals:
    """SpiffWorkflow: `(input) == (cell)` with Python's own equality."""

    operand: Operand

    def holds(self, value: Any, scope: Mapping[str, Any]) -> bool:
        try:
            return bool(value == self.operand.value(scope))
        except ExpressionError:
            raise
        except Exception:
            return False


@dataclass(frozen=True, slots=True)
class _Predicate:
    """An expression over the input value (`?` or the cell input variable): truthy matches."""

    expression: Expression

    def holds(self, value: Any, scope: Mapping[str, Any]) -> bool:
        return bool(self.expression.evaluate(scope))


_Test = _Comparison | _Interval | _Equals | _PythonEquals | _Predicate


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """One compiled input entry. `flavour` is "any", "feel", "python" or "juel"."""

    source: str
    flavour: str
    tests: tuple[_Test, ...] = ()
    negated: bool = False
    input_name: str = CELL_INPUT

    @property
    def matches_anything(self) -> bool:
        return self.flavour == "any"

    def matches(self, value: Any, variables: Mapping[str, Any]) -> bool:
        """Does `value` (the input clause's value) pass? Raises ExpressionError when an
        expression in the cell fails."""
        if self.flavour == "any":
            return True
        scope = ChainMap({self.input_name: value}, variables)  # type: ignore[arg-type]
        hit = any(test.holds(value, scope) for test in self.tests)
        return hit != self.negated


ANY = UnaryTests("-", "any")


# --------------------------------------------------------------------------- FEEL reading
def _tokens(text: str) -> list[Token]:
    return tokenize(text, operators=_OPERATORS, quotes="\"'", escapes=_ESCAPES,
                    language="FEEL")


def _is(token: Token, *values: str) -> bool:
    return token.kind == "op" and token.value in values


def _skip_group(tokens: list[Token], i: int, stop: int) -> int:
    """Index after the bracket group opening at tokens[i] (stops at `stop` if unbalanced)."""
    depth = []
    while i < stop:
        token = tokens[i]
        if _is(token, *_PAIRS):
            depth.append(_PAIRS[token.value])
        elif token.kind == "op" and token.value in (")", "]", "}"):
            if not depth or depth.pop() != token.value:
                raise Refused(f"unbalanced {token.value!r} at position {token.pos + 1}")
            if not depth:
                return i + 1
        i += 1
    raise Refused("a bracket is not closed")


def _interval_end(tokens: list[Token], start: int, stop: int) -> tuple[int, int] | None:
    """If an interval opens at tokens[start]: (index of '..', index of the closer)."""
    i = start + 1
    dots = None
    while i < stop:
        token = tokens[i]
        if dots is None and _is(token, ".."):
            dots = i
            i += 1
            continue
        if dots is not None and _is(token, *_CLOSERS) and i > dots + 1:
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if after is None or after.kind == "end" or _is(after, ",") or i + 1 == stop:
                return dots, i
        if _is(token, *_PAIRS):
            i = _skip_group(tokens, i, stop)
            continue
        if _is(token, ","):
            return None
        i += 1
    return None


def _segments(tokens: list[Token], start: int, stop: int) -> list[tuple[int, int]]:
    """Split tokens[start:stop] at top-level commas (intervals may look unbalanced)."""
    out: list[tuple[int, int]] = []
    i = seg = start
    while i < stop:
        token = tokens[i]
        if i == seg and _is(token, *_OPENERS):
            found = _interval_end(tokens, i, stop)
            if found is not None:
                i = found[1] + 1
                continue
        if _is(token, *_PAIRS):
            i = _skip_group(tokens, i, stop)
            continue
        if token.kind == "op" and token.value in (")", "]", "}"):
            raise Refused(f"unbalanced {token.value!r} at position {token.pos + 1}")
        if _is(token, ","):
            if i == seg:
                raise Refused(f"an empty test before ',' at position {token.pos + 1}")
            out.append((seg, i))
            seg = i + 1
        i += 1
    if seg >= stop:
        raise Refused("an empty test at the end")
    out.append((seg, stop))
    return out


class _FeelCell:
    """Reads one cell's tokens into tests."""

    def __init__(self, text: str, where: str, input_name: str) -> None:
        self.text = text
        self.where = where
        self.input_name = input_name
        self.tokens = _tokens(text)

    def source(self, start: int, stop: int) -> str:
        """The text of tokens[start:stop], with `?` spelled as the input variable."""
        tokens = self.tokens
        end = tokens[stop].pos
        pieces = []
        pos = tokens[start].pos
        for token in tokens[start:stop]:
            if _is(token, "?"):
                pieces.append(self.text[pos:token.pos])
                pieces.append(self.input_name)
                pos = token.pos + 1
        pieces.append(self.text[pos:end])
        return "".join(pieces).strip()

    def uses_input(self, start: int, stop: int) -> bool:
        return any(_is(t, "?") for t in self.tokens[start:stop])

    def operand(self, start: int, stop: int) -> Operand:
        if start >= stop:
            raise Refused("a value is missing")
        if _is(self.tokens[start], "="):
            raise Refused("'=' cannot start a FEEL unary test (write the value alone)")
        return _operand(self.source(start, stop), self.where, "feel")

    def read(self) -> tuple[tuple[_Test, ...], bool]:
        tokens = self.tokens
        start, stop = 0, len(tokens) - 1  # tokens[-1] is the end token
        negated = self._negation_closes_at(stop)
        if negated:
            start, stop = 2, stop - 1
        tests = tuple(self.test(a, b) for a, b in _segments(tokens, start, stop))
        return tests, negated

    def _negation_closes_at(self, stop: int) -> bool:
        """Is the whole cell `not( ... )`?"""
        tokens = self.tokens
        if not (stop >= 3 and tokens[0].kind == "name" and tokens[0].value == "not"
                and _is(tokens[1], "(") and _is(tokens[stop - 1], ")")):
            return False
        try:
            return _skip_group(tokens, 1, stop) == stop
        except Refused:
            return False

    def test(self, start: int, stop: int) -> _Test:
        tokens = self.tokens
        first = tokens[start]
        if first.kind == "op" and first.value in _COMPARISONS:
            if self.uses_input(start, stop):
                raise Refused("'?' cannot follow a comparison operator")
            return _Comparison(_COMPARISONS[first.value], self.operand(start + 1, stop))
        if first.kind == "op" and first.value in ("=", "!="):
            raise Refused(f"{first.value!r} cannot start a FEEL unary test")
        if _is(first, *_OPENERS):
            found = _interval_end(tokens, start, stop)
            if found is not None and found[1] == stop - 1:
                dots, closer = found
                return _Interval(self.operand(start + 1, dots), first.value == "[",
                                 self.operand(dots + 1, closer), tokens[closer].value == "]")
        if self.uses_input(start, stop):
            expression = compile_expression(self.source(start, stop), where=self.where,
                                            language="feel")
            return _Predicate(expression)
        operand = self.operand(start, stop)
        if operand.expression is not None and self.input_name in operand.expression.names:
            return _Predicate(operand.expression)  # the cell names the input itself
        return _Equals(operand)


# --------------------------------------------------------------------------- Python reading
def replace_question_marks(text: str, name: str) -> str | None:
    """`?` outside string quotes replaced by `name`; None when there is none."""
    out: list[str] = []
    quote = None
    found = False
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and i + 1 < len(text):
                out.append(text[i:i + 2])
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "?":
            out.append(name)
            found = True
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out) if found else None


def _python_parses(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _python_tests(text: str, where: str, input_name: str) -> tuple[_Test, ...]:
    replaced = replace_question_marks(text, input_name)
    if replaced is not None:
        return (_Predicate(compile_expression(replaced, where=where, language="python")),)
    if _python_parses(text):
        operand = _operand(text, where, "python")
        if operand.expression is not None and input_name in operand.expression.names:
            return (_Predicate(operand.expression),)
        return (_PythonEquals(operand),)
    prefixed = f"{input_name} {text.strip()}"
    if _python_parses(prefixed):
        return (_Predicate(compile_expression(prefixed, where=where, language="python")),)
    raise UnaryTestError("invalid syntax")


def _juel_tests(text: str, where: str, input_name: str) -> tuple[_Test, ...]:
    """Camunda 7 JUEL cells: a boolean over the input variable, or a value to equal."""
    expression = compile_expression(text, where=where, language="juel")
    if input_name in expression.names:
        return (_Predicate(expression),)
    return (_PythonEquals(_operand(text, where, "juel")),)


def literal_values(text: str) -> tuple[Any, ...] | None:
    """The values of a list of literals (`"high","medium","low"`, as in outputValues);
    None when the text is anything else."""
    try:
        tests, negated = _FeelCell(text.strip(), "outputValues", CELL_INPUT).read()
    except (Refused, ExpressionError, RecursionError):
        return None
    if negated or not all(isinstance(t, _Equals) and t.operand.is_constant for t in tests):
        return None
    return tuple(t.operand.constant for t in tests)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- entry point
def compile_unary_tests(text: str | None, *, where: str = "", input_name: str | None = None,
                        language: str | None = None) -> UnaryTests:
    """Compile one input entry. `language` forces "feel" or "python" (an expressionLanguage
    URI works too); otherwise FEEL is tried first, then SpiffWorkflow's Python reading.

    Raises UnaryTestError naming the problem (`where` is used in expression messages)."""
    name = (input_name or "").strip() or CELL_INPUT
    source = (text or "").strip()
    if source in ("", "-"):
        return ANY
    lowered = (language or "").lower()
    force_python = "python" in lowered or "juel" in lowered
    force_feel = "feel" in lowered
    feel_problem = None
    if not (force_python or force_feel) and _ZERO_INDEX.search(source):
        try:  # `xs[0]`: FEEL counts from 1, so this was written as Python
            return UnaryTests(source, "python", _python_tests(source, where, name), False, name)
        except (ExpressionError, UnaryTestError):
            pass
    if not force_python:
        try:
            tests, negated = _FeelCell(source, where, name).read()
            return UnaryTests(source, "feel", tests, negated, name)
        except Refused as exc:
            feel_problem = exc.problem
        except ExpressionError as exc:
            feel_problem = exc.problem
        except RecursionError:
            raise UnaryTestError("it is nested too deeply") from None
        if force_feel:
            raise UnaryTestError(f"it is not a FEEL unary test: {feel_problem}")
    try:
        if "juel" in lowered:
            return UnaryTests(source, "juel", _juel_tests(source, where, name), False, name)
        return UnaryTests(source, "python", _python_tests(source, where, name), False, name)
    except ExpressionError as exc:
        problem = exc.problem
    except UnaryTestError as exc:
        problem = exc.problem
    if feel_problem is None:
        raise UnaryTestError(f"it is not a Python expression: {problem}")
    raise UnaryTestError(f"it is not a FEEL unary test ({feel_problem}) nor a Python "
                         f"expression ({problem})")


__all__ = ["ANY", "CELL_INPUT", "Operand", "UnaryTestError", "UnaryTests",
           "compile_unary_tests", "literal_values", "replace_question_marks", "same"]
