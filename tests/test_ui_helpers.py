"""Small UI helpers whose behaviour the polling pages rely on."""

from __future__ import annotations

import itertools
import time

import pytest

from trainer.settings import location_key
from trainer.ui.common import recent


def test_recent_reuses_a_value_for_its_age_and_recomputes_after() -> None:
    counter = itertools.count()
    key = f"test-recent-{time.monotonic_ns()}"
    first = recent(key, lambda: next(counter), max_age_s=60)
    assert recent(key, lambda: next(counter), max_age_s=60) == first  # reused
    assert recent(key + "-other", lambda: next(counter), max_age_s=60) != first  # keys are separate
    assert recent(key, lambda: next(counter), max_age_s=0) != first  # 0: always fresh
    short = f"{key}-short"
    a = recent(short, lambda: next(counter), max_age_s=0.05)
    time.sleep(0.1)
    assert recent(short, lambda: next(counter), max_age_s=0.05) != a  # expired


def test_location_key_changes_with_the_content_and_database_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINER_ATLAS_DIR", raising=False)
    base = location_key()
    for name in (
        "TRAINER_ATLAS_DIR",
        "TRAINER_QUIZ_DIR",
        "TRAINER_DATA_DIR",
        "TRAINER_AUTHOR_DIR",
        "TRAINER_DATABASE_URL",
    ):
        with monkeypatch.context() as m:
            m.setenv(name, "/somewhere/else")
            assert location_key() != base, name
