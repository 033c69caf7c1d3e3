"""The host page's decisions, without Streamlit: which questions a new class gets, what each
phase shows, which controls are offered, and what a control press stores.

The page (``trainer/ui/pages/host.py``) lays out widgets from these values. The store, the
atlas, the questions and the server's ``now`` are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.atlas.core import Atlas
from trainer.errors import ConflictError, NotFoundError, RuleError
from trainer.live import service as live
from trainer.quiz.choices import revealed_options
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import Filters, matches
from trainer.rules.classroom import Phase, time_left_s
from trainer.scoring.score import count_noun
from trainer.store import LiveSession, SessionClock, Store

#: Bank id -> (title, question ids), as the page reads them from the bank folders.
Banks = Mapping[str, tuple[str, Sequence[str]]]

RACED = "Another host screen changed the class at the same moment; showing the latest state."
NO_BASE_URL = (
    "Set TRAINER_BASE_URL to this computer's address on the venue network "
    "(e.g. http://192.168.1.20:8501) so phones can reach it."
)

_ACTIONS: dict[str, Callable[[Store, str, datetime], LiveSession]] = {
    "open": live.open_next,
    "close": live.close_now,
    "reveal": live.reveal_answer,
    "finish": live.finish_class,
    "pause": live.pause_clock,
    "resume": live.resume_clock,
    "add_time": live.add_time,
    "skip": live.skip_question,
    "end": live.end_class,
}


def act(store: Store, session_id: str, action: str, now: datetime) -> str:
    """Run one host control; returns "" or a sentence saying why nothing (or something else) happened."""
    try:
        _ACTIONS[action](store, session_id, now)
    except ConflictError:
        return RACED
    except RuleError as exc:
        return str(exc)
    return ""


# --------------------------------------------------------------------------------------------
# Setup
# --------------------------------------------------------------------------------------------


def bank_choices(banks: Banks, questions: Mapping[str, QuestionModel]) -> list[str]:
    """Banks that hold at least one question a phone can answer live."""
    return [b for b in banks if any(q in questions for q in banks[b][1])]


def choose_question_ids(
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    banks: Banks,
    *,
    picked: Sequence[str],
    bank_ids: Sequence[str],
    regions: Sequence[str],
    types: Sequence[str],
    count: int,
) -> list[str]:
    """The class's questions: hand-picked ones in the order picked, else the first ``count``
    live questions of the chosen banks (all banks when none is chosen) matching the filters."""
    if picked:
        return list(picked)
    pool = [qid for b in bank_ids for qid in banks[b][1]] if bank_ids else list(questions)
    f = Filters(regions=tuple(regions), types=tuple(types))
    return [qid for qid in dict.fromkeys(pool) if qid in questions and matches(atlas, questions[qid], f)][
        : max(int(count), 0)
    ]


def rerun_class(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    host_key: str,
    now: datetime,
    rng: random.Random,
) -> LiveSession:
    """A new class (new code, empty lobby) with the same questions and settings, for a new group.

    Raises :class:`RuleError` when a question has left the banks since (the host is told which).
    """
    side = str(session.settings.get("side") or "right")
    body = str(session.settings.get("body_type") or atlas.default_body_type)
    return live.create_class(
        store,
        atlas,
        questions,
        title=session.title,
        question_ids=list(session.question_ids),
        host_key=host_key,
        settings=session.live_settings(),
        side=side,
        body_type=body,
        now=now,
        rng=rng,
    )


def resume_line(s: LiveSession) -> str:
    """One recent class in the "Resume" list."""
    return (
        f"{s.title} · code {s.join_code} · {s.state.value} · question "
        f"{max(s.current_index + 1, 0)}/{len(s.question_ids)}"
    )


# --------------------------------------------------------------------------------------------
# A class
# --------------------------------------------------------------------------------------------


def header_caption(session: LiveSession) -> str:
    return f"{session.state.value.upper()} · question {max(session.current_index + 1, 0)} of {len(session.question_ids)}"


@dataclass(frozen=True)
class LobbyStatus:
    joined: str
    full_warning: str
    names: str
    waiting: bool


def lobby_status(nicknames: Sequence[str], max_players: int) -> LobbyStatus:
    """The lobby's count, the "class is full" warning and the names (shown as plain text)."""
    n = len(nicknames)
    return LobbyStatus(
        joined=f"{n} / {max_players}",
        full_warning=(
            f"The class is full: {max_players} players, the most allowed when it was created."
            if n >= max_players
            else ""
        ),
        names="   ".join(nicknames),
        waiting=n == 0,
    )


Snapshot = tuple[str, str, int, bool]


def snapshot(clock: SessionClock | LiveSession) -> Snapshot:
    """What the host's poll compares: class, phase, question and whether the clock is paused."""
    return (clock.id, clock.state.value, clock.current_index, live.is_paused(clock))


def needs_full_run(snap: Snapshot | None, clock: SessionClock | LiveSession) -> bool:
    """The host's poll reruns the whole page only when the class moved on (or was paused)."""
    return snapshot(clock) != snap


