#!/usr/bin/env bash
# Installs everything the suite needs (Python packages in .venv, Debian's chromium) and runs
# it with coverage; prints line coverage per package (tests/coverage_floors.py), which fails
# the run under a package's floor when BATON_COVERAGE_FLOORS=1 (as .ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh --test
.venv/bin/ruff check engine connectors tasklist_ui tests bench
# the layering contracts of setup.cfg [importlinter]: a broken one fails the run
.venv/bin/lint-imports --no-cache
mkdir -p build
status=0
.venv/bin/python -m pytest --cov --cov-report= "$@" || status=$?
floors=0
.venv/bin/python -m tests.coverage_floors || floors=$?
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
exit "$floors"
