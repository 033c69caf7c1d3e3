"""A finished class reopened by its host: every answer and the analytics of each question."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.live import class_review as review
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import LiveSettings
from trainer.store import Store, open_store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEY = "host-secret"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, dict[str, QuestionModel], Path]:
    tmp = tmp_path_factory.mktemp("content")
    root = write_atlas(tmp / "atlas", good_atlas_data())
    write_bank(tmp / "quizzes", good_bank())
    atlas = load_atlas(root)
    return atlas, {q.id: q for q in load_questions(atlas, [tmp / "quizzes"])}, root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(data_dir=tmp_path / "data")
    yield s
    s.close()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def played(store: Store, content: Any, finish: bool = True) -> dict[str, Any]:
    """A class of a locate and a choice question: Ana 2 cm distal then right, Bo on the target
    then wrong, Cy never answers. Finished unless ``finish`` is False (then left revealed)."""
    atlas, questions, root = content
    session = live.create_class(
        store,
        atlas,
        questions,
        title="Ankle <b>block</b>",
        question_ids=["q_locate", "q_clinical"],
        host_key=KEY,
        settings=LiveSettings(time_limit_s=20.0, speed_bonus=False),
        side="right",
        body_type="female",
        now=T0,
        rng=random.Random(5),
    )
    ana, bo, cy = (live.join(store, session.join_code, n, T0)[1] for n in ("Ana", "Bo", "Cy"))
    x, y = (float(v) for v in load_rendered_view("view_a_right", "female", root).items["site_a"].points_px[0])
    live.open_next(store, session.id, at(0))
    live.submit(store, atlas, questions, session.id, ana.token, [(x, y + 20)], at(1))
    live.submit(store, atlas, questions, session.id, bo.token, [(x, y)], at(1))
    live.close_now(store, session.id, at(2))
    live.reveal_answer(store, session.id, at(3))
    s = live.open_next(store, session.id, at(4))
    order = live.choice_order(s, 1, 2)
    yes = order.index(0)  # "Yes" (file index 0) is right; this is where the phones showed it
    live.submit(store, atlas, questions, session.id, ana.token, [], at(5), choices=(yes,), question_index=1)
    live.submit(
        store, atlas, questions, session.id, bo.token, [], at(5), choices=(1 - yes,), question_index=1
    )
    live.close_now(store, session.id, at(6))
    s = live.reveal_answer(store, session.id, at(7))
    if finish:
        s = live.finish_class(store, session.id, at(8))
    return {"session": s, "ana": ana, "bo": bo, "cy": cy, "xy": (x, y), "yes": yes}


def test_the_host_reopens_a_finished_class_with_every_answer_and_the_analytics(
    store: Store, content: Any
) -> None:
    atlas, questions, _ = content
    c = played(store, content)
    data = review.review_class(store, atlas, questions, c["session"])
    assert (data.title, data.join_code, data.players) == ("Ankle <b>block</b>", c["session"].join_code, 3)
    assert [(r.name, r.points) for r in data.board] == [("Ana", 1500), ("Bo", 1000), ("Cy", 0)]
    pin, choice = data.questions

    # The pin question: two answers of three, one on the target and one 2 cm off.
    assert (pin.number, pin.answered, pin.players, pin.pins, pin.bars) == (1, 2, 3, 2, ())
    assert pin.correct_fraction == pytest.approx(0.5)
    assert pin.median_distance_cm == pytest.approx(1.0, abs=0.05)  # median of 0 and 2 cm
    assert pin.right_answer == atlas.name_of("site_a")
    assert dict(review.headline(pin))["Median distance"] == "1.0 cm"
    assert dict(review.headline(pin))["Correct"] == "50%"
    assert review.pin_summary(pin).startswith("2 pins placed.")
    rows = {r["Player"]: r for r in review.answer_rows(pin)}
    assert rows["Ana"]["Distance (cm)"] == pytest.approx(2.0, abs=0.05) and rows["Ana"]["Answer"] == "1 pin"
    assert rows["Bo"]["Score %"] == 100
    assert rows["Cy"] == {
        "Player": "Cy",
        "Answer": "no answer",
        "Score %": None,
        "Points": None,
        "Distance (cm)": None,
    }

    # The choice question: bars in the phones' order, the right one marked, no distances.
    assert choice.right_answer == "Yes" and choice.median_distance_cm is None and choice.pins == 0
    assert [(b.count, b.correct) for b in choice.bars][c["yes"]] == (1, True)
    assert sum(b.count for b in choice.bars) == 2
    assert choice.correct_fraction == pytest.approx(0.5) and review.pin_summary(choice) == ""
    rows = {r["Player"]: r for r in review.answer_rows(choice)}
    assert rows["Ana"]["Answer"] == f"{c['yes'] + 1}. Yes"
    assert rows["Bo"]["Answer"] == f"{2 - c['yes']}. No" and rows["Bo"]["Score %"] == 0
    assert choice.explanation == "Because of anatomy."

    # The history offers to review a finished class and to resume one still running.
    assert review.history_label(c["session"]) == "Review"
    assert review.history_label(store.get_session(played(store, content, finish=False)["session"].id)) == (
        "Resume"
    )


def test_a_class_ended_early_reviews_only_the_questions_shown(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    c = played(store, content, finish=False)
    s = live.finish_class(store, c["session"].id, at(9))
    assert [r.number for r in review.review_class(store, atlas, questions, s).questions] == [1, 2]
    empty = live.create_class(
        store,
        atlas,
        questions,
        title="Nobody came",
        question_ids=["q_locate"],
        host_key=KEY,
        settings=LiveSettings(),
        side="right",
        body_type="female",
        now=T0,
    )
    done = live.finish_class(store, empty.id, T0)
    data = review.review_class(store, atlas, questions, done)
    assert data.questions == () and data.board == () and data.players == 0
