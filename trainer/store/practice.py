"""Practice history: attempts and FSRS review cards, an answer and its cards in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import (
    Connection,
    insert,
    select,
)

from trainer.clock import require_utc
from trainer.store.base import StoreBase
from trainer.store.records import (
    Attempt,
    JSONValue,
    ReviewCard,
    ReviewCardRecord,
)
from trainer.store.rows import (
    attempt_from_row,
    attempt_values,
    card_from_row,
    check_credit,
    dumps_json,
    new_id,
)
from trainer.store.schema import (
    attempts,
    review_cards,
)


class PracticeRecords(StoreBase):
    """Attempts and review cards of one learner."""

    # -- attempts ------------------------------------------------------------------------

    def record_attempt(
        self,
        *,
        learner_id: str | None,
        question_id: str,
        pins: JSONValue,
        distances_cm: JSONValue,
        directions: JSONValue,
        credit: float,
        now: datetime,
        view_id: str | None = None,
        side: str | None = None,
        body_type: str | None = None,
        duration_ms: int | None = None,
        attempt_id: str | None = None,
        cards: Sequence[str] = (),
        review: ReviewCard | None = None,
        hints: Sequence[str] = (),
    ) -> Attempt:
        """Remember one practice answer and review its cards, all in one transaction.

        ``learner_id=None`` records an anonymous attempt (no cards). For each of ``cards``,
        ``review(card_id, card as stored)`` computes the new card from the row read inside this
        transaction, so the attempt and its cards are stored together or not at all, and two
        answers of one learner at once cannot both build on the same old card.
        """
        attempt = Attempt(
            id=attempt_id or new_id(),
            learner_id=learner_id,
            question_id=question_id,
            view_id=view_id,
            side=side,
            body_type=body_type,
            pins=pins,
            distances_cm=distances_cm,
            directions=directions,
            credit=check_credit(credit),
            duration_ms=duration_ms,
            hints=tuple(hints),
            created_at=require_utc(now),
        )
        if cards and (learner_id is None or review is None):
            raise ValueError("reviewing cards needs a learner_id and a review function")
        with self._write() as conn:
            if learner_id is not None:
                # FOR NO KEY UPDATE on PostgreSQL: one learner's answers queue here, so each reads
                # the cards the previous one wrote (SQLite's BEGIN IMMEDIATE already serialises).
                self._get_learner(conn, learner_id, lock=True)
            conn.execute(insert(attempts).values(**attempt_values(attempt)))
            if cards:
                assert learner_id is not None and review is not None
                stored = self._cards(conn, learner_id, cards)
                for card_id in cards:
                    old = stored.get(card_id)
                    card, due = review(card_id, None if old is None else old.card)
                    self._put_card(conn, learner_id, card_id, card, due=due, now=attempt.created_at)
        return attempt

    def list_attempts(self, learner_id: str | None, since: datetime | None = None) -> list[Attempt]:
        """Attempts oldest first; ``learner_id=None`` lists anonymous attempts."""
        query = select(attempts)
        if learner_id is None:
            query = query.where(attempts.c.learner_id.is_(None))
        else:
            query = query.where(attempts.c.learner_id == learner_id)
        if since is not None:
            query = query.where(attempts.c.created_at >= require_utc(since, "since"))
        with self._read() as conn:
            if learner_id is not None:
                self._get_learner(conn, learner_id)
            rows = conn.execute(query.order_by(attempts.c.created_at, attempts.c.id)).all()
        return [attempt_from_row(r) for r in rows]

    # -- review cards --------------------------------------------------------------------

    def get_review_card(self, learner_id: str, card_id: str) -> ReviewCardRecord | None:
        """The stored card, or ``None`` for a card never reviewed (the caller makes a new one)."""
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            return self._cards(conn, learner_id, [card_id]).get(card_id)

    def upsert_review_card(
        self, learner_id: str, card_id: str, card: Mapping[str, JSONValue], *, due: datetime, now: datetime
    ) -> ReviewCardRecord:
        """Insert or replace one learner's card (one row per learner and card id)."""
        with self._write() as conn:
            self._get_learner(conn, learner_id)
            return self._put_card(conn, learner_id, card_id, card, due=due, now=now)

    @staticmethod
    def _cards(conn: Connection, learner_id: str, card_ids: Sequence[str]) -> dict[str, ReviewCardRecord]:
        rows = conn.execute(
            select(review_cards).where(
                review_cards.c.learner_id == learner_id, review_cards.c.card_id.in_(card_ids)
            )
        ).all()
        return {r.card_id: card_from_row(r) for r in rows}

    def _put_card(
        self,
        conn: Connection,
        learner_id: str,
        card_id: str,
        card: Mapping[str, JSONValue],
        *,
        due: datetime,
        now: datetime,
    ) -> ReviewCardRecord:
        record = ReviewCardRecord(
            learner_id=learner_id,
            card_id=card_id,
            card=dict(card),
            due=require_utc(due, "due"),
            updated_at=require_utc(now),
        )
        values = {
            "learner_id": learner_id,
            "card_id": card_id,
            "card_json": dumps_json(record.card),
            "due": record.due,
            "updated_at": record.updated_at,
        }
        stmt = self._insert(review_cards).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[review_cards.c.learner_id, review_cards.c.card_id],
            set_={"card_json": values["card_json"], "due": record.due, "updated_at": record.updated_at},
        )
        conn.execute(stmt)
        return record

    def list_review_cards(self, learner_id: str) -> list[ReviewCardRecord]:
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            rows = conn.execute(
                select(review_cards)
                .where(review_cards.c.learner_id == learner_id)
                .order_by(review_cards.c.due, review_cards.c.card_id)
            ).all()
        return [card_from_row(r) for r in rows]

    def list_due(self, learner_id: str, now: datetime, limit: int | None = None) -> list[ReviewCardRecord]:
        """Cards due at or before ``now``, most overdue first (the "12 due today" queue)."""
        query = (
            select(review_cards)
            .where(review_cards.c.learner_id == learner_id, review_cards.c.due <= require_utc(now))
            .order_by(review_cards.c.due, review_cards.c.card_id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            rows = conn.execute(query).all()
        return [card_from_row(r) for r in rows]
