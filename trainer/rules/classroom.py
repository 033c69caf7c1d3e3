"""Pure rules of a live class: state machine, timing, points, join codes, nicknames, host keys.

Everything here is deterministic and free of IO, in the style of py-fsrs: the caller passes
the time (``now``, a UTC-aware datetime taken on the *server*), inputs are never mutated, and
every transition returns a new frozen :class:`SessionState` or raises
:class:`~trainer.errors.RuleError` with a sentence a host can read. The store persists these
states; the UI only renders them. Keeping the rules here means they are tested without a
database or a browser, and every server process applies exactly the same ones.

The life of a session::

    lobby ──open──▶ open ──close──▶ closed ──reveal──▶ revealed ──open (next)──▶ open …
      │                                                  │
      └──────────────finish──────────────────────────────┴──finish──▶ finished

While a question is open the host may also pause and resume its clock, add time, or skip it
(straight to the next question, no reveal); ``end_class`` finishes from any phase.

>>> from datetime import datetime, timezone
>>> t0 = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
>>> s = new_session_state(question_count=2)
>>> s = open_question(s, now=t0, time_limit_s=20)
>>> (s.phase.value, s.current_index, answer_allowed(s, t0))
('open', 0, True)
>>> s = reveal(close_question(s, now=t0))
>>> s.phase.value
'revealed'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from trainer.clock import require_utc
from trainer.errors import RuleError
from trainer.rules.class_access import (
    JOIN_CODE_ALPHABET,
    JOIN_CODE_LENGTH,
    check_host_key,
    generate_join_code,
    hash_host_key,
    normalise_join_code,
)
from trainer.rules.nicknames import (
    NICKNAME_MAX_CHARS,
    clean_nickname,
    display_length,
    nickname_key,
    nickname_shape_key,
)

__all__ = [
    "BASE_POINTS",
    "DEFAULT_MAX_PLAYERS",
    "JOIN_CODE_ALPHABET",
    "JOIN_CODE_LENGTH",
    "MAX_JOINS_PER_BROWSER_SESSION",
    "MAX_PLAYERS_LIMIT",
    "NICKNAME_MAX_CHARS",
    "SPEED_BONUS_MAX_POINTS",
    "LiveSettings",
    "Phase",
    "SessionState",
    "answer_allowed",
    "check_answer_allowed",
    "check_browser_joins",
    "check_host_key",
    "check_room_for_player",
    "clean_nickname",
    "close_question",
    "display_length",
    "elapsed_s",
    "end_class",
    "extend_time",
    "finish",
    "generate_join_code",
    "hash_host_key",
    "is_last_question",
    "new_session_state",
    "nickname_key",
    "nickname_shape_key",
    "normalise_join_code",
    "open_question",
    "pause_clock",
    "points_at",
    "points_for",
    "resume_clock",
    "reveal",
    "skip_question",
    "time_left_s",
]


# --------------------------------------------------------------------------------------------
# State machine
# --------------------------------------------------------------------------------------------


class Phase(StrEnum):
    """Where a live session is. Stored as its string value."""

    LOBBY = "lobby"
    OPEN = "open"
    CLOSED = "closed"
    REVEALED = "revealed"
    FINISHED = "finished"


@dataclass(frozen=True)
class SessionState:
    """The rule-relevant part of a live session.

    ``current_index`` is -1 in the lobby and otherwise the 0-based index of the question that
    is (or was last) on screen. ``opened_at``/``closes_at`` are the server's time stamps for
    that question; answers are accepted in ``[opened_at, closes_at)``. ``paused_at`` is set
    while the host has stopped the clock: the question stays open (answers still count, as
    at the moment of the pause) and the close time moves on by the pause when it resumes.
    """

    phase: Phase
    current_index: int
    question_count: int
    opened_at: datetime | None = None
    closes_at: datetime | None = None
    paused_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "phase", Phase(self.phase))
        if self.question_count < 0:
            raise ValueError("question_count must be >= 0")
        if self.current_index < -1 or self.current_index >= max(self.question_count, 1):
            raise ValueError(f"current_index {self.current_index} out of range")
        for name in ("opened_at", "closes_at", "paused_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, require_utc(value, name))


def new_session_state(question_count: int) -> SessionState:
    """A session waiting in the lobby."""
    return SessionState(phase=Phase.LOBBY, current_index=-1, question_count=question_count)


def _refuse(state: SessionState, action: str, allowed: str) -> RuleError:
    return RuleError(f"Cannot {action} while the session is {state.phase.value}; {allowed}.")


def open_question(state: SessionState, now: datetime, time_limit_s: float) -> SessionState:
    """Open the first question (from the lobby) or the next one (after a reveal).

    The close time is fixed now, on the server, so every process agrees on it.
    """
    now = require_utc(now)
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise RuleError(f"The time per question must be a positive number of seconds, not {time_limit_s!r}.")
    if state.phase is Phase.LOBBY:
        next_index = 0
    elif state.phase is Phase.REVEALED:
        next_index = state.current_index + 1
    else:
        raise _refuse(state, "open a question", "open from the lobby or after the reveal")
    if next_index >= state.question_count:
        raise RuleError(
            "There is no next question: the session has "
            f"{state.question_count} question(s). Finish the session instead."
        )
    return replace(
        state,
        phase=Phase.OPEN,
        current_index=next_index,
        opened_at=now,
        closes_at=now + timedelta(seconds=time_limit_s),
    )


def close_question(state: SessionState, now: datetime) -> SessionState:
    """Stop accepting answers. Closing early moves the close time back to ``now``."""
    now = require_utc(now)
    if state.phase is not Phase.OPEN:
        raise _refuse(state, "close the question", "only an open question can be closed")
    closes_at = state.closes_at if state.closes_at is not None and state.closes_at <= now else now
    if state.paused_at is not None:
        closes_at = now  # a paused clock has not run out: closing it is closing now
    return replace(state, phase=Phase.CLOSED, closes_at=closes_at, paused_at=None)


def reveal(state: SessionState) -> SessionState:
    """Show the answer; only after the question is closed, so nobody answers having seen it."""
    if state.phase is not Phase.CLOSED:
        raise _refuse(state, "reveal the answer", "close the question first")
    return replace(state, phase=Phase.REVEALED)


def finish(state: SessionState) -> SessionState:
    """End the session from the lobby or after a reveal (the host may stop early).

    Not from an open or closed question: the answers in flight would never be revealed.
    """
    if state.phase not in (Phase.LOBBY, Phase.REVEALED):
        raise _refuse(state, "finish the session", "finish from the lobby or after a reveal")
    return replace(state, phase=Phase.FINISHED)


def _open_and_running(state: SessionState, now: datetime, action: str) -> None:
    """Refuse a clock control unless a question is open and its time has not run out."""
    if state.phase is not Phase.OPEN:
        raise _refuse(state, action, "only while a question is open")
    if state.paused_at is None and state.closes_at is not None and now >= state.closes_at:
        raise RuleError(f"Cannot {action}: the time is already up.")


def pause_clock(state: SessionState, now: datetime) -> SessionState:
    """Stop the open question's clock; answers still count, timed as at the pause."""
    now = require_utc(now)
    _open_and_running(state, now, "pause the clock")
    if state.paused_at is not None:
        raise RuleError("The clock is already paused.")
    return replace(state, paused_at=now)


