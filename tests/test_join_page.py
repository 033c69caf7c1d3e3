"""The join (phone) page model: joining, each phase's buttons and messages, pins, and submit."""

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
from trainer.live import join_page as model
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import MAX_JOINS_PER_BROWSER_SESSION, LiveSettings, Phase
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


def new_class(store: Store, content: Any, qids: list[str], side: str = "right") -> Any:
    atlas, questions, _ = content
    return live.create_class(
        store,
        atlas,
        questions,
        title="Class",
        question_ids=qids,
        host_key=KEY,
        settings=LiveSettings(time_limit_s=20.0, speed_bonus=False),
        side=side,
        body_type="female",
        now=T0,
        rng=random.Random(5),
    )


def test_joining_gives_a_player_or_a_sentence(store: Store, content: Any) -> None:
    session = new_class(store, content, ["q_locate"])
    ok = model.join_class(store, session.join_code, "Ana", 0, T0)
    assert ok.player is not None and ok.session is not None and ok.player.nickname == "Ana"
    assert model.join_class(store, session.join_code, "ana", 0, T0).error == model.NICKNAME_TAKEN
    assert model.join_class(store, "ABCDEF", "Bo", 0, T0).error == model.NO_SUCH_CLASS
    bad = model.join_class(store, "[x]", "Bo", 0, T0)
    assert bad.player is None and not bad.fixed_text and "join code" in bad.error
    many = model.join_class(store, session.join_code, "Bo", MAX_JOINS_PER_BROWSER_SESSION, T0)
    assert many.player is None and "already joined" in many.error
    back = model.rejoin(store, ok.player.token)
    assert back.player is not None and back.player.id == ok.player.id
    assert model.rejoin(store, "nope").error == model.LINK_INVALID
    assert model.rejoin(store, "") == model.JoinReply()


def test_pins_move_or_add_up_to_the_maximum() -> None:
    pins: list[tuple[float, float]] = []
    for x in range(5):
        pins = model.place_pin(pins, (float(x), 0.0), 3)
    assert pins == [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]
    assert model.place_pin(pins, (9.0, 9.0), 1) == [(9.0, 9.0)]
    assert model.undo_pin(pins) == [(0.0, 0.0), (1.0, 0.0)]
    assert model.undo_pin([]) == []


def test_each_phase_enables_the_right_buttons(content: Any) -> None:
    atlas, questions, _ = content
    locate, multi, trace, ident = (questions[q] for q in ("q_locate", "q_multi", "q_trace", "q_identify"))
    lo, hi = pins_needed(atlas, locate)
    empty = model.answer_area(
        locate, Phase.OPEN, answered=False, sent_message="", pins=0, chosen=0, min_pins=lo, max_pins=hi
    )
    assert empty.can_answer and empty.taps and not empty.submit_enabled and not empty.undo_enabled
    assert empty.hint == "Tap where you would inject." and empty.status == ""
    one = model.answer_area(
        locate, Phase.OPEN, answered=False, sent_message="", pins=1, chosen=0, min_pins=lo, max_pins=hi
    )
    assert one.submit_enabled and one.undo_enabled
    sent = model.answer_area(
        locate,
        Phase.OPEN,
        answered=True,
        sent_message="Answer received.",
        pins=1,
        chosen=0,
        min_pins=lo,
        max_pins=hi,
    )
    assert not sent.can_answer and not sent.taps and sent.status == model.RECEIVED and not sent.already
    again = model.answer_area(
        locate,
        Phase.OPEN,
        answered=True,
        sent_message="Already received: your first answer counts.",
        pins=1,
        chosen=0,
        min_pins=lo,
        max_pins=hi,
    )
    assert again.already.startswith("Already")
    late = model.answer_area(
        locate, Phase.CLOSED, answered=False, sent_message="", pins=1, chosen=0, min_pins=lo, max_pins=hi
    )
    assert late.status == model.TIME_UP and not late.submit_enabled and not late.taps
    lo, hi = pins_needed(atlas, multi)
    m = model.answer_area(
        multi, Phase.OPEN, answered=False, sent_message="", pins=1, chosen=0, min_pins=lo, max_pins=hi
    )
    assert m.instructions == f"Place {lo} pins." and not m.submit_enabled and "1 placed" in m.hint
    lo, hi = pins_needed(atlas, trace)
    t = model.answer_area(
        trace, Phase.OPEN, answered=False, sent_message="", pins=2, chosen=0, min_pins=lo, max_pins=hi
    )
    assert t.instructions.endswith("Then submit.") and t.submit_enabled
    c = model.answer_area(
        ident, Phase.OPEN, answered=False, sent_message="", pins=0, chosen=0, min_pins=0, max_pins=0
    )
    assert not c.taps and not c.submit_enabled and not c.undo_enabled
    c = model.answer_area(
        ident, Phase.OPEN, answered=False, sent_message="", pins=0, chosen=1, min_pins=0, max_pins=0
    )
    assert c.submit_enabled


