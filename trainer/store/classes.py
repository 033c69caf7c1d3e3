"""Live classes: sessions, their optimistic state changes, players, and the shared host-key throttle."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from trainer.clock import require_utc
from trainer.errors import ConflictError, NotFoundError, RuleError, StoreError
from trainer.rules import classroom, throttle
from trainer.rules.classroom import LiveSettings, Phase, SessionState
from trainer.store.base import StoreBase
from trainer.store.records import (
    JSONValue,
    LiveSession,
    Player,
    SessionClock,
)
from trainer.store.rows import (
    dumps_json,
    new_id,
    player_from_row,
    session_from_row,
    session_values,
)
from trainer.store.schema import (
    answers,
    auth_throttle,
    live_sessions,
    players,
)

_SESSION_CHANGE_COLUMNS = {
    "state": "state",
    "current_index": "current_index",
    "question_opened_at": "question_opened_at",
    "question_closes_at": "question_closes_at",
    "question_paused_at": "question_paused_at",
    "title": "title",
    "settings": "settings_json",
    "question_ids": "question_ids_json",
}


class ClassRecords(StoreBase):
    """Live sessions, players and host-key tries."""

    # -- live sessions -------------------------------------------------------------------

    def create_session(
        self,
        *,
        title: str,
        host_key: str,
        question_ids: Sequence[str],
        now: datetime,
        settings: LiveSettings | Mapping[str, JSONValue] | None = None,
        rng: random.Random | None = None,
    ) -> LiveSession:
        """A new session in the lobby, with a fresh unused join code.

        Only a salted hash of ``host_key`` is stored. ``rng`` makes codes reproducible in
        tests; by default codes come from :mod:`secrets`.
        """
        now = require_utc(now)
        if isinstance(settings, LiveSettings):
            settings_dict = settings.to_dict()
        else:
            settings_dict = dict(settings or LiveSettings().to_dict())
            LiveSettings.from_dict(settings_dict)  # validate early, with a readable RuleError
        ids = tuple(str(q) for q in question_ids)
        host_key_hash = classroom.hash_host_key(host_key)
        for _ in range(20):
            session = LiveSession(
                id=new_id(),
                join_code=classroom.generate_join_code(rng),
                host_key_hash=host_key_hash,
                title=title.strip() or "Live class",
                settings=settings_dict,
                question_ids=ids,
                state=Phase.LOBBY,
                current_index=-1,
                created_at=now,
                updated_at=now,
                version=1,
            )
            try:
                with self._write() as conn:
                    taken = conn.execute(
                        select(exists().where(live_sessions.c.join_code == session.join_code))
                    ).scalar_one()
                    if taken:
                        continue
                    conn.execute(insert(live_sessions).values(**session_values(session)))
                return session
            except IntegrityError:
                continue  # another process took the same code between our check and insert
        raise StoreError("Could not find a free join code after 20 tries.")

    def get_session(self, session_id: str) -> LiveSession:
        with self._read(snapshot=False) as conn:
            return self._get_session(conn, session_id)

    def session_clock(self, session_id: str) -> SessionClock:
        """Phase, question and close time only: what hundreds of phones poll every few seconds."""
        cols = (
            live_sessions.c.id,
            live_sessions.c.state,
            live_sessions.c.current_index,
            live_sessions.c.question_closes_at,
            live_sessions.c.question_paused_at,
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(*cols).where(live_sessions.c.id == session_id)).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return SessionClock(
            id=row.id,
            state=Phase(row.state),
            current_index=row.current_index,
            question_closes_at=row.question_closes_at,
            question_paused_at=row.question_paused_at,
        )

    def get_session_by_code(self, join_code: str) -> LiveSession:
        """Look up what a learner typed; malformed codes raise ``RuleError``, unknown ``NotFoundError``."""
        code = classroom.normalise_join_code(join_code)
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(live_sessions).where(live_sessions.c.join_code == code)).first()
        if row is None:
            raise NotFoundError(f"No class with code {code}. Check the code on the projector.")
        return session_from_row(row)

    def get_session_with_count(self, session_id: str) -> tuple[LiveSession, int]:
        """The session and the number of answers to its current question, in one query.

        This is what a polling fragment needs every second, so it is a single round trip.
        """
        count = _answers_to_current_question()
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(live_sessions, count.label("answer_count")).where(live_sessions.c.id == session_id)
            ).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return session_from_row(row), int(row.answer_count)

    def poll_session(self, session_id: str) -> tuple[LiveSession, int, int]:
        """The session, the answers to its current question and the players, in one query.

        The host's polled fragment shows "answered / players" every second; one round trip.
        """
        n_answers = _answers_to_current_question()
        n_players = (
            select(func.count())
            .select_from(players)
            .where(players.c.session_id == live_sessions.c.id)
            .scalar_subquery()
        )
        with self._read(snapshot=False) as conn:
            row = conn.execute(
                select(live_sessions, n_answers.label("answer_count"), n_players.label("player_count")).where(
                    live_sessions.c.id == session_id
                )
            ).first()
        if row is None:
            raise NotFoundError(f"No live session with id {session_id!r}.")
        return session_from_row(row), int(row.answer_count), int(row.player_count)

    def list_sessions(self, limit: int = 20) -> list[LiveSession]:
        """Most recently active sessions first, so a host can resume after a restart."""
        with self._read() as conn:
            rows = conn.execute(
                select(live_sessions)
                .order_by(live_sessions.c.updated_at.desc(), live_sessions.c.id)
                .limit(limit)
            ).all()
        return [session_from_row(r) for r in rows]

    def update_session_state(
        self, session_id: str, expected_version: int, *, now: datetime, **changes: Any
    ) -> LiveSession:
        """Apply ``changes`` only if the row is still at ``expected_version``.

        Two host tabs (or two servers) pressing "next" at once must not skip a question: the
        slower one gets a ``ConflictError`` and reloads. Allowed keys: ``state``,
        ``current_index``, ``question_opened_at``, ``question_closes_at``, ``title``,
        ``settings``, ``question_ids``.
        """
        unknown = set(changes) - set(_SESSION_CHANGE_COLUMNS)
        if unknown:
            raise ValueError(f"Unknown session fields: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "state":
                value = Phase(value).value
            elif key == "settings":
                value = dumps_json(value.to_dict() if isinstance(value, LiveSettings) else dict(value))
            elif key == "question_ids":
                value = dumps_json([str(q) for q in value])
            elif (
                key in ("question_opened_at", "question_closes_at", "question_paused_at")
                and value is not None
            ):
                value = require_utc(value, key)
            values[_SESSION_CHANGE_COLUMNS[key]] = value
        values["updated_at"] = require_utc(now)
        values["version"] = expected_version + 1
        with self._write() as conn:
            result = conn.execute(
                update(live_sessions)
                .where(live_sessions.c.id == session_id, live_sessions.c.version == expected_version)
                .values(**values)
            )
            if result.rowcount != 1:
                current = self._get_session(conn, session_id)  # raises NotFoundError
                raise ConflictError(
                    f"The session changed meanwhile (version {current.version}, expected "
                    f"{expected_version}); reload and try again."
                )
            return self._get_session(conn, session_id)

    def save_rules_state(
        self, session_id: str, expected_version: int, state: SessionState, *, now: datetime
    ) -> LiveSession:
        """Persist the result of a :mod:`trainer.rules.classroom` transition (optimistically)."""
        return self.update_session_state(
            session_id,
            expected_version,
            now=now,
            state=state.phase,
            current_index=state.current_index,
            question_opened_at=state.opened_at,
            question_closes_at=state.closes_at,
            question_paused_at=state.paused_at,
        )

    # -- players -------------------------------------------------------------------------

    def add_player(self, session_id: str, nickname: str, now: datetime) -> Player:
        """Join a session, within the class's player cap.

        The nickname is cleaned (:func:`trainer.rules.classroom.clean_nickname`) and must differ from
        every other in the class ignoring case and look-alike characters (two unique keys,
        :mod:`trainer.rules.nicknames`). The cap (``LiveSettings.max_players``) is counted in the
        insert's transaction, with the session row locked on PostgreSQL, so processes joining
        players at the same moment cannot pass it together.
        """
        name = classroom.clean_nickname(nickname)
        key = classroom.nickname_key(name)
        shape = classroom.nickname_shape_key(name)
        player = Player(
            id=new_id(),
            session_id=session_id,
            nickname=name,
            token=secrets.token_urlsafe(24),
            joined_at=require_utc(now),
        )
        taken = ConflictError(
            f"The nickname {name!r} is already taken in this class (or looks the same as one that is); "
            "please choose another."
        )
        try:
            with self._write() as conn:
                # FOR UPDATE serialises joins of one class on PostgreSQL (SQLite's BEGIN
                # IMMEDIATE already does), so the count below cannot go stale before the insert.
                row = conn.execute(
                    select(live_sessions).where(live_sessions.c.id == session_id).with_for_update()
                ).first()
                if row is None:
                    raise NotFoundError(f"No live session with id {session_id!r}.")
                session = session_from_row(row)
                if session.state is Phase.FINISHED:
                    raise RuleError("This class has finished; ask the host for a new code.")
                clash = conn.execute(
                    select(
                        exists().where(
                            players.c.session_id == session_id,
                            (players.c.nickname_key == key) | (players.c.nickname_shape_key == shape),
                        )
                    )
                ).scalar_one()
                if clash:
                    raise taken
                joined = conn.execute(
                    select(func.count()).select_from(players).where(players.c.session_id == session_id)
                ).scalar_one()
                classroom.check_room_for_player(session.live_settings(), int(joined))
                conn.execute(
                    insert(players).values(
                        id=player.id,
                        session_id=session_id,
                        nickname=name,
                        nickname_key=key,
                        nickname_shape_key=shape,
                        token=player.token,
                        joined_at=player.joined_at,
                    )
                )
        except IntegrityError as exc:
            raise taken from exc
        return player

    def get_player(self, player_id: str) -> Player:
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(players).where(players.c.id == player_id)).first()
        if row is None:
            raise NotFoundError(f"No player with id {player_id!r}.")
        return player_from_row(row)

    def get_player_by_token(self, token: str) -> Player:
        """Rejoin after a reload: the token from the URL identifies the player."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(players).where(players.c.token == token)).first()
        if row is None:
            raise NotFoundError("This player link is not valid (the class may have been deleted).")
        return player_from_row(row)

    def rejoin_by_token(self, token: str) -> tuple[Player, LiveSession]:
        """The player behind a token and their class, in one statement: every run of a phone's
        page starts here, so it is one round trip (a removed player's token finds no row)."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(_REJOIN, {"token": token}).first()
        if row is None:
            raise NotFoundError("This player link is not valid (the class may have been deleted).")
        player = Player(
            id=row.player_id,
            session_id=row.player_session_id,
            nickname=row.player_nickname,
            token=row.player_token,
            joined_at=row.player_joined_at,
        )
        return player, session_from_row(row)

    def list_players(self, session_id: str) -> list[Player]:
        """Players in joining order (the lobby list)."""
        with self._read() as conn:
            rows = conn.execute(
                select(players)
                .where(players.c.session_id == session_id)
                .order_by(players.c.joined_at, players.c.nickname_key)
            ).all()
            if not rows:
                self._get_session(conn, session_id)
        return [player_from_row(r) for r in rows]

    # -- host-key throttling -------------------------------------------------------------

    def try_host_key(
        self,
        scopes: Sequence[tuple[str, throttle.ThrottleRule]],
        now: datetime,
        is_right: Callable[[], bool],
    ) -> throttle.Verdict:
        """One host-key try under :func:`trainer.rules.throttle.try_key`, for every process at once.

        ``scopes`` names each counter and its rule (a client's address, every client). The
        counters are read, decided on and written in one write transaction (rows locked on
        PostgreSQL, in name order so two tries cannot deadlock), so concurrent guesses from
        several processes are counted one by one. ``is_right`` is not called while a scope
        must wait.
        """
        now = require_utc(now)
        names = [name for name, _ in scopes]
        if len(set(names)) != len(names):
            raise ValueError("throttle scopes must be distinct")
        order = sorted(range(len(scopes)), key=lambda i: names[i])
        with self._write() as conn:
            conn.execute(
                self._insert(auth_throttle)
                .values([{"scope": names[i], "failures": 0, "last_failure_at": None} for i in order])
                .on_conflict_do_nothing()
            )
            rows = {
                r.scope: r
                for r in conn.execute(
                    select(auth_throttle)
                    .where(auth_throttle.c.scope.in_(names))
                    .order_by(auth_throttle.c.scope)
                    .with_for_update()
                )
            }
            limits = [
                (rule, throttle.Failures(rows[name].failures, rows[name].last_failure_at))
                for name, rule in scopes
            ]
            verdict, states = throttle.try_key(limits, now, is_right)
            for name, state in zip(names, states, strict=True):
                conn.execute(
                    update(auth_throttle)
                    .where(auth_throttle.c.scope == name)
                    .values(failures=state.count, last_failure_at=state.last_at)
                )
        return verdict

    def throttle_failures(self, scope: str) -> throttle.Failures:
        """The stored counter of one scope (for diagnostics and tests)."""
        with self._read(snapshot=False) as conn:
            row = conn.execute(select(auth_throttle).where(auth_throttle.c.scope == scope)).first()
        return throttle.Failures() if row is None else throttle.Failures(row.failures, row.last_failure_at)


def _answers_to_current_question() -> Any:
    """Correlated subquery: answers to the session row's current question (for the polls)."""
    return (
        select(func.count())
        .select_from(answers)
        .where(
            answers.c.session_id == live_sessions.c.id,
            answers.c.question_index == live_sessions.c.current_index,
        )
        .scalar_subquery()
    )


#: A player by token joined with their class (built once: a phone's every page run uses it). The
#: player's columns carry a ``player_`` prefix, as both tables have ``id``.
_REJOIN = (
    select(live_sessions, *(c.label(f"player_{c.name}") for c in players.c))
    .join_from(players, live_sessions, players.c.session_id == live_sessions.c.id)
    .where(players.c.token == bindparam("token"))
)
