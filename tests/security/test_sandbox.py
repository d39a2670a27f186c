"""Expressions and scripts from uploaded diagrams: no way out of the sandbox, and no way to
burn minutes of CPU or gigabytes of memory inside it.

The resource tests use small budgets and sizes: each payload would finish well within its
budget if the work it hides inside single operations were not charged, so a regression
shows up as "no error" rather than as a slow test.
"""

from __future__ import annotations

import pytest

from engine import Engine, EngineError
from engine.dmn.unary import UnaryTestError, compile_unary_tests
from engine.expressions import (
    ExpressionError,
    compile_action,
    compile_expression,
    compile_script,
)
from engine.script_functions import ENGINE_FUNCTIONS
from tests.security.diagrams import script_process

PYTHON_ESCAPES = [
    "().__class__", "''.__class__.__mro__[1].__subclasses__()", "[].__class__.__base__",
    "(x for x in []).gi_frame", "(x for x in []).gi_frame.f_back.f_globals",
    "(x for x in []).gi_code", "[x for x in ()].__class__", "x.__dict__",
    "str.format('{0.__class__}', 1)", "'{0.__class__.__base__}'.format(1)",
    "'{x.__init__.__globals__}'.format_map({'x': 1})", "str.format_map",
    "f'{1!r:>{10**9}}'", "f'{x!r:>{w}}'", "f'{1:>1000000}'", "f'{x.__class__}'",
    "type(1)", "type(x).__subclasses__(type(x))", "getattr(1, 'real')", "setattr(x, 'a', 1)",
    "vars()", "globals()", "locals()", "dir()", "__builtins__", "__builtins__['open']",
    "__import__('os').system('id')", "eval('1')", "exec('x=1')", "compile('1','','eval')",
    "open('/etc/passwd').read()", "breakpoint()", "help()", "input()", "memoryview(b'')",
    "bytearray(10**9)", "bytes(10**9)", "super()", "object.__subclasses__()", "id(1)",
    "str.mro()", "int.mro", "datetime.now.__self__", "datetime.__subclasses__()",
    "datetime.strptime.__func__", "max.__self__", "print.__globals__", "sorted.__globals__",
    "[].append.__self__", "dict.fromkeys.__self__", "str.__new__", "str.__dict__",
    "(lambda: 1)()", "[z.tb_frame for z in []]", "x.f_globals", "x.co_code", "x.cr_frame",
    "x.ag_frame", "x.func_globals", "x.im_func", "date.__subclasses__", "iter([])",
    "next(iter([1]))", "hash(1)", "repr(x)", "ascii(x)", "format(1, 'x')", "callable(x)",
    "issubclass(int, int)", "hasattr(x, 'a')", "classmethod(x)", "staticmethod(x)",
    "property(x)", "x @ x", "exit()", "quit()", "license()", "copyright()",
    "__baton_vars", "__baton_invoke(open, '/etc/passwd')", "_private", "x._private",
]
SCRIPT_ESCAPES = [
    "import os", "from os import system", "def f():\n    pass",
    "@decorator\ndef f():\n    pass", "class A:\n    pass", "global x\nx = 1",
    "try:\n    1/0\nexcept Exception as e:\n    t = e.__traceback__",
    "try:\n    x = 1\nfinally:\n    pass", "with open('/etc/passwd') as f:\n    pass",
    "match x:\n    case _:\n        pass", "raise SystemExit", "x = yield 1",
    "async def f():\n    pass", "lambda: 1", "x.attr = 1", "del x.attr", "return 1",
    "nonlocal x", "__class__ = 1", "[__x for __x in range(3)]",
    "for __x in range(3):\n    pass", "x: int = 1", "type X = int",
]
JUEL_ESCAPES = [
    "${''.getClass()}", "${''.getClass().forName('java.lang.Runtime')}", "#{''.class}",
    "${execution.getClass()}", "${execution.__class__}", "${x.__class__}",
    "${x['__class__']}", "${''['__class__']}", "${'a'.format_map}",
    "${execution.getProcessEngineServices()}", "${pageContext.request}",
    "${T(java.lang.Runtime).getRuntime()}", "${x.gi_frame}",
]
FEEL_ESCAPES = ["= x.__class__", '= date("2020-01-01").__class__', "= x.gi_frame",
                '= string(x).__class__', "= x[\"__class__\"]"]


