"""The projector view's decisions, without Streamlit: what the room sees in each phase.

The projector is a separate page (``/projector?session=…``, host key required) that only shows:
the host controls the class from the host page in another tab or on a phone. Before the reveal
it never carries a pin, a target or which option is right; after the reveal it shows the
class's pins with the answer, a bar chart of the choices, then the leaderboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from trainer.live import service as live
from trainer.plotting import go
from trainer.quiz.choices import option_texts, revealed_options
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import Phase, time_left_s
from trainer.store import LiveSession, SessionClock

#: Sizes in CSS px chosen for the back row: at 1366×768 the prompt fits two lines of ~45
#: characters, the countdown and counts stay on the first screen with the image beside them.
PROMPT_PX = 40
COUNT_PX = 64
CODE_PX = 120
#: The tallest image on a projector: leaves room for the prompt and the counts at 768 px high.
IMAGE_HEIGHT_PX = 520


def snapshot(clock: SessionClock | LiveSession) -> tuple[str, str, int, bool]:
    """What the projector's poll compares: a change means the whole view is redrawn."""
    return (clock.id, clock.state.value, clock.current_index, live.is_paused(clock))


@dataclass(frozen=True)
class Counts:
    """The live line under the prompt: answers in, players, time left."""

    answered: str
    clock: str


def counts(session: LiveSession, answered: int, players: int, now: datetime) -> Counts:
    """``12 / 30 answered`` and ``17 s`` (``paused``, ``time is up`` or ``closed``)."""
    state = session.rules_state()
    if session.state is Phase.OPEN:
        left = time_left_s(state, now)
        clock = (
            f"{left:.0f} s · paused"
            if live.is_paused(session)
            else (f"{left:.0f} s" if left > 0 else "time is up")
        )
    else:
        clock = "closed"
    return Counts(answered=f"{answered} / {players} answered", clock=clock)


def numbered_options(q: QuestionModel, order: Sequence[int]) -> list[str]:
    """The options as the phones show them, numbered, with nothing marking the right one."""
    return [f"{i + 1}. {text}" for i, text in enumerate(option_texts(q.choices, tuple(order)))]


@dataclass(frozen=True)
class ChoiceBar:
    label: str
    count: int
    correct: bool


def choice_bars(
    q: QuestionModel, order: Sequence[int], counts_by_file_index: Sequence[int]
) -> list[ChoiceBar]:
    """After the reveal: one bar per option in the phones' order, the right ones marked."""
    if not order or not counts_by_file_index:
        return []
    return [
        ChoiceBar(
            label=f"{o.position + 1}. {o.text}" + (" ✓" if o.correct else ""),
            count=counts_by_file_index[o.file_index],
            correct=o.correct,
        )
        for o in revealed_options(q.choices, tuple(order))
    ]


def choice_bar_figure(bars: Sequence[ChoiceBar], height_px: int = 420) -> go.Figure:
    """A horizontal bar per option (right ones green), large labels for the back of the room."""
    fig = go.Figure(
        go.Bar(
            x=[b.count for b in bars],
            y=[b.label for b in bars],
            orientation="h",
            marker={"color": ["#2e9e4f" if b.correct else "#9aa4b1" for b in bars]},
            text=[str(b.count) for b in bars],
            textposition="outside",
            textfont={"size": 30},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        height=height_px,
        margin={"l": 10, "r": 40, "t": 10, "b": 10},
        font={"size": 24},
        yaxis={"autorange": "reversed", "tickfont": {"size": 30}, "automargin": True},
        xaxis={"visible": False},
        plot_bgcolor="white",
    )
    return fig


def podium(rows: Sequence[live.BoardRow]) -> list[str]:
    """The top three as the projector announces them."""
    medals = ("🥇", "🥈", "🥉")
    return [f"{m} {r.name} — {r.points} pts" for m, r in zip(medals, rows, strict=False)]


def leaderboard_lines(rows: Sequence[live.BoardRow], limit: int = 10) -> list[str]:
    return [f"{r.rank}. {r.name} — {r.points}" for r in rows[:limit]]


def question_heading(session: LiveSession) -> str:
    return f"Question {session.current_index + 1} of {len(session.question_ids)}"


def shows_pins(phase: Phase) -> bool:
    """Pins (and the answer) reach the projector only with the reveal."""
    return phase is Phase.REVEALED


def available(session: LiveSession, questions: Mapping[str, QuestionModel]) -> QuestionModel | None:
    """The question on screen, if this server still has it."""
    qid = session.current_question_id
    return questions.get(qid) if qid is not None else None
