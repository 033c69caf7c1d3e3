"""Lesson progress kept with the profile (trainer.store.lessons), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trainer.errors import NotFoundError
from trainer.rules.profiles import key_hash, new_key
from trainer.store import Store
from trainer.store.lessons import delete_lesson_progress, lesson_progress, save_lesson_step

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'trainer.sqlite3'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_database_url"))
    )
    s = Store(url)
    yield s
    s.close()


def test_steps_seen_only_grows_and_the_current_step_follows_the_learner(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    save_lesson_step(store, ana.id, "knee", step_index=3, steps_total=6, now=T0)
    back = save_lesson_step(store, ana.id, "knee", step_index=1, steps_total=6, now=T0 + timedelta(minutes=1))
    assert (back.step_index, back.steps_seen, back.completed) == (1, 4, False)
    stored = lesson_progress(store, ana.id)["knee"]
    assert (stored.step_index, stored.steps_seen, stored.updated_at) == (1, 4, T0 + timedelta(minutes=1))


def test_a_lesson_is_completed_at_its_last_step_and_stays_completed(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    save_lesson_step(store, ana.id, "elbow", step_index=5, steps_total=6, now=T0)
    save_lesson_step(store, ana.id, "elbow", step_index=0, steps_total=6, now=T0 + timedelta(hours=1))
    p = lesson_progress(store, ana.id)["elbow"]
    assert p.completed and p.completed_at == T0 and p.step_index == 0


def test_progress_is_per_learner_and_goes_with_the_profile(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    ben = store.create_learner("Ben", now=T0)
    save_lesson_step(store, ana.id, "elbow", step_index=2, steps_total=6, now=T0)
    save_lesson_step(store, ben.id, "knee", step_index=0, steps_total=5, now=T0)
    assert list(lesson_progress(store, ana.id)) == ["elbow"]
    store.delete_learner(ana.id)
    with pytest.raises(NotFoundError):
        lesson_progress(store, ana.id)
    assert list(lesson_progress(store, ben.id)) == ["knee"]
    assert delete_lesson_progress(store, ben.id) == 1
    assert lesson_progress(store, ben.id) == {}


def test_a_browser_without_the_profile_key_can_neither_read_nor_write(store: Store) -> None:
    key = new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(key))
    wrong = key_hash(new_key())
    with pytest.raises(NotFoundError):
        save_lesson_step(store, ana.id, "elbow", step_index=0, steps_total=3, now=T0, key_hash=wrong)
    with pytest.raises(NotFoundError):
        lesson_progress(store, ana.id, key_hash=wrong)
    save_lesson_step(store, ana.id, "elbow", step_index=0, steps_total=3, now=T0, key_hash=key_hash(key))
    assert lesson_progress(store, ana.id, key_hash=key_hash(key))["elbow"].steps_seen == 1


def test_a_step_outside_the_lesson_is_refused(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    with pytest.raises(ValueError, match="outside"):
        save_lesson_step(store, ana.id, "elbow", step_index=3, steps_total=3, now=T0)
