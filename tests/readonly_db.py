"""Make a real database read-only for the connections opened after it, then writable again.

SQLite: the database file is made immutable (``chattr +i``, since root ignores file modes;
``chmod`` when not root). PostgreSQL: ``ALTER DATABASE … SET default_transaction_read_only``.
Either way the driver fails the first write with its own error, as on a server whose disk
was remounted read-only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _set_immutable(path: Path, on: bool) -> None:
    if os.geteuid() != 0:
        path.chmod(0o444 if on else 0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.fail("chattr (e2fsprogs) is needed to make a file read-only for root")
    done = subprocess.run([chattr, "+i" if on else "-i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"chattr could not change {path}: {done.stderr.strip()}")


@contextmanager
def read_only(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        engine = create_engine(url)
        with engine.connect() as conn:  # fold the WAL into the file, so the file is the database
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        _set_immutable(path, True)
        try:
            yield
        finally:
            _set_immutable(path, False)
        return
    name = parsed.database
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        yield
    finally:
        with engine.connect() as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        engine.dispose()
