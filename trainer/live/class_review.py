"""A finished class reopened from the host's history, without Streamlit: each question with its
right answer, every player's answer, and its analytics (choice counts, pins, correct fraction,
median distance).

Host only (the page checks the host key and that the class was made with it): this is the one
place a finished class shows everyone's answers side by side. The learners' own view is
:mod:`trainer.live.results_page`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from trainer.atlas.core import Atlas
from trainer.live import service as live
from trainer.live.projector_page import ChoiceBar, choice_bars
from trainer.live.views import ViewLoader
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import Phase
from trainer.scoring.score import count_noun
from trainer.store import Answer, LiveSession, Store


@dataclass(frozen=True)
class AnswerRow:
    """One player's answer to one question, as the host's review table shows it."""

    name: str
    answered: bool
    answer: str
    score_pct: int | None
    points: int | None
    distance_cm: float | None


@dataclass(frozen=True)
class QuestionReview:
    """One question of a finished class with its answers and analytics."""

    number: int
    question_id: str
    prompt: str
    #: False when the question has left the banks since: only the stored numbers remain.
    available: bool
    right_answer: str
    answered: int
    players: int
    #: Answers with full credit, over the answers given (None when nobody answered).
    correct_fraction: float | None
    median_distance_cm: float | None
    mean_score_pct: float | None
    pins: int
    pins_off_body: int
    cluster: str
    bars: tuple[ChoiceBar, ...]
    answers: tuple[AnswerRow, ...]
    explanation: str
    stats: live.RevealStats


@dataclass(frozen=True)
class ClassReview:
    title: str
    join_code: str
    created_at: datetime | None
    players: int
    board: tuple[live.BoardRow, ...]
    questions: tuple[QuestionReview, ...]


def picked_options(q: QuestionModel | None, order: Sequence[int], pins: object) -> list[str]:
    """The options an answer picked, as "number shown. text" (the number the screens showed).

    >>> picked_options(None, (1, 0), {"choices": [0]})
    ['option 1']
    """
    picked = [int(c) for c in pins.get("choices", [])] if isinstance(pins, dict) else []
    if q is None:
        return [f"option {c + 1}" for c in picked]
    out = []
    for c in picked:
        if 0 <= c < len(q.choices):
            shown = order.index(c) + 1 if c in order else c + 1
            out.append(f"{shown}. {q.choices[c].text}")
    return out


def answer_text(q: QuestionModel | None, order: Sequence[int], a: Answer) -> str:
    """What a player answered, in words: the options picked, or how many pins (and where)."""
    if isinstance(a.pins, list):
        on_body = sum(1 for p in a.result.get("pins", []) or [] if isinstance(p, dict) and p.get("on_body"))
        text = count_noun(len(a.pins), "pin")
        off = len(a.pins) - on_body if a.result.get("pins") else 0
        return text + (f" ({off} off the body)" if off > 0 else "")
    picked = picked_options(q, order, a.pins)
    return "; ".join(picked) if picked else "no option"


def right_answer(atlas: Atlas, q: QuestionModel | None) -> str:
    """The answer in words: the right options, else the targets' names."""
    if q is None:
        return "(question no longer in the banks)"
    right = [c.text for c in q.choices if c.correct]
    if right:
        return "; ".join(right)
    return ", ".join(atlas.name_of(t) for t in q.targets)


def review_question(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    index: int,
    names: Mapping[str, str],
    view_loader: ViewLoader | None = None,
) -> QuestionReview:
    """One question: every player (answered or not), the right answer and the numbers."""
    qid = session.question_ids[index]
    q = questions.get(qid)
    stats = live.reveal_stats(
        store, atlas, questions, session, index, players=len(names), view_loader=view_loader
    )
    answers = {a.player_id: a for a in store.list_answers(session.id, index)}
    order = live.choice_order(session, index, len(q.choices)) if q is not None and q.choices else ()
    rows = []
    for pid, name in names.items():
        a = answers.get(pid)
        if a is None:
            rows.append(AnswerRow(name, False, "no answer", None, None, None))
            continue
        rows.append(
            AnswerRow(
                name,
                True,
                answer_text(q, order, a),
                round(a.credit * 100),
                a.points,
                None if a.distance_cm is None else round(a.distance_cm, 1),
            )
        )
    given = list(answers.values())
    distances = [a.distance_cm for a in given if a.distance_cm is not None]
    pins_answered = any(isinstance(a.pins, list) and a.pins for a in given)
    bars = choice_bars(q, order, stats.choice_counts) if q is not None and order and not pins_answered else []
    return QuestionReview(
        number=index + 1,
        question_id=qid,
        prompt=q.prompt if q is not None else qid,
        available=q is not None,
        right_answer=right_answer(atlas, q),
        answered=len(given),
        players=len(names),
        correct_fraction=(sum(1 for a in given if a.credit >= 0.999) / len(given)) if given else None,
        median_distance_cm=float(statistics.median(distances)) if distances else None,
        mean_score_pct=stats.mean_credit_pct,
        pins=len(stats.pins),
        pins_off_body=stats.off_body,
        cluster=stats.cluster.sentence if stats.cluster is not None else "",
        bars=tuple(bars),
        answers=tuple(rows),
        explanation=q.explanation if q is not None else "",
        stats=stats,
    )


def review_class(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    view_loader: ViewLoader | None = None,
) -> ClassReview:
    """Every question shown in the class, in order (a class ended early stops where it ended)."""
    names = {p.id: p.nickname for p in store.list_players(session.id)}
    shown = range(max(session.current_index + 1, 0))
    return ClassReview(
        title=session.title,
        join_code=session.join_code,
        created_at=session.created_at,
        players=len(names),
        board=tuple(live.leaderboard(store, session)),
        questions=tuple(
            review_question(store, atlas, questions, session, i, names, view_loader) for i in shown
        ),
    )


def headline(r: QuestionReview) -> list[tuple[str, str]]:
    """The question's numbers as (label, value), only those it has."""
    out = [("Answered", f"{r.answered} / {r.players}")]
    if r.correct_fraction is not None:
        out.append(("Correct", f"{r.correct_fraction * 100:.0f}%"))
    if r.median_distance_cm is not None:
        out.append(("Median distance", f"{r.median_distance_cm:.1f} cm"))
    if r.mean_score_pct is not None:
        out.append(("Mean score", f"{r.mean_score_pct:.0f}%"))
    return out


def pin_summary(r: QuestionReview) -> str:
    """The pins in one sentence (empty for a choice question)."""
    if r.pins == 0:
        return ""
    text = f"{count_noun(r.pins, 'pin')} placed"
    if r.pins_off_body:
        text += f", {r.pins_off_body} off the body"
    return text + "." + (f" {r.cluster}" if r.cluster else "")


def answer_rows(r: QuestionReview) -> list[dict[str, object]]:
    """The review table: one row per player, answered or not (names shown as plain cells)."""
    return [
        {
            "Player": a.name,
            "Answer": a.answer,
            "Score %": a.score_pct,
            "Points": a.points,
            "Distance (cm)": a.distance_cm,
        }
        for a in r.answers
    ]


def history_label(s: LiveSession) -> str:
    """The button beside a class in the host's history: a finished class is reviewed, not resumed."""
    return "Review" if s.state is Phase.FINISHED else "Resume"
