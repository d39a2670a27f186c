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
    "vars(x)", "globals", "locals().__class__", "globals()['__builtins__']",
    "vars()['__baton_vars']", "[vars()['.0'] for i in [1]]", "dir()", "__builtins__", "__builtins__['open']",
    "__import__('os').system('id')", "eval('1')", "exec('x=1')", "compile('1','','eval')",
    "open('/etc/passwd').read()", "breakpoint()", "help()", "input()", "memoryview(b'')",
    "bytearray(10**9)", "bytes(10**9)", "super()", "object.__subclasses__()", "id(1)",
    "str.mro()", "int.mro", "datetime.now.__self__", "datetime.__subclasses__()",
    "datetime.strptime.__func__", "max.__self__", "print.__globals__", "sorted.__globals__",
    "[].append.__self__", "dict.fromkeys.__self__", "str.__new__", "str.__dict__",
    "(lambda: 1).__code__", "[z.tb_frame for z in []]", "x.f_globals", "x.co_code", "x.cr_frame",
    "x.ag_frame", "x.func_globals", "x.im_func", "date.__subclasses__", "iter([])",
    "next(iter([1]))", "hash(1)", "repr(x)", "ascii(x)", "format(1, 'x')", "callable(x)",
    "issubclass(int, int)", "hasattr(x, 'a')", "classmethod(x)", "staticmethod(x)",
    "property(x)", "x @ x", "exit()", "quit()", "license()", "copyright()",
    "__baton_vars", "__baton_invoke(open, '/etc/passwd')", "_private", "x._private",
]
SCRIPT_ESCAPES = [
    "import os", "from os import system", "def f():\n    yield 1",
    "@decorator\ndef f():\n    pass", "class A:\n    pass", "global x\nx = 1",
    "try:\n    1/0\nexcept Exception as e:\n    t = e.__traceback__",
    "try:\n    x = 1\nfinally:\n    pass", "with open('/etc/passwd') as f:\n    pass",
    "match x:\n    case _:\n        pass", "raise SystemExit", "x = yield 1",
    "async def f():\n    pass", "f = lambda: 1\ny = [f]", "x.attr = 1", "del x.attr", "return 1",
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


# --------------------------------------------------------------------------- functions
# Scripts may define small functions (def; lambda in expressions too): they run under the
# same guards and budget, every call takes a step, calls nest at most MAX_CALL_DEPTH deep,
# defaults are constants, and a function is never data that leaves the run.
FUNCTION_ESCAPES = [
    # interpreter internals of a function object: private names, refused at compile time
    "def f():\n    pass\nx = f.__code__", "def f():\n    pass\nx = f.__globals__",
    "def f():\n    pass\nx = f.__closure__", "def f():\n    pass\nx = f.__defaults__",
    "def f():\n    pass\nx = f.__kwdefaults__", "def f():\n    pass\nx = f.__dict__",
    "def f():\n    pass\nx = f.__wrapped__", "def f():\n    pass\nx = f.__builtins__",
    "def f():\n    pass\nx = f.func_globals", "def f():\n    pass\nx = f.func_code",
    "x = (lambda: 0).__code__.co_consts", "x = (lambda: 0).__globals__['__builtins__']",
    "def f():\n    pass\nf.attr = 1", "def f():\n    pass\nx = getattr(f, '__code__')",
    # default-argument tricks: a default is evaluated where the function is defined
    "f = lambda g=print: g", "def f(g=max):\n    return g", "f = lambda x=[]: x",
    "f = lambda x=(lambda: 0): x", "def f(a=x):\n    return a",
    "f = lambda x={}: x", "def f(*, k=len):\n    return k",
    # reserved names as parameters or functions
    "def f(__baton_fuel):\n    return __baton_fuel", "def __baton_enter(a, b):\n    return a",
    "f = lambda __builtins__: 1", "def __class__():\n    pass",
    # generators and coroutines
    "def g():\n    yield 1", "def g():\n    yield from [1]", "f = lambda: (yield)",
    "async def g():\n    pass", "def g():\n    return (i for i in [1])\nx = g().gi_frame",
    "def g():\n    return (i for i in [1])\nx = g().gi_code",
    # scope escapes
    "def f():\n    global x\n    x = 1", "def f():\n    x = 1\n    def g():\n        nonlocal x\n"
    "        x = 2", "def f():\n    return locals()['__baton_fuel']\ny = f()",
    "def f():\n    return vars(f)", "def f():\n    return globals()['__builtins__']\ny = f()",
    "def f():\n    return execution.getVariable('__baton_fuel')",
    "def f():\n    return execution.getVariable('__baton_' + 'vars')\ny = f()",
    "def f():\n    execution.setVariable('y', 1)",
    # annotations, decorators, classes inside
    "def f(a: int):\n    return a", "def f() -> int:\n    return 1",
    "@staticmethod\ndef f():\n    pass", "def f():\n    class A:\n        pass",
    "def f():\n    import os", "def f():\n    try:\n        pass\n    finally:\n        pass",
    # a function as data: never kept, never handed out
    "f = lambda: 1\nx = [f]", "def f():\n    return f\nx = [f()]",
    "x = {'k': lambda: 1}", "def f(items):\n    items.append(f)\nf(v)",
    "def f():\n    return (f() for i in [1])\nx = [f()]", "x = [map(abs, v)]",
    "return 1",
]


@pytest.mark.parametrize("payload", FUNCTION_ESCAPES)
def test_function_escapes_are_refused_or_fail(payload: str) -> None:
    fails_safely(lambda: compile_script(payload).perform({"x": 1, "v": [1]}, {}))


@pytest.mark.parametrize("script", [
    "def f(n):\n    return f(n + 1)\ny = f(0)",                       # unbounded recursion
    "f = lambda n: f(n + 1)\ny = f(0)",
    "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\ny = a(0)",   # mutual
    "def f(x):\n    return sorted([x], key=f)\ny = f(1)",               # through a builtin
    "def f(x):\n    return list(map(f, [x]))\ny = f(1)",
    "def f(n):\n    return max([n], key=lambda m: f(m))\ny = f(1)",
])
def test_recursion_bombs_stop_at_the_call_depth(script: str) -> None:
    error = fails_safely(lambda: compile_script(script).run({}))
    assert "levels deep" in error.problem


@pytest.mark.parametrize("script", [
    "def f(n):\n    return 1 if n == 0 else f(n - 1) + f(n - 1)\ny = f(40)",  # 2**40 calls
    "def f():\n    pass\nfor i in range(10**6):\n    f()",               # a call is a step
    "f = lambda: 0\ny = [f() for i in range(10**6)]",
    "def f(n):\n    while True:\n        n += 1\ny = f(0)",
    "def f(v):\n    return max(v)\nv = list(range(10**5))\nfor i in range(1000):\n    x = f(v)",
    "def f(x):\n    return [x] * 1000\ny = f(f(f(f(1))))\nz = y == y",
])
def test_functions_spend_the_same_budget(script: str) -> None:
    error = fails_safely(lambda: compile_script(script, budget=SMALL_BUDGET).run({}))
    assert "budget" in error.problem or "units of work" in error.problem


def test_a_script_defines_and_calls_functions() -> None:
    script = ("def total(items, rate=0.5, *rest, minimum=-1, **options):\n"
              "    s = sum(i['amount'] for i in items)\n"
              "    return max(s * rate, minimum)\n"
              "def fact(n):\n"
              "    return 1 if n <= 1 else n * fact(n - 1)\n"
              "top = sorted(items, key=lambda i: -i['amount'])[0]['amount']\n"
              "half = total(items)\n"
              "f10 = fact(10)\n"
              "def bump(d):\n"
              "    d['seen'] = True\n"
              "bump(flags)\n")
    out = compile_script(script).run({"items": [{"amount": 4}, {"amount": 6}], "flags": {}})
    assert out == {"top": 6, "half": 5.0, "f10": 3628800, "flags": {"seen": True},
                   "items": [{"amount": 4}, {"amount": 6}]}
    assert "total" not in out and "fact" not in out and "bump" not in out


def test_the_call_depth_is_per_run() -> None:
    """A run that failed deep inside its functions leaves nothing behind for the next."""
    script = compile_script("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\ny = f(depth)")
    assert script.run({"depth": 90}) == {"y": 90}
    fails_safely(lambda: script.run({"depth": 1000}))
    assert script.run({"depth": 90}) == {"y": 90}


def test_vars_gives_a_copy_of_the_visible_variables_only() -> None:
    """`'x' in vars()` (SpiffWorkflow diagrams test for a variable so): a new dict of the
    instance's variables and the script's names, nothing of the interpreter's."""
    assert compile_expression("'a' in vars() and 'b' not in globals()").evaluate({"a": 1})
    out = compile_script("y = 2\nseen = sorted(vars())\nvars()['a'] = 5").run({"a": 1})
    assert out == {"y": 2, "seen": ["a", "y"]}
    assert compile_script("def f(q):\n    return sorted(locals())\nz = f(1)").run(
        {"a": 1}) == {"z": ["a", "q"]}


def test_an_engine_runs_a_script_with_functions_and_keeps_only_data() -> None:
    engine = Engine()
    engine.deploy(script_process("def twice(x):\n    return 2 * x\ny = twice(21)").encode())
    iid = engine.start("scripted", {})
    assert engine.instance(iid).variables == {"y": 42}
