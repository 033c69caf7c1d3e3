"""Frozen records returned by :class:`trainer.store.Store`.

Callers get plain values, never live ORM objects, so a record can be cached in Streamlit's
session state or handed to another thread without touching the database again. JSON columns
come back decoded; datetimes are aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trainer.rules.classroom import LiveSettings, Phase, SessionState

#: Anything ``json.dumps`` accepts (pins are usually ``[[x_cm, y_cm, z_cm], ...]`` or px pairs).
JSONValue = Any


@dataclass(frozen=True)
class Learner:
    """A profile: a display name, no password; held by the browsers whose key hashes are stored for it."""

    id: str
    display_name: str
    created_at: datetime


@dataclass(frozen=True)
class Attempt:
    """One practice answer, kept forever so progress and direction bias can be recomputed."""

    id: str
    learner_id: str | None
    question_id: str
    view_id: str | None
    side: str | None
    body_type: str | None
    pins: JSONValue
    distances_cm: JSONValue
    directions: JSONValue
    credit: float
    duration_ms: int | None
    created_at: datetime
    hints: tuple[str, ...] = ()  # Practice hints used (their cost is already in ``credit``)


@dataclass(frozen=True)
class ReviewCardRecord:
    """A stored FSRS card: ``card`` is ``fsrs.Card.to_dict()`` output, kept opaque here so
    the store does not depend on the scheduler's version; ``due`` is copied out for indexing."""

    learner_id: str
    card_id: str
    card: dict[str, JSONValue]
    due: datetime
    updated_at: datetime


#: Reviews one card inside the store's transaction: ``(card id, the card as stored there or None
#: for a card never reviewed) -> (the new card, its due time)``. Pure (the FSRS scheduler, see
#: :func:`trainer.rules.srs.review`), so the store needs no scheduler of its own.
ReviewCard = Callable[[str, dict[str, JSONValue] | None], tuple[Mapping[str, JSONValue], datetime]]


@dataclass(frozen=True)
class SessionClock:
    """The few columns a polling phone needs to notice that the class moved on.

    Field names match :class:`LiveSession`, so the phase rules accept either.
    """

    id: str
    state: Phase
    current_index: int
    question_closes_at: datetime | None


@dataclass(frozen=True)
class Standing:
    """One player's place: rank 1 is best, ties share a rank (1, 1, 3)."""

    rank: int
    players: int
    points: int


@dataclass(frozen=True)
class LiveSession:
    """A live class. ``version`` increases on every update (optimistic concurrency)."""

    id: str
    join_code: str
    host_key_hash: str = field(repr=False)
    title: str = ""
    settings: dict[str, JSONValue] = field(default_factory=dict)
    question_ids: tuple[str, ...] = ()
    state: Phase = Phase.LOBBY
    current_index: int = -1
    question_opened_at: datetime | None = None
    question_closes_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    def rules_state(self) -> SessionState:
        """The part the pure rules in :mod:`trainer.rules.classroom` act on."""
        return SessionState(
            phase=self.state,
            current_index=self.current_index,
            question_count=len(self.question_ids),
            opened_at=self.question_opened_at,
            closes_at=self.question_closes_at,
        )

    def live_settings(self) -> LiveSettings:
        return LiveSettings.from_dict(self.settings)

    @property
    def current_question_id(self) -> str | None:
        if 0 <= self.current_index < len(self.question_ids):
            return self.question_ids[self.current_index]
        return None


@dataclass(frozen=True)
class Player:
    """A learner in one live session. ``token`` is the rejoin secret kept in the player's URL."""

    id: str
    session_id: str
    nickname: str
    token: str = field(repr=False)
    joined_at: datetime | None = None


@dataclass(frozen=True)
class Answer:
    """One player's answer to one question; unique on (session, question_index, player)."""

    session_id: str
    question_index: int
    player_id: str
    question_id: str
    pins: JSONValue
    credit: float
    distance_cm: float | None
    points: int
    submitted_at: datetime
    result: dict[str, JSONValue]


@dataclass(frozen=True)
class LeaderboardEntry:
    """Competition ranking (1, 2, 2, 4): equal points share a rank."""

    rank: int
    player_id: str
    nickname: str
    points: int
    answered: int
