"""The sandbox's amplification guards, each at its limit: one item under it works (and
gives Python's result), one item over it is refused with the size it would have had.

Why at the boundary: a guard that is removed, or that checks the wrong size, still lets
small payloads through and still fails on absurd ones (by running out of budget or
memory), so only a payload that lands just past MAX_LENGTH tells a working guard from a
missing one. These guards never ran in the suite before (`+=` on sequences, expandtabs,
translate), and each is reachable in several spellings (method, class call, keyword).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.expr.guards import MAX_LENGTH
from engine.expressions import ExpressionError, compile_expression, compile_script

WHERE = "scriptTask 'guarded' script"
M = MAX_LENGTH


def run(source: str, **variables: Any) -> dict[str, Any]:
    return compile_script(source, where=WHERE).run(variables)


def refused(source: str, size: int, **variables: Any) -> None:
    """The script fails with the guard's message naming the size it would have built."""
    with pytest.raises(ExpressionError, match=(
            rf"^{WHERE} `.*` failed(?: on line \d+)?: the result would hold {size} "
            rf"characters or items \(the limit is {M}\)")):
        run(source, **variables)


# --------------------------------------------------------------------------- a += b
def test_plus_equals_grows_a_list_in_place_up_to_the_limit() -> None:
    """Python's `+=` extends a list in place; the guard keeps that (other names bound to
    the list see it grow) and allows exactly MAX_LENGTH items."""
    out = run("alias = items\nitems += more\nsame = alias is items\nsize = len(alias)",
              items=[0] * (M - 5), more=[1] * 5)
    assert out["same"] is True and out["size"] == M


@pytest.mark.parametrize(("kind", "start", "more"), [
    ("list", [0] * (M - 5), [1] * 6),
    ("list by a tuple", [0] * (M - 5), (1,) * 6),
    ("tuple", (0,) * (M - 5), (1,) * 6),
    ("str", "a" * (M - 5), "b" * 6),
    ("bytes", b"a" * (M - 5), b"b" * 6),
])
def test_plus_equals_one_item_past_the_limit_is_refused(kind: str, start: Any,
                                                        more: Any) -> None:
    refused("items += more", M + 1, items=start, more=more)


def test_plus_equals_on_a_subscript_target_is_guarded_too() -> None:
    refused("box['items'] += more", M + 1, box={"items": [0] * (M - 5)}, more=[1] * 6)


def test_plus_equals_in_a_loop_stops_at_the_limit() -> None:
    """Doubling a text with `+=` stops at the first result over the limit (2**20 > 10**6),
    long before memory or time run out."""
    refused("s = 'ab'\nwhile True:\n    s += s", 2 ** 20)


def test_plus_equals_on_numbers_is_plain_arithmetic() -> None:
    assert run("n += step\nx += 0.5", n=10 ** 6, step=1, x=1.0) == {"n": 10 ** 6 + 1, "x": 1.5}


# --------------------------------------------------------------------------- expandtabs
def test_expandtabs_up_to_the_limit_works() -> None:
    out = run("out = text.expandtabs(999)\nsize = len(out)", text="\t" * 1000)
    assert out["size"] == 999_000 and set(out["out"]) == {" "}


@pytest.mark.parametrize(("source", "text"), [
    ("out = text.expandtabs(1000)", "\t" * 1000),
    ("out = text.expandtabs(tabsize=1000)", "\t" * 1000),
    ("out = str.expandtabs(text, 1000)", "\t" * 1000),
    ("out = text.expandtabs(1000)", b"\t" * 1000),
])
def test_expandtabs_past_the_limit_is_refused(source: str, text: str | bytes) -> None:
    refused(source, len(text) + 1000 * 1000, text=text)


def test_expandtabs_in_an_expression_is_guarded() -> None:
    with pytest.raises(ExpressionError, match="the result would hold 1001000 characters"):
        compile_expression("len(text.expandtabs(1000))").evaluate({"text": "\t" * 1000})


# --------------------------------------------------------------------------- translate
def test_translate_up_to_the_limit_works() -> None:
    out = run("out = text.translate({97: 'b' * 1000})\nsize = len(out)", text="a" * 1000)
    assert out["size"] == M and set(out["out"]) == {"b"}


@pytest.mark.parametrize("source", [
    "out = text.translate({97: 'b' * 1000})",
    "out = text.translate(str.maketrans({'a': 'b' * 1000}))",
    "out = str.translate(text, {97: 'b' * 1000})",
])
def test_translate_past_the_limit_is_refused(source: str) -> None:
    """The guard predicts len(text) x the longest replacement before translating."""
    refused(source, 1001 * 1000, text="a" * 1001)


def test_translate_with_short_replacements_is_plain_python() -> None:
    assert run("out = text.translate(str.maketrans('ab', 'ba'))", text="abc") == {"out": "bac"}
