#!/usr/bin/env bash
# Installs Baton in .venv and runs it: embedded SQLite, demo users and diagrams, tasklist on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
exec .venv/bin/baton serve --demo "$@"
