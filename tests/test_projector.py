"""The projector view: its page model (what each phase shows) and the page in AppTest (host key,
no pins or answer before the reveal, a bar chart of choices after it, the leaderboard)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from tests.test_live_apptest import KEY, all_text, make_class, open_page
from trainer.atlas import load_atlas
from trainer.live import projector_page as model
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.rules.classroom import Phase


@pytest.fixture()
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(atlas_root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    monkeypatch.delenv("TRAINER_BASE_URL", raising=False)
    return tmp_path


def projector(session_id: str) -> object:
    at = open_page("projector", session=session_id)
    at.text_input(key="proj_key_input").set_value(KEY)
    at.button(key="proj_login_go").click().run()
    assert not at.exception, at.exception
    return at


def test_the_projector_needs_the_host_key(content: Path) -> None:
    _, session = make_class(content, ["q_locate"])
    at = open_page("projector", session=session.id)
    assert at.text_input(key="proj_key_input") and session.join_code not in all_text(at)


def test_a_choice_question_shows_options_then_a_bar_chart_and_the_leaderboard(content: Path) -> None:
    store, session = make_class(content, ["q_clinical"])
    atlas = load_atlas(content / "atlas")
    questions = {q.id: q for q in load_questions(atlas, [content / "quizzes"])}
    at = projector(session.id)
    assert session.join_code in all_text(at)  # the lobby shows the code
    ana = live.join(store, session.join_code, "Ana", datetime.now(UTC))[1]
    live.open_next(store, session.id, datetime.now(UTC))
    at.run()
    shown = all_text(at)
    assert "1. " in shown and "2. " in shown and "✓" not in shown and "0 / 1 answered" in shown
    order = live.choice_order(store.get_session(session.id), 0, 2)
    live.submit(
        store, atlas, questions, session.id, ana.token, [], datetime.now(UTC), choices=(order.index(0),)
    )
    live.close_now(store, session.id, datetime.now(UTC))
    live.reveal_answer(store, session.id, datetime.now(UTC) + timedelta(seconds=1))
    at.run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    bars = json.loads(charts[0].proto.spec)["data"][0]
    assert bars["type"] == "bar" and sorted(bars["x"]) == [0, 1] and any("✓" in y for y in bars["y"])
    assert "1. Ana — " in all_text(at)


def test_a_pin_question_shows_no_pins_before_the_reveal(content: Path) -> None:
    store, session = make_class(content, ["q_locate"])
    ana = live.join(store, session.join_code, "Ana", datetime.now(UTC))[1]
    atlas = load_atlas(content / "atlas")
    questions = {q.id: q for q in load_questions(atlas, [content / "quizzes"])}
    live.open_next(store, session.id, datetime.now(UTC))
    live.submit(store, atlas, questions, session.id, ana.token, [(40.0, 50.0)], datetime.now(UTC))
    at = projector(session.id)
    assert "1 / 1 answered" in all_text(at)
    assert not at.get("plotly_chart")  # no heatmap, no figure carrying pins
    live.close_now(store, session.id, datetime.now(UTC))
    live.reveal_answer(store, session.id, datetime.now(UTC) + timedelta(seconds=1))
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1 and "1 of 1 answered" in all_text(at)
    live.finish_class(store, session.id, datetime.now(UTC) + timedelta(seconds=2))
    at.run()
    assert "Final results" in all_text(at) and "🥇 Ana" in all_text(at)


def test_projector_model_counts_and_bars(content: Path) -> None:
    store, session = make_class(content, ["q_clinical"])
    atlas = load_atlas(content / "atlas")
    questions = {q.id: q for q in load_questions(atlas, [content / "quizzes"])}
    t0 = datetime.now(UTC)
    opened = live.open_next(store, session.id, t0)
    assert model.counts(opened, 3, 10, t0 + timedelta(seconds=10)) == model.Counts("3 / 10 answered", "50 s")
    assert model.counts(opened, 3, 10, t0 + timedelta(seconds=70)).clock == "time is up"
    paused = live.pause_clock(store, session.id, t0 + timedelta(seconds=20))
    assert model.counts(paused, 0, 1, t0 + timedelta(seconds=90)).clock == "40 s · paused"
    q = questions["q_clinical"]
    order = live.choice_order(paused, 0, 2)
    bars = model.choice_bars(q, order, (4, 1))
    assert [b.count for b in bars] == [(4, 1)[i] for i in order]
    assert [b.correct for b in bars] == [i == 0 for i in order]
    assert model.choice_bars(q, (), (4, 1)) == []
    assert model.numbered_options(q, order)[0].startswith("1. ")
    assert model.shows_pins(Phase.REVEALED) and not model.shows_pins(Phase.OPEN)
    row = live.BoardRow(1, "Ana", 1500, 1)
    assert model.podium([row]) == ["🥇 Ana — 1500 pts"] and model.leaderboard_lines([row]) == [
        "1. Ana — 1500"
    ]
