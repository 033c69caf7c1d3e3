"""Live-class answers: submit once, count, list, the leaderboard, one player's standing, CSV rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import (
    and_,
    exists,
    func,
    literal,
    select,
)

from trainer.clock import require_utc
from trainer.errors import NotFoundError, RuleError
from trainer.rules import classroom
from trainer.store.base import StoreBase
from trainer.store.records import (
    Answer,
    JSONValue,
    LeaderboardEntry,
    Standing,
)
from trainer.store.rows import (
    answer_from_row,
    check_credit,
    csv_safe_cell,
    dumps_json,
    iso_or_none,
)
from trainer.store.schema import (
    answers,
    live_sessions,
    players,
)

ANSWER_CSV_COLUMNS: tuple[str, ...] = (
    "join_code",
    "question_number",
    "question_id",
    "player_id",
    "nickname",
    "credit",
    "distance_cm",
    "points",
    "submitted_at",
    "pins_json",
    "result_json",
)


class AnswerRecords(StoreBase):
    """Answers of a live class and what is computed from them."""

    # -- answers -------------------------------------------------------------------------

    def submit_answer(
        self,
        *,
        session_id: str,
        question_index: int,
        player_id: str,
        pins: JSONValue,
        credit: float,
        now: datetime,
        distance_cm: float | None = None,
        points: int | None = None,
        result: Mapping[str, JSONValue] | None = None,
        enforce_rules: bool = True,
    ) -> tuple[Answer, bool]:
        """Store a player's answer once; returns ``(answer, created)``.

        A resubmission for the same (session, question_index, player) returns the stored
        answer with ``created=False`` and never overwrites it, even after the close, so the
        player sees "answer received" rather than an error. A *new* answer is checked against
        the rules inside the same transaction as the insert, with the server's ``now``:
        late answers and answers to a question no longer on screen raise ``RuleError``.
        ``points=None`` computes them from the session's settings
        (:func:`trainer.rules.classroom.points_at`). The question id is taken from the session.
        """
        now = require_utc(now)
        credit = check_credit(credit)
        key = (
            answers.c.session_id == session_id,
            answers.c.question_index == question_index,
            answers.c.player_id == player_id,
        )
        with self._write() as conn:
            session = self._get_session(conn, session_id)
            in_session = conn.execute(
                select(exists().where(players.c.id == player_id, players.c.session_id == session_id))
            ).scalar_one()
            if not in_session:
                raise NotFoundError(f"No player with id {player_id!r} in this class.")
            existing = conn.execute(select(answers).where(*key)).first()
            if existing is not None:
                return answer_from_row(existing), False
            state = session.rules_state()
            if enforce_rules:
                classroom.check_answer_allowed(state, now, question_index)
            if not 0 <= question_index < len(session.question_ids):
                raise RuleError(f"This class has no question {question_index + 1}.")
            if points is None:
                if state.opened_at is not None and state.closes_at is not None:
                    points = classroom.points_at(state, credit, now, session.live_settings().speed_bonus)
                else:
                    points = classroom.points_for(credit, 0.0, 1.0, speed_bonus=False)
            stmt = (
                self._insert(answers)
                .values(
                    session_id=session_id,
                    question_index=question_index,
                    player_id=player_id,
                    question_id=session.question_ids[question_index],
                    pins_json=dumps_json(pins),
                    credit=credit,
                    distance_cm=distance_cm,
                    points=int(points),
                    submitted_at=now,
                    result_json=dumps_json(dict(result or {})),
                )
                .on_conflict_do_nothing()
                .returning(answers.c.player_id)
            )
            # On PostgreSQL a concurrent insert of the same key waits for the other
            # transaction and then does nothing (no row RETURNED); the re-read below then
            # sees the committed row. RETURNING, not rowcount: SQLAlchemy does not promise
            # a rowcount for INSERT on every driver.
            created = conn.execute(stmt).first() is not None
            row = conn.execute(select(answers).where(*key)).one()
        return answer_from_row(row), created

    def get_answer(self, session_id: str, question_index: int, player_id: str) -> Answer | None:
        """One player's answer to one question, or ``None`` (primary-key lookup)."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(answers).where(
                    answers.c.session_id == session_id,
                    answers.c.question_index == question_index,
                    answers.c.player_id == player_id,
                )
            ).first()
        return None if row is None else answer_from_row(row)

    def count_answers(self, session_id: str, question_index: int) -> int:
        """How many players have answered question ``question_index`` (one indexed query)."""
        n = (
            select(func.count())
            .select_from(answers)
            .where(answers.c.session_id == session_id, answers.c.question_index == question_index)
            .scalar_subquery()
        )
        known = select(literal(1)).where(live_sessions.c.id == session_id).exists()
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(n.label("n"), known.label("known"))).one()
        if not row.known:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return int(row.n)

    def list_answers(self, session_id: str, question_index: int | None = None) -> list[Answer]:
        """Answers of one question (or all), in arrival order; served by the primary key index."""
        query = select(answers).where(answers.c.session_id == session_id)
        if question_index is not None:
            query = query.where(answers.c.question_index == question_index)
        query = query.order_by(answers.c.question_index, answers.c.submitted_at, answers.c.player_id)
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        return [answer_from_row(r) for r in rows]

    def leaderboard(self, session_id: str) -> list[LeaderboardEntry]:
        """Total points per player, highest first; every player appears, even with no answers."""
        total = func.coalesce(func.sum(answers.c.points), 0).label("points")
        answered = func.count(answers.c.player_id).label("answered")
        query = (
            select(players.c.id, players.c.nickname, total, answered)
            .select_from(
                players.outerjoin(
                    answers,
                    and_(answers.c.player_id == players.c.id, answers.c.session_id == players.c.session_id),
                )
            )
            .where(players.c.session_id == session_id)
            .group_by(players.c.id, players.c.nickname, players.c.joined_at, players.c.nickname_key)
            .order_by(total.desc(), players.c.joined_at, players.c.nickname_key)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        entries: list[LeaderboardEntry] = []
        for position, r in enumerate(rows, start=1):
            rank = entries[-1].rank if entries and entries[-1].points == int(r.points) else position
            entries.append(
                LeaderboardEntry(
                    rank=rank,
                    player_id=r.id,
                    nickname=r.nickname,
                    points=int(r.points),
                    answered=int(r.answered),
                )
            )
        return entries

    def player_standing(self, session_id: str, player_id: str) -> Standing:
        """One player's rank among all players of the session, computed in the database.

        Equal to this player's entry in :meth:`leaderboard`, without sending every player's
        total to Python: each phone asks for its own rank after every reveal.
        """
        totals = (
            select(players.c.id.label("pid"), func.coalesce(func.sum(answers.c.points), 0).label("pts"))
            .select_from(
                players.outerjoin(
                    answers,
                    and_(answers.c.player_id == players.c.id, answers.c.session_id == players.c.session_id),
                )
            )
            .where(players.c.session_id == session_id)
            .group_by(players.c.id)
            .cte("totals")
        )
        mine = select(totals.c.pts).where(totals.c.pid == player_id).scalar_subquery()
        query = select(
            mine.label("points"),
            select(func.count())
            .select_from(totals)
            .where(totals.c.pts > mine)
            .scalar_subquery()
            .label("ahead"),
            select(func.count()).select_from(totals).scalar_subquery().label("n"),
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(query).one()
        if row.points is None:
            raise NotFoundError(f"No player {player_id!r} in live session {session_id!r}.")
        return Standing(rank=int(row.ahead) + 1, players=int(row.n), points=int(row.points))

    def export_answer_rows(self, session_id: str, csv_safe: bool = True) -> list[dict[str, object]]:
        """Every answer of a session as flat rows with :data:`ANSWER_CSV_COLUMNS`.

        With ``csv_safe`` (default) text cells that a spreadsheet would run as a formula
        (a nickname starting with ``=``, ``+``, ``-``, ``@``) are prefixed with ``'``.
        """
        query = (
            select(answers, players.c.nickname, live_sessions.c.join_code)
            .join(players, players.c.id == answers.c.player_id)
            .join(live_sessions, live_sessions.c.id == answers.c.session_id)
            .where(answers.c.session_id == session_id)
            .order_by(answers.c.question_index, answers.c.submitted_at, players.c.nickname_key)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            if not rows:
                self._get_session(conn, session_id)
        out: list[dict[str, object]] = []
        for r in rows:
            row: dict[str, object] = {
                "join_code": r.join_code,
                "question_number": r.question_index + 1,
                "question_id": r.question_id,
                "player_id": r.player_id,
                "nickname": r.nickname,
                "credit": r.credit,
                "distance_cm": r.distance_cm,
                "points": r.points,
                "submitted_at": iso_or_none(r.submitted_at),
                "pins_json": r.pins_json,
                "result_json": r.result_json,
            }
            out.append({k: csv_safe_cell(v) for k, v in row.items()} if csv_safe else row)
        return out
