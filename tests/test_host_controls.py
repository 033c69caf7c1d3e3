"""Host controls as pure rules: pause and resume the clock, add time, skip a question, end early."""

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
from trainer.errors import ConflictError, NotFoundError, RuleError
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import (
    LiveSettings,
    Phase,
    SessionState,
    check_answer_allowed,
    close_question,
    elapsed_s,
    end_class,
    extend_time,
    new_session_state,
    open_question,
    pause_clock,
    resume_clock,
    reveal,
    skip_question,
    time_left_s,
)
from trainer.store import Store, open_store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def opened(n: int = 2, limit_s: float = 20.0) -> SessionState:
    return open_question(new_session_state(n), T0, limit_s)


def test_a_paused_clock_stands_still_and_resumes_where_it_stopped() -> None:
    s = pause_clock(opened(), at(5))
    assert time_left_s(s, at(5)) == 15 and time_left_s(s, at(100)) == 15
    assert elapsed_s(s, at(100)) == 5  # an answer during the pause is timed as at the pause
    check_answer_allowed(s, at(100), 0)  # the question is still open during the pause
    r = resume_clock(s, at(65))
    assert r.paused_at is None and r.closes_at == at(80) and r.opened_at == at(60)
    assert time_left_s(r, at(70)) == 10 and elapsed_s(r, at(70)) == 10
    with pytest.raises(RuleError, match="Time is up"):
        check_answer_allowed(r, at(80), 0)


def test_pause_and_resume_are_refused_when_they_make_no_sense() -> None:
    with pytest.raises(RuleError, match="already up"):
        pause_clock(opened(), at(20))
    with pytest.raises(RuleError, match="already paused"):
        pause_clock(pause_clock(opened(), at(1)), at(2))
    with pytest.raises(RuleError, match="not paused"):
        resume_clock(opened(), at(1))
    with pytest.raises(RuleError, match="only while a question is open"):
        pause_clock(new_session_state(2), at(1))


def test_closing_a_paused_question_closes_it_now() -> None:
    c = close_question(pause_clock(opened(), at(5)), at(9))
    assert c.phase is Phase.CLOSED and c.closes_at == at(9) and c.paused_at is None


def test_added_time_moves_the_close_and_is_bounded() -> None:
    s = extend_time(opened(), at(10), 30)
    assert s.closes_at == at(50) and time_left_s(s, at(10)) == 40
    assert extend_time(pause_clock(opened(), at(5)), at(6)).closes_at == at(50)
    with pytest.raises(RuleError, match="already up"):
        extend_time(opened(), at(21))
    with pytest.raises(RuleError, match="between 1 and 600"):
        extend_time(opened(), at(1), 0)
    with pytest.raises(RuleError, match="only while a question is open"):
        extend_time(close_question(opened(), at(1)), at(2))
    long = opened(limit_s=600)
    long = extend_time(long, at(1), 600)
    with pytest.raises(RuleError, match="at most 20 minutes"):
        extend_time(long, at(2), 1)


def test_skipping_opens_the_next_question_without_a_reveal_or_finishes() -> None:
    s = skip_question(opened(), at(4), 20)
    assert s.phase is Phase.OPEN and s.current_index == 1 and s.opened_at == at(4) and s.closes_at == at(24)
    last = skip_question(close_question(s, at(5)), at(6), 20)
    assert last.phase is Phase.FINISHED and last.closes_at == at(5)
    with pytest.raises(RuleError, match="skip an open or closed question"):
        skip_question(reveal(close_question(opened(), at(1))), at(2), 20)
    paused_skip = skip_question(pause_clock(opened(), at(3)), at(9), 20)
    assert paused_skip.paused_at is None and paused_skip.current_index == 1


def test_ending_early_works_from_any_phase_once() -> None:
    lobby = end_class(new_session_state(2), at(0))
    assert lobby.phase is Phase.FINISHED
    mid = end_class(opened(), at(7))
    assert mid.phase is Phase.FINISHED and mid.closes_at == at(7)
    with pytest.raises(RuleError, match="Answers are not being accepted"):
        check_answer_allowed(mid, at(8), 0)
    assert end_class(close_question(opened(), at(3)), at(5)).closes_at == at(3)
    with pytest.raises(RuleError, match="already finished"):
        end_class(lobby, at(1))


