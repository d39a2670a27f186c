#!/usr/bin/env bash
# Installs everything the suite needs (Python packages in .venv, Debian's chromium) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh --test
.venv/bin/ruff check engine connectors tasklist_ui tests bench
# the layering contracts of setup.cfg [importlinter]: a broken one fails the run
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest "$@"
