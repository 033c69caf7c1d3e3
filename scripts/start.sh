#!/usr/bin/env bash
# Install the app into .venv and start it on the embedded default database (SQLite in ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python -m streamlit run streamlit_app.py --server.port "${PORT:-8501}" --server.address "${TRAINER_ADDRESS:-0.0.0.0}" "$@"