def resume_clock(state: SessionState, now: datetime) -> SessionState:
    """Restart a paused clock: opening and close times move on by the length of the pause."""
    now = require_utc(now)
    if state.phase is not Phase.OPEN or state.paused_at is None:
        raise RuleError("The clock is not paused.")
    gap = max(now - state.paused_at, timedelta(0))
    return replace(
        state,
        opened_at=None if state.opened_at is None else state.opened_at + gap,
        closes_at=None if state.closes_at is None else state.closes_at + gap,
        paused_at=None,
    )


#: The most seconds one question may run in all (the longest limit plus ten extra minutes).
MAX_QUESTION_S = 1200.0


def extend_time(state: SessionState, now: datetime, seconds: float = 30.0) -> SessionState:
    """Give the open question ``seconds`` more (paused or running, not once time is up)."""
    now = require_utc(now)
    if not (math.isfinite(seconds) and 0 < seconds <= 600):
        raise RuleError("Extra time must be between 1 and 600 seconds.")
    _open_and_running(state, now, "add time")
    assert state.closes_at is not None and state.opened_at is not None
    closes_at = state.closes_at + timedelta(seconds=seconds)
    if (closes_at - state.opened_at).total_seconds() > MAX_QUESTION_S:
        raise RuleError(f"A question runs at most {MAX_QUESTION_S / 60:.0f} minutes in all.")
    return replace(state, closes_at=closes_at)


