"""The store: every piece of shared state, behind one small typed interface.

Why it looks like this:

* **State lives only in the database** (DESIGN.md §5), so a restarted process or a second
  process behind a load balancer sees the same class. A :class:`Store` holds an engine and
  a lock, nothing else.
* **One write path.** Every write goes through :meth:`Store._write`: a per-store lock (so
  threads of one Streamlit process queue up instead of fighting for SQLite's lock) and, on
  SQLite, ``BEGIN IMMEDIATE`` (so writers in *other* processes queue on the busy timeout
  instead of failing half-way through a read-then-write). PostgreSQL's row locks and
  ``ON CONFLICT`` do the same job across machines. One user action is one transaction: a
  practice answer and every review card it updates are written together
  (:meth:`Store.record_attempt`), so they cannot disagree.
* **Time is passed in.** Methods that stamp rows take ``now`` (aware UTC, the server's
  clock); naive datetimes raise ``ValueError``.
* **Errors are the trainer's own:** unknown ids raise :class:`~trainer.errors.NotFoundError`,
  clashes :class:`~trainer.errors.ConflictError`, refused classroom actions
  :class:`~trainer.errors.RuleError`, each with a sentence a user can read. A failing
  database (read-only, unreachable, full) raises
  :class:`~trainer.errors.StoreUnavailableError`, whose message never quotes the SQL or its
  parameters (a new player's token would be among them); the driver's error is its cause.
"""

from __future__ import annotations

from pathlib import Path

from trainer.settings import Settings
from trainer.settings import current as current_settings
from trainer.store.answers import ANSWER_CSV_COLUMNS, AnswerRecords
from trainer.store.base import SQLITE_FILENAME
from trainer.store.classes import ClassRecords
from trainer.store.learners import LearnerRecords
from trainer.store.practice import PracticeRecords
from trainer.store.rows import csv_safe_cell

__all__ = [
    "ANSWER_CSV_COLUMNS",
    "SQLITE_FILENAME",
    "Store",
    "default_url",
    "open_store",
    "sqlite_url",
]

#: The CSV-injection rule under its older name (callers import it from here).
_csv_safe = csv_safe_cell


class Store(LearnerRecords, PracticeRecords, ClassRecords, AnswerRecords):
    """Typed access to learners, attempts, review cards and live classes.

    One class over one engine, assembled from the record classes of
    :mod:`trainer.store.learners`, :mod:`~trainer.store.practice`, :mod:`~trainer.store.classes`
    and :mod:`~trainer.store.answers`; every write still goes through
    :meth:`~trainer.store.base.StoreBase._write`. Safe to share between threads of one process;
    several processes (or machines, on PostgreSQL) may open the same URL at once. Construction
    migrates the schema.
    """


def sqlite_url(folder: Path) -> str:
    """The SQLite file of a data folder."""
    return f"sqlite:///{folder.resolve() / SQLITE_FILENAME}"


def default_url(settings: Settings | None = None) -> str:
    """The configured database: ``TRAINER_DATABASE_URL``, else the SQLite file in the data folder."""
    s = settings or current_settings()
    return s.database_url or sqlite_url(s.data_dir)


def open_store(
    url: str | None = None, data_dir: Path | None = None, settings: Settings | None = None
) -> Store:
    """Open (creating and migrating if needed) the trainer's database.

    Precedence: ``url``, then the SQLite file in ``data_dir``, then the configured database
    (:func:`default_url` of ``settings``, by default this process's). In Streamlit, wrap this
    in ``st.cache_resource`` so each process opens one engine, not one per rerun.
    """
    if url is None:
        url = sqlite_url(data_dir) if data_dir is not None else default_url(settings)
    return Store(url)
