#!/usr/bin/env bash
# Creates .venv with Baton installed (editable). Idempotent: re-running only installs what changed.
# Usage: scripts/setup-env.sh [--test]   (--test adds the test extras and Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "setup-env: could not install Debian's chromium; browser tests will be skipped" >&2
    else
      echo "setup-env: /usr/bin/chromium missing and not root; browser tests will be skipped" >&2
    fi
  fi
  # the tiny connector package used by the entry-point discovery test
  if [ -d tests/fixtures/baton_test_connectors ]; then
    .venv/bin/python -m pip install -q -e tests/fixtures/baton_test_connectors
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
