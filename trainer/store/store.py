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

import json
import math
import random
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from trainer.clock import require_utc
from trainer.errors import ConflictError, NotFoundError, RuleError, StoreError, StoreUnavailableError
from trainer.rules import classroom, profiles, throttle
from trainer.rules.classroom import LiveSettings, Phase, SessionState
from trainer.settings import Settings
from trainer.settings import current as current_settings
from trainer.store import learner_file, migrations
from trainer.store.records import (
    Answer,
    Attempt,
    JSONValue,
    LeaderboardEntry,
    Learner,
    LiveSession,
    Player,
    ReviewCard,
    ReviewCardRecord,
    SessionClock,
    Standing,
)
from trainer.store.schema import (
    answers,
    attempts,
    auth_throttle,
    learner_keys,
    learners,
    lesson_progress,
    live_sessions,
    players,
    review_cards,
    transfer_codes,
)

SQLITE_FILENAME = "trainer.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Arbitrary constant naming the PostgreSQL advisory lock that serialises migrations.
_PG_MIGRATION_LOCK = 7_314_159
EXPORT_FORMAT = learner_file.EXPORT_FORMAT
EXPORT_FORMAT_VERSION = learner_file.EXPORT_FORMAT_VERSION
DISPLAY_NAME_MAX_CHARS = learner_file.DISPLAY_NAME_MAX_CHARS
#: Fresh lookups tried when a new transfer code's first half is already pending.
_TRANSFER_LOOKUP_RETRIES = 8

ANSWER_CSV_COLUMNS: tuple[str, ...] = (
    "join_code",
    "question_number",
    "question_id",
    "player_id",
    "nickname",
    "credit",
    "distance_cm",
    "points",
    "submitted_at",
    "pins_json",
    "result_json",
)

_SESSION_CHANGE_COLUMNS = {
    "state": "state",
    "current_index": "current_index",
    "question_opened_at": "question_opened_at",
    "question_closes_at": "question_closes_at",
    "title": "title",
    "settings": "settings_json",
    "question_ids": "question_ids_json",
}


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


