#!/usr/bin/env bash
# Creates .venv with Baton installed (editable). Idempotent: re-running only installs what
# changed, and repairs a .venv that a failed run left behind.
# Usage: scripts/setup-env.sh [--test | --docs]
#   --test  adds the test extras (pytest, the Camunda client, mkdocs...) and Debian's chromium
#   --docs  adds the documentation extras (mkdocs)
# Environment: PYTHON (default python3, 3.11 or newer); BATON_SETUP_NO_APT=1 never runs
# apt-get, only says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
MODE=${1:-}

say() { echo "setup-env: $*" >&2; }

if ! command -v "$PY" >/dev/null 2>&1; then
  say "$PY not found: install Python 3.11 or newer (Debian 12: apt-get install python3)"
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "$PY is Python $("$PY" -c 'import platform; print(platform.python_version())'); Baton needs 3.11 or newer"
  exit 1
fi
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

# Debian and Ubuntu ship `venv` without `ensurepip` unless python3-venv is installed: without
# it `python3 -m venv` fails halfway, leaving a .venv with no pip in it.
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  PKG="python${PYVER}-venv"
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ -z "${BATON_SETUP_NO_APT:-}" ]; then
    say "installing $PKG (the venv module's ensurepip) with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$PKG" >/dev/null
  else
    say "Python's venv module cannot install pip here (ensurepip is missing)."
    say "install it first, as root:   apt-get install $PKG"
    say "(or with sudo:               sudo apt-get install $PKG), then run this script again"
    exit 1
  fi
fi

# A usable .venv runs, is new enough and has pip; anything else (a run stopped halfway, a
# Python upgraded underneath it, a copy from another machine) is rebuilt from scratch.
venv_ok() {
  [ -x .venv/bin/python ] \
    && .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
    && .venv/bin/python -m pip --version >/dev/null 2>&1
}
if [ -e .venv ] && ! venv_ok; then
  say ".venv is broken or incomplete: recreating it"
  rm -rf .venv
fi
if [ ! -e .venv ]; then
  if ! "$PY" -m venv .venv; then
    rm -rf .venv               # never leave a half-made venv for the next run to trip on
    say "could not create .venv with $PY -m venv"
    exit 1
  fi
fi

.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 \
  || say "could not upgrade pip (offline?); going on with $(.venv/bin/python -m pip --version | cut -d' ' -f1,2)"
# the distribution was called `baton` before it was renamed baton-bpmn: two of them would
# both install the `baton` command
if .venv/bin/python -m pip show baton >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -y -q baton
fi

case "$MODE" in
  --test)
    .venv/bin/python -m pip install -q -e '.[test,docs]'
    if [ ! -x /usr/bin/chromium ]; then
      if [ "$(id -u)" = "0" ] && [ -z "${BATON_SETUP_NO_APT:-}" ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
          || say "could not install Debian's chromium; browser tests will be skipped"
      else
        say "/usr/bin/chromium missing and not root; browser tests will be skipped"
      fi
    fi
    # the tiny connector package used by the entry-point discovery test
    if [ -d tests/fixtures/baton_test_connectors ]; then
      .venv/bin/python -m pip install -q -e tests/fixtures/baton_test_connectors
    fi
    ;;
  --docs)
    .venv/bin/python -m pip install -q -e '.[docs]'
    ;;
  "")
    .venv/bin/python -m pip install -q -e .
    ;;
  *)
    say "unknown option $MODE (use --test, --docs or nothing)"
    exit 2
    ;;
esac
