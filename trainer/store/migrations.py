"""Versioned schema migrations: an ordered list of functions, recorded in ``schema_version``.

Why not Alembic: the schema is small, both backends must run identical DDL, and a list of
plain functions is easy to test (``tests/test_store_contract.py`` migrates a fresh database,
re-opens it to prove the second run is a no-op, and compares the result with
:mod:`trainer.store.schema`).

Rules for adding a migration:

* never edit a migration that has shipped; append a new function to :data:`MIGRATIONS`;
* each migration defines the tables it creates *as they were at that version* (below, in a
  private ``MetaData``), so replaying history on a fresh database gives the same result as
  upgrading an old one; :mod:`trainer.store.schema` holds only the current shape;
* a migration runs inside the caller's transaction (DDL is transactional on both SQLite and
  PostgreSQL), so a failure leaves the version unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    text,
)

from trainer.errors import StoreError
from trainer.store.schema import UTCDateTime, schema_version

Migration = Callable[[Connection], None]


def _v1_learning(conn: Connection) -> None:
    """Learners, practice attempts and FSRS review cards (issue 5)."""
    md = MetaData()
    Table(
        "learners",
        md,
        Column("id", String(36), primary_key=True),
        Column("display_name", String(200), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
    )
    Table(
        "attempts",
        md,
        Column("id", String(36), primary_key=True),
        Column("learner_id", String(36), ForeignKey("learners.id", ondelete="CASCADE"), nullable=True),
        Column("question_id", String(200), nullable=False),
        Column("view_id", String(200), nullable=True),
        Column("side", String(16), nullable=True),
        Column("body_type", String(64), nullable=True),
        Column("pins_json", Text, nullable=False),
        Column("distances_json", Text, nullable=False),
        Column("directions_json", Text, nullable=False),
        Column("credit", Float, nullable=False),
        Column("duration_ms", Integer, nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Index("ix_attempts_learner_created", "learner_id", "created_at"),
    )
    Table(
        "review_cards",
        md,
        Column("learner_id", String(36), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        Column("card_id", String(200), nullable=False),
        Column("card_json", Text, nullable=False),
        Column("due", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("learner_id", "card_id", name="pk_review_cards"),
        Index("ix_review_cards_learner_due", "learner_id", "due"),
    )
    md.create_all(conn)


def _v2_live(conn: Connection) -> None:
    """Live sessions, players and answers (issue 4)."""
    md = MetaData()
    Table(
        "live_sessions",
        md,
        Column("id", String(36), primary_key=True),
        Column("join_code", String(16), nullable=False),
        Column("host_key_hash", String(200), nullable=False),
        Column("title", String(200), nullable=False),
        Column("settings_json", Text, nullable=False),
        Column("question_ids_json", Text, nullable=False),
        Column("state", String(16), nullable=False),
        Column("current_index", Integer, nullable=False),
        Column("question_opened_at", UTCDateTime(), nullable=True),
        Column("question_closes_at", UTCDateTime(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("version", Integer, nullable=False),
        UniqueConstraint("join_code", name="uq_live_sessions_join_code"),
    )
    Table(
        "players",
        md,
        Column("id", String(36), primary_key=True),
        Column("session_id", String(36), ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False),
        Column("nickname", String(400), nullable=False),
        Column("nickname_key", String(400), nullable=False),
        Column("token", String(64), nullable=False),
        Column("joined_at", UTCDateTime(), nullable=False),
        UniqueConstraint("session_id", "nickname_key", name="uq_players_session_nickname"),
        UniqueConstraint("token", name="uq_players_token"),
    )
    Table(
        "answers",
        md,
        Column("session_id", String(36), ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False),
        Column("question_index", Integer, nullable=False),
        Column("player_id", String(36), ForeignKey("players.id", ondelete="CASCADE"), nullable=False),
        Column("question_id", String(200), nullable=False),
        Column("pins_json", Text, nullable=False),
        Column("credit", Float, nullable=False),
        Column("distance_cm", Float, nullable=True),
        Column("points", Integer, nullable=False),
        Column("submitted_at", UTCDateTime(), nullable=False),
        Column("result_json", Text, nullable=False),
        PrimaryKeyConstraint("session_id", "question_index", "player_id", name="pk_answers"),
        Index("ix_answers_player", "player_id"),
    )
    # live_sessions must exist before players/answers reference it; create_all sorts by FK.
    md.create_all(conn)


def _v3_security(conn: Connection) -> None:
    """Look-alike nicknames and host-key throttling (issue 11, items 21 and 13).

    Adds ``players.nickname_shape_key`` with its unique index and recomputes both nickname
    keys of existing players with the look-alike rules of this version
    (:mod:`trainer.rules.nicknames`). Two players of one class whose names now collide both keep
    their place: the later one's keys get its id appended, so history is never dropped.
    Creates ``auth_throttle`` (failed host-key tries per scope).
    """
    from trainer.rules.nicknames import nickname_key, nickname_shape_key

    md = MetaData()
    Table(
        "auth_throttle",
        md,
        Column("scope", String(200), primary_key=True),
        Column("failures", Integer, nullable=False),
        Column("last_failure_at", UTCDateTime(), nullable=True),
    )
    md.create_all(conn)
    conn.execute(text("ALTER TABLE players ADD COLUMN nickname_shape_key VARCHAR(400) NOT NULL DEFAULT ''"))
    rows = conn.execute(text("SELECT id, session_id, nickname FROM players ORDER BY joined_at, id")).all()
    # Park every key on a unique placeholder first, so no intermediate update can collide
    # with a row not yet recomputed.
    conn.execute(text("UPDATE players SET nickname_key = 'v3#' || id"))
    keys: set[tuple[str, str]] = set()
    shapes: set[tuple[str, str]] = set()
    for r in rows:
        key, shape = nickname_key(r.nickname), nickname_shape_key(r.nickname)
        if (r.session_id, key) in keys or (r.session_id, shape) in shapes:
            key, shape = f"{key}#{r.id}", f"{shape}#{r.id}"
        keys.add((r.session_id, key))
        shapes.add((r.session_id, shape))
        conn.execute(
            text("UPDATE players SET nickname_key = :key, nickname_shape_key = :shape WHERE id = :id"),
            {"key": key, "shape": shape, "id": r.id},
        )
    conn.execute(
        text("CREATE UNIQUE INDEX uq_players_session_shape ON players (session_id, nickname_shape_key)")
    )


def _v4_profile_keys(conn: Connection) -> None:
    """Profiles bound to browsers: hashed profile keys and one-time transfer codes (issue 11).

    Profiles made before this version are held by no browser; ``python -m trainer profiles``
    lists them and makes a transfer code for one, so its owner can claim it in a browser.
    """
    md = MetaData()
    Table("learners", md, Column("id", String(36), primary_key=True))  # referenced, not created
    Table(
        "learner_keys",
        md,
        Column("key_hash", String(64), primary_key=True),
        Column("learner_id", String(36), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Index("ix_learner_keys_learner", "learner_id"),
    )
    Table(
        "transfer_codes",
        md,
        Column("lookup", String(8), primary_key=True),
        Column("learner_id", String(36), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        Column("code_hash", String(64), nullable=False),
        Column("expires_at", UTCDateTime(), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Index("ix_transfer_codes_learner", "learner_id"),
    )
    md.create_all(conn, tables=[md.tables["learner_keys"], md.tables["transfer_codes"]])


def _v5_attempt_hints(conn: Connection) -> None:
    """Hints used in Practice, stored with the attempt (issue 15 item 2). Older attempts: NULL."""
    conn.execute(text("ALTER TABLE attempts ADD COLUMN hints_json TEXT"))


def _v6_lesson_progress(conn: Connection) -> None:
    """Progress through Learn lessons, kept with the profile (issue 15, item 1)."""
    md = MetaData()
    Table("learners", md, Column("id", String(36), primary_key=True))  # referenced, not created
    Table(
        "lesson_progress",
        md,
        Column("learner_id", String(36), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
        Column("lesson_id", String(200), nullable=False),
        Column("step_index", Integer, nullable=False),
        Column("steps_seen", Integer, nullable=False),
        Column("steps_total", Integer, nullable=False),
        Column("completed_at", UTCDateTime(), nullable=True),
        Column("updated_at", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("learner_id", "lesson_id", name="pk_lesson_progress"),
    )
    md.create_all(conn, tables=[md.tables["lesson_progress"]])


#: Index i holds the migration that brings the schema to version i + 1.
MIGRATIONS: tuple[Migration, ...] = (
    _v1_learning,
    _v2_live,
    _v3_security,
    _v4_profile_keys,
    _v5_attempt_hints,
    _v6_lesson_progress,
)
LATEST_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The version recorded in the database; 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one())


def migrate(conn: Connection, now: datetime) -> list[int]:
    """Apply every pending migration inside ``conn``'s transaction; return the versions applied.

    The caller holds the write lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
    PostgreSQL), so two processes starting together cannot both apply a migration.
    """
    schema_version.create(conn, checkfirst=True)
    version = current_version(conn)
    if version > LATEST_VERSION:
        raise StoreError(
            f"The database schema is version {version}, newer than this program "
            f"understands ({LATEST_VERSION}). Upgrade the trainer before using this database."
        )
    applied: list[int] = []
    for target in range(version + 1, LATEST_VERSION + 1):
        MIGRATIONS[target - 1](conn)
        conn.execute(insert(schema_version).values(version=target, applied_at=now))
        applied.append(target)
    return applied
