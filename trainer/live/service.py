"""Live class service: what the host and join pages do, as plain functions over the store.

Why it looks like this:

* **No streamlit, no globals.** Every function takes the ``store``, the ``atlas``, the
  ``questions`` and the server's ``now`` (and an ``rng`` where there is chance). Everything a
  second process needs is in the database, so any process behind a load balancer, or one
  restarted mid-question, serves the same class.
* **Scoring happens here, on the server,** with :func:`trainer.scoring.score.score` and the view the
  class was created with (side and body type are fixed at creation and stored in the session's
  settings JSON). Phones send only pins.
* **Time is the server's.** A question closes at its stored close time; :func:`tick` persists the
  close the first time a host poll sees it has passed, and the store refuses a late answer in the
  same transaction as the insert, whatever the pages show.

* **Options are shown shuffled, the same way on every phone and the projector.** The order of
  a question's options comes from a random seed drawn when the class is created and kept on the
  server (:func:`choice_order`); phones send the positions they picked, and :func:`submit` maps
  them back to the options before scoring, so what is stored and scored is the option itself.

The service is the one door the pages and tools use: it holds creating a class, the host's
transitions, joining and submitting, and re-exports the rest from their own modules
(:mod:`~trainer.live.views`, :mod:`~trainer.live.results`, :mod:`~trainer.live.reveal`,
:mod:`~trainer.live.standings`, :mod:`~trainer.live.links`).

Settings JSON of a session (``LiveSession.settings``) holds :class:`~trainer.rules.classroom.LiveSettings`
plus ``side`` (``right``/``left``/``mixed``), ``body_type``, ``view_ids`` (one resolved view id
per question, or ``None`` for a question without an image) and ``choice_seed`` (the secret the
display order of options is derived from; never sent to a browser).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.clock import require_utc
from trainer.errors import AtlasError, ConflictError, NotFoundError, RuleError
from trainer.live.links import base_url_from_page_url, join_url, qr_png
from trainer.live.results import rescore, result_from_json, result_to_json
from trainer.live.reveal import (
    CLUSTER_RADIUS_CM,
    PinStat,
    RevealStats,
    WrongCluster,
    heatmap_pins,
    largest_wrong_cluster,
    reveal_stats,
    too_words,
)
from trainer.live.standings import (
    CLASS_CSV_COLUMNS,
    BoardRow,
    answers_csv,
    leaderboard,
    player_standing,
    question_analytics,
)
from trainer.live.views import (
    LIVE_TYPES,
    SIDES,
    ViewLoader,
    choice_order,
    default_loader,
    is_live_question,
    question_view,
    resolve_view,
)
from trainer.quiz.choices import to_file_indexes
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import pins_needed
from trainer.rules import classroom
from trainer.rules.classroom import LiveSettings, Phase, SessionState
from trainer.scoring.score import Answer as ScoredAnswer
from trainer.scoring.score import score
from trainer.store import Answer, LiveSession, Player, SessionClock, Store

__all__ = [
    "CLUSTER_RADIUS_CM",
    "LIVE_TYPES",
    "SIDES",
    "BoardRow",
    "CLASS_CSV_COLUMNS",
    "PinStat",
    "RevealStats",
    "SubmitOutcome",
    "WrongCluster",
    "answers_csv",
    "base_url_from_page_url",
    "choice_order",
    "ADD_TIME_S",
    "add_time",
    "close_now",
    "end_class",
    "is_paused",
    "pause_clock",
    "remove_player",
    "rename_player",
    "resume_clock",
    "skip_question",
    "create_class",
    "effective_phase",
    "finish_class",
    "heatmap_pins",
    "is_live_question",
    "join",
    "join_url",
    "largest_wrong_cluster",
    "leaderboard",
    "open_next",
    "player_standing",
    "qr_png",
    "question_analytics",
    "question_view",
    "rejoin",
    "rescore",
    "result_from_json",
    "result_to_json",
    "seconds_left",
    "reveal_answer",
    "reveal_stats",
    "sessions_for_key",
    "submit",
    "tick",
    "too_words",
]

# --------------------------------------------------------------------------------------------
# Creating a class
# --------------------------------------------------------------------------------------------


def create_class(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    *,
    title: str,
    question_ids: Sequence[str],
    host_key: str,
    settings: LiveSettings,
    side: str,
    body_type: str,
    now: datetime,
    rng: random.Random | None = None,
    view_loader: ViewLoader | None = None,
) -> LiveSession:
    """Create a session in the lobby after checking every question can be shown and scored.

    All problems are reported at once in one :class:`RuleError`, so the host fixes the setup
    in one go. The views are resolved now (and stored), so every server shows the same side.
    """
    rng = rng or random.Random()
    loader = view_loader or default_loader(atlas)
    problems: list[str] = []
    if not question_ids:
        problems.append("Choose at least one question.")
    if side not in SIDES:
        problems.append(f"Side must be one of {', '.join(SIDES)}, not {side!r}.")
    if body_type not in atlas.body_types:
        problems.append(f"Unknown body type {body_type!r}.")
    view_ids: list[str | None] = []
    for qid in question_ids:
        q = questions.get(qid)
        if q is None:
            problems.append(f"{qid}: no such question in the banks.")
            view_ids.append(None)
            continue
        if not is_live_question(q):
            problems.append(f"{qid}: {q.type} questions cannot be played live (one screen per question).")
        view_id = resolve_view(atlas, q, side if side in SIDES else "right", rng)
        if q.view and view_id is None:
            problems.append(f"{qid}: view {q.view!r} has no {side} side in the atlas.")
        elif view_id is not None and body_type in atlas.body_types:
            try:
                loader(view_id, body_type)
            except AtlasError:
                problems.append(f"{qid}: view {view_id} is not rendered for body type {body_type!r}.")
        view_ids.append(view_id)
    if problems:
        raise RuleError("This class cannot start yet:\n- " + "\n- ".join(problems))
    # Drawn from the host's generator, kept server-side: a player who sees the host's URL (the
    # session id) still cannot work out where the right option will be shown.
    choice_seed = f"{rng.getrandbits(64):016x}"
    data: dict[str, Any] = {
        **settings.to_dict(),
        "side": side,
        "body_type": body_type,
        "view_ids": view_ids,
        "choice_seed": choice_seed,
    }
    return store.create_session(
        title=title, host_key=host_key, question_ids=list(question_ids), now=now, settings=data, rng=rng
    )


def sessions_for_key(store: Store, host_key: str, limit: int = 10) -> list[LiveSession]:
    """Recent sessions the given host key controls (the resume list after a reload or restart)."""
    return [s for s in store.list_sessions(limit=100) if classroom.check_host_key(host_key, s.host_key_hash)][
        :limit
    ]


# --------------------------------------------------------------------------------------------
# Host transitions
# --------------------------------------------------------------------------------------------


def effective_phase(session: LiveSession | SessionClock, now: datetime) -> Phase:
    """The phase as the clock sees it: an open question whose time is up is closed.

    Read-only, so the hundreds of polling phones never write; the host's :func:`tick` persists it.
    """
    if session.state is Phase.OPEN and session.question_closes_at is not None:
        if session.question_paused_at is None and require_utc(now) >= session.question_closes_at:
            return Phase.CLOSED
    return session.state


def seconds_left(session: LiveSession | SessionClock, now: datetime) -> float:
    """Seconds until the open question closes, never negative; 0 when none is open."""
    if effective_phase(session, now) is not Phase.OPEN or session.question_closes_at is None:
        return 0.0
    at = session.question_paused_at or require_utc(now)
    return max(0.0, (session.question_closes_at - at).total_seconds())


def is_paused(session: LiveSession | SessionClock) -> bool:
    """The host has stopped the open question's clock."""
    return session.state is Phase.OPEN and session.question_paused_at is not None