def skip_question(state: SessionState, now: datetime, time_limit_s: float) -> SessionState:
    """Leave the question on screen without a reveal: open the next one, or finish after the last.

    Answers already given to the skipped question are kept (and counted).
    """
    now = require_utc(now)
    if state.phase not in (Phase.OPEN, Phase.CLOSED):
        raise _refuse(state, "skip the question", "skip an open or closed question")
    if is_last_question(state):
        return replace(state, phase=Phase.FINISHED, closes_at=_closed_by(state, now), paused_at=None)
    passed = replace(state, phase=Phase.REVEALED, closes_at=_closed_by(state, now), paused_at=None)
    return open_question(passed, now, time_limit_s)


def end_class(state: SessionState, now: datetime) -> SessionState:
    """Finish the class now, from any phase; an open question stops taking answers now."""
    now = require_utc(now)
    if state.phase is Phase.FINISHED:
        raise RuleError("The class has already finished.")
    closes_at = _closed_by(state, now) if state.phase is Phase.OPEN else state.closes_at
    return replace(state, phase=Phase.FINISHED, closes_at=closes_at, paused_at=None)


def _closed_by(state: SessionState, now: datetime) -> datetime | None:
    """The close time of a question stopped at ``now`` (earlier if its time had run out)."""
    if state.phase is not Phase.OPEN:
        return state.closes_at
    return close_question(state, now).closes_at


def is_last_question(state: SessionState) -> bool:
    """True when the question on screen is the last one (the host's next step is *finish*)."""
    return state.current_index >= state.question_count - 1


def elapsed_s(state: SessionState, now: datetime) -> float:
    """Seconds since the current question opened (0 if none is open yet)."""
    now = require_utc(now)
    if state.opened_at is None:
        return 0.0
    if state.paused_at is not None:
        now = min(now, state.paused_at)
    return max(0.0, (now - state.opened_at).total_seconds())


def time_left_s(state: SessionState, now: datetime) -> float:
    """Seconds until the close time, never negative; 0 when no question is open."""
    now = require_utc(now)
    if state.phase is not Phase.OPEN or state.closes_at is None:
        return 0.0
    if state.paused_at is not None:
        now = state.paused_at
    return max(0.0, (state.closes_at - now).total_seconds())


def check_answer_allowed(state: SessionState, now: datetime, question_index: int | None = None) -> None:
    """Raise :class:`RuleError` unless an answer arriving at ``now`` may be stored.

    ``now`` is the server's receive time, never the phone's clock. The window is
    ``[opened_at, closes_at)``; answering for a question other than the current one is refused
    too (a phone that slept through a question change must not answer the old one).
    """
    now = require_utc(now)
    if state.phase is not Phase.OPEN:
        raise RuleError(f"Answers are not being accepted: the question is {state.phase.value}.")
    if question_index is not None and question_index != state.current_index:
        raise RuleError(
            f"That answer was for question {question_index + 1}, "
            f"but question {state.current_index + 1} is on screen."
        )
    if state.opened_at is not None and now < state.opened_at:
        raise RuleError("The question has not opened yet.")
    if state.closes_at is not None and state.paused_at is None and now >= state.closes_at:
        late_s = (now - state.closes_at).total_seconds()
        raise RuleError(f"Time is up: the answer arrived {late_s:.1f} s after the question closed.")


def answer_allowed(state: SessionState, now: datetime, question_index: int | None = None) -> bool:
    """Boolean form of :func:`check_answer_allowed`, for enabling the submit button."""
    try:
        check_answer_allowed(state, now, question_index)
    except RuleError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------------

BASE_POINTS = 1000
SPEED_BONUS_MAX_POINTS = 500


