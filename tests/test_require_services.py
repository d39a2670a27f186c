"""BATON_REQUIRE_SERVICES=1 turns a skip for a missing server, package, browser or corpus
into a failure; without it those tests keep skipping, and unrelated skips stay skips.

Why a test of the hook itself: if the reason patterns drifted from the reasons the suites
give, CI would be green again with PostgreSQL or Chromium gone, which is the blind spot
the switch exists to close. The inner runs use the hooks of tests/conftest.py through a
conftest that re-exports them.
"""

from __future__ import annotations

import pytest

from tests.conftest import INFRASTRUCTURE, REQUIRE_ENV

pytest_plugins = ["pytester"]

INNER_CONFTEST = """
from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401
"""
INNER_TESTS = """
import pytest

def test_no_server():
    pytest.skip("PostgreSQL not reachable at postgresql://nowhere: refused")

def test_no_package():
    pytest.importorskip("no_such_package_for_baton")

def test_not_for_this_store():
    pytest.skip("SQL only")

@pytest.mark.xfail(reason="the corpus is not at /nowhere")
def test_expected_failure():
    raise AssertionError

def test_runs():
    pass
"""
INNER_MODULE_SKIP = """
import pytest

browser = pytest.importorskip("no_such_browser_driver_for_baton")

def test_never_collected():
    pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS, test_module_skip=INNER_MODULE_SKIP)
    return pytester


def test_without_the_switch_missing_services_skip(inner: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)


def test_with_the_switch_missing_services_fail(inner: pytest.Pytester,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider", "-rfs")
    # the server, the package and the module that skipped at import fail; "SQL only" is
    # not about a missing service and stays a skip; an xfail is not a skip
    result.assert_outcomes(passed=1, failed=3, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["FAILED test_module_skip.py::missing-service*"])
    out = result.stdout.str()
    assert "could not import 'no_such_browser_driver_for_baton'" in out
    assert "PostgreSQL not reachable" in out


@pytest.mark.parametrize("reason", [
    "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:5432/test: refused",
    "MariaDB not reachable at mysql://root@127.0.0.1:3306/test: (2003, \"Can't connect\")",
    "could not import 'pymysql': No module named 'pymysql'",
    "could not import 'psycopg': No module named 'psycopg'",
    "Debian's Chromium is not installed at /usr/bin/chromium (scripts/setup-env.sh ...)",
    "playwright is not installed (pip install -e '.[test]')",
    "camunda-external-task-client-python3 is a test dependency (setup.cfg [test])",
    "tests/fixtures/baton_test_connectors is not installed (scripts/setup-env.sh ...)",
    "the Camunda corpus is not at /work/shared/corpus/camunda/api/externaltask",
    "corpus not found at /work/shared/corpus (or it has no executable 'spiff' rows)",
    "the shared corpus is not at /work/shared/corpus (it ships beside the repository)",
    "the shared corpus is not present",
])
def test_the_suites_reasons_count_as_missing_services(reason: str) -> None:
    """The reasons the suites give today (tests/store, tests/concurrency, tests/web,
    tests/engine_rest, tests/connectors, the corpus tests) all match."""
    assert INFRASTRUCTURE.search(reason)


@pytest.mark.parametrize("reason", ["SQL only", "compares SQL with the memory store's Python",
                                    "no module engine.runtime.behaviors.foo"])
def test_other_skips_do_not(reason: str) -> None:
    assert not INFRASTRUCTURE.search(reason)