def _apply(
    store: Store, session_id: str, now: datetime, step: Callable[[LiveSession, SessionState], SessionState]
) -> LiveSession:
    """Read, apply a pure rule, write back at the read version (two host tabs cannot both win)."""
    session = store.get_session(session_id)
    new_state = step(session, session.rules_state())
    return store.save_rules_state(session_id, session.version, new_state, now=now)


def tick(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Persist the automatic close once the stored close time has passed; else just read.

    Safe to call from every host poll and from several processes: a lost race is a
    :class:`ConflictError`, after which the winner's row is simply re-read.
    """
    session = store.get_session(session_id)
    if effective_phase(session, now) is Phase.CLOSED and session.state is Phase.OPEN:
        try:
            return store.save_rules_state(
                session_id, session.version, classroom.close_question(session.rules_state(), now), now=now
            )
        except (ConflictError, RuleError):
            return store.get_session(session_id)
    return session


def open_next(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Open the first question (from the lobby) or the next one (after a reveal)."""
    return _apply(
        store,
        session_id,
        now,
        lambda s, st: classroom.open_question(st, now, s.live_settings().time_limit_s),
    )


def close_now(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Stop accepting answers now (or at the stored close time, if that has already passed)."""
    return _apply(store, session_id, now, lambda s, st: classroom.close_question(st, now))


def reveal_answer(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Show the answer; an open question whose time is up is closed first."""
    tick(store, session_id, now)
    return _apply(store, session_id, now, lambda s, st: classroom.reveal(st))


def finish_class(store: Store, session_id: str, now: datetime) -> LiveSession:
    """End the class (from the lobby or after a reveal)."""
    return _apply(store, session_id, now, lambda s, st: classroom.finish(st))


#: Seconds one press of "Add time" gives the open question.
ADD_TIME_S = 30.0


def pause_clock(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Stop the open question's clock (answers still count)."""
    return _apply(store, session_id, now, lambda s, st: classroom.pause_clock(st, now))


def resume_clock(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Restart a paused clock where it stopped."""
    return _apply(store, session_id, now, lambda s, st: classroom.resume_clock(st, now))


def add_time(store: Store, session_id: str, now: datetime, seconds: float = ADD_TIME_S) -> LiveSession:
    """Give the open question more time (30 s by default)."""
    return _apply(store, session_id, now, lambda s, st: classroom.extend_time(st, now, seconds))


def skip_question(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Move on without a reveal: the next question opens (or the class finishes after the last)."""
    return _apply(
        store, session_id, now, lambda s, st: classroom.skip_question(st, now, s.live_settings().time_limit_s)
    )


def end_class(store: Store, session_id: str, now: datetime) -> LiveSession:
    """Finish the class now, whatever is on screen."""
    return _apply(store, session_id, now, lambda s, st: classroom.end_class(st, now))


def rename_player(store: Store, session_id: str, player_id: str, nickname: str) -> Player:
    """The host renames a player (an unsuitable name); the same rules as joining apply."""
    return store.rename_player(session_id, player_id, nickname)


def remove_player(store: Store, session_id: str, player_id: str) -> int:
    """The host removes a player and their answers; their link stops working at once."""
    return store.remove_player(session_id, player_id)


# --------------------------------------------------------------------------------------------
# Players
# --------------------------------------------------------------------------------------------


def join(store: Store, join_code: str, nickname: str, now: datetime) -> tuple[LiveSession, Player]:
    """Join by code; the nickname is cleaned and must be unique (ignoring case) in the class."""
    session = store.get_session_by_code(join_code)
    player = store.add_player(session.id, nickname, now)
    return session, player


def rejoin(store: Store, token: str) -> tuple[LiveSession, Player]:
    """The player behind a URL token, and their class: a reload is the same player."""
    if not token or len(token) > 64:
        raise NotFoundError("This player link is not valid.")
    player, session = store.rejoin_by_token(token)  # one statement: every phone page run
    return session, player


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitOutcome:
    """What the phone is told: ``created`` False means "already received" (a no-op)."""

    answer: Answer
    created: bool

    @property
    def message(self) -> str:
        return "Answer received." if self.created else "Already received: your first answer counts."


def _clean_pins(
    pins_px: Sequence[Sequence[float]], view: RenderedView | None, max_pins: int
) -> tuple[tuple[float, float], ...]:
    """Refuse junk from a modified client: non-numbers, non-finite values, too many pins."""
    out: list[tuple[float, float]] = []
    for p in pins_px:
        if len(p) != 2:
            raise RuleError("Each pin must be an (x, y) pair.")
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise RuleError("Pins must be finite numbers.")
        if view is not None:
            x = min(max(x, 0.0), float(view.width_px))
            y = min(max(y, 0.0), float(view.height_px))
        out.append((round(x, 2), round(y, 2)))
    if len(out) > max_pins:
        raise RuleError(f"Too many pins: at most {max_pins} for this question.")
    return tuple(out)


def submit(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session_id: str,
    token: str,
    pins_px: Sequence[Sequence[float]],
    now: datetime,
    *,
    choices: Sequence[int] = (),
    question_index: int | None = None,
    view_loader: ViewLoader | None = None,
) -> SubmitOutcome:
    """Score a player's answer on the server and store it once.

    ``choices`` are the positions the player picked on screen (0 = the first option shown);
    they are mapped to the options themselves (:func:`choice_order`) before scoring and storing.

    ``question_index`` is the question the phone was showing; an answer for any other question
    is refused (a phone that slept through a change must not answer the new one by accident).
    A resubmission returns the stored answer with ``created=False``; a new answer after the
    close raises :class:`RuleError` (checked by the store in the insert's transaction).
    """
    now = require_utc(now)
    player, session = store.rejoin_by_token(token)
    if player.session_id != session_id:
        raise NotFoundError("This player link belongs to another class.")
    index = session.current_index if question_index is None else question_index
    if index != session.current_index:
        raise RuleError(
            f"That answer was for question {index + 1}, but question {session.current_index + 1} is on screen."
        )
    qid = session.current_question_id
    if qid is None:
        raise RuleError("No question is on screen yet.")
    q = questions.get(qid)
    if q is None:
        raise NotFoundError(f"Question {qid!r} is no longer in the banks; the host must skip it.")
    view = question_view(atlas, session, index, view_loader)
    _, hi = pins_needed(atlas, q)
    pins = _clean_pins(pins_px, view, max(hi, 0))
    shown = tuple(int(c) for c in choices)
    if any(not 0 <= c < len(q.choices) for c in shown):
        raise RuleError("That choice is not one of the options.")
    picked = to_file_indexes(shown, choice_order(session, index, len(q.choices)))
    result = score(q, ScoredAnswer(pins_px=pins, choices=picked), view, atlas)
    state = session.rules_state()
    payload = result_to_json(result)
    payload["elapsed_s"] = round(classroom.elapsed_s(state, now), 3)
    distance = result.mean_distance_cm
    answer, created = store.submit_answer(
        session_id=session_id,
        question_index=index,
        player_id=player.id,
        pins=[list(p) for p in pins] if hi > 0 else {"choices": list(picked)},
        credit=min(1.0, max(0.0, float(result.credit))),
        now=now,
        distance_cm=distance if distance is not None and math.isfinite(distance) else None,
        result=payload,
    )
    return SubmitOutcome(answer=answer, created=created)
