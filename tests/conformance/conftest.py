"""Conformance summary: one line `conformance: N/M executable diagrams pass`.

M counts the corpus diagrams whose tests (mark `corpus_row(path)`, set by
`harness.corpus_params`) were collected in this run, whichever parts (spiff, camunda) ran;
N those whose every test passed (an xfailed known diff does not pass, nor does a test that
-x stopped before it ran).
"""

from __future__ import annotations

from typing import Any

import pytest

# the scenario modules hold the asserts: tests/conftest.py registers this package for
# assertion rewriting, so their values show on failure (and in known diffs' pins)

_PATH_OF: dict[str, str] = {}      # test node id -> corpus path
_PASSED: set[str] = set()          # node ids whose call passed
_FAILED: set[str] = set()          # node ids that failed, errored or xfailed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "corpus_row(path): one executable diagram of the "
                                       "shared corpus")


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        mark = item.get_closest_marker("corpus_row")
        if mark is not None:
            _PATH_OF[item.nodeid] = mark.args[0] if mark.args else item.nodeid


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in _PATH_OF:
        return
    if report.when == "call" and report.passed and not hasattr(report, "wasxfail"):
        _PASSED.add(report.nodeid)
    elif report.failed or hasattr(report, "wasxfail"):
        _FAILED.add(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _PATH_OF:
        return
    paths = set(_PATH_OF.values())
    good = {p for p in paths
            if all(n in _PASSED and n not in _FAILED for n, q in _PATH_OF.items() if q == p)}
    terminalreporter.write_line(
        f"conformance: {len(good)}/{len(paths)} executable diagrams pass")
