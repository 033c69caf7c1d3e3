"""Learner profiles: create, rename, delete, the keys that hold them, transfer codes, export and import.

A browser proves it holds a profile with the hash of its profile key (``key_hash``, see
:mod:`trainer.rules.profiles`); ``key_hash=None`` is the operator's path (CLI, tests), never a page's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from trainer.clock import require_utc
from trainer.errors import ConflictError, RuleError
from trainer.rules import classroom, profiles
from trainer.store import learner_file
from trainer.store.base import StoreBase
from trainer.store.records import (
    Learner,
)
from trainer.store.rows import (
    attempt_from_row,
    attempt_values,
    card_from_row,
    checked_key_hash,
    dumps_json,
    new_id,
)
from trainer.store.schema import (
    attempts,
    learner_keys,
    learners,
    lesson_progress,
    review_cards,
    transfer_codes,
)

DISPLAY_NAME_MAX_CHARS = learner_file.DISPLAY_NAME_MAX_CHARS
#: Fresh lookups tried when a new transfer code's first half is already pending.
_TRANSFER_LOOKUP_RETRIES = 8


class LearnerRecords(StoreBase):
    """Profiles and the browser keys that hold them."""

    # -- learners ------------------------------------------------------------------------
    #
    # A browser proves it holds a profile with the hash of its profile key (``key_hash``, see
    # :mod:`trainer.rules.profiles`). The methods a page calls for a learner's own data (rename,
    # delete, export, transfer codes) take that hash and check it inside their transaction;
    # ``key_hash=None`` is the operator's path (CLI, tests), never a page's.

    def create_learner(
        self, display_name: str, *, now: datetime, learner_id: str | None = None, key_hash: str | None = None
    ) -> Learner:
        """A new profile, held by the browser whose key hashes to ``key_hash`` (if given).

        The name is cleaned like a nickname (plain text, trimmed).
        """
        name = classroom.clean_nickname(display_name, max_chars=DISPLAY_NAME_MAX_CHARS)
        learner = Learner(id=learner_id or new_id(), display_name=name, created_at=require_utc(now))
        try:
            with self._write() as conn:
                conn.execute(
                    insert(learners).values(
                        id=learner.id, display_name=learner.display_name, created_at=learner.created_at
                    )
                )
                if key_hash is not None:
                    conn.execute(
                        insert(learner_keys).values(
                            key_hash=checked_key_hash(key_hash),
                            learner_id=learner.id,
                            created_at=learner.created_at,
                        )
                    )
        except IntegrityError as exc:
            raise ConflictError(f"A learner with id {learner.id} already exists.") from exc
        return learner

    def get_learner(self, learner_id: str, *, key_hash: str | None = None) -> Learner:
        with self._read() as conn:
            return self._get_learner(conn, learner_id, key_hash)

    def list_learners(self) -> list[Learner]:
        """Every profile on this server: for the operator (CLI), never shown on a page."""
        with self._read() as conn:
            rows = conn.execute(select(learners).order_by(learners.c.created_at, learners.c.id)).all()
        return [Learner(id=r.id, display_name=r.display_name, created_at=r.created_at) for r in rows]

    def learners_for_keys(self, key_hashes: Sequence[str]) -> dict[str, Learner]:
        """The profiles a browser holds: ``{key hash: learner}``, oldest profile first.

        Hashes that match nothing (a profile deleted on another device) are left out.
        """
        hashes = list(dict.fromkeys(key_hashes))[: profiles.MAX_KEYS_PER_BROWSER]
        if not hashes:
            return {}
        query = (
            select(learner_keys.c.key_hash, learners)
            .join(learners, learners.c.id == learner_keys.c.learner_id)
            .where(learner_keys.c.key_hash.in_(hashes))
            .order_by(learners.c.created_at, learners.c.id)
        )
        with self._read(snapshot=False) as conn:
            rows = conn.execute(query).all()
        return {
            r.key_hash: Learner(id=r.id, display_name=r.display_name, created_at=r.created_at) for r in rows
        }

    def count_learner_keys(self, learner_id: str) -> int:
        """How many browsers hold this profile (the operator's view; 0 for profiles from before keys)."""
        with self._read() as conn:
            self._get_learner(conn, learner_id)
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(learner_keys)
                    .where(learner_keys.c.learner_id == learner_id)
                ).scalar_one()
            )

    def rename_learner(self, learner_id: str, display_name: str, *, key_hash: str | None = None) -> Learner:
        name = classroom.clean_nickname(display_name, max_chars=DISPLAY_NAME_MAX_CHARS)
        with self._write() as conn:
            self._get_learner(conn, learner_id, key_hash)
            conn.execute(update(learners).where(learners.c.id == learner_id).values(display_name=name))
            return self._get_learner(conn, learner_id)

    def delete_learner(self, learner_id: str, *, key_hash: str | None = None) -> dict[str, int]:
        """Delete a learner and every row of theirs; returns how many rows of each kind went.

        Rows are deleted explicitly rather than relying on ``ON DELETE CASCADE`` alone, so the
        guarantee does not depend on a pragma being on.
        """
        with self._write() as conn:
            self._get_learner(conn, learner_id, key_hash)
            n_attempts = conn.execute(delete(attempts).where(attempts.c.learner_id == learner_id)).rowcount
            n_cards = conn.execute(
                delete(review_cards).where(review_cards.c.learner_id == learner_id)
            ).rowcount
            conn.execute(delete(transfer_codes).where(transfer_codes.c.learner_id == learner_id))
            conn.execute(delete(lesson_progress).where(lesson_progress.c.learner_id == learner_id))
            conn.execute(delete(learner_keys).where(learner_keys.c.learner_id == learner_id))
            conn.execute(delete(learners).where(learners.c.id == learner_id))
        return {"learners": 1, "attempts": n_attempts, "review_cards": n_cards}

    # -- moving a profile to another device ----------------------------------------------

    def create_transfer_code(
        self,
        learner_id: str,
        *,
        now: datetime,
        key_hash: str | None = None,
        choice: Callable[[str], str] | None = None,
    ) -> tuple[profiles.TransferCode, datetime]:
        """A one-time code that lets another browser hold this profile; returns it and its expiry.

        The plain code is returned once and never stored. A new code replaces the profile's
        earlier one, and expired codes of every profile are swept.
        """
        now = require_utc(now)
        expires_at = now + profiles.TRANSFER_CODE_TTL
        for _ in range(_TRANSFER_LOOKUP_RETRIES):
            code = profiles.new_transfer_code(*(() if choice is None else (choice,)))
            try:
                with self._write() as conn:
                    self._get_learner(conn, learner_id, key_hash)
                    conn.execute(
                        delete(transfer_codes).where(
                            (transfer_codes.c.learner_id == learner_id) | (transfer_codes.c.expires_at <= now)
                        )
                    )
                    conn.execute(
                        insert(transfer_codes).values(
                            lookup=code.lookup,
                            learner_id=learner_id,
                            code_hash=profiles.code_hash(code),
                            expires_at=expires_at,
                            attempts=0,
                            created_at=now,
                        )
                    )
                return code, expires_at
            except IntegrityError:
                continue  # the first half is pending for another profile: draw again
        raise ConflictError("Could not make a unique transfer code; try again.")

    def redeem_transfer_code(self, typed: str, *, key_hash: str, now: datetime) -> Learner:
        """Let the browser with ``key_hash`` hold the profile the code was made for.

        Wrong, expired and used codes all raise the same :class:`RuleError`; a wrong secret
        counts against the pending code, which is void after
        :data:`~trainer.rules.profiles.TRANSFER_MAX_ATTEMPTS` of them. A right code is deleted.
        """
        code = profiles.parse_transfer_code(typed)
        key_hash = checked_key_hash(key_hash)
        now = require_utc(now)
        with self._write() as conn:
            query = select(transfer_codes).where(transfer_codes.c.lookup == code.lookup)
            if self.backend == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            verdict = (
                None
                if row is None
                else profiles.judge_transfer(row.code_hash, row.expires_at, row.attempts, code, now)
            )
            if (
                row is not None
                and verdict is profiles.Redeem.WRONG
                and row.attempts + 1 < profiles.TRANSFER_MAX_ATTEMPTS
            ):
                conn.execute(
                    update(transfer_codes)
                    .where(transfer_codes.c.lookup == code.lookup)
                    .values(attempts=transfer_codes.c.attempts + 1)
                )
            elif row is not None:
                conn.execute(delete(transfer_codes).where(transfer_codes.c.lookup == code.lookup))
            if verdict is profiles.Redeem.OK:
                assert row is not None
                learner = self._get_learner(conn, row.learner_id)
                held = conn.execute(
                    select(learner_keys.c.learner_id).where(learner_keys.c.key_hash == key_hash)
                ).first()
                if held is None:
                    conn.execute(
                        insert(learner_keys).values(key_hash=key_hash, learner_id=learner.id, created_at=now)
                    )
                elif held.learner_id != learner.id:
                    raise ConflictError("This browser's key already holds another profile.")
                return learner
        raise RuleError(profiles.TRANSFER_REFUSED)

    # -- export / import -----------------------------------------------------------------

    def export_learner(self, learner_id: str, *, key_hash: str | None = None) -> dict[str, Any]:
        """Everything of one learner as JSON-ready data; :meth:`import_learner` reverses it."""
        with self._read() as conn:
            learner = self._get_learner(conn, learner_id, key_hash)
            attempt_rows = conn.execute(
                select(attempts)
                .where(attempts.c.learner_id == learner_id)
                .order_by(attempts.c.created_at, attempts.c.id)
            ).all()
            card_rows = conn.execute(
                select(review_cards)
                .where(review_cards.c.learner_id == learner_id)
                .order_by(review_cards.c.card_id)
            ).all()
        return learner_file.to_document(
            learner, map(attempt_from_row, attempt_rows), map(card_from_row, card_rows)
        )

    def import_learner(self, data: object, *, now: datetime, key_hash: str | None = None) -> Learner:
        """Load an :meth:`export_learner` document, keeping every id and time stamp.

        Every field is checked first (:func:`trainer.store.learner_file.check_document`), so a
        malformed file raises :class:`~trainer.store.learner_file.LearnerFileError` and stores
        nothing. Refuses (``ConflictError``) if the learner or any attempt id already exists here:
        importing twice must not duplicate history, and silently merging would hide that. With
        ``key_hash``, the browser that imported the file holds the profile.
        """
        checked = (
            data if isinstance(data, learner_file.LearnerFile) else learner_file.check_document(data, now)
        )
        learner = checked.learner
        card_values = [
            {
                "learner_id": learner.id,
                "card_id": c.card_id,
                "card_json": dumps_json(c.card),
                "due": c.due,
                "updated_at": c.updated_at,
            }
            for c in checked.review_cards
        ]
        try:
            with self._write() as conn:
                if conn.execute(select(exists().where(learners.c.id == learner.id))).scalar_one():
                    raise ConflictError(
                        f"The profile in this file ({learner.display_name!r}) is already on this server. "
                        "To use it in this browser, make a transfer code on the device that holds it; "
                        "to replace it, delete it there first."
                    )
                conn.execute(
                    insert(learners).values(
                        id=learner.id, display_name=learner.display_name, created_at=learner.created_at
                    )
                )
                if key_hash is not None:
                    conn.execute(
                        insert(learner_keys).values(
                            key_hash=checked_key_hash(key_hash),
                            learner_id=learner.id,
                            created_at=require_utc(now),
                        )
                    )
                if checked.attempts:
                    conn.execute(insert(attempts), [attempt_values(a) for a in checked.attempts])
                if card_values:
                    conn.execute(insert(review_cards), card_values)
        except IntegrityError as exc:
            raise ConflictError(
                "Some attempts in this file already exist in this database (imported before?)."
            ) from exc
        return learner
