#!/usr/bin/env bash
# Installs everything the suite needs (Python packages in .venv, Debian's chromium) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh --test
.venv/bin/ruff check engine connectors tasklist_ui tests bench
exec .venv/bin/python -m pytest "$@"
