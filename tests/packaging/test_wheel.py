"""The built wheel is what a user installs (issue 10): it must carry the sample diagrams
(`baton serve --demo` deploys them), the type-hint markers, the templates, the migrations
and the license, under the publishable name baton-bpmn with the `baton` command.

The wheel is built offline from a copy of the sources (nothing is written into the
checkout) with the test environment's setuptools, installed without its dependencies into a
fresh virtual environment that borrows them from the test environment, and then
`baton serve --demo` is started there, outside the checkout, until it answers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("engine", "connectors", "tasklist_ui", "bpmn_models")
TOP_FILES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("wheel", reason="the test extras install wheel (setup.cfg [test])")
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.db"))
    for name in TOP_FILES:
        shutil.copy(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--wheel-dir", str(dist), str(src)],
                   check=True, capture_output=True, timeout=90, cwd=src)
    (built,) = dist.glob("*.whl")
    return built


def test_the_wheel_holds_samples_types_templates_migrations_and_license(wheel: Path) -> None:
    assert wheel.name.startswith("baton_bpmn-0.1.0-")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta_dir = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{meta_dir}/METADATA").decode()
        entry_points = z.read(f"{meta_dir}/entry_points.txt").decode()
    samples = {p.name for p in (ROOT / "bpmn_models").glob("*.bpmn")}
    assert samples and {f"bpmn_models/{s}" for s in samples} <= names
    for package in ("engine", "connectors", "tasklist_ui"):
        assert f"{package}/py.typed" in names
    assert {"tasklist_ui/templates/base.html", "tasklist_ui/static/baton.css",
            "engine/store/migrations/versions/0001_initial.py",
            "engine/store/migrations/script.py.mako"} <= names
    assert any(n.endswith("LICENSE") and ".dist-info/" in n for n in names)
    assert not any(n.startswith("tests/") for n in names)
    assert "Name: baton-bpmn" in metadata and "License" in metadata
    assert "baton = tasklist_ui.cli:main" in entry_points


def test_baton_serve_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=90)
    # the dependencies (lxml, Flask, SQLAlchemy...) come from the test environment; a path
    # added by a .pth file has its own .pth files ignored, so the checkout's editable
    # install stays out
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "BATON_DATABASE_URL")}
    where = subprocess.run([str(python), "-c", "import engine, tasklist_ui.demo as d; "
                            "print(engine.__file__); print(d.MODELS_DIR)"], cwd=tmp_path,
                           env=env, check=True, capture_output=True, text=True).stdout
    assert where.count(str(venv)) == 2, where        # the installed copy, not the checkout
    server = subprocess.Popen(
        [str(venv / "bin" / "baton"), "serve", "--demo", "--port", "0", "--no-worker",
         "--db", f"sqlite:///{tmp_path / 'demo.db'}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        url = None
        assert server.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "running on http://" in line:
                url = line.split("running on ", 1)[1].split()[0]
        assert url is not None, "".join(lines)
        assert any("deployed: insurance_claim v1" in line for line in lines), "".join(lines)
        assert any("started 4 insurance claims" in line for line in lines), "".join(lines)
        with urllib.request.urlopen(url + "login", timeout=10) as resp:
            assert resp.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
