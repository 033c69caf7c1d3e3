"""Shared pytest fixtures. Keep each owner's fixtures in its own clearly marked block."""

from __future__ import annotations

# --- store / PostgreSQL fixtures (owner: storage layer; see tests/conftest_pg.py) -------------
# `pg_url` (session: a running PostgreSQL, or skip / fail under TRAINER_REQUIRE_PG=1) and
# `pg_database_url` (function: a fresh empty database per test).
try:  # tests/ as a package (if someone adds __init__.py)
    from .conftest_pg import pg_database_url, pg_url  # noqa: F401
except ImportError:  # rootdir-relative import mode: tests/ is on sys.path
    from conftest_pg import pg_database_url, pg_url  # noqa: F401
# --- end store / PostgreSQL fixtures ---------------------------------------------------------

# --- browser fixtures (owner: UI; see tests/browser.py) ---------------------------------------
from tests.browser import app_server, chromium  # noqa: E402,F401
# --- end browser fixtures -------------------------------------------------------------------
