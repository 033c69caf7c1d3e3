"""Progress analytics and the score → FSRS rating mapping, with fixed clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fsrs import Rating

from trainer.progress.stats import (
    PERCENT_FORMAT,
    Bias,
    accuracy_over_time,
    direction_bias,
    mastery,
    percent,
    streak_days,
    weakest,
)
from trainer.rules.srs import FAST_S, FULL_CREDIT, rating_for, review

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
        A(
            "q1",
            "ankle_posterior_right",
            0.5,
            T0,
            directions=[{"proximal": 1.2, "lateral": 0.1, "anterior": 0.0}],
        ),
        A(
            "q2",
            "ankle_posterior_left",
            0.5,
            T0,
            directions=[{"proximal": 1.4, "lateral": -0.1, "anterior": 0.0}],
        ),
        A(
            "q3",
            "ankle_posterior_right",
            0.5,
            T0,
            directions=[{"proximal": 1.3, "lateral": 0.0, "anterior": 0.1}],
        ),
        A("q4", "unknown_view", 0.5, T0, directions=[{"proximal": -9.0}]),
    ]
    [bias] = direction_bias(attempts, views)
    assert bias.region == "ankle_posterior" and bias.pins == 3
    assert bias.mean_cm["proximal"] == pytest.approx(1.3)
    assert bias.words == "1.3 cm too proximal"
    assert (
        bias.sentence("Posterior ankle")
        == "On the posterior ankle you place sites 1.3 cm too proximal on average (3 pins)."
    )


def test_too_few_pins_give_no_bias() -> None:
    views = {"v": "r"}
    assert direction_bias([A("q", "v", 1.0, T0, directions=[{"proximal": 2.0}])], views) == []


def test_accuracy_streak_and_weakest() -> None:
    attempts = [
        A("q1", "v", 1.0, T0, distances_cm=[0.5]),
        A("q2", "v", 0.0, T0 + timedelta(days=1), distances_cm=[4.0]),
        A("q1", "v", 0.5, T0 + timedelta(days=2), distances_cm=[2.0]),
    ]
    days = accuracy_over_time(attempts)
    assert [d.mean_credit for d in days] == [1.0, 0.0, 0.5]
    assert days[1].mean_distance_cm == 4.0
    assert streak_days(attempts, date(2026, 11, 4)) == 3
    assert streak_days(attempts, date(2026, 11, 5)) == 3  # yesterday still counts
    assert streak_days(attempts, date(2026, 11, 6)) == 0
    m = mastery(attempts, {"q1": ["sural"], "q2": ["saphenous"]})
    assert weakest(m, 1)[0].key == "saphenous"


def test_pins_on_views_of_the_foot_read_in_the_foot_words() -> None:
    views = {"plantar_foot_right": "plantar_foot", "foot_dorsum_right": "ankle", "ankle_front_right": "ankle"}
    vocab = {"plantar_foot_right": "foot", "foot_dorsum_right": "foot", "ankle_front_right": "leg"}
    heel = {"proximal": -0.4, "lateral": 0.0, "anterior": -2.0}
    attempts = [
        A(f"q{i}", v, 0.5, T0, directions=[heel])
        for i in range(3)
        for v in ("plantar_foot_right", "foot_dorsum_right", "ankle_front_right")
    ]
    by_key = {(b.region, b.vocabulary): b for b in direction_bias(attempts, views, vocab)}
    assert by_key[("plantar_foot", "foot")].words == "2.0 cm too far toward the heel and 0.4 cm too plantar"
    assert (
        by_key[("plantar_foot", "foot")]
        .sentence("Sole of the foot")
        .startswith("On the sole of the foot you place sites 2.0 cm too far toward the heel")
    )
    # A region seen both ways keeps the two apart and says which is which.
    assert (
        by_key[("ankle", "foot")].sentence("Ankle").startswith("On the ankle (views of the foot) you place")
    )
    assert by_key[("ankle", "leg")].words == "2.0 cm too posterior and 0.4 cm too distal"


def test_one_pin_is_singular() -> None:
    bias = Bias("r", 1, {"proximal": 0.0}, 0.0, "on target")
    assert bias.sentence("Knee") == "On the knee your pins show no consistent direction error (1 pin)."


def test_percentages_shown_to_learners_are_whole() -> None:
    assert percent(0.730912) == 73.0 and percent(1.0) == 100.0 and percent(None) is None
    assert PERCENT_FORMAT % 73.0 == "73%"


def _bias_view(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.atlas_factory import good_atlas_data, write_atlas
    from trainer.atlas.rendered import load_rendered_view

    root = write_atlas(tmp_path_factory.mktemp("bias") / "atlas", good_atlas_data())
    return load_rendered_view("view_a_right", "female", root)


@pytest.mark.parametrize("error_cm", [0.3, 0.5, 0.9, 2.5, 6.0])
def test_the_bias_arrow_is_never_hidden_under_a_label(
    tmp_path_factory: pytest.TempPathFactory, error_cm: float
) -> None:
    from trainer.explorer.figures import MIN_ARROW_SCREEN_PX, bias_figure

    view = _bias_view(tmp_path_factory)  # flat test view: 10 px a cm, proximal up the image
    fig = bias_figure(view, {"proximal": error_cm, "lateral": 0.0, "anterior": 0.0}, height_px=360)
    [arrow] = [a for a in fig.layout.annotations if a.showarrow]
    assert not arrow.text  # nothing drawn on top of the arrow
    screen_per_px = 360 / view.height_px
    length_screen_px = abs(arrow.ay - arrow.y) * screen_per_px
    assert length_screen_px >= MIN_ARROW_SCREEN_PX - 1e-9
    assert arrow.y < arrow.ay  # points up the image: proximal
    notes = [a for a in fig.layout.annotations if not a.showarrow]
    # Any note sits above the image (paper y >= 1), away from the arrow, and says when it is scaled.
    assert all(a.yref == "paper" and a.y >= 1.0 for a in notes)
    true_screen_px = error_cm * 10.0 * screen_per_px
    if true_screen_px < MIN_ARROW_SCREEN_PX:
        assert notes and "its true length" in notes[0].text
    else:
        assert not notes and length_screen_px == pytest.approx(true_screen_px)


def test_recording_an_answer_is_one_store_write_with_every_card(tmp_path: Path) -> None:
    """Issue 12: the attempt and its k FSRS cards in one transaction (it used to take 1 + 2k)."""
    from sqlalchemy import event

    from tests.atlas_factory import good_atlas_data, write_atlas
    from tests.quiz_factory import good_bank, write_bank
    from trainer.atlas import load_atlas
    from trainer.atlas.rendered import load_rendered_view
    from trainer.progress.learning import record_answer
    from trainer.quiz.bank import load_questions
    from trainer.rules.srs import card_ids
    from trainer.scoring.score import Answer, score
    from trainer.store import open_store

    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    atlas = load_atlas(root)
    q = next(x for x in load_questions(atlas, [tmp_path / "quizzes"]) if x.id == "q_locate")
    rv = load_rendered_view("view_a_right", "female", root)
    x, y = rv.items["site_a"].points_px[0]
    result = score(q, Answer(pins_px=((float(x), float(y)),)), rv, atlas)
    with open_store(data_dir=tmp_path / "data") as store:
        ana = store.create_learner("Ana", now=T0)
        begun: list[object] = []

        def on_begin(conn: object) -> None:
            begun.append(conn)

        event.listen(store.engine, "begin", on_begin)
        attempt = record_answer(
            store,
            atlas,
            ana.id,
            q,
            result,
            view_id="view_a_right",
            body_type="female",
            duration_ms=4_000,
            now=T0,
        )
        event.remove(store.engine, "begin", on_begin)
        assert len(begun) == 1
        cards = card_ids(q, atlas)
        assert len(cards) > 1  # the question's own card and its nerve's
        assert store.list_attempts(ana.id) == [attempt]
        stored = {c.card_id: c for c in store.list_review_cards(ana.id)}
        assert set(stored) == set(cards)
        assert all(c.card == review(None, c.card_id, Rating.Easy, T0)[0] for c in stored.values())