def test_submit_stores_once_and_refuses_late_or_wrong_question(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate", "q_identify"])
    player = live.join(store, session.join_code, "Ana", T0)[1]
    live.open_next(store, session.id, T0)
    x, y = load_rendered_view("view_a_right", "female", root).items["site_a"].points_px[0]
    args = (store, atlas, questions, session.id, player.token)
    wrong_q = model.send_answer(*args, 1, [(float(x), float(y))], (), T0 + timedelta(seconds=1))
    assert "question 2" in wrong_q.error and not store.list_answers(session.id)
    first = model.send_answer(*args, 0, [(float(x), float(y))], (), T0 + timedelta(seconds=1))
    assert first.message == "Answer received." and not first.error
    second = model.send_answer(*args, 0, [(0.0, 0.0)], (), T0 + timedelta(seconds=2))
    assert second.message.startswith("Already")
    stored = store.list_answers(session.id, 0)
    assert len(stored) == 1 and stored[0].credit == 1.0
    other = live.join(store, session.join_code, "Bo", T0)[1]
    late = model.send_answer(
        store, atlas, questions, session.id, other.token, 0, [(1.0, 1.0)], (), T0 + timedelta(seconds=21)
    )
    assert "Time is up" in late.error


def test_finished_phone_offers_the_same_questions_on_the_same_side(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    session = new_class(store, content, ["q_locate", "q_clinical"], side="left")
    params = model.practise_again_params(session, questions, atlas)
    assert params == {"questions": "q_locate,q_clinical", "side": "left", "body": "female"}
    assert model.practise_again_params(session, {}, atlas) is None
    mixed = new_class(store, content, ["q_locate"], side="mixed")
    assert "side" not in (model.practise_again_params(mixed, questions, atlas) or {})


def test_reveal_tone_and_board_lines() -> None:
    assert [model.reveal_tone(c) for c in (1.0, 0.5, 0.0)] == ["success", "warning", "error"]
    assert model.board_line(live.BoardRow(1, "Ana", 1200, 2, is_you=True)) == "1. Ana — 1200 pts  (you)"
    assert model.board_line(live.BoardRow(2, "You", 900, 2, is_you=True)) == "2. You — 900 pts"
    assert model.own_pins([[1, 2]], [(5.0, 5.0)]) == [(1.0, 2.0)]
    assert model.own_pins({"choices": [0]}, [(5.0, 5.0)]) == [(5.0, 5.0)]


def test_a_learner_sees_only_their_own_answers_after_the_class(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate", "q_clinical"])
    ana, bo = (live.join(store, session.join_code, n, T0)[1] for n in ("Ana", "Bo"))
    live.open_next(store, session.id, T0)
    x, y = load_rendered_view("view_a_right", "female", root).items["site_a"].points_px[0]
    live.submit(store, atlas, questions, session.id, ana.token, [(float(x), float(y) + 20)], T0)
    live.submit(store, atlas, questions, session.id, bo.token, [(float(x), float(y))], T0)
    live.close_now(store, session.id, T0 + timedelta(seconds=1))
    live.reveal_answer(store, session.id, T0 + timedelta(seconds=2))
    live.open_next(store, session.id, T0 + timedelta(seconds=3))
    live.close_now(store, session.id, T0 + timedelta(seconds=4))
    live.reveal_answer(store, session.id, T0 + timedelta(seconds=5))
    s = live.finish_class(store, session.id, T0 + timedelta(seconds=6))
    mine = model.own_results(store, atlas, questions, s, ana.id)
    assert [(r.number, r.answered) for r in mine] == [(1, True), (2, False)]
    assert "2.0 cm" in mine[0].line and "distal" in mine[0].feedback and mine[1].line == "Not answered"
    theirs = model.own_results(store, atlas, questions, s, bo.id)
    assert "100%" in theirs[0].line and "0.0 cm" in theirs[0].line
