"""Spaced repetition with FSRS, graded by the score rather than by the learner.

The score → rating mapping lives here and nowhere else:

=====================================================  =========
what happened                                          rating
=====================================================  =========
a pin inside a structure to avoid, or credit 0         Again
partial credit (0 < credit < 1)                        Hard
full credit, slower than ``FAST_S`` seconds            Good
full credit within ``FAST_S`` seconds                  Easy
=====================================================  =========

One card per question (``q:<question id>``) and, where the content allows, one per
(nerve, skill) (``n:<nerve id>:<skill>``) so a nerve that is weak in several questions
comes back. Time is always passed in; datetimes must be timezone-aware.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from fsrs import Card, Rating, Scheduler
from fsrs.card import CardDict

from trainer.atlas.core import Atlas
from trainer.clock import require_utc
from trainer.quiz.kinds import skill as skill_of
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Result

FULL_CREDIT = 0.999
FAST_S = 15.0

_SCHEDULER = Scheduler(enable_fuzzing=False)  # immutable parameters; fuzzing off keeps schedules reproducible


def rating_for(credit: float, unsafe: bool, duration_s: float | None) -> Rating:
    """Map a scored answer to an FSRS rating (see the module table).

    >>> rating_for(1.0, False, 5.0).name, rating_for(1.0, False, 40.0).name
    ('Easy', 'Good')
    >>> rating_for(0.4, False, 5.0).name, rating_for(1.0, True, 5.0).name, rating_for(0.0, False, 1.0).name
    ('Hard', 'Again', 'Again')
    """
    if unsafe or credit <= 0.0:
        return Rating.Again
    if credit < FULL_CREDIT:
        return Rating.Hard
    if duration_s is not None and duration_s <= FAST_S:
        return Rating.Easy
    return Rating.Good


def card_ids(question: QuestionModel, atlas: Atlas) -> list[str]:
    """The question's own card plus one per (nerve, skill) it exercises."""
    ids = [f"q:{question.id}"]
    skill = skill_of(question)
    if skill is None:
        return ids
    from trainer.quiz.session import question_nerves

    ids.extend(f"n:{n}:{skill}" for n in sorted(question_nerves(atlas, question)))
    return ids


def _stable_card_id(card_key: str) -> int:
    return int(hashlib.sha256(card_key.encode()).hexdigest()[:12], 16)


def new_card(card_key: str, now: datetime) -> Card:
    """A fresh card due now (FSRS's default would read the wall clock)."""
    return Card(card_id=_stable_card_id(card_key), due=require_utc(now))


def _card(stored: dict[str, Any]) -> Card:
    """A stored card back as FSRS's own: it is ``Card.to_dict()`` output (checked field by field
    when a learner file is imported, :mod:`trainer.store.learner_file`), so it is a ``CardDict``."""
    return Card.from_dict(cast(CardDict, stored))


def review(
    card: dict[str, Any] | None, card_key: str, rating: Rating, now: datetime
) -> tuple[dict[str, Any], datetime]:
    """Review a stored card (``None`` = never seen); returns the new card dict and its due time."""
    now = require_utc(now)
    current = _card(card) if card else new_card(card_key, now)
    updated, _log = _SCHEDULER.review_card(current, rating, review_datetime=now)
    return dict(updated.to_dict()), updated.due


def retrievability(card: dict[str, Any], now: datetime) -> float:
    """Probability of recall now, from FSRS (0..1)."""
    return float(_SCHEDULER.get_card_retrievability(_card(card), current_datetime=require_utc(now)))


@dataclass(frozen=True)
class Graded:
    rating: Rating
    cards: tuple[str, ...]


def grade(question: QuestionModel, result: Result, duration_s: float | None, atlas: Atlas) -> Graded:
    """Which cards to review and with what rating, for one scored answer."""
    unsafe = bool(result.safety)
    return Graded(rating_for(result.credit, unsafe, duration_s), tuple(card_ids(question, atlas)))


def due_question_ids(cards: Iterable[tuple[str, datetime]], now: datetime) -> list[str]:
    """Question ids whose question card is due, most overdue first."""
    now = require_utc(now)
    due = sorted((d, key[2:]) for key, d in cards if key.startswith("q:") and d <= now)
    return [qid for _, qid in due]
