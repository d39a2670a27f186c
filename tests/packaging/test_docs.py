"""The documentation site builds with `mkdocs build --strict` (every page in the nav, every
link resolving), its generated pages are current, and what it names exists in the code."""

from __future__ import annotations

import configparser
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Engine

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: it comes with the test and docs extras "
                    "(pip install -e '.[test]' or scripts/setup-env.sh --test)")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                             "--config-file", str(ROOT / "mkdocs.yml"),
                             "--site-dir", str(tmp_path / "site")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("bpmn-coverage", "extensions", "validation-rules", "python-api",
                 "connectors", "rest-apis", "operations", "changelog"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page


def test_the_bpmn_coverage_page_is_generated_from_the_element_table() -> None:
    spec = importlib.util.spec_from_file_location("bpmn_coverage",
                                                  DOCS / "_tools" / "bpmn_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "bpmn-coverage.md").read_text(encoding="utf-8") == module.render(), (
        "docs/bpmn-coverage.md is stale: run "
        "`.venv/bin/python docs/_tools/bpmn_coverage.py > docs/bpmn-coverage.md`")


def test_the_python_api_page_names_methods_the_engine_has() -> None:
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    named = set(re.findall(r"engine\.([a-z_]+)\(", text))
    assert len(named) > 30
    assert sorted(n for n in named if not hasattr(Engine, n)) == []


def test_the_entry_point_groups_are_the_ones_the_code_reads() -> None:
    from connectors.registry import ENTRY_POINT_GROUP, FUNCTION_GROUP
    from engine.script_functions import ENTRY_POINT_GROUP as SCRIPT_GROUP

    groups = {ENTRY_POINT_GROUP, FUNCTION_GROUP, SCRIPT_GROUP}
    assert len(groups) == 3
    page = (DOCS / "connectors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `(baton\.[a-z_]+)` \|", page))
    assert documented == groups
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert all(f"#   {group}" in setup for group in groups)


def test_the_license_matches_the_metadata() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["metadata"]["license"] == "Apache-2.0"
    assert config["metadata"]["license_files"].strip() == "LICENSE"
    assert "Apache License\n                           Version 2.0" in \
        (ROOT / "LICENSE").read_text(encoding="utf-8")
