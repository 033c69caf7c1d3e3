"""The host's changes to a class's players: rename one (same nickname rules as joining) or remove
one with their answers (issue 17). A removed player's link stops working at once, and every
leaderboard, count and projector reads the players from here, so the name is gone everywhere."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from trainer.errors import ConflictError, NotFoundError
from trainer.rules import classroom
from trainer.store.base import StoreBase
from trainer.store.records import Player
from trainer.store.rows import player_from_row
from trainer.store.schema import answers, players


class RosterRecords(StoreBase):
    """Rename and remove players of one class."""

    def rename_player(self, session_id: str, player_id: str, nickname: str) -> Player:
        """Give a player another name, cleaned and unique in the class like a new one."""
        name = classroom.clean_nickname(nickname)
        key, shape = classroom.nickname_key(name), classroom.nickname_shape_key(name)
        taken = ConflictError(
            f"The nickname {name!r} is already taken in this class (or looks the same as one that is)."
        )
        try:
            with self._write() as conn:
                row = conn.execute(
                    update(players)
                    .where(players.c.id == player_id, players.c.session_id == session_id)
                    .values(nickname=name, nickname_key=key, nickname_shape_key=shape)
                    .returning(*players.c)
                ).first()
        except IntegrityError as exc:
            raise taken from exc
        if row is None:
            raise NotFoundError("That player is not in this class.")
        return player_from_row(row)

    def remove_player(self, session_id: str, player_id: str) -> int:
        """Remove a player and their answers from the class; returns the answers removed."""
        with self._write() as conn:
            gone = conn.execute(
                delete(answers).where(answers.c.session_id == session_id, answers.c.player_id == player_id)
            ).rowcount
            removed = conn.execute(
                delete(players).where(players.c.id == player_id, players.c.session_id == session_id)
            ).rowcount
            if removed != 1:
                raise NotFoundError("That player is not in this class.")
        return int(gone or 0)