def points_for(credit: float, elapsed_s: float, time_limit_s: float, speed_bonus: bool) -> int:
    """Live points for one answer: ``round(credit * 1000)`` plus an optional speed bonus.

    The speed bonus is ``round(500 * credit * remaining)``, where ``remaining`` is the
    fraction of the time limit still left when the answer arrived (clamped to [0, 1]). It is
    scaled by the credit, so a wild tap in the first second earns almost nothing extra and a
    miss (credit 0) earns no bonus at all. Points are therefore monotone non-decreasing in
    credit and non-increasing in elapsed time.

    >>> points_for(1.0, 0.0, 20.0, speed_bonus=False)
    1000
    >>> points_for(1.0, 5.0, 20.0, speed_bonus=True)   # 3/4 of the time left
    1375
    >>> points_for(0.0, 0.0, 20.0, speed_bonus=True)
    0
    """
    if not (math.isfinite(credit) and 0.0 <= credit <= 1.0):
        raise ValueError(f"credit must be within [0, 1], got {credit!r}")
    if not math.isfinite(elapsed_s) or not math.isfinite(time_limit_s):
        raise ValueError("elapsed_s and time_limit_s must be finite")
    points = round(credit * BASE_POINTS)
    if speed_bonus and credit > 0 and time_limit_s > 0:
        remaining = min(1.0, max(0.0, 1.0 - elapsed_s / time_limit_s))
        points += round(SPEED_BONUS_MAX_POINTS * credit * remaining)
    return points


def points_at(state: SessionState, credit: float, now: datetime, speed_bonus: bool) -> int:
    """Points for an answer received at ``now`` for the open question of ``state``."""
    if state.opened_at is None or state.closes_at is None:
        raise RuleError("No question is open, so the answer cannot be scored.")
    limit_s = (state.closes_at - state.opened_at).total_seconds()
    return points_for(credit, elapsed_s(state, now), limit_s, speed_bonus)


#: Players a class takes unless the host chooses otherwise: a large lecture hall, and a bound
#: on what one script can add (one connection once joined 150 fake players in 15 s).
DEFAULT_MAX_PLAYERS = 300
#: The most a host may allow: what the measured two-process set-up carried (docs/live-class.md §6).
MAX_PLAYERS_LIMIT = 1000
#: Joins one browser session may make (a phone that left and rejoined under another name a few
#: times is fine; a script looping on the join form is not).
MAX_JOINS_PER_BROWSER_SESSION = 5


@dataclass(frozen=True)
class LiveSettings:
    """The host's choices for a session, stored as JSON in the session row."""

    time_limit_s: float = 30.0
    speed_bonus: bool = True
    anonymous: bool = False
    max_players: int = DEFAULT_MAX_PLAYERS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_limit_s) and 3 <= self.time_limit_s <= 600):
            raise RuleError("The time per question must be between 3 and 600 seconds.")
        if (
            isinstance(self.max_players, bool)
            or not isinstance(self.max_players, int)
            or not (1 <= self.max_players <= MAX_PLAYERS_LIMIT)
        ):
            raise RuleError(
                f"The most players in a class must be a whole number from 1 to {MAX_PLAYERS_LIMIT}."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_limit_s": self.time_limit_s,
            "speed_bonus": self.speed_bonus,
            "anonymous": self.anonymous,
            "max_players": self.max_players,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiveSettings:
        """Read settings, ignoring keys this version does not know (newer writers).

        A class stored before the player cap existed gets the default cap.
        """
        return cls(
            time_limit_s=float(data.get("time_limit_s", cls.time_limit_s)),
            speed_bonus=bool(data.get("speed_bonus", cls.speed_bonus)),
            anonymous=bool(data.get("anonymous", cls.anonymous)),
            max_players=int(data.get("max_players", cls.max_players)),
        )


def check_room_for_player(settings: LiveSettings, joined: int) -> None:
    """Raise :class:`RuleError` when a class with ``joined`` players cannot take one more.

    >>> check_room_for_player(LiveSettings(max_players=2), 1)
    >>> check_room_for_player(LiveSettings(max_players=2), 2)
    Traceback (most recent call last):
    ...
    trainer.errors.RuleError: This class is full (2 players). Ask the host to make room.
    """
    if joined >= settings.max_players:
        raise RuleError(f"This class is full ({settings.max_players} players). Ask the host to make room.")


def check_browser_joins(joins_so_far: int) -> None:
    """Raise :class:`RuleError` once one browser session has joined the allowed number of times.

    >>> check_browser_joins(MAX_JOINS_PER_BROWSER_SESSION - 1)
    >>> check_browser_joins(MAX_JOINS_PER_BROWSER_SESSION)
    Traceback (most recent call last):
    ...
    trainer.errors.RuleError: This browser has already joined 5 times. Close the tab and open the join link again.
    """
    if joins_so_far >= MAX_JOINS_PER_BROWSER_SESSION:
        raise RuleError(
            f"This browser has already joined {joins_so_far} times. Close the tab and open the join link again."
        )
