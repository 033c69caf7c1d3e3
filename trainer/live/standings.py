"""Leaderboard, one player's standing, per-question analytics and the answers' CSV."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trainer.atlas.core import Atlas
from trainer.errors import NotFoundError
from trainer.live.reveal import reveal_stats
from trainer.live.views import ViewLoader
from trainer.quiz.models import QuestionModel
from trainer.store import ANSWER_CSV_COLUMNS, LiveSession, Store


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


def answers_csv(store: Store, session_id: str) -> str:
    """Every answer of a class as CSV (spreadsheet-formula-safe text cells)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(ANSWER_CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(store.export_answer_rows(session_id))
    return buf.getvalue()
