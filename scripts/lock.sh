#!/usr/bin/env bash
# Refresh the lock files from the ranges in pyproject.toml: requirements.lock (the app, used by
# scripts/start.sh) and requirements-test.lock (the app plus the test extras, used by
# scripts/test.sh and so by CI). Every version is exact and every file carries its hash.
#
#   bash scripts/lock.sh                 # keep the locked versions that still fit pyproject.toml
#   bash scripts/lock.sh --upgrade       # move every package to the newest version in range
#   bash scripts/lock.sh -P streamlit    # move one package (uv's --upgrade-package)
#
# The lock is resolved for the project's machines: Linux x86-64 (glibc 2.35 or newer: Debian 12+), CPython 3.11. Run the tests
# (bash scripts/test.sh) after a refresh and commit pyproject.toml and both lock files together.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q "uv>=0.13,<0.14"

compile() {
  .venv/bin/uv pip compile pyproject.toml "$@" \
    --python-version 3.11 --python-platform x86_64-manylinux_2_35 \
    --generate-hashes --quiet --custom-compile-command "bash scripts/lock.sh"
}
extra=()
for arg in "$@"; do
  case "$arg" in
    -P) extra+=(--upgrade-package) ;;
    *) extra+=("$arg") ;;
  esac
done
compile ${extra[@]+"${extra[@]}"} -o requirements.lock
compile --extra test ${extra[@]+"${extra[@]}"} -o requirements-test.lock
echo "requirements.lock: $(grep -c '^[a-z]' requirements.lock) packages; requirements-test.lock: $(grep -c '^[a-z]' requirements-test.lock) packages"
