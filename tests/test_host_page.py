"""The host page model: which questions a class gets, the controls of each phase, what a press
stores, and what the lobby and the reveal say."""

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
from trainer.errors import RuleError
from trainer.live import host_page as model
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import LiveSettings, Phase
from trainer.store import Store, open_store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEY = "host-secret"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, dict[str, QuestionModel]]:
    tmp = tmp_path_factory.mktemp("content")
    root = write_atlas(tmp / "atlas", good_atlas_data())
    write_bank(tmp / "quizzes", good_bank())
    atlas = load_atlas(root)
    questions = {q.id: q for q in load_questions(atlas, [tmp / "quizzes"])}
    return atlas, {qid: q for qid, q in questions.items() if live.is_live_question(q)}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(data_dir=tmp_path / "data")
    yield s
    s.close()


def new_class(store: Store, content: Any, qids: list[str]) -> Any:
    atlas, questions = content
    return live.create_class(
        store,
        atlas,
        questions,
        title="Class",
        question_ids=qids,
        host_key=KEY,
        settings=LiveSettings(time_limit_s=20.0),
        side="right",
        body_type="female",
        now=T0,
        rng=random.Random(5),
    )


def test_questions_are_picked_by_hand_or_sliced_from_banks_and_filters(content: Any) -> None:
    atlas, questions = content
    banks = {"bank_a": ("Bank A", ["q_trace", "q_locate", "q_case", "q_locate"]), "empty": ("E", ["q_case"])}
    assert model.bank_choices(banks, questions) == ["bank_a"]
    kw: dict[str, Any] = {"regions": (), "types": (), "count": 5}
    assert model.choose_question_ids(
        atlas, questions, banks, picked=["q_clinical", "q_locate"], bank_ids=["bank_a"], **kw
    ) == [
        "q_clinical",
        "q_locate",
    ]
    # Order of the bank, duplicates once, cases (not live) dropped, then the first N.
    assert model.choose_question_ids(atlas, questions, banks, picked=[], bank_ids=["bank_a"], **kw) == [
        "q_trace",
        "q_locate",
    ]
    assert model.choose_question_ids(
        atlas, questions, banks, picked=[], bank_ids=["bank_a"], regions=(), types=(), count=1
    ) == ["q_trace"]
    only_locate = model.choose_question_ids(
        atlas, questions, banks, picked=[], bank_ids=[], regions=(), types=("locate",), count=5
    )
    assert only_locate == ["q_locate"]


def test_each_phase_offers_its_controls() -> None:
    def keys(phase: Phase, last: bool = False) -> list[tuple[str, str, bool]]:
        return [(c.key, c.action, c.primary) for c in model.controls(phase, last)]

    assert keys(Phase.LOBBY) == [("host_start", "open", True), ("host_finish", "finish", False)]
    assert keys(Phase.OPEN) == [("host_close", "close", True)]
    assert keys(Phase.CLOSED) == [("host_reveal", "reveal", True)]
    assert keys(Phase.REVEALED) == [("host_next", "open", True), ("host_finish", "finish", False)]
    assert keys(Phase.REVEALED, last=True) == [("host_finish", "finish", True)]
    assert keys(Phase.FINISHED) == []


def test_a_control_press_moves_the_class_or_says_why_not(store: Store, content: Any) -> None:
    session = new_class(store, content, ["q_locate"])
    assert model.act(store, session.id, "open", T0) == ""
    assert store.get_session(session.id).state is Phase.OPEN
    refused = model.act(store, session.id, "reveal", T0 + timedelta(seconds=1))
    assert "close the question first" in refused and store.get_session(session.id).state is Phase.OPEN
    assert model.act(store, session.id, "close", T0 + timedelta(seconds=2)) == ""
    assert model.act(store, session.id, "reveal", T0 + timedelta(seconds=3)) == ""
    assert "no next question" in model.act(store, session.id, "open", T0 + timedelta(seconds=4))
    assert model.act(store, session.id, "finish", T0 + timedelta(seconds=5)) == ""
    s = store.get_session(session.id)
    assert s.state is Phase.FINISHED and model.header_caption(s) == "FINISHED · question 1 of 1"


def test_lobby_status_and_time_left(store: Store, content: Any) -> None:
    empty = model.lobby_status([], 3)
    assert empty.waiting and empty.joined == "0 / 3" and not empty.full_warning
    full = model.lobby_status(["Ana", "Bo", "Cy"], 3)
    assert full.names == "Ana   Bo   Cy" and "class is full" in full.full_warning and not full.waiting
    session = new_class(store, content, ["q_locate"])
    assert model.time_left_text(session, T0) == "closed"
    opened = live.open_next(store, session.id, T0)
    assert model.time_left_text(opened, T0 + timedelta(seconds=5)) == "15 s"
    assert model.needs_full_run((session.id, "lobby", -1, False), opened)
    assert not model.needs_full_run((session.id, "open", 0, False), opened)


def test_pins_stay_hidden_unless_the_host_peeks_off_the_projector() -> None:
    assert not model.show_live_pins(peek=False, fullscreen=False)
    assert not model.show_live_pins(peek=True, fullscreen=True)
    assert model.show_live_pins(peek=True, fullscreen=False)
    assert (
        model.peek_offered(True, 1) and not model.peek_offered(True, 0) and not model.peek_offered(False, 1)
    )


