"""Remembering practice: record an attempt and review its FSRS cards in one call.

The store is passed in, as is the clock, so the same code serves SQLite, PostgreSQL and tests.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.atlas.core import Atlas
from trainer.clock import require_utc
from trainer.quiz.models import QuestionModel
from trainer.rules.srs import grade, retrievability, review
from trainer.scoring.score import Result
from trainer.store import Store
from trainer.store.records import Attempt


def attempt_fields(result: Result) -> dict[str, Any]:
    """Per-pin facts worth keeping: position, distance and direction in the view's frame."""
    pins = [*result.pins, *(p for s in result.steps for p in s.pins)]
    return {
        "pins": [[round(p.x_px, 2), round(p.y_px, 2)] for p in pins],
        "distances_cm": [
            None if p.target_id is None or not p.on_body else round(p.distance_cm, 3) for p in pins
        ],
        "directions": [
            {k: round(v, 3) for k, v in p.direction.items()} if p.target_id and p.on_body else {}
            for p in pins
        ],
        "hints": list(result.hints),
    }


def record_answer(
    store: Store,
    atlas: Atlas,
    learner_id: str,
    question: QuestionModel,
    result: Result,
    *,
    view_id: str | None,
    body_type: str | None,
    duration_ms: int | None,
    now: datetime,
) -> Attempt:
    """Store the attempt and review the question's cards with the score-derived rating.

    One store write: the store reads each card inside its transaction and FSRS reviews it there
    (:func:`trainer.rules.srs.review`), so the attempt and its cards are kept together or not at all.
    """
    now = require_utc(now)
    side = atlas.views[view_id].side if view_id in atlas.views else None
    graded = grade(question, result, None if duration_ms is None else duration_ms / 1000.0, atlas)

    def review_card(card_id: str, stored: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
        return review(stored, card_id, graded.rating, now)

    return store.record_attempt(
        learner_id=learner_id,
        question_id=question.id,
        credit=result.credit,
        now=now,
        view_id=view_id,
        side=side,
        body_type=body_type,
        duration_ms=duration_ms,
        cards=graded.cards,
        review=review_card,
        **attempt_fields(result),
    )


@dataclass(frozen=True)
class Queue:
    due_question_ids: tuple[str, ...]
    due_cards: int
    next_due: datetime | None


def review_queue(store: Store, learner_id: str, now: datetime, known_questions: Sequence[str]) -> Queue:
    """Questions due today: their own card is due, or a due (nerve, skill) card they exercise."""
    now = require_utc(now)
    due = store.list_due(learner_id, now)
    known = set(known_questions)
    ids = [c.card_id[2:] for c in due if c.card_id.startswith("q:") and c.card_id[2:] in known]
    all_cards = store.list_review_cards(learner_id)
    future = [c.due for c in all_cards if c.due > now]
    return Queue(tuple(dict.fromkeys(ids)), len(due), min(future) if future else None)


def nerve_retrievability(store: Store, learner_id: str, now: datetime) -> dict[str, float]:
    """Mean FSRS retrievability per nerve over its (nerve, skill) cards."""
    acc: dict[str, list[float]] = {}
    for c in store.list_review_cards(learner_id):
        if c.card_id.startswith("n:"):
            nerve = c.card_id.split(":")[1]
            acc.setdefault(nerve, []).append(retrievability(c.card, now))
    return {k: sum(v) / len(v) for k, v in acc.items()}


ATTEMPT_CSV_COLUMNS = (
    "created_at",
    "question_id",
    "view_id",
    "side",
    "body_type",
    "credit",
    "duration_ms",
    "distances_cm",
    "directions",
    "pins",
    "hints",
)


def attempts_csv(attempts: Sequence[Attempt]) -> str:
    """One learner's history as CSV (JSON in the list columns; formulas neutralised)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(ATTEMPT_CSV_COLUMNS)
    for a in attempts:
        row = [
            a.created_at.isoformat(),
            a.question_id,
            a.view_id,
            a.side,
            a.body_type,
            f"{a.credit:.4f}",
            a.duration_ms,
            json.dumps(a.distances_cm),
            json.dumps(a.directions),
            json.dumps(a.pins),
            " ".join(a.hints),
        ]
        w.writerow(["'" + str(v) if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return buf.getvalue()
