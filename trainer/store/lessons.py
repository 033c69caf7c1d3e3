"""Progress through Learn lessons, kept with the profile: one row per (learner, lesson).

Writes go through the store's single write path and re-check, inside the transaction, that
the browser holds the profile (``key_hash``), like the other writes a page makes for a learner.

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> from trainer.store import open_store
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> with tempfile.TemporaryDirectory() as tmp:
...     with open_store(data_dir=pathlib.Path(tmp)) as store:
...         ana = store.create_learner("Ana", now=t)
...         _ = save_lesson_step(store, ana.id, "lateral_elbow", step_index=2, steps_total=6, now=t)
...         lesson_progress(store, ana.id)["lateral_elbow"].steps_seen
3
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from trainer.clock import require_utc
from trainer.store.schema import lesson_progress as table
from trainer.store.store import Store


@dataclass(frozen=True)
class LessonProgress:
    """Where a learner is in one lesson: the step to reopen, how many steps they have seen."""

    lesson_id: str
    step_index: int
    steps_seen: int
    steps_total: int
    completed_at: datetime | None
    updated_at: datetime

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


def advance(
    before: LessonProgress | None, lesson_id: str, *, step_index: int, steps_total: int, now: datetime
) -> LessonProgress:
    """The progress after the learner opens ``step_index`` (0-based) of ``steps_total`` steps.

    ``steps_seen`` only grows (going back does not undo progress); the lesson is completed the
    first time its last step is reached, and stays completed. The same rule serves a profile
    (stored) and a learner without one (kept in the tab).

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> p = advance(None, "knee", step_index=4, steps_total=5, now=t)
    >>> (p.steps_seen, p.completed, advance(p, "knee", step_index=0, steps_total=5, now=t).completed)
    (5, True, True)
    """
    now = require_utc(now, "now")
    if steps_total < 1 or not 0 <= step_index < steps_total:
        raise ValueError(f"step {step_index} is outside a lesson of {steps_total} steps")
    seen = min(max(step_index + 1, before.steps_seen if before is not None else 0), steps_total)
    done = before.completed_at if before is not None else None
    if done is None and step_index == steps_total - 1:
        done = now
    return LessonProgress(lesson_id, step_index, seen, steps_total, done, now)


def _from_row(r: Any) -> LessonProgress:
    return LessonProgress(
        r.lesson_id, r.step_index, r.steps_seen, r.steps_total, r.completed_at, r.updated_at
    )


def save_lesson_step(
    store: Store,
    learner_id: str,
    lesson_id: str,
    *,
    step_index: int,
    steps_total: int,
    now: datetime,
    key_hash: str | None = None,
) -> LessonProgress:
    """Record that the learner is on ``step_index`` of a lesson (rules: :func:`advance`)."""
    with store._write() as conn:
        store._get_learner(conn, learner_id, key_hash, lock=True)
        key = (table.c.learner_id == learner_id) & (table.c.lesson_id == lesson_id)
        row = conn.execute(select(table).where(key)).first()
        before = None if row is None else _from_row(row)
        after = advance(before, lesson_id, step_index=step_index, steps_total=steps_total, now=now)
        values = {
            "step_index": after.step_index,
            "steps_seen": after.steps_seen,
            "steps_total": after.steps_total,
            "completed_at": after.completed_at,
            "updated_at": after.updated_at,
        }
        if row is None:
            conn.execute(table.insert().values(learner_id=learner_id, lesson_id=lesson_id, **values))
        else:
            conn.execute(update(table).where(key).values(**values))
    return after


def lesson_progress(
    store: Store, learner_id: str, *, key_hash: str | None = None
) -> dict[str, LessonProgress]:
    """Every lesson the learner has opened, by lesson id."""
    with store._read() as conn:
        store._get_learner(conn, learner_id, key_hash)
        rows = conn.execute(select(table).where(table.c.learner_id == learner_id)).all()
    return {r.lesson_id: _from_row(r) for r in rows}


def delete_lesson_progress(store: Store, learner_id: str, *, key_hash: str | None = None) -> int:
    """Forget a learner's lesson progress (Progress → reset); returns the rows removed."""
    with store._write() as conn:
        store._get_learner(conn, learner_id, key_hash)
        return int(conn.execute(delete(table).where(table.c.learner_id == learner_id)).rowcount)
