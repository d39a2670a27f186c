"""A small tokenizer and token cursor shared by the JUEL and FEEL translators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.expr.errors import Refused

_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str        # "number", "string", "name", "op" or "end"
    value: Any
    pos: int


def tokenize(text: str, *, operators: tuple[str, ...], quotes: str,
             escapes: dict[str, str], language: str) -> list[Token]:
    """Split `text`; `operators` must list longer operators before their prefixes."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        number = _NUMBER.match(text, pos)
        if number and (char.isdigit() or char == "."):
            literal = number.group()
            is_int = literal.isdigit()
            tokens.append(Token("number", int(literal) if is_int else float(literal), pos))
            pos = number.end()
            continue
        if char in quotes:
            value, after = _read_string(text, pos, escapes, language)
            tokens.append(Token("string", value, pos))
            pos = after
            continue
        name = _NAME.match(text, pos)
        if name:
            tokens.append(Token("name", name.group(), pos))
            pos = name.end()
            continue
        for operator in operators:
            if text.startswith(operator, pos):
                tokens.append(Token("op", operator, pos))
                pos += len(operator)
                break
        else:
            raise Refused(f"unexpected character {char!r} at position {pos + 1} "
                          f"of the {language} expression")
    tokens.append(Token("end", None, end))
    return tokens


def _read_string(text: str, start: int, escapes: dict[str, str],
                 language: str) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            follower = text[pos + 1]
            if follower == quote or follower in escapes:
                out.append(quote if follower == quote else escapes[follower])
                pos += 2
                continue
        if char == quote:
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    raise Refused(f"unterminated string starting at position {start + 1} of the {language} "
                  "expression")


class Cursor:
    """Walks a token list for a recursive-descent parser."""

    def __init__(self, tokens: list[Token], language: str) -> None:
        self.tokens = tokens
        self.index = 0
        self.language = language

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, *values: str) -> bool:
        """Is the current token one of these operators or keywords?"""
        token = self.current
        return token.kind in ("op", "name") and token.value in values

    def accept(self, *values: str) -> Token | None:
        if self.at(*values):
            return self.advance()
        return None

    def expect(self, value: str) -> Token:
        if not self.at(value):
            self.fail(f"expected {value!r}")
        return self.advance()

    def fail(self, problem: str) -> None:
        token = self.current
        found = "the end" if token.kind == "end" else repr(str(token.value))
        raise Refused(f"{problem} at position {token.pos + 1} of the {self.language} "
                      f"expression, found {found}")
