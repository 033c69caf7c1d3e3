#!/usr/bin/env bash
# Install the app into .venv and start it on the embedded default database (SQLite in ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# Exact, hash-checked versions from the lock file (refresh: bash scripts/lock.sh), then the
# project itself without letting pip pick any other version.
.venv/bin/python -m pip install -q --require-hashes -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
exec .venv/bin/python -m streamlit run streamlit_app.py --server.port "${PORT:-8501}" --server.address "${TRAINER_ADDRESS:-0.0.0.0}" "$@"
