"""Host controls as pure rules: pause and resume the clock, add time, skip a question, end early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trainer.errors import RuleError
from trainer.rules.classroom import (
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