def _dumps(value: JSONValue) -> str:
    """Compact JSON; NaN/inf are refused because PostgreSQL and browsers reject them."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _new_id() -> str:
    return uuid.uuid4().hex


def _check_credit(credit: float) -> float:
    credit = float(credit)
    if not (math.isfinite(credit) and 0.0 <= credit <= 1.0):
        raise ValueError(f"credit must be within [0, 1], got {credit!r}")
    return credit


def _csv_safe(value: object) -> object:
    """Neutralise spreadsheet formulas (CSV injection) in text cells, e.g. a nickname '=HYPERLINK(...)'."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _checked_hash(key_hash: str) -> str:
    """A profile-key hash as :func:`trainer.rules.profiles.key_hash` makes it (64 hex digits)."""
    if not (
        isinstance(key_hash, str) and len(key_hash) == 64 and all(c in "0123456789abcdef" for c in key_hash)
    ):
        raise ValueError("key_hash must be trainer.rules.profiles.key_hash() of a profile key")
    return key_hash


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Store:
    """Typed access to learners, attempts, review cards and live classes.

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

    def __enter__(self) -> Store:
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

    # -- learners ------------------------------------------------------------------------
    #
    # A browser proves it holds a profile with the hash of its profile key (``key_hash``, see
    # :mod:`trainer.rules.profiles`). The methods a page calls for a learner's own data (rename,
    # delete, export, transfer codes) take that hash and check it inside their transaction;
    # ``key_hash=None`` is the operator's path (CLI, tests), never a page's.

    def create_learner(
        self, display_name: str, *, now: datetime, learner_id: str | None = None, key_hash: str | None = None
    ) -> Learner:
        """A new profile, held by the browser whose key hashes to ``key_hash`` (if given).

        The name is cleaned like a nickname (plain text, trimmed).
        """
        name = classroom.clean_nickname(display_name, max_chars=DISPLAY_NAME_MAX_CHARS)
        learner = Learner(id=learner_id or _new_id(), display_name=name, created_at=require_utc(now))
        try:
            with self._write() as conn:
                conn.execute(
                    insert(learners).values(
                        id=learner.id, display_name=learner.display_name, created_at=learner.created_at
                    )
                )
                if key_hash is not None:
                    conn.execute(
                        insert(learner_keys).values(
                            key_hash=_checked_hash(key_hash),
                            learner_id=learner.id,
                            created_at=learner.created_at,
                        )
                    )
        except IntegrityError as exc:
            raise ConflictError(f"A learner with id {learner.id} already exists.") from exc
        return learner

    def get_learner(self, learner_id: str, *, key_hash: str | None = None) -> Learner:
        with self._read() as conn:
            return self._get_learner(conn, learner_id, key_hash)

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

    def list_learners(self) -> list[Learner]:
        """Every profile on this server: for the operator (CLI), never shown on a page."""
        with self._read() as conn:
            rows = conn.execute(select(learners).order_by(learners.c.created_at, learners.c.id)).all()
        return [Learner(id=r.id, display_name=r.display_name, created_at=r.created_at) for r in rows]

    def learners_for_keys(self, key_hashes: Sequence[str]) -> dict[str, Learner]:
        """The profiles a browser holds: ``{key hash: learner}``, oldest profile first.

        Hashes that match nothing (a profile deleted on another device) are left out.
        """
        hashes = list(dict.fromkeys(key_hashes))[: profiles.MAX_KEYS_PER_BROWSER]
        if not hashes:
            return {}
        query = (
            select(learner_keys.c.key_hash, learners)
            .join(learners, learners.c.id == learner_keys.c.learner_id)
            .where(learner_keys.c.key_hash.in_(hashes))
            .order_by(learners.c.created_at, learners.c.id)
        )
        with self._read(snapshot=False) as conn:
            rows = conn.execute(query).all()
        return {
            r.key_hash: Learner(id=r.id, display_name=r.display_name, created_at=r.created_at) for r in rows
        }

    def count_learner_keys(self, learner_id: str) -> int:
        """How many browsers hold this profile (the operator's view; 0 for profiles from before keys)."""
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(learner_keys)
                    .where(learner_keys.c.learner_id == learner_id)
                ).scalar_one()
            )

    def rename_learner(self, learner_id: str, display_name: str, *, key_hash: str | None = None) -> Learner:
        name = classroom.clean_nickname(display_name, max_chars=DISPLAY_NAME_MAX_CHARS)
        with self._write() as conn:
            self._get_learner(conn, learner_id, key_hash)
            conn.execute(update(learners).where(learners.c.id == learner_id).values(display_name=name))
            return self._get_learner(conn, learner_id)

    def delete_learner(self, learner_id: str, *, key_hash: str | None = None) -> dict[str, int]:
        """Delete a learner and every row of theirs; returns how many rows of each kind went.

        Rows are deleted explicitly rather than relying on ``ON DELETE CASCADE`` alone, so the
        guarantee does not depend on a pragma being on.
        """
        with self._write() as conn:
            self._get_learner(conn, learner_id, key_hash)
            n_attempts = conn.execute(delete(attempts).where(attempts.c.learner_id == learner_id)).rowcount
            n_cards = conn.execute(
                delete(review_cards).where(review_cards.c.learner_id == learner_id)
            ).rowcount
            conn.execute(delete(transfer_codes).where(transfer_codes.c.learner_id == learner_id))
            conn.execute(delete(lesson_progress).where(lesson_progress.c.learner_id == learner_id))
            conn.execute(delete(learner_keys).where(learner_keys.c.learner_id == learner_id))
            conn.execute(delete(learners).where(learners.c.id == learner_id))
        return {"learners": 1, "attempts": n_attempts, "review_cards": n_cards}

    # -- moving a profile to another device ----------------------------------------------

    def create_transfer_code(
        self,
        learner_id: str,
        *,
        now: datetime,
        key_hash: str | None = None,
        choice: Callable[[str], str] | None = None,
    ) -> tuple[profiles.TransferCode, datetime]:
        """A one-time code that lets another browser hold this profile; returns it and its expiry.

        The plain code is returned once and never stored. A new code replaces the profile's
        earlier one, and expired codes of every profile are swept.
        """
        now = require_utc(now)
        expires_at = now + profiles.TRANSFER_CODE_TTL
        for _ in range(_TRANSFER_LOOKUP_RETRIES):
            code = profiles.new_transfer_code(*(() if choice is None else (choice,)))
            try:
                with self._write() as conn:
                    self._get_learner(conn, learner_id, key_hash)
                    conn.execute(
                        delete(transfer_codes).where(
                            (transfer_codes.c.learner_id == learner_id) | (transfer_codes.c.expires_at <= now)
                        )
                    )
                    conn.execute(
                        insert(transfer_codes).values(
                            lookup=code.lookup,
                            learner_id=learner_id,
                            code_hash=profiles.code_hash(code),
                            expires_at=expires_at,
                            attempts=0,
                            created_at=now,
                        )
                    )
                return code, expires_at
            except IntegrityError:
                continue  # the first half is pending for another profile: draw again
        raise ConflictError("Could not make a unique transfer code; try again.")

    def redeem_transfer_code(self, typed: str, *, key_hash: str, now: datetime) -> Learner:
        """Let the browser with ``key_hash`` hold the profile the code was made for.

        Wrong, expired and used codes all raise the same :class:`RuleError`; a wrong secret
        counts against the pending code, which is void after
        :data:`~trainer.rules.profiles.TRANSFER_MAX_ATTEMPTS` of them. A right code is deleted.
        """
        code = profiles.parse_transfer_code(typed)
        key_hash = _checked_hash(key_hash)
        now = require_utc(now)
        with self._write() as conn:
            query = select(transfer_codes).where(transfer_codes.c.lookup == code.lookup)
            if self.backend == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            verdict = (
                None
                if row is None
                else profiles.judge_transfer(row.code_hash, row.expires_at, row.attempts, code, now)
            )
            if (
                row is not None
                and verdict is profiles.Redeem.WRONG
                and row.attempts + 1 < profiles.TRANSFER_MAX_ATTEMPTS
            ):
                conn.execute(
                    update(transfer_codes)
                    .where(transfer_codes.c.lookup == code.lookup)
                    .values(attempts=transfer_codes.c.attempts + 1)
                )
            elif row is not None:
                conn.execute(delete(transfer_codes).where(transfer_codes.c.lookup == code.lookup))
            if verdict is profiles.Redeem.OK:
                assert row is not None
                learner = self._get_learner(conn, row.learner_id)
                held = conn.execute(
                    select(learner_keys.c.learner_id).where(learner_keys.c.key_hash == key_hash)
                ).first()
                if held is None:
                    conn.execute(
                        insert(learner_keys).values(key_hash=key_hash, learner_id=learner.id, created_at=now)
                    )
                elif held.learner_id != learner.id:
                    raise ConflictError("This browser's key already holds another profile.")
                return learner
        raise RuleError(profiles.TRANSFER_REFUSED)

    # -- attempts ------------------------------------------------------------------------

    def record_attempt(
        self,
        *,
        learner_id: str | None,
        question_id: str,
        pins: JSONValue,
        distances_cm: JSONValue,
        directions: JSONValue,
        credit: float,
        now: datetime,
        view_id: str | None = None,
        side: str | None = None,
        body_type: str | None = None,
        duration_ms: int | None = None,
        attempt_id: str | None = None,
        cards: Sequence[str] = (),
        review: ReviewCard | None = None,
    ) -> Attempt:
        """Remember one practice answer and review its cards, all in one transaction.

        ``learner_id=None`` records an anonymous attempt (no cards). For each of ``cards``,
        ``review(card_id, card as stored)`` computes the new card from the row read inside this
        transaction, so the attempt and its cards are stored together or not at all, and two
        answers of one learner at once cannot both build on the same old card.
        """
        attempt = Attempt(
            id=attempt_id or _new_id(),
            learner_id=learner_id,
            question_id=question_id,
            view_id=view_id,
            side=side,
            body_type=body_type,
            pins=pins,
            distances_cm=distances_cm,
            directions=directions,
            credit=_check_credit(credit),
            duration_ms=duration_ms,
            created_at=require_utc(now),
        )
        if cards and (learner_id is None or review is None):
            raise ValueError("reviewing cards needs a learner_id and a review function")
        with self._write() as conn:
            if learner_id is not None:
                # FOR NO KEY UPDATE on PostgreSQL: one learner's answers queue here, so each reads
                # the cards the previous one wrote (SQLite's BEGIN IMMEDIATE already serialises).
                self._get_learner(conn, learner_id, lock=True)
            conn.execute(insert(attempts).values(**_attempt_values(attempt)))
            if cards:
                assert learner_id is not None and review is not None
                stored = self._cards(conn, learner_id, cards)
                for card_id in cards:
                    old = stored.get(card_id)
                    card, due = review(card_id, None if old is None else old.card)
                    self._put_card(conn, learner_id, card_id, card, due=due, now=attempt.created_at)
        return attempt

    def list_attempts(self, learner_id: str | None, since: datetime | None = None) -> list[Attempt]:
        """Attempts oldest first; ``learner_id=None`` lists anonymous attempts."""
        query = select(attempts)
        if learner_id is None:
            query = query.where(attempts.c.learner_id.is_(None))
        else:
            query = query.where(attempts.c.learner_id == learner_id)
        if since is not None:
            query = query.where(attempts.c.created_at >= require_utc(since, "since"))
        with self._read() as conn:
            if learner_id is not None:
                self._get_learner(conn, learner_id)
            rows = conn.execute(query.order_by(attempts.c.created_at, attempts.c.id)).all()
        return [_attempt_from_row(r) for r in rows]

    # -- review cards --------------------------------------------------------------------

    def get_review_card(self, learner_id: str, card_id: str) -> ReviewCardRecord | None:
        """The stored card, or ``None`` for a card never reviewed (the caller makes a new one)."""
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            return self._cards(conn, learner_id, [card_id]).get(card_id)

    def upsert_review_card(
        self, learner_id: str, card_id: str, card: Mapping[str, JSONValue], *, due: datetime, now: datetime
    ) -> ReviewCardRecord:
        """Insert or replace one learner's card (one row per learner and card id)."""
        with self._write() as conn:
            self._get_learner(conn, learner_id)
            return self._put_card(conn, learner_id, card_id, card, due=due, now=now)

    @staticmethod
    def _cards(conn: Connection, learner_id: str, card_ids: Sequence[str]) -> dict[str, ReviewCardRecord]:
        rows = conn.execute(
            select(review_cards).where(
                review_cards.c.learner_id == learner_id, review_cards.c.card_id.in_(card_ids)
            )
        ).all()
        return {r.card_id: _card_from_row(r) for r in rows}

    def _put_card(
        self,
        conn: Connection,
        learner_id: str,
        card_id: str,
        card: Mapping[str, JSONValue],
        *,
        due: datetime,
        now: datetime,
    ) -> ReviewCardRecord:
        record = ReviewCardRecord(
            learner_id=learner_id,
            card_id=card_id,
            card=dict(card),
            due=require_utc(due, "due"),
            updated_at=require_utc(now),
        )
        values = {
            "learner_id": learner_id,
            "card_id": card_id,
            "card_json": _dumps(record.card),
            "due": record.due,
            "updated_at": record.updated_at,
        }
        stmt = self._insert(review_cards).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[review_cards.c.learner_id, review_cards.c.card_id],
            set_={"card_json": values["card_json"], "due": record.due, "updated_at": record.updated_at},
        )
        conn.execute(stmt)
        return record

    def list_review_cards(self, learner_id: str) -> list[ReviewCardRecord]:
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            rows = conn.execute(
                select(review_cards)
                .where(review_cards.c.learner_id == learner_id)
                .order_by(review_cards.c.due, review_cards.c.card_id)
            ).all()
        return [_card_from_row(r) for r in rows]

    def list_due(self, learner_id: str, now: datetime, limit: int | None = None) -> list[ReviewCardRecord]:
        """Cards due at or before ``now``, most overdue first (the "12 due today" queue)."""
        query = (
            select(review_cards)
            .where(review_cards.c.learner_id == learner_id, review_cards.c.due <= require_utc(now))
            .order_by(review_cards.c.due, review_cards.c.card_id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            rows = conn.execute(query).all()
        return [_card_from_row(r) for r in rows]

    # -- export / import -----------------------------------------------------------------

    def export_learner(self, learner_id: str, *, key_hash: str | None = None) -> dict[str, Any]:
        """Everything of one learner as JSON-ready data; :meth:`import_learner` reverses it."""
        with self._read() as conn:
            learner = self._get_learner(conn, learner_id, key_hash)
            attempt_rows = conn.execute(
                select(attempts)
                .where(attempts.c.learner_id == learner_id)
                .order_by(attempts.c.created_at, attempts.c.id)
            ).all()
            card_rows = conn.execute(
                select(review_cards)
                .where(review_cards.c.learner_id == learner_id)
                .order_by(review_cards.c.card_id)
            ).all()
        return learner_file.to_document(
            learner, map(_attempt_from_row, attempt_rows), map(_card_from_row, card_rows)
        )

    def import_learner(self, data: object, *, now: datetime, key_hash: str | None = None) -> Learner:
        """Load an :meth:`export_learner` document, keeping every id and time stamp.

        Every field is checked first (:func:`trainer.store.learner_file.check_document`), so a
        malformed file raises :class:`~trainer.store.learner_file.LearnerFileError` and stores
        nothing. Refuses (``ConflictError``) if the learner or any attempt id already exists here:
        importing twice must not duplicate history, and silently merging would hide that. With
        ``key_hash``, the browser that imported the file holds the profile.
        """
        checked = (
            data if isinstance(data, learner_file.LearnerFile) else learner_file.check_document(data, now)
        )
        learner = checked.learner
        card_values = [
            {
                "learner_id": learner.id,
                "card_id": c.card_id,
                "card_json": _dumps(c.card),
                "due": c.due,
                "updated_at": c.updated_at,
            }
            for c in checked.review_cards
        ]
        try:
            with self._write() as conn:
                if conn.execute(select(exists().where(learners.c.id == learner.id))).scalar_one():
                    raise ConflictError(
                        f"The profile in this file ({learner.display_name!r}) is already on this server. "
                        "To use it in this browser, make a transfer code on the device that holds it; "
                        "to replace it, delete it there first."
                    )
                conn.execute(
                    insert(learners).values(
                        id=learner.id, display_name=learner.display_name, created_at=learner.created_at
                    )
                )
                if key_hash is not None:
                    conn.execute(
                        insert(learner_keys).values(
                            key_hash=_checked_hash(key_hash),
                            learner_id=learner.id,
                            created_at=require_utc(now),
                        )
                    )
                if checked.attempts:
                    conn.execute(insert(attempts), [_attempt_values(a) for a in checked.attempts])
                if card_values:
                    conn.execute(insert(review_cards), card_values)
        except IntegrityError as exc:
            raise ConflictError(
                "Some attempts in this file already exist in this database (imported before?)."
            ) from exc
        return learner

    # -- live sessions -------------------------------------------------------------------

    def create_session(
        self,
        *,
        title: str,
        host_key: str,
        question_ids: Sequence[str],
        now: datetime,
        settings: LiveSettings | Mapping[str, JSONValue] | None = None,
        rng: random.Random | None = None,
    ) -> LiveSession:
        """A new session in the lobby, with a fresh unused join code.

        Only a salted hash of ``host_key`` is stored. ``rng`` makes codes reproducible in
        tests; by default codes come from :mod:`secrets`.
        """
        now = require_utc(now)
        if isinstance(settings, LiveSettings):
            settings_dict = settings.to_dict()
        else:
            settings_dict = dict(settings or LiveSettings().to_dict())
            LiveSettings.from_dict(settings_dict)  # validate early, with a readable RuleError
        ids = tuple(str(q) for q in question_ids)
        host_key_hash = classroom.hash_host_key(host_key)
        for _ in range(20):
            session = LiveSession(
                id=_new_id(),
                join_code=classroom.generate_join_code(rng),
                host_key_hash=host_key_hash,
                title=title.strip() or "Live class",
                settings=settings_dict,
                question_ids=ids,
                state=Phase.LOBBY,
                current_index=-1,
                created_at=now,
                updated_at=now,
                version=1,
            )
            try:
                with self._write() as conn:
                    taken = conn.execute(
                        select(exists().where(live_sessions.c.join_code == session.join_code))
                    ).scalar_one()
                    if taken:
                        continue
                    conn.execute(insert(live_sessions).values(**_session_values(session)))
                return session
            except IntegrityError:
                continue  # another process took the same code between our check and insert
        raise StoreError("Could not find a free join code after 20 tries.")

    def get_session(self, session_id: str) -> LiveSession:
        with self._read(snapshot=False) as conn:
            return self._get_session(conn, session_id)

    def _get_session(self, conn: Connection, session_id: str) -> LiveSession:
        row = conn.execute(select(live_sessions).where(live_sessions.c.id == session_id)).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return _session_from_row(row)

    def session_clock(self, session_id: str) -> SessionClock:
        """Phase, question and close time only: what hundreds of phones poll every few seconds."""
        cols = (
            live_sessions.c.id,
            live_sessions.c.state,
            live_sessions.c.current_index,
            live_sessions.c.question_closes_at,
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(*cols).where(live_sessions.c.id == session_id)).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return SessionClock(
            id=row.id,
            state=Phase(row.state),
            current_index=row.current_index,
            question_closes_at=row.question_closes_at,
        )

    def get_session_by_code(self, join_code: str) -> LiveSession:
        """Look up what a learner typed; malformed codes raise ``RuleError``, unknown ``NotFoundError``."""
        code = classroom.normalise_join_code(join_code)
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(live_sessions).where(live_sessions.c.join_code == code)).first()
        if row is None:
            raise NotFoundError(f"No class with code {code}. Check the code on the projector.")
        return _session_from_row(row)

    def get_session_with_count(self, session_id: str) -> tuple[LiveSession, int]:
        """The session and the number of answers to its current question, in one query.

        This is what a polling fragment needs every second, so it is a single round trip.
        """
        count = _answers_to_current_question()
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(live_sessions, count.label("answer_count")).where(live_sessions.c.id == session_id)
            ).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return _session_from_row(row), int(row.answer_count)

    def poll_session(self, session_id: str) -> tuple[LiveSession, int, int]:
        """The session, the answers to its current question and the players, in one query.

        The host's polled fragment shows "answered / players" every second; one round trip.
        """
        n_answers = _answers_to_current_question()
        n_players = (
            select(func.count())
            .select_from(players)
            .where(players.c.session_id == live_sessions.c.id)
            .scalar_subquery()
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(live_sessions, n_answers.label("answer_count"), n_players.label("player_count")).where(
                    live_sessions.c.id == session_id
                )
            ).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return _session_from_row(row), int(row.answer_count), int(row.player_count)

    def list_sessions(self, limit: int = 20) -> list[LiveSession]:
        """Most recently active sessions first, so a host can resume after a restart."""
        with self._read() as conn:
            rows = conn.execute(
                select(live_sessions)
                .order_by(live_sessions.c.updated_at.desc(), live_sessions.c.id)
                .limit(limit)
            ).all()
        return [_session_from_row(r) for r in rows]

    def update_session_state(
        self, session_id: str, expected_version: int, *, now: datetime, **changes: Any
    ) -> LiveSession:
        """Apply ``changes`` only if the row is still at ``expected_version``.

        Two host tabs (or two servers) pressing "next" at once must not skip a question: the
        slower one gets a ``ConflictError`` and reloads. Allowed keys: ``state``,
        ``current_index``, ``question_opened_at``, ``question_closes_at``, ``title``,
        ``settings``, ``question_ids``.
        """
        unknown = set(changes) - set(_SESSION_CHANGE_COLUMNS)
        if unknown:
            raise ValueError(f"Unknown session fields: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "state":
                value = Phase(value).value
            elif key == "settings":
                value = _dumps(value.to_dict() if isinstance(value, LiveSettings) else dict(value))
            elif key == "question_ids":
                value = _dumps([str(q) for q in value])
            elif key in ("question_opened_at", "question_closes_at") and value is not None:
                value = require_utc(value, key)
            values[_SESSION_CHANGE_COLUMNS[key]] = value
        values["updated_at"] = require_utc(now)
        values["version"] = expected_version + 1
        with self._write() as conn:
            result = conn.execute(
                update(live_sessions)
                .where(live_sessions.c.id == session_id, live_sessions.c.version == expected_version)
                .values(**values)
            )
            if result.rowcount != 1:
                current = self._get_session(conn, session_id)  # raises NotFoundError
                raise ConflictError(
                    f"The session changed meanwhile (version {current.version}, expected "
                    f"{expected_version}); reload and try again."
                )
            return self._get_session(conn, session_id)

    def save_rules_state(
        self, session_id: str, expected_version: int, state: SessionState, *, now: datetime
    ) -> LiveSession:
        """Persist the result of a :mod:`trainer.rules.classroom` transition (optimistically)."""
        return self.update_session_state(
            session_id,
            expected_version,
            now=now,
            state=state.phase,
            current_index=state.current_index,
            question_opened_at=state.opened_at,
            question_closes_at=state.closes_at,
        )

    # -- players -------------------------------------------------------------------------

    def add_player(self, session_id: str, nickname: str, now: datetime) -> Player:
        """Join a session, within the class's player cap.

        The nickname is cleaned (:func:`trainer.rules.classroom.clean_nickname`) and must differ from
        every other in the class ignoring case and look-alike characters (two unique keys,
        :mod:`trainer.rules.nicknames`). The cap (``LiveSettings.max_players``) is counted in the
        insert's transaction, with the session row locked on PostgreSQL, so processes joining
        players at the same moment cannot pass it together.
        """
        name = classroom.clean_nickname(nickname)
        key = classroom.nickname_key(name)
        shape = classroom.nickname_shape_key(name)
        player = Player(
            id=_new_id(),
            session_id=session_id,
            nickname=name,
            token=secrets.token_urlsafe(24),
            joined_at=require_utc(now),
        )
        taken = ConflictError(
            f"The nickname {name!r} is already taken in this class (or looks the same as one that is); "
            "please choose another."
        )
        try:
            with self._write() as conn:
                # FOR UPDATE serialises joins of one class on PostgreSQL (SQLite's BEGIN
                # IMMEDIATE already does), so the count below cannot go stale before the insert.
                row = conn.execute(
                    select(live_sessions).where(live_sessions.c.id == session_id).with_for_update()
                ).first()
                if row is None:
                    raise NotFoundError(f"No live session with id {session_id!r}.")
                session = _session_from_row(row)
                if session.state is Phase.FINISHED:
                    raise RuleError("This class has finished; ask the host for a new code.")
                clash = conn.execute(
                    select(
                        exists().where(
                            players.c.session_id == session_id,
                            (players.c.nickname_key == key) | (players.c.nickname_shape_key == shape),
                        )
                    )
                ).scalar_one()
                if clash:
                    raise taken
                joined = conn.execute(
                    select(func.count()).select_from(players).where(players.c.session_id == session_id)
                ).scalar_one()
                classroom.check_room_for_player(session.live_settings(), int(joined))
                conn.execute(
                    insert(players).values(
                        id=player.id,
                        session_id=session_id,
                        nickname=name,
                        nickname_key=key,
                        nickname_shape_key=shape,
                        token=player.token,
                        joined_at=player.joined_at,
                    )
                )
        except IntegrityError as exc:
            raise taken from exc
        return player

    def get_player(self, player_id: str) -> Player:
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(players).where(players.c.id == player_id)).first()
        if row is None:
            raise NotFoundError(f"No player with id {player_id!r}.")
        return _player_from_row(row)

    def get_player_by_token(self, token: str) -> Player:
        """Rejoin after a reload: the token from the URL identifies the player."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(players).where(players.c.token == token)).first()
        if row is None:
            raise NotFoundError("This player link is not valid (the class may have been deleted).")
        return _player_from_row(row)

    def list_players(self, session_id: str) -> list[Player]:
        """Players in joining order (the lobby list)."""
        with self._read() as conn:
            rows = conn.execute(
                select(players)
                .where(players.c.session_id == session_id)
                .order_by(players.c.joined_at, players.c.nickname_key)
            ).all()
            if not rows:
                self._get_session(conn, session_id)
        return [_player_from_row(r) for r in rows]

    # -- host-key throttling -------------------------------------------------------------

    def try_host_key(
        self,
        scopes: Sequence[tuple[str, throttle.ThrottleRule]],
        now: datetime,
        is_right: Callable[[], bool],
    ) -> throttle.Verdict:
        """One host-key try under :func:`trainer.rules.throttle.try_key`, for every process at once.

        ``scopes`` names each counter and its rule (a client's address, every client). The
        counters are read, decided on and written in one write transaction (rows locked on
        PostgreSQL, in name order so two tries cannot deadlock), so concurrent guesses from
        several processes are counted one by one. ``is_right`` is not called while a scope
        must wait.
        """
        now = require_utc(now)
        names = [name for name, _ in scopes]
        if len(set(names)) != len(names):
            raise ValueError("throttle scopes must be distinct")
        order = sorted(range(len(scopes)), key=lambda i: names[i])
        with self._write() as conn:
            conn.execute(
                self._insert(auth_throttle)
                .values([{"scope": names[i], "failures": 0, "last_failure_at": None} for i in order])
                .on_conflict_do_nothing()
            )
            rows = {
                r.scope: r
                for r in conn.execute(
                    select(auth_throttle)
                    .where(auth_throttle.c.scope.in_(names))
                    .order_by(auth_throttle.c.scope)
                    .with_for_update()
                )
            }
            limits = [
                (rule, throttle.Failures(rows[name].failures, rows[name].last_failure_at))
                for name, rule in scopes
            ]
            verdict, states = throttle.try_key(limits, now, is_right)
            for name, state in zip(names, states, strict=True):
                conn.execute(
                    update(auth_throttle)
                    .where(auth_throttle.c.scope == name)
                    .values(failures=state.count, last_failure_at=state.last_at)
                )
        return verdict

    def throttle_failures(self, scope: str) -> throttle.Failures:
        """The stored counter of one scope (for diagnostics and tests)."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(auth_throttle).where(auth_throttle.c.scope == scope)).first()
        return throttle.Failures() if row is None else throttle.Failures(row.failures, row.last_failure_at)

    # -- answers -------------------------------------------------------------------------

    def submit_answer(
        self,
        *,
        session_id: str,
        question_index: int,
        player_id: str,
        pins: JSONValue,
        credit: float,
        now: datetime,
        distance_cm: float | None = None,
        points: int | None = None,
        result: Mapping[str, JSONValue] | None = None,
        enforce_rules: bool = True,
    ) -> tuple[Answer, bool]:
        """Store a player's answer once; returns ``(answer, created)``.

        A resubmission for the same (session, question_index, player) returns the stored
        answer with ``created=False`` and never overwrites it, even after the close, so the
        player sees "answer received" rather than an error. A *new* answer is checked against
        the rules inside the same transaction as the insert, with the server's ``now``:
        late answers and answers to a question no longer on screen raise ``RuleError``.
        ``points=None`` computes them from the session's settings
        (:func:`trainer.rules.classroom.points_at`). The question id is taken from the session.
        """
        now = require_utc(now)
        credit = _check_credit(credit)
        key = (
            answers.c.session_id == session_id,
            answers.c.question_index == question_index,
            answers.c.player_id == player_id,
        )
        with self._write() as conn:
            session = self._get_session(conn, session_id)
            in_session = conn.execute(
                select(exists().where(players.c.id == player_id, players.c.session_id == session_id))
            ).scalar_one()
            if not in_session:
                raise NotFoundError(f"No player with id {player_id!r} in this class.")
            existing = conn.execute(select(answers).where(*key)).first()
            if existing is not None:
                return _answer_from_row(existing), False
            state = session.rules_state()
            if enforce_rules:
                classroom.check_answer_allowed(state, now, question_index)
            if not 0 <= question_index < len(session.question_ids):
                raise RuleError(f"This class has no question {question_index + 1}.")
            if points is None:
                if state.opened_at is not None and state.closes_at is not None:
                    points = classroom.points_at(state, credit, now, session.live_settings().speed_bonus)
                else:
                    points = classroom.points_for(credit, 0.0, 1.0, speed_bonus=False)
            stmt = (
                self._insert(answers)
                .values(
                    session_id=session_id,
                    question_index=question_index,
                    player_id=player_id,
                    question_id=session.question_ids[question_index],
                    pins_json=_dumps(pins),
                    credit=credit,
                    distance_cm=distance_cm,
                    points=int(points),
                    submitted_at=now,
                    result_json=_dumps(dict(result or {})),
                )
                .on_conflict_do_nothing()
                .returning(answers.c.player_id)
            )
            # On PostgreSQL a concurrent insert of the same key waits for the other
            # transaction and then does nothing (no row RETURNED); the re-read below then
            # sees the committed row. RETURNING, not rowcount: SQLAlchemy does not promise
            # a rowcount for INSERT on every driver.
            created = conn.execute(stmt).first() is not None
            row = conn.execute(select(answers).where(*key)).one()
        return _answer_from_row(row), created

    def get_answer(self, session_id: str, question_index: int, player_id: str) -> Answer | None:
        """One player's answer to one question, or ``None`` (primary-key lookup)."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(answers).where(
                    answers.c.session_id == session_id,
                    answers.c.question_index == question_index,
                    answers.c.player_id == player_id,
                )
            ).first()
        return None if row is None else _answer_from_row(row)

    def count_answers(self, session_id: str, question_index: int) -> int:
        """How many players have answered question ``question_index`` (one indexed query)."""
        n = (
            select(func.count())
            .select_from(answers)
            .where(answers.c.session_id == session_id, answers.c.question_index == question_index)
            .scalar_subquery()
        )
        known = select(literal(1)).where(live_sessions.c.id == session_id).exists()
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(n.label("n"), known.label("known"))).one()
        if not row.known:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return int(row.n)

    def list_answers(self, session_id: str, question_index: int | None = None) -> list[Answer]:
        """Answers of one question (or all), in arrival order; served by the primary key index."""
        query = select(answers).where(answers.c.session_id == session_id)
        if question_index is not None:
            query = query.where(answers.c.question_index == question_index)
        query = query.order_by(answers.c.question_index, answers.c.submitted_at, answers.c.player_id)
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        return [_answer_from_row(r) for r in rows]

    def leaderboard(self, session_id: str) -> list[LeaderboardEntry]:
        """Total points per player, highest first; every player appears, even with no answers."""
        total = func.coalesce(func.sum(answers.c.points), 0).label("points")
        answered = func.count(answers.c.player_id).label("answered")
        query = (
            select(players.c.id, players.c.nickname, total, answered)
            .select_from(
                players.outerjoin(
                    answers,
                    and_(answers.c.player_id == players.c.id, answers.c.session_id == players.c.session_id),
                )
            )
            .where(players.c.session_id == session_id)
            .group_by(players.c.id, players.c.nickname, players.c.joined_at, players.c.nickname_key)
            .order_by(total.desc(), players.c.joined_at, players.c.nickname_key)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        entries: list[LeaderboardEntry] = []
        for position, r in enumerate(rows, start=1):
            rank = entries[-1].rank if entries and entries[-1].points == int(r.points) else position
            entries.append(
                LeaderboardEntry(
                    rank=rank,
                    player_id=r.id,
                    nickname=r.nickname,
                    points=int(r.points),
                    answered=int(r.answered),
                )
            )
        return entries

    def player_standing(self, session_id: str, player_id: str) -> Standing:
        """One player's rank among all players of the session, computed in the database.

        Equal to this player's entry in :meth:`leaderboard`, without sending every player's
        total to Python: each phone asks for its own rank after every reveal.
        """
        totals = (
            select(players.c.id.label("pid"), func.coalesce(func.sum(answers.c.points), 0).label("pts"))
            .select_from(
                players.outerjoin(
                    answers,
                    and_(answers.c.player_id == players.c.id, answers.c.session_id == players.c.session_id),
                )
            )
            .where(players.c.session_id == session_id)
            .group_by(players.c.id)
            .cte("totals")
        )
        mine = select(totals.c.pts).where(totals.c.pid == player_id).scalar_subquery()
        query = select(
            mine.label("points"),
            select(func.count())
            .select_from(totals)
            .where(totals.c.pts > mine)
            .scalar_subquery()
            .label("ahead"),
            select(func.count()).select_from(totals).scalar_subquery().label("n"),
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(query).one()
        if row.points is None:
            raise NotFoundError(f"No player {player_id!r} in live session {session_id!r}.")
        return Standing(rank=int(row.ahead) + 1, players=int(row.n), points=int(row.points))

    def export_answer_rows(self, session_id: str, csv_safe: bool = True) -> list[dict[str, object]]:
        """Every answer of a session as flat rows with :data:`ANSWER_CSV_COLUMNS`.

        With ``csv_safe`` (default) text cells that a spreadsheet would run as a formula
        (a nickname starting with ``=``, ``+``, ``-``, ``@``) are prefixed with ``'``.
        """
        query = (
            select(answers, players.c.nickname, live_sessions.c.join_code)
            .join(players, players.c.id == answers.c.player_id)
            .join(live_sessions, live_sessions.c.id == answers.c.session_id)
            .where(answers.c.session_id == session_id)
            .order_by(answers.c.question_index, answers.c.submitted_at, players.c.nickname_key)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        out: list[dict[str, object]] = []
        for r in rows:
            row: dict[str, object] = {
                "join_code": r.join_code,
                "question_number": r.question_index + 1,
                "question_id": r.question_id,
                "player_id": r.player_id,
                "nickname": r.nickname,
                "credit": r.credit,
                "distance_cm": r.distance_cm,
                "points": r.points,
                "submitted_at": _iso(r.submitted_at),
                "pins_json": r.pins_json,
                "result_json": r.result_json,
            }
            out.append({k: _csv_safe(v) for k, v in row.items()} if csv_safe else row)
        return out


def _answers_to_current_question() -> Any:
    """Correlated subquery: answers to the session row's current question (for the polls)."""
    return (
        select(func.count())
        .select_from(answers)
        .where(
            answers.c.session_id == live_sessions.c.id,
            answers.c.question_index == live_sessions.c.current_index,
        )
        .scalar_subquery()
    )


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


# -- row mapping ---------------------------------------------------------------------------


def _attempt_values(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "learner_id": a.learner_id,
        "question_id": a.question_id,
        "view_id": a.view_id,
        "side": a.side,
        "body_type": a.body_type,
        "pins_json": _dumps(a.pins),
        "distances_json": _dumps(a.distances_cm),
        "directions_json": _dumps(a.directions),
        "credit": a.credit,
        "duration_ms": a.duration_ms,
        "created_at": a.created_at,
    }


def _attempt_from_row(r: Row[Any]) -> Attempt:
    return Attempt(
        id=r.id,
        learner_id=r.learner_id,
        question_id=r.question_id,
        view_id=r.view_id,
        side=r.side,
        body_type=r.body_type,
        pins=json.loads(r.pins_json),
        distances_cm=json.loads(r.distances_json),
        directions=json.loads(r.directions_json),
        credit=r.credit,
        duration_ms=r.duration_ms,
        created_at=r.created_at,
    )


def _card_from_row(r: Row[Any]) -> ReviewCardRecord:
    return ReviewCardRecord(
        learner_id=r.learner_id,
        card_id=r.card_id,
        card=json.loads(r.card_json),
        due=r.due,
        updated_at=r.updated_at,
    )


def _session_values(s: LiveSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "join_code": s.join_code,
        "host_key_hash": s.host_key_hash,
        "title": s.title,
        "settings_json": _dumps(s.settings),
        "question_ids_json": _dumps(list(s.question_ids)),
        "state": s.state.value,
        "current_index": s.current_index,
        "question_opened_at": s.question_opened_at,
        "question_closes_at": s.question_closes_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "version": s.version,
    }


def _session_from_row(r: Row[Any]) -> LiveSession:
    return LiveSession(
        id=r.id,
        join_code=r.join_code,
        host_key_hash=r.host_key_hash,
        title=r.title,
        settings=json.loads(r.settings_json),
        question_ids=tuple(json.loads(r.question_ids_json)),
        state=Phase(r.state),
        current_index=r.current_index,
        question_opened_at=r.question_opened_at,
        question_closes_at=r.question_closes_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        version=r.version,
    )


def _player_from_row(r: Row[Any]) -> Player:
    return Player(id=r.id, session_id=r.session_id, nickname=r.nickname, token=r.token, joined_at=r.joined_at)


def _answer_from_row(r: Row[Any]) -> Answer:
    return Answer(
        session_id=r.session_id,
        question_index=r.question_index,
        player_id=r.player_id,
        question_id=r.question_id,
        pins=json.loads(r.pins_json),
        credit=r.credit,
        distance_cm=r.distance_cm,
        points=r.points,
        submitted_at=r.submitted_at,
        result=json.loads(r.result_json),
    )
