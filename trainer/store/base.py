"""The store's plumbing: the engine, the one write path, reads and migrations.

Every write of every record class goes through :meth:`StoreBase._write` (a per-store lock and
one transaction, ``BEGIN IMMEDIATE`` on SQLite); every database failure becomes a plain
:class:`~trainer.errors.StoreUnavailableError`. Why the store looks like this:
:mod:`trainer.store.store`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exists,
    select,
    text,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from trainer.errors import NotFoundError, StoreError, StoreUnavailableError
from trainer.store import migrations
from trainer.store.records import (
    Learner,
    LiveSession,
)
from trainer.store.rows import (
    session_from_row,
)
from trainer.store.schema import (
    learner_keys,
    learners,
    live_sessions,
)

SQLITE_FILENAME = "trainer.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Arbitrary constant naming the PostgreSQL advisory lock that serialises migrations.
_PG_MIGRATION_LOCK = 7_314_159


class StoreBase:
    """The engine and the one write path; the record classes add typed methods over it.

    Safe to share between threads of one process; several processes (or machines, on
    PostgreSQL) may open the same URL at once. Construction migrates the schema.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise StoreError(
                f"Unsupported database {self.backend!r}: use sqlite:/// or postgresql+psycopg://"
            )
        self._write_lock = threading.Lock()
        if self.backend == "sqlite":
            database = parsed.database
            if not database or database == ":memory:":
                raise StoreError("Use a SQLite file, not an in-memory database: processes must share it.")
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = _sqlite_engine(url)
        else:
            self._engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"options": "-c timezone=UTC"},
            )
        try:
            self.migrate()
        except BaseException:
            self._engine.dispose()  # no pooled connection may outlive a failed open
            raise

    # -- plumbing ------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine, for tests and diagnostics; application code uses the methods."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections (the data stays, of course)."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """The single write path: per-store lock + one transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with (
            _plain_failures("The database could not be written just now, so nothing was saved."),
            self._write_lock,
            self._engine.connect() as conn,
        ):
            conn.execution_options(trainer_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self, snapshot: bool = True) -> Iterator[Connection]:
        """A read transaction; on SQLite in WAL mode it never blocks or is blocked by writers.

        ``snapshot=False`` is for reads of a single statement (each statement is atomic on its
        own): SQLite then skips ``BEGIN``/``ROLLBACK``, which the polling pages feel.
        """
        with _plain_failures("The database could not be read just now."), self._engine.connect() as conn:
            if not snapshot:
                conn.execution_options(trainer_autocommit=True)
            yield conn

    def _insert(self, table: Table) -> Any:
        """A dialect ``INSERT`` that supports ``ON CONFLICT`` on both backends."""
        if self.backend == "sqlite":
            return sqlite_dialect.insert(table)
        return pg_dialect.insert(table)

    def migrate(self) -> list[int]:
        """Bring the schema to the latest version; a no-op (read only) when it already is."""
        with self._read() as conn:
            if migrations.current_version(conn) == migrations.LATEST_VERSION:
                return []
        with self._write() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            return migrations.migrate(conn, datetime.now(UTC))

    def schema_version(self) -> int:
        with self._read() as conn:
            return migrations.current_version(conn)

    # -- lookups every record class uses ---------------------------------------------

    def _get_learner(
        self, conn: Connection, learner_id: str, key_hash: str | None = None, *, lock: bool = False
    ) -> Learner:
        """The learner; with ``key_hash``, only if that key holds it (else the same NotFoundError,
        so a browser learns nothing about profiles it does not hold). ``lock`` holds the row
        until the transaction ends (PostgreSQL ``FOR NO KEY UPDATE``; rows referencing it may
        still be inserted meanwhile)."""
        query = select(learners).where(learners.c.id == learner_id)
        if key_hash is not None:
            query = query.where(
                exists().where(
                    learner_keys.c.key_hash == key_hash, learner_keys.c.learner_id == learners.c.id
                )
            )
        if lock and self.backend == "postgresql":
            query = query.with_for_update(key_share=True)
        row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"No learner with id {learner_id!r}.")
        return Learner(id=row.id, display_name=row.display_name, created_at=row.created_at)

    def _get_session(self, conn: Connection, session_id: str) -> LiveSession:
        row = conn.execute(select(live_sessions).where(live_sessions.c.id == session_id)).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return session_from_row(row)


@contextmanager
def _plain_failures(message: str) -> Iterator[None]:
    """Turn a failing database into :class:`StoreUnavailableError` with a plain sentence.

    Integrity errors pass through (the methods turn them into ``ConflictError``); any other
    driver error (read-only file, lost connection, disk full, value too long) is re-raised
    without the SQL or its parameters in the message.
    """
    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise StoreUnavailableError(
            f"{message} Try again in a moment; if it keeps happening, tell the person running the server."
        ) from exc


# -- engine setup --------------------------------------------------------------------------


def _sqlite_engine(url: str) -> Engine:
    """SQLite tuned for several processes sharing one file: WAL, busy timeout, FK checks.

    pysqlite's own transaction handling is switched off (``isolation_level = None``) and we
    emit ``BEGIN`` ourselves: writes use ``BEGIN IMMEDIATE`` so the write lock is taken up
    front and a competing writer waits for ``busy_timeout`` instead of failing mid-way.
    """
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("trainer_autocommit", False):
            return  # one statement: SQLite runs it atomically without an explicit transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("trainer_write", False) else "BEGIN")

    return engine
