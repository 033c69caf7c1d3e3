"""Leaderboard, one player's standing, per-question analytics and the answers' CSV."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.atlas.core import Atlas
from trainer.errors import NotFoundError
from trainer.live.reveal import reveal_stats
from trainer.live.views import ViewLoader, choice_order
from trainer.quiz.models import QuestionModel
from trainer.safetext import spreadsheet_csv
from trainer.store import LiveSession, Store


@dataclass(frozen=True)
class BoardRow:
    rank: int
    name: str
    points: int
    answered: int
    is_you: bool = False


def leaderboard(
    store: Store, session: LiveSession, you_player_id: str | None = None, limit: int | None = None
) -> list[BoardRow]:
    """Ranked rows; in anonymous mode names become "Player N" (N = joining order), yours "You"."""
    entries = store.leaderboard(session.id)
    alias: dict[str, str] = {}
    if session.live_settings().anonymous:
        alias = {p.id: f"Player {i}" for i, p in enumerate(store.list_players(session.id), start=1)}
    rows = [
        BoardRow(
            rank=e.rank,
            name=("You" if e.player_id == you_player_id and alias else alias.get(e.player_id, e.nickname)),
            points=e.points,
            answered=e.answered,
            is_you=e.player_id == you_player_id,
        )
        for e in entries
    ]
    return rows[:limit] if limit is not None else rows


def player_standing(store: Store, session: LiveSession, player_id: str) -> tuple[int, int, int]:
    """``(rank, players, points)`` of one player (ranked in the database: every phone asks)."""
    try:
        s = store.player_standing(session.id, player_id)
    except NotFoundError:
        raise NotFoundError("You are not in this class.") from None
    return s.rank, s.players, s.points


def question_analytics(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    view_loader: ViewLoader | None = None,
) -> list[dict[str, Any]]:
    """One row per question shown so far: answered, mean score, error, tolerance, time, cluster."""
    n_players = len(store.list_players(session.id))
    last = session.current_index
    rows: list[dict[str, Any]] = []
    for i in range(0, max(last + 1, 0)):
        q = questions.get(session.question_ids[i])
        s = reveal_stats(store, atlas, questions, session, i, players=n_players, view_loader=view_loader)
        times = [
            float(a.result["elapsed_s"]) for a in store.list_answers(session.id, i) if "elapsed_s" in a.result
        ]
        rows.append(
            {
                "Q": i + 1,
                "Question": q.prompt if q is not None else session.question_ids[i],
                "Answered": f"{s.answered}/{s.players}",
                "Mean score %": None if s.mean_credit_pct is None else round(s.mean_credit_pct),
                "Mean error (cm)": None if s.mean_error_cm is None else round(s.mean_error_cm, 1),
                "Within tolerance %": None
                if s.within_tolerance_pct is None
                else round(s.within_tolerance_pct),
                "Median time (s)": round(statistics.median(times), 1) if times else None,
                "Largest wrong cluster": s.cluster.sentence if s.cluster else "",
            }
        )
    return rows


#: Columns of the class CSV: one row per player per question shown, answered or not.
CLASS_CSV_COLUMNS: tuple[str, ...] = (
    "join_code",
    "question_number",
    "question_id",
    "question",
    "player_id",
    "nickname",
    "answered",
    "choice_shown",
    "choice_text",
    "credit",
    "distance_cm",
    "points",
    "submitted_at",
    "pins_json",
    "result_json",
)


def _choices_cells(q: QuestionModel | None, order: Sequence[int], pins: object) -> tuple[str, str]:
    """The options a player picked: their numbers as shown on the screens, and their texts."""
    picked = [int(c) for c in pins.get("choices", [])] if isinstance(pins, dict) else []
    if q is None or not picked:
        return "", ""
    shown = [order.index(c) + 1 if c in order else c + 1 for c in picked]
    texts = [q.choices[c].text for c in picked if 0 <= c < len(q.choices)]
    return ";".join(str(n) for n in shown), "; ".join(texts)


def answers_csv(store: Store, session: LiveSession, questions: Mapping[str, QuestionModel]) -> str:
    """The class for a spreadsheet: one row per player per question shown, including players who
    did not answer (``answered`` = no), the picked options' numbers and texts, UTF-8 with a BOM
    and formula-safe text (:func:`trainer.safetext.spreadsheet_csv`)."""
    roster = store.list_players(session.id)
    shown = range(0, max(session.current_index + 1, 0))
    by_key = {(a.question_index, a.player_id): a for a in store.list_answers(session.id)}
    rows: list[list[object]] = []
    for i in shown:
        qid = session.question_ids[i]
        q = questions.get(qid)
        order = choice_order(session, i, len(q.choices)) if q is not None and q.choices else ()
        for p in roster:
            a = by_key.get((i, p.id))
            number, text = _choices_cells(q, order, a.pins if a is not None else None)
            rows.append(
                [
                    session.join_code,
                    i + 1,
                    qid,
                    q.prompt if q is not None else "",
                    p.id,
                    p.nickname,
                    "yes" if a is not None else "no",
                    number,
                    text,
                    None if a is None else a.credit,
                    None if a is None else a.distance_cm,
                    None if a is None else a.points,
                    None if a is None or a.submitted_at is None else a.submitted_at.isoformat(),
                    None if a is None else json.dumps(a.pins, separators=(",", ":")),
                    None if a is None else json.dumps(a.result, separators=(",", ":"), sort_keys=True),
                ]
            )
    return spreadsheet_csv(CLASS_CSV_COLUMNS, rows)
