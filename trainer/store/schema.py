"""The current shape of every table, as SQLAlchemy Core objects used by the queries.

The database itself is built by the ordered migrations in :mod:`trainer.store.migrations`;
a contract test checks that a freshly migrated database has exactly these columns, so the
two cannot drift apart silently.

Portability choices (SQLite and PostgreSQL run the same code):

* ids are text (uuid4 hex): an exported learner can be imported on another machine without
  renumbering, and ids never collide between server processes;
* JSON is stored as text we encode ourselves, so both backends return identical values;
* datetimes go through :class:`UTCDateTime`, which refuses naive values and always returns
  aware UTC datetimes (SQLite has no time zones; PostgreSQL returns the session's zone);
* nickname uniqueness (case-insensitive, and by look-alike shape) is two plain unique indexes
  on stored key columns computed in Python (:mod:`trainer.rules.nicknames`), rather than functional
  indexes only one backend supports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
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
)
from sqlalchemy.types import TypeDecorator

from trainer.clock import require_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    On SQLite the value is stored as naive UTC text (SQLite has no zone support), on
    PostgreSQL as ``timestamptz``. Naive input raises ``ValueError`` at bind time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = require_utc(value, "datetime value")
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ID = String(36)
metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)

learners = Table(
    "learners",
    metadata,
    Column("id", ID, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

#: Hashes of the profile keys browsers hold (:mod:`trainer.rules.profiles`); one row per (browser, profile).
learner_keys = Table(
    "learner_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("learner_id", ID, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_learner_keys_learner", "learner_id"),
)

#: Pending one-time codes that move a profile to another device; the secret is stored hashed.
transfer_codes = Table(
    "transfer_codes",
    metadata,
    Column("lookup", String(8), primary_key=True),
    Column("learner_id", ID, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_transfer_codes_learner", "learner_id"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("learner_id", ID, ForeignKey("learners.id", ondelete="CASCADE"), nullable=True),
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
    Column("hints_json", Text, nullable=True),  # hint ids used (v5); NULL = none, or before v5
    Index("ix_attempts_learner_created", "learner_id", "created_at"),
)

review_cards = Table(
    "review_cards",
    metadata,
    Column("learner_id", ID, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("card_id", String(200), nullable=False),
    Column("card_json", Text, nullable=False),
    Column("due", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("learner_id", "card_id", name="pk_review_cards"),
    Index("ix_review_cards_learner_due", "learner_id", "due"),
)

live_sessions = Table(
    "live_sessions",
    metadata,
    Column("id", ID, primary_key=True),
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

players = Table(
    "players",
    metadata,
    Column("id", ID, primary_key=True),
    Column("session_id", ID, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("nickname", String(400), nullable=False),
    Column("nickname_key", String(400), nullable=False),
    Column("token", String(64), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    # Case-sensitive look-alike key (trainer.rules.nicknames.nickname_shape_key), added in version 3.
    Column("nickname_shape_key", String(400), nullable=False),
    # Leading session_id: this unique index also serves "players of a session".
    UniqueConstraint("session_id", "nickname_key", name="uq_players_session_nickname"),
    UniqueConstraint("token", name="uq_players_token"),
    Index("uq_players_session_shape", "session_id", "nickname_shape_key", unique=True),
)

answers = Table(
    "answers",
    metadata,
    Column("session_id", ID, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False),
    Column("question_index", Integer, nullable=False),
    Column("player_id", ID, ForeignKey("players.id", ondelete="CASCADE"), nullable=False),
    Column("question_id", String(200), nullable=False),
    Column("pins_json", Text, nullable=False),
    Column("credit", Float, nullable=False),
    Column("distance_cm", Float, nullable=True),
    Column("points", Integer, nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("result_json", Text, nullable=False),
    # The idempotency key doubles as the index for "answers of question k of a session".
    PrimaryKeyConstraint("session_id", "question_index", "player_id", name="pk_answers"),
    Index("ix_answers_player", "player_id"),
)

#: Failed host-key tries per scope ("host-key:client:<address>", "host-key:all"), so every
#: server process throttles the same guesser (trainer.rules.throttle holds the rules).
auth_throttle = Table(
    "auth_throttle",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime(), nullable=True),
)

#: How far a learner has gone through each Learn lesson (trainer.store.lessons), added in version 6.
lesson_progress = Table(
    "lesson_progress",
    metadata,
    Column("learner_id", ID, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("lesson_id", String(200), nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("steps_seen", Integer, nullable=False),
    Column("steps_total", Integer, nullable=False),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("learner_id", "lesson_id", name="pk_lesson_progress"),
)
