#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine and run every test,
# browser and PostgreSQL tests included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/openssl ] || need+=(openssl)        # tests/test_tls.py: the documented certificate
[ -x /usr/bin/chattr ] || need+=(e2fsprogs)       # tests/readonly_db.py: a read-only SQLite file
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# Exact, hash-checked versions from the lock file (refresh: bash scripts/lock.sh), then the
# project itself without letting pip pick any other version.
.venv/bin/python -m pip install -q --require-hashes -r requirements-test.lock
.venv/bin/python -m pip install -q --no-deps -e .

# Lint and formatting are part of the suite: a badly formatted file fails CI like a failing test.
.venv/bin/ruff check .
.venv/bin/ruff format --check .

# CI must not quietly skip the real-database and real-browser tests.
export TRAINER_REQUIRE_PG=1
export TRAINER_REQUIRE_BROWSER=1
exec .venv/bin/python -m pytest "$@"
