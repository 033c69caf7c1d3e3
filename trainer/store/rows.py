"""Row mapping and value checks shared by the store's modules: one place for each column's format.

JSON columns hold compact JSON (NaN and infinity refused: PostgreSQL and browsers reject them);
every ``*_from_row`` is the exact inverse of what the writers store.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
)

from trainer.rules.classroom import Phase
from trainer.store.records import (
    Answer,
    Attempt,
    JSONValue,
    LiveSession,
    Player,
    ReviewCardRecord,
)


def dumps_json(value: JSONValue) -> str:
    """Compact JSON; NaN/inf are refused because PostgreSQL and browsers reject them."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def new_id() -> str:
    return uuid.uuid4().hex


def check_credit(credit: float) -> float:
    credit = float(credit)
    if not (math.isfinite(credit) and 0.0 <= credit <= 1.0):
        raise ValueError(f"credit must be within [0, 1], got {credit!r}")
    return credit


def csv_safe_cell(value: object) -> object:
    """Neutralise spreadsheet formulas (CSV injection) in text cells, e.g. a nickname '=HYPERLINK(...)'."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def checked_key_hash(key_hash: str) -> str:
    """A profile-key hash as :func:`trainer.rules.profiles.key_hash` makes it (64 hex digits)."""
    if not (
        isinstance(key_hash, str) and len(key_hash) == 64 and all(c in "0123456789abcdef" for c in key_hash)
    ):
        raise ValueError("key_hash must be trainer.rules.profiles.key_hash() of a profile key")
    return key_hash


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def attempt_values(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "learner_id": a.learner_id,
        "question_id": a.question_id,
        "view_id": a.view_id,
        "side": a.side,
        "body_type": a.body_type,
        "pins_json": dumps_json(a.pins),
        "distances_json": dumps_json(a.distances_cm),
        "directions_json": dumps_json(a.directions),
        "credit": a.credit,
        "duration_ms": a.duration_ms,
        "hints_json": dumps_json(list(a.hints)) if a.hints else None,
        "created_at": a.created_at,
    }


def attempt_from_row(r: Row[Any]) -> Attempt:
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
        hints=tuple(json.loads(r.hints_json)) if r.hints_json else (),
        created_at=r.created_at,
    )


def card_from_row(r: Row[Any]) -> ReviewCardRecord:
    return ReviewCardRecord(
        learner_id=r.learner_id,
        card_id=r.card_id,
        card=json.loads(r.card_json),
        due=r.due,
        updated_at=r.updated_at,
    )


def session_values(s: LiveSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "join_code": s.join_code,
        "host_key_hash": s.host_key_hash,
        "title": s.title,
        "settings_json": dumps_json(s.settings),
        "question_ids_json": dumps_json(list(s.question_ids)),
        "state": s.state.value,
        "current_index": s.current_index,
        "question_opened_at": s.question_opened_at,
        "question_closes_at": s.question_closes_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "version": s.version,
    }


def session_from_row(r: Row[Any]) -> LiveSession:
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


def player_from_row(r: Row[Any]) -> Player:
    return Player(id=r.id, session_id=r.session_id, nickname=r.nickname, token=r.token, joined_at=r.joined_at)


def answer_from_row(r: Row[Any]) -> Answer:
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
