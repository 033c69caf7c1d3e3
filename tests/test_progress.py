"""Progress analytics and the score → FSRS rating mapping, with fixed clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fsrs import Rating

from trainer.progress import accuracy_over_time, direction_bias, mastery, streak_days, weakest
from trainer.srs import FAST_S, FULL_CREDIT, rating_for, review

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class A:
    question_id: str
    view_id: str | None
    credit: float
    created_at: datetime
    duration_ms: int | None = 10_000
    distances_cm: Any = field(default_factory=list)
    directions: Any = field(default_factory=list)


@pytest.mark.parametrize(
    ("credit", "unsafe", "duration_s", "expected"),
    [
        (1.0, False, FAST_S, Rating.Easy),
        (1.0, False, FAST_S + 0.01, Rating.Good),
        (1.0, False, None, Rating.Good),
        (FULL_CREDIT, False, 1.0, Rating.Easy),
        (FULL_CREDIT - 1e-6, False, 1.0, Rating.Hard),
        (1e-9, False, 1.0, Rating.Hard),
        (0.0, False, 1.0, Rating.Again),
        (1.0, True, 1.0, Rating.Again),
    ],
)
def test_rating_boundaries(credit: float, unsafe: bool, duration_s: float | None, expected: Rating) -> None:
    assert rating_for(credit, unsafe, duration_s) == expected


def test_missed_item_is_due_before_an_easy_one() -> None:
    missed, missed_due = review(None, "q:a", Rating.Again, T0)
    easy, easy_due = review(None, "q:b", Rating.Easy, T0)
    assert missed_due < easy_due
    # And after a second day of the same answers the order holds.
    _, missed_due2 = review(missed, "q:a", Rating.Again, T0 + timedelta(days=1))
    _, easy_due2 = review(easy, "q:b", Rating.Easy, T0 + timedelta(days=1))
    assert missed_due2 < easy_due2


def test_review_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        review(None, "q:a", Rating.Good, datetime(2026, 1, 1))


def test_direction_bias_from_known_pins() -> None:
    views = {"ankle_posterior_right": "ankle_posterior", "ankle_posterior_left": "ankle_posterior"}
    attempts = [
        A("q1", "ankle_posterior_right", 0.5, T0, directions=[{"proximal": 1.2, "lateral": 0.1, "anterior": 0.0}]),
        A("q2", "ankle_posterior_left", 0.5, T0, directions=[{"proximal": 1.4, "lateral": -0.1, "anterior": 0.0}]),
        A("q3", "ankle_posterior_right", 0.5, T0, directions=[{"proximal": 1.3, "lateral": 0.0, "anterior": 0.1}]),
        A("q4", "unknown_view", 0.5, T0, directions=[{"proximal": -9.0}]),
    ]
    [bias] = direction_bias(attempts, views)
    assert bias.region == "ankle_posterior" and bias.pins == 3
    assert bias.mean_cm["proximal"] == pytest.approx(1.3)
    assert bias.words == "1.3 cm too proximal"
    assert bias.sentence("Posterior ankle") == "On the posterior ankle you place sites 1.3 cm too proximal on average (3 pins)."


def test_too_few_pins_give_no_bias() -> None:
    views = {"v": "r"}
    assert direction_bias([A("q", "v", 1.0, T0, directions=[{"proximal": 2.0}])], views) == []


def test_accuracy_streak_and_weakest() -> None:
    attempts = [A("q1", "v", 1.0, T0, distances_cm=[0.5]), A("q2", "v", 0.0, T0 + timedelta(days=1), distances_cm=[4.0]),
                A("q1", "v", 0.5, T0 + timedelta(days=2), distances_cm=[2.0])]
    days = accuracy_over_time(attempts)
    assert [d.mean_credit for d in days] == [1.0, 0.0, 0.5]
    assert days[1].mean_distance_cm == 4.0
    assert streak_days(attempts, date(2026, 11, 4)) == 3
    assert streak_days(attempts, date(2026, 11, 5)) == 3  # yesterday still counts
    assert streak_days(attempts, date(2026, 11, 6)) == 0
    m = mastery(attempts, {"q1": ["sural"], "q2": ["saphenous"]})
    assert weakest(m, 1)[0].key == "saphenous"