# --------------------------------------------------------------------------------------------
# Through the service and the store (SQLite here; the store contract runs both backends)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, dict[str, QuestionModel]]:
    tmp = tmp_path_factory.mktemp("content")
    root = write_atlas(tmp / "atlas", good_atlas_data())
    write_bank(tmp / "quizzes", good_bank())
    atlas = load_atlas(root)
    return atlas, {q.id: q for q in load_questions(atlas, [tmp / "quizzes"])}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(data_dir=tmp_path / "data")
    else:
        s = open_store(url=request.getfixturevalue("pg_database_url"))
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
        host_key="host-secret",
        settings=LiveSettings(time_limit_s=20.0, speed_bonus=True),
        side="right",
        body_type="female",
        now=T0,
        rng=random.Random(5),
    )


def test_a_paused_class_is_stored_and_every_reader_sees_the_frozen_clock(store: Store, content: Any) -> None:
    atlas, questions = content
    session = new_class(store, content, ["q_clinical", "q_locate"])
    ana = live.join(store, session.join_code, "Ana", T0)[1]
    live.open_next(store, session.id, T0)
    paused = live.pause_clock(store, session.id, at(5))
    clock = store.session_clock(session.id)
    assert live.is_paused(paused) and live.is_paused(clock)
    # Long after the original close time the question is still open, with 15 s on the clock.
    assert live.effective_phase(clock, at(60)) is Phase.OPEN and live.seconds_left(clock, at(60)) == 15
    assert live.tick(store, session.id, at(60)).state is Phase.OPEN
    live.submit(store, atlas, questions, session.id, ana.token, [], at(60), choices=(0,), question_index=0)
    resumed = live.resume_clock(store, session.id, at(70))
    assert resumed.question_closes_at == at(85) and not live.is_paused(resumed)
    longer = live.add_time(store, session.id, at(71))
    assert longer.question_closes_at == at(115)
    assert live.effective_phase(store.session_clock(session.id), at(114)) is Phase.OPEN
    skipped = live.skip_question(store, session.id, at(72))
    assert skipped.state is Phase.OPEN and skipped.current_index == 1
    assert len(store.list_answers(session.id, 0)) == 1  # the skipped question's answer is kept
    ended = live.end_class(store, session.id, at(73))
    assert ended.state is Phase.FINISHED
    with pytest.raises(RuleError):
        live.pause_clock(store, session.id, at(74))


def test_a_removed_player_is_gone_everywhere_and_a_renamed_one_follows_the_rules(
    store: Store, content: Any
) -> None:
    atlas, questions = content
    session = new_class(store, content, ["q_clinical"])
    ana, bo, cy = (live.join(store, session.join_code, n, T0)[1] for n in ("Ana", "Bo", "Cy"))
    live.open_next(store, session.id, T0)
    for p in (ana, bo):
        live.submit(store, atlas, questions, session.id, p.token, [], at(1), choices=(0,), question_index=0)
    assert live.remove_player(store, session.id, bo.id) == 1
    assert [p.nickname for p in store.list_players(session.id)] == ["Ana", "Cy"]
    assert [r.name for r in live.leaderboard(store, session)] == ["Ana", "Cy"]
    assert len(store.list_answers(session.id, 0)) == 1
    with pytest.raises(NotFoundError):
        live.rejoin(store, bo.token)
    with pytest.raises(NotFoundError):
        live.remove_player(store, session.id, bo.id)
    renamed = live.rename_player(store, session.id, cy.id, "  Cyrus ")
    assert renamed.nickname == "Cyrus" and live.rejoin(store, cy.token)[1].nickname == "Cyrus"
    with pytest.raises(ConflictError):
        live.rename_player(store, session.id, cy.id, "ANA")
    with pytest.raises(RuleError):
        live.rename_player(store, session.id, cy.id, "   ")
    other = new_class(store, content, ["q_clinical"])
    with pytest.raises(NotFoundError):
        live.rename_player(store, other.id, ana.id, "Zed")