def roster_changed(drawn_players: int | None, players_now: int) -> bool:
    """A player joined or left since the page was drawn, so the poll reruns the whole page.

    The players panel (rename or remove) is drawn only in a full run; without this, a host who
    opened the lobby before anyone joined never got the panel to remove an unsuitable nickname.

    >>> roster_changed(0, 1), roster_changed(2, 2), roster_changed(None, 3)
    (True, False, False)
    """
    return drawn_players is not None and drawn_players != players_now


def time_left_text(session: LiveSession, now: datetime) -> str:
    """The host's "Time left" metric: seconds while open, else "closed"."""
    if session.state is Phase.OPEN:
        left = f"{time_left_s(session.rules_state(), now):.0f} s"
        return f"{left} (paused)" if live.is_paused(session) else left
    return "closed"


@dataclass(frozen=True)
class Control:
    """A host button: its label, widget key, the action it runs and whether it is the primary one."""

    label: str
    key: str
    action: str
    primary: bool


def controls(phase: Phase, is_last: bool) -> list[Control]:
    """The main buttons for this phase, in reading order (finished: none)."""
    if phase is Phase.LOBBY:
        return [
            Control("Start the first question", "host_start", "open", True),
            Control("Finish without playing", "host_finish", "finish", False),
        ]
    if phase is Phase.OPEN:
        return [Control("Close now", "host_close", "close", True)]
    if phase is Phase.CLOSED:
        return [Control("Reveal the answer", "host_reveal", "reveal", True)]
    if phase is Phase.REVEALED:
        nxt = [] if is_last else [Control("Next question", "host_next", "open", True)]
        return [*nxt, Control("Finish the class", "host_finish", "finish", is_last)]
    return []


def clock_controls(phase: Phase, paused: bool, is_last: bool) -> list[Control]:
    """The secondary controls of a question on screen: the clock, skipping, ending early."""
    if phase not in (Phase.OPEN, Phase.CLOSED):
        return []
    out: list[Control] = []
    if phase is Phase.OPEN:
        out.append(
            Control("Resume the clock", "host_resume", "resume", False)
            if paused
            else Control("Pause the clock", "host_pause", "pause", False)
        )
        out.append(Control(f"Add {live.ADD_TIME_S:.0f} s", "host_add_time", "add_time", False))
    skip = "Skip and finish" if is_last else "Skip to the next question"
    out.append(Control(skip, "host_skip", "skip", False))
    out.append(Control("End the class now", "host_end", "end", False))
    return out


def manage_player(
    store: Store, session_id: str, player_id: str, action: str, nickname: str = ""
) -> tuple[bool, str]:
    """Rename or remove one player; returns whether it happened and a sentence for the host."""
    try:
        if action == "rename":
            p = live.rename_player(store, session_id, player_id, nickname)
            return True, f"Renamed to {p.nickname}."
        if action == "remove":
            n = live.remove_player(store, session_id, player_id)
            return True, f"Removed, with {count_noun(n, 'answer')}."
    except (ConflictError, NotFoundError, RuleError) as exc:
        return False, str(exc)
    raise ValueError(f"unknown player action {action!r}")


def show_live_pins(peek: bool, fullscreen: bool) -> bool:
    """Whether the host page shows where the class is tapping before the reveal.

    Hidden by default, so a projector never shows the crowd's answer to copy; the host may
    peek on their own screen, but never while the page fills the screen (a projector).

    >>> show_live_pins(peek=False, fullscreen=False), show_live_pins(peek=True, fullscreen=True)
    (False, False)
    >>> show_live_pins(peek=True, fullscreen=False)
    True
    """
    return peek and not fullscreen


def peek_offered(has_view: bool, max_pins: int) -> bool:
    """The peek toggle exists only for questions answered with pins on an image."""
    return has_view and max_pins > 0


def reveal_metrics(stats: live.RevealStats) -> list[tuple[str, str]]:
    """The reveal's headline numbers (label, value), only those the question has."""
    out: list[tuple[str, str]] = []
    if stats.mean_error_cm is not None:
        out.append(("Mean error", f"{stats.mean_error_cm:.1f} cm"))
    if stats.within_tolerance_pct is not None:
        out.append(("Within tolerance", f"{stats.within_tolerance_pct:.0f}%"))
    if stats.correct_pct is not None:
        out.append(("Correct", f"{stats.correct_pct:.0f}%"))
    return out


def choice_rows(q: QuestionModel, order: Sequence[int], stats: live.RevealStats) -> list[dict[str, Any]]:
    """The reveal's table of options in the phones' order, right ones marked, with their counts."""
    if not order or not stats.choice_counts:
        return []
    return [
        {
            "Shown as": o.position + 1,
            "Option": o.text + (" ✓" if o.correct else ""),
            "Chosen by": stats.choice_counts[o.file_index],
        }
        for o in revealed_options(q.choices, tuple(order))
    ]


def board_rows(rows: Sequence[live.BoardRow]) -> list[dict[str, Any]]:
    return [{"Rank": r.rank, "Name": r.name, "Points": r.points, "Answered": r.answered} for r in rows]
