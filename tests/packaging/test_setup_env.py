"""scripts/setup-env.sh on machines it was not written on (issue 10): a Python without
`ensurepip` (Debian 12 without python3-venv) gets the exact package to install, and a
`.venv` a failed run left behind is rebuilt rather than tripped over.

The script is copied into a throwaway project whose build backend is a few lines in the
tree itself (PEP 517 `backend-path`, no requirements), so the install works offline and
takes seconds; what is tested is the script's own logic, not Baton's dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup-env.sh"

BACKEND = '''
"""A PEP 517/660 build backend with no requirements: builds its wheels offline."""
import base64, hashlib, os, zipfile

NAME, VERSION = "fakepkg", "0.1"
DIST = f"{NAME}-{VERSION}.dist-info"


def _wheel(directory, files):
    path = os.path.join(directory, f"{NAME}-{VERSION}-py3-none-any.whl")
    files = {**files,
             f"{DIST}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n",
             f"{DIST}/WHEEL": "Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\n"
                              "Tag: py3-none-any\\n"}
    record = []
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            data = text.encode()
            z.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")
        record.append(f"{DIST}/RECORD,,")
        z.writestr(f"{DIST}/RECORD", "\\n".join(record) + "\\n")
    return os.path.basename(path)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {f"{NAME}/__init__.py": ""})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {f"__editable__.{NAME}.pth": os.getcwd() + "\\n"})
'''

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "scripts" / "setup-env.sh")
    (root / "fakepkg").mkdir()
    (root / "fakepkg" / "__init__.py").write_text("")
    (root / "_backend").mkdir()
    (root / "_backend" / "tiny_backend.py").write_text(BACKEND)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\n'
        'backend-path = ["_backend"]\n')
    return root


def run_script(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    environ.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                    "PYTHON": sys.executable, "BATON_SETUP_NO_APT": "1", **env})
    return subprocess.run(["bash", str(project / "scripts" / "setup-env.sh"), *args],
                          cwd=project, env=environ, capture_output=True, text=True, timeout=120)


def installed(project: Path) -> bool:
    python = project / ".venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", "import pip, fakepkg"], cwd="/",
                          capture_output=True, timeout=60).returncode == 0


def test_a_python_without_ensurepip_gets_the_package_to_install(project: Path,
                                                                 tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ensurepip.py").write_text("raise ImportError('Debian without python3-venv')\n")
    result = run_script(project, PYTHONPATH=str(shadow))
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert result.returncode == 1
    assert f"apt-get install python{version}-venv" in result.stderr
    assert not (project / ".venv").exists()          # nothing half-made left behind


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("breakage", ["stub python", "no pip", "dangling python"])
def test_a_broken_venv_is_rebuilt(project: Path, breakage: str) -> None:
    venv = project / ".venv"
    if breakage == "no pip":         # what `python3 -m venv` leaves when ensurepip fails
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                       timeout=60)
    else:
        (venv / "bin").mkdir(parents=True)
        if breakage == "stub python":
            (venv / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
            (venv / "bin" / "python").chmod(0o755)
        else:                        # the Python it was made with is gone
            (venv / "bin" / "python").symlink_to("/nonexistent/python3")
    result = run_script(project)
    assert result.returncode == 0, result.stderr
    assert "recreating it" in result.stderr
    assert installed(project)
    # a second run finds it healthy and leaves it
    again = run_script(project)
    assert again.returncode == 0 and "recreating" not in again.stderr
    assert installed(project)


def test_a_missing_python_is_named(project: Path) -> None:
    result = run_script(project, PYTHON="/nonexistent/python3")
    assert result.returncode == 1
    assert "/nonexistent/python3 not found: install Python 3.11" in result.stderr