def fails_safely(run) -> ExpressionError | UnaryTestError:
    with pytest.raises((ExpressionError, UnaryTestError)) as info:
        run()
    return info.value


@pytest.mark.parametrize("payload", PYTHON_ESCAPES + JUEL_ESCAPES + FEEL_ESCAPES)
def test_expression_escapes_are_refused_or_fail(payload: str) -> None:
    fails_safely(lambda: compile_expression(payload).evaluate({"x": 1, "w": 10 ** 9}))


@pytest.mark.parametrize("payload", SCRIPT_ESCAPES + PYTHON_ESCAPES)
def test_script_escapes_are_refused_or_fail(payload: str) -> None:
    fails_safely(lambda: compile_script(payload).run({"x": {"a": 1}, "w": 1}))


@pytest.mark.parametrize("payload", ["execution.getClass()", "execution.__class__",
                                     "execution.setVariable('__class__', 1)",
                                     "execution.getProcessEngine()",
                                     "${execution.setVariable('__builtins__', 1)}"])
def test_execution_translation_exposes_no_object(payload: str) -> None:
    fails_safely(lambda: compile_action(payload).perform({}, {}))


@pytest.mark.parametrize("cell", ["__import__('os')", "x.__class__", "?.__class__",
                                  "().__class__.__bases__", "${''.getClass()}",
                                  "= x.__class__"])
def test_dmn_cells_are_sandboxed(cell: str) -> None:
    fails_safely(lambda: compile_unary_tests(cell, input_name="x").matches(1, {"x": 1}))


def test_host_functions_cannot_be_taken_as_values() -> None:
    """A registered function is only ever called; as a value its name is a variable."""
    token = ENGINE_FUNCTIONS.set({"vat": lambda amount: amount * 0.2})
    try:
        assert compile_script("y = vat(10)").run({}) == {"y": 2.0}
        error = fails_safely(lambda: compile_script("f = vat").run({}))
        fails_safely(lambda: compile_script("y = vat.__globals__").run({}))
    finally:
        ENGINE_FUNCTIONS.reset(token)
    assert "unknown variable 'vat'" in error.problem


# --------------------------------------------------------------------------- resources
SMALL_BUDGET = 50_000
V = "v = list(range(10**5))\n"       # charged about 6,250 steps to build


@pytest.mark.parametrize("script", [
    V + "for i in range(1000):\n    x = -1 in v",                     # scan a list
    V + "for i in range(1000):\n    x = max(v)",                      # walk a list
    V + "for i in range(1000):\n    x = v.count(-1)",
    V + "for i in range(1000):\n    x = v[::-1]",                     # copy by slicing
    V + "for i in range(1000):\n    x = [*v]",
    V + "for i in range(1000):\n    x = v == v[:]",
    V + "for i in range(1000):\n    del v[0]",                        # shift every item
    V + "for i in range(1000):\n    v.insert(0, 1)",
    V + "len = max\nfor i in range(1000):\n    x = len(v)",           # an alias of max()
    V + "f = max\nx = [f(v) for i in range(1000)]",
    V + "for i in range(100):\n    x = sorted(v, key=abs)",           # a callback per item
    V + "for i in range(100):\n    x = list(map(str, v))",
    "s = set(range(10**5))\nfor i in range(1000):\n    x = s - s",    # set algebra
    "d = dict.fromkeys(range(10**5))\nfor i in range(1000):\n    x = d | d",
    "t = 'ab' * 50000\nfor i in range(1000):\n    x = t.upper()",     # text methods
    "t = 'ab' * 50000\nfor i in range(1000):\n    x = 'z' in t",
    "x = 2**9990\ny = 2**9000 + 1\nfor i in range(1000):\n    z = x // y",  # big ints
    "x = 2**9990\nfor i in range(1000):\n    z = f'{x}'",
    "x = 2**4990\nfor i in range(1000):\n    z = x * x",
])
def test_work_inside_one_operation_is_charged(script: str) -> None:
    error = fails_safely(lambda: compile_script(script, budget=SMALL_BUDGET).run({}))
    assert "budget" in error.problem or "units of work" in error.problem


