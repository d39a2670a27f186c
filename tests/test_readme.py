"""The README's Python example runs as printed (a stale example is a new user's first bug)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors.registry import registry

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_python_api_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.identity.PASSWORD_METHOD", "pbkdf2:sha256:1")
    monkeypatch.chdir(README.parent)
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "no python example under '## Python API'"
    had = registry.get("fraud-score")
    try:
        exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    finally:
        if had is None:
            registry.unregister("fraud-score")