def test_reveal_numbers_and_the_choice_table(store: Store, content: Any) -> None:
    atlas, questions = content
    session = new_class(store, content, ["q_clinical"])
    ana, bo = (live.join(store, session.join_code, n, T0)[1] for n in ("Ana", "Bo"))
    live.open_next(store, session.id, T0)
    order = live.choice_order(store.get_session(session.id), 0, 2)
    right_at = order.index(0)  # "Yes" (file index 0) is the right option
    live.submit(store, atlas, questions, session.id, ana.token, [], T0, choices=(right_at,), question_index=0)
    live.submit(
        store, atlas, questions, session.id, bo.token, [], T0, choices=(1 - right_at,), question_index=0
    )
    live.close_now(store, session.id, T0 + timedelta(seconds=1))
    session = live.reveal_answer(store, session.id, T0 + timedelta(seconds=2))
    stats = live.reveal_stats(store, atlas, questions, session, 0)
    assert model.reveal_metrics(stats) == [("Correct", "50%")]
    rows = model.choice_rows(questions["q_clinical"], order, stats)
    assert [r["Shown as"] for r in rows] == [1, 2]
    assert rows[right_at] == {"Shown as": right_at + 1, "Option": "Yes ✓", "Chosen by": 1}
    assert rows[1 - right_at]["Option"] == "No" and rows[1 - right_at]["Chosen by"] == 1
    assert model.choice_rows(questions["q_clinical"], (), stats) == []
    board = model.board_rows(live.leaderboard(store, session))
    assert board[0]["Name"] == "Ana" and board[0]["Rank"] == 1 and board[1]["Points"] == 0


def test_clock_controls_follow_the_phase_and_the_pause() -> None:
    def keys(phase: Phase, paused: bool = False, last: bool = False) -> list[str]:
        return [c.key for c in model.clock_controls(phase, paused, last)]

    assert keys(Phase.OPEN) == ["host_pause", "host_add_time", "host_skip", "host_end"]
    assert keys(Phase.OPEN, paused=True)[0] == "host_resume"
    assert keys(Phase.CLOSED) == ["host_skip", "host_end"]
    assert model.clock_controls(Phase.CLOSED, False, True)[0].label == "Skip and finish"
    assert keys(Phase.LOBBY) == keys(Phase.REVEALED) == keys(Phase.FINISHED) == []


def test_clock_presses_and_the_roster_go_through_the_store(store: Store, content: Any) -> None:
    session = new_class(store, content, ["q_locate"])
    ana, bo = (live.join(store, session.join_code, n, T0)[1] for n in ("Ana", "Bo"))
    model.act(store, session.id, "open", T0)
    assert model.act(store, session.id, "pause", T0 + timedelta(seconds=4)) == ""
    paused = store.get_session(session.id)
    assert model.time_left_text(paused, T0 + timedelta(seconds=50)) == "16 s (paused)"
    assert model.snapshot(paused)[3] and model.needs_full_run((session.id, "open", 0, False), paused)
    assert "already paused" in model.act(store, session.id, "pause", T0 + timedelta(seconds=5))
    assert model.act(store, session.id, "resume", T0 + timedelta(seconds=10)) == ""
    assert model.act(store, session.id, "add_time", T0 + timedelta(seconds=11)) == ""
    assert store.get_session(session.id).question_closes_at == T0 + timedelta(seconds=56)
    assert model.manage_player(store, session.id, ana.id, "rename", "Anna") == (True, "Renamed to Anna.")
    ok, said = model.manage_player(store, session.id, bo.id, "rename", "anna")
    assert not ok and "already taken" in said
    assert model.manage_player(store, session.id, bo.id, "remove") == (True, "Removed, with 0 answers.")
    assert model.manage_player(store, session.id, bo.id, "remove") == (
        False,
        "That player is not in this class.",
    )
    assert model.act(store, session.id, "skip", T0 + timedelta(seconds=12)) == ""
    assert store.get_session(session.id).state is Phase.FINISHED  # the only question was skipped
    assert "already finished" in model.act(store, session.id, "end", T0 + timedelta(seconds=13))


def test_a_finished_class_runs_again_for_a_new_group(store: Store, content: Any) -> None:
    atlas, questions = content
    session = new_class(store, content, ["q_locate", "q_clinical"])
    live.join(store, session.join_code, "Ana", T0)
    live.finish_class(store, session.id, T0)
    again = model.rerun_class(
        store, atlas, questions, store.get_session(session.id), KEY, T0, random.Random(9)
    )
    assert again.id != session.id and again.join_code != session.join_code and again.state is Phase.LOBBY
    assert again.question_ids == session.question_ids and again.live_settings() == session.live_settings()
    assert again.settings["view_ids"] == session.settings["view_ids"] and store.list_players(again.id) == []
    with pytest.raises(RuleError, match="q_locate"):
        model.rerun_class(
            store, atlas, {"q_clinical": questions["q_clinical"]}, session, KEY, T0, random.Random(1)
        )