@pytest.mark.parametrize("text", [
    # four small allocations that stand for 10**12 items when compared, hashed or stored
    "[[[[0]*1000]*1000]*1000]*1000 == [[[[0]*1000]*1000]*1000]*1000",
    "{((((0,)*1000,)*1000,)*1000,)*1000: 1}",
    "((((0,)*1000,)*1000,)*1000,)*1000 in {1}",
    "max([[[[0]*1000]*1000]*1000, [[[0]*1000]*1000]*1000])",
    "sorted([[[[0]*1000]*1000]*1000, [[[1]*1000]*1000]*1000])",
    "[[[[0]*1000]*1000]*1000]*1000",                  # as a value leaving the sandbox
    "pow(3, 2**9990 - 1, 2**9990 + 1)",               # 2 s of modular exponentiation
    "int.from_bytes(b'\\xff' * 100000, 'big')",       # an 800,000-bit integer
    "int('f' * 100000, 16)",
    "('\\u0390' * 10**6).upper()",                    # triples in length
])
def test_amplified_values_are_refused(text: str) -> None:
    fails_safely(lambda: compile_expression(text).evaluate({}))


def test_doubling_a_list_in_a_loop_cannot_be_compared_or_stored() -> None:
    compare = "a = [0]\nb = [0]\nfor i in range(100):\n    a = [a, a]\n    b = [b, b]\nx = a == b"
    fails_safely(lambda: compile_script(compare).run({}))
    store = "a = [0]\nfor i in range(100):\n    a = [a, a]"
    assert "stored text" in fails_safely(lambda: compile_script(store).run({})).problem


def test_a_script_cannot_hand_the_store_a_value_it_cannot_write() -> None:
    engine = Engine()
    engine.deploy(script_process("x = [[[[0]*1000]*1000]*1000]*1000").encode())
    with pytest.raises(EngineError, match="stored text"):
        engine.start("scripted", {})
    assert engine.tasks() == []


def test_feel_distinct_values_is_linear() -> None:
    value = compile_expression("= distinct values(v)").evaluate({"v": list(range(100_000)) * 2})
    assert value == list(range(100_000))


def test_ordinary_scripts_still_run() -> None:
    """The charges leave room for what diagrams really do."""
    script = (
        "orders = [{'id': i, 'amount': i % 97, 'tags': ['a', 'b']} for i in range(2000)]\n"
        "seen = set()\n"
        "total = 0\n"
        "for o in orders:\n"
        "    if o['id'] in seen or 'b' not in o['tags']:\n"
        "        continue\n"
        "    seen.add(o['id'])\n"
        "    total += o.get('amount', 0)\n"
        "ranked = sorted(orders, key=lambda_free_key)[:10] if False else sorted(\n"
        "    [o['amount'] for o in orders], reverse=True)[:10]\n"
        "names = ', '.join(str(o['id']) for o in orders[:50])\n"
        "big = 2**4000 % 1000003\n"
        "lookup = {(o['id'], 'x'): o['amount'] for o in orders}\n"
        "hit = lookup[(5, 'x')]\n"
        "same = orders[:10] == orders[:10]\n"
        "copy = dict(orders[0])\n"
        "total_again = sum(o['amount'] for o in orders)\n"
    )
    out = compile_script(script).run({})
    assert out["total"] == out["total_again"] == sum(i % 97 for i in range(2000))
    assert out["ranked"][0] == 96 and out["hit"] == 5 and out["same"] is True
    assert out["names"].startswith("0, 1, 2")
