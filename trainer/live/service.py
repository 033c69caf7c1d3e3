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

Settings JSON of a session (``LiveSession.settings``) holds :class:`~trainer.rules.classroom.LiveSettings`
plus ``side`` (``right``/``left``/``mixed``), ``body_type``, ``view_ids`` (one resolved view id
per question, or ``None`` for a question without an image) and ``choice_seed`` (the secret the
display order of options is derived from; never sent to a browser).
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
from scipy.spatial import cKDTree

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.clock import require_utc
from trainer.errors import AtlasError, ConflictError, NotFoundError, RuleError
from trainer.geometry import VOCABULARIES, direction_words
from trainer.quiz.choices import fixed_order, to_file_indexes
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import pins_needed
from trainer.rules import classroom
from trainer.rules.classroom import LiveSettings, Phase, SessionState
from trainer.scoring.score import Answer as ScoredAnswer
from trainer.scoring.score import PinResult, Result, direction_vocabulary, score
from trainer.store import ANSWER_CSV_COLUMNS, Answer, LiveSession, Player, SessionClock, Store

__all__ = [
    "CLUSTER_RADIUS_CM",
    "LIVE_TYPES",
    "SIDES",
    "BoardRow",
    "PinStat",
    "RevealStats",
    "SubmitOutcome",
    "WrongCluster",
    "answers_csv",
    "base_url_from_page_url",
    "choice_order",
    "close_now",
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

#: Question types a phone can answer in a live class: pins on the image, or one set of choices.
LIVE_TYPES: tuple[str, ...] = ("locate", "multi_site", "trace", "territory", "identify", "clinical")
SIDES: tuple[str, ...] = ("right", "left", "mixed")
#: Wrong pins within this distance (on the body) of a pin count as one cluster.
CLUSTER_RADIUS_CM = 1.5

ViewLoader = Callable[[str, str], RenderedView]


def is_live_question(q: QuestionModel) -> bool:
    """Cases have several steps on several screens; everything else fits one phone screen."""
    return q.type in LIVE_TYPES


# --------------------------------------------------------------------------------------------
# Creating a class
# --------------------------------------------------------------------------------------------


def _default_loader(atlas: Atlas) -> ViewLoader:
    return lambda view_id, body_type: load_rendered_view(view_id, body_type, atlas.root)


def _resolve_view(atlas: Atlas, q: QuestionModel, side: str, rng: random.Random) -> str | None:
    """The full view id for a question: its own full id, else its base view on the chosen side."""
    if not q.view:
        return None
    if q.view in atlas.views:
        return q.view
    sides = sorted(v.side for v in atlas.views.values() if v.base_id == q.view)
    if not sides:
        return None
    chosen = rng.choice(sides) if side == "mixed" else side
    return f"{q.view}_{chosen}" if chosen in sides else None


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
    loader = view_loader or _default_loader(atlas)
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
        view_id = _resolve_view(atlas, q, side if side in SIDES else "right", rng)
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


def question_view(
    atlas: Atlas, session: LiveSession, index: int, view_loader: ViewLoader | None = None
) -> RenderedView | None:
    """The rendered view question ``index`` of this class is shown (and scored) on."""
    view_ids = session.settings.get("view_ids") or []
    view_id = view_ids[index] if 0 <= index < len(view_ids) else None
    if view_id is None:
        return None
    body_type = str(session.settings.get("body_type") or atlas.default_body_type)
    return (view_loader or _default_loader(atlas))(view_id, body_type)


def choice_order(session: LiveSession, index: int, n_options: int) -> tuple[int, ...]:
    """Display order of question ``index``'s options in this class: ``order[k]`` is the file
    index of the option shown at position ``k``, the same on every phone, server and the host.

    Derived from the class's stored seed and the question's place in the class, so nothing has
    to be written when a question opens. (A class created before seeds were stored uses its id.)
    """
    seed = str(session.settings.get("choice_seed") or session.id)
    return fixed_order(f"{seed}:{index}", n_options)


# --------------------------------------------------------------------------------------------
# Host transitions
# --------------------------------------------------------------------------------------------


def effective_phase(session: LiveSession | SessionClock, now: datetime) -> Phase:
    """The phase as the clock sees it: an open question whose time is up is closed.

    Read-only, so the hundreds of polling phones never write; the host's :func:`tick` persists it.
    """
    if session.state is Phase.OPEN and session.question_closes_at is not None:
        if require_utc(now) >= session.question_closes_at:
            return Phase.CLOSED
    return session.state


def seconds_left(session: LiveSession | SessionClock, now: datetime) -> float:
    """Seconds until the open question closes, never negative; 0 when none is open."""
    if effective_phase(session, now) is not Phase.OPEN or session.question_closes_at is None:
        return 0.0
    return max(0.0, (session.question_closes_at - require_utc(now)).total_seconds())


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
    player = store.get_player_by_token(token)
    return store.get_session(player.session_id), player


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """Tuples to lists, non-finite floats to None: the store refuses NaN/inf (so do browsers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def result_to_json(result: Result) -> dict[str, Any]:
    """A scoring result as JSON-ready data (kept with the answer for the CSV and the reveal)."""
    data: dict[str, Any] = _json_safe(asdict(result))
    return data


def _num(value: Any, missing: float = math.nan) -> float:
    """A stored number; ``None`` is what :func:`_json_safe` made of infinity or NaN."""
    return missing if value is None else float(value)


def _pin_from_json(d: Mapping[str, Any]) -> PinResult:
    target = d.get("target_px")
    target_id = d.get("target_id")
    # Scoring gives an extra (unmatched) pin a NaN distance and an off-body pin infinity.
    missing = math.nan if target_id is None else math.inf
    return PinResult(
        x_px=float(d["x_px"]),
        y_px=float(d["y_px"]),
        on_body=bool(d["on_body"]),
        target_id=target_id,
        distance_cm=_num(d["distance_cm"], missing),
        credit=float(d["credit"]),
        direction={str(k): _num(v) for k, v in dict(d.get("direction") or {}).items()},
        direction_text=str(d.get("direction_text") or ""),
        nearest_id=d.get("nearest_id"),
        nearest_name=d.get("nearest_name"),
        nearest_cm=None if d.get("nearest_cm") is None else float(d["nearest_cm"]),
        safety=d.get("safety"),
        target_px=None if target is None else (float(target[0]), float(target[1])),
    )


def result_from_json(data: Mapping[str, Any]) -> Result:
    """The :class:`Result` stored by :func:`result_to_json` (extra keys such as ``elapsed_s``
    are ignored). Raises ``KeyError``/``TypeError``/``ValueError`` on a malformed record."""
    return Result(
        question_id=str(data["question_id"]),
        type=str(data["type"]),
        credit=float(data["credit"]),
        feedback=str(data["feedback"]),
        pins=tuple(_pin_from_json(p) for p in data.get("pins") or ()),
        chosen=tuple(int(c) for c in data.get("chosen") or ()),
        correct_choices=tuple(int(c) for c in data.get("correct_choices") or ()),
        teaching=str(data.get("teaching") or ""),
        references=tuple(str(r) for r in data.get("references") or ()),
        safety=tuple(str(x) for x in data.get("safety") or ()),
        details={str(k): _num(v) for k, v in dict(data.get("details") or {}).items()},
        steps=tuple(result_from_json(x) for x in data.get("steps") or ()),
    )


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
    player = store.get_player_by_token(token)
    if player.session_id != session_id:
        raise NotFoundError("This player link belongs to another class.")
    session = store.get_session(session_id)
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


def rescore(
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    answer: Answer,
    view_loader: ViewLoader | None = None,
) -> Result | None:
    """The full :class:`Result` of a stored answer (for the player's reveal overlay).

    The result stored with the answer is what the points were given for, so it is used as is
    (every phone asks for it at the same moment, after the reveal). An answer stored without
    a readable result is scored again: scoring is pure, so that gives the same result.
    """
    if answer.result:
        try:
            return result_from_json(answer.result)
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    q = questions.get(answer.question_id)
    if q is None:
        return None
    view = question_view(atlas, session, answer.question_index, view_loader)
    pins = answer.pins if isinstance(answer.pins, list) else []
    chosen = answer.pins.get("choices", []) if isinstance(answer.pins, dict) else []
    return score(
        q,
        ScoredAnswer(
            pins_px=tuple((float(x), float(y)) for x, y in pins), choices=tuple(int(c) for c in chosen)
        ),
        view,
        atlas,
    )


def heatmap_pins(store: Store, session_id: str, question_index: int) -> list[tuple[float, float]]:
    """Every pin placed on a question so far (host only: this is where the class thinks it is)."""
    out: list[tuple[float, float]] = []
    for a in store.list_answers(session_id, question_index):
        if isinstance(a.pins, list):
            out.extend((float(x), float(y)) for x, y in a.pins)
    return out


# --------------------------------------------------------------------------------------------
# Reveal statistics
# --------------------------------------------------------------------------------------------


def too_words(components_cm: Mapping[str, float], min_cm: float = 0.3, vocabulary: str = "leg") -> str:
    """Direction of an error as a class hears it, largest component first (at most two).

    ``vocabulary`` is ``"foot"`` on views of the foot (:func:`trainer.scoring.score.direction_vocabulary`).

    >>> too_words({"proximal": -2.08, "lateral": 0.1, "anterior": 0.0})
    '2.1 cm too distal'
    >>> too_words({"proximal": 0.5, "lateral": -1.2, "anterior": 0.0})
    '1.2 cm too medial and 0.5 cm too proximal'
    >>> too_words({"proximal": -0.4, "lateral": 0.0, "anterior": -2.0}, vocabulary="foot")
    '2.0 cm too far toward the heel and 0.4 cm too plantar'
    """
    largest = dict(
        sorted(
            ((a, v) for a, v in components_cm.items() if a in VOCABULARIES[vocabulary] and abs(v) >= min_cm),
            key=lambda kv: (-round(abs(kv[1]), 4), list(VOCABULARIES[vocabulary]).index(kv[0])),
        )[:2]
    )
    words = direction_words(largest, min_cm=min_cm, vocabulary=vocabulary, too=True)
    return words if largest else "close to the target, but outside the tolerance"


@dataclass(frozen=True)
class PinStat:
    """One pin of one answer, as the reveal needs it."""

    x_px: float
    y_px: float
    credit: float
    distance_cm: float | None
    direction: dict[str, float]
    on_body: bool
    wrong: bool


@dataclass(frozen=True)
class WrongCluster:
    """The densest group of wrong pins and its mean error direction (body cm, anatomical axes)."""

    size: int
    wrong_total: int
    pins_total: int
    direction_cm: dict[str, float]
    center_px: tuple[float, float]
    sentence: str


@dataclass(frozen=True)
class RevealStats:
    question_index: int
    question_id: str
    answered: int
    players: int
    mean_error_cm: float | None
    within_tolerance_pct: float | None
    mean_credit_pct: float | None
    off_body: int
    cluster: WrongCluster | None
    pins: tuple[PinStat, ...] = ()
    choice_counts: tuple[int, ...] = ()
    correct_pct: float | None = None
    summary: str = field(default="")


def largest_wrong_cluster(
    points_cm: np.ndarray,
    directions: Sequence[Mapping[str, float]],
    centers_px: np.ndarray,
    pins_total: int,
    radius_cm: float = CLUSTER_RADIUS_CM,
    vocabulary: str = "leg",
) -> WrongCluster | None:
    """The most populated disc of ``radius_cm`` (on the body) centred on a wrong pin.

    One pass with a k-d tree, deterministic (ties go to the earliest pin), O(n log n): a
    300-phone class is clustered in well under a millisecond. The direction is the mean of the
    members' error components, so "2.1 cm too distal" is the group's typical miss.

    >>> pts = np.array([[0, -2.0, 0], [0.2, -2.1, 0], [0.1, -2.2, 0], [5, 5, 0]])
    >>> dirs = [{"proximal": -2.0}, {"proximal": -2.1}, {"proximal": -2.2}, {"proximal": 5.0}]
    >>> c = largest_wrong_cluster(pts, dirs, np.zeros((4, 2)), pins_total=5)
    >>> (c.size, c.sentence)
    (3, 'Most of you went 2.1 cm too distal.')
    """
    n = len(points_cm)
    if n == 0:
        return None
    tree = cKDTree(np.asarray(points_cm, dtype=np.float64))
    neighbours = tree.query_ball_point(np.asarray(points_cm, dtype=np.float64), r=radius_cm)
    counts = np.array([len(nb) for nb in neighbours])
    leader = int(np.argmax(counts))
    members = sorted(neighbours[leader])
    axes = ("proximal", "lateral", "anterior")
    mean_dir = {a: float(np.mean([directions[i].get(a, 0.0) for i in members])) for a in axes}
    center = np.asarray(centers_px, dtype=np.float64)[members].mean(axis=0)
    words = too_words(mean_dir, vocabulary=vocabulary)
    size = len(members)
    if size * 2 > pins_total:
        sentence = f"Most of you went {words}."
    elif size == 1:
        sentence = (
            f"The wrong pins were scattered; the nearest miss went {words}."
            if n == 1
            else (f"The {n} wrong pins were scattered (no two within {radius_cm:g} cm); one went {words}.")
        )
    else:
        sentence = f"The largest group of wrong pins ({size} of {pins_total} pins) went {words}."
    return WrongCluster(
        size=size,
        wrong_total=n,
        pins_total=pins_total,
        direction_cm=mean_dir,
        center_px=(float(center[0]), float(center[1])),
        sentence=sentence,
    )


def reveal_stats(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    question_index: int,
    *,
    players: int | None = None,
    view_loader: ViewLoader | None = None,
) -> RevealStats:
    """Mean error, % within tolerance and the largest wrong cluster for one question.

    * mean error: mean of each answer's (mean) distance in cm, answers with a pin on the body;
    * within tolerance: answers whose distance is at most the question's ``tolerance_cm`` and
      that scored (a pin in a safety radius does not count, however close);
    * wrong pins: pins on the body farther than the tolerance (or unsafe); clustered on the body.
    """
    qid = session.question_ids[question_index]
    q = questions.get(qid)
    answers = store.list_answers(session.id, question_index)
    n_players = players if players is not None else len(store.list_players(session.id))
    tol = q.tolerance_cm if q is not None else 1.0
    distances = [a.distance_cm for a in answers if a.distance_cm is not None]
    pins: list[PinStat] = []
    for a in answers:
        for p in a.result.get("pins", []) or []:
            d = p.get("distance_cm")
            on_body = bool(p.get("on_body"))
            targeted = p.get("target_id") is not None
            credit = float(p.get("credit") or 0.0)
            wrong = on_body and targeted and (d is None or d > tol + 1e-9 or bool(p.get("safety")))
            pins.append(
                PinStat(
                    float(p["x_px"]),
                    float(p["y_px"]),
                    credit,
                    d,
                    dict(p.get("direction") or {}),
                    on_body,
                    wrong,
                )
            )
    within = sum(
        1 for a in answers if a.distance_cm is not None and a.distance_cm <= tol + 1e-9 and a.credit > 0
    )
    cluster = None
    wrong = [p for p in pins if p.wrong]
    if wrong:
        view = question_view(atlas, session, question_index, view_loader)
        if view is not None:
            xy = np.array([[p.x_px, p.y_px] for p in wrong])
            pts_cm, _ = view.lift(xy[:, 0], xy[:, 1])
            cluster = largest_wrong_cluster(
                pts_cm,
                [p.direction for p in wrong],
                xy,
                pins_total=sum(1 for p in pins if p.on_body),
                vocabulary=direction_vocabulary(atlas, view.view_id),
            )
    counts: tuple[int, ...] = ()
    correct_pct = None
    if q is not None and q.choices and not any(isinstance(a.pins, list) and a.pins for a in answers):
        tally = [0] * len(q.choices)
        for a in answers:
            for c in a.pins.get("choices", []) if isinstance(a.pins, dict) else []:
                if 0 <= int(c) < len(tally):
                    tally[int(c)] += 1
        counts = tuple(tally)
        correct_pct = 100.0 * sum(1 for a in answers if a.credit >= 0.999) / len(answers) if answers else None
    stats = RevealStats(
        question_index=question_index,
        question_id=qid,
        answered=len(answers),
        players=n_players,
        mean_error_cm=float(np.mean(distances)) if distances else None,
        within_tolerance_pct=100.0 * within / len(answers) if answers and (distances or pins) else None,
        mean_credit_pct=100.0 * float(np.mean([a.credit for a in answers])) if answers else None,
        off_body=sum(1 for p in pins if not p.on_body),
        cluster=cluster,
        pins=tuple(pins),
        choice_counts=counts,
        correct_pct=correct_pct,
    )
    return _with_summary(stats)


def _with_summary(s: RevealStats) -> RevealStats:
    parts = [f"{s.answered} of {s.players} answered."]
    if s.mean_error_cm is not None:
        parts.append(f"Mean error {s.mean_error_cm:.1f} cm.")
    if s.within_tolerance_pct is not None:
        parts.append(f"{s.within_tolerance_pct:.0f}% within tolerance.")
    if s.correct_pct is not None:
        parts.append(f"{s.correct_pct:.0f}% correct.")
    if s.cluster is not None:
        parts.append(s.cluster.sentence)
    return replace(s, summary=" ".join(parts))


# --------------------------------------------------------------------------------------------
# Leaderboard, standings, analytics, export
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Join URL and QR code
# --------------------------------------------------------------------------------------------


def base_url_from_page_url(page_url: str) -> str:
    """The app's base URL from the address of one of its pages (query and page name dropped).

    >>> base_url_from_page_url("http://192.168.1.20:8501/host?session=abc")
    'http://192.168.1.20:8501'
    >>> base_url_from_page_url("https://example.org/trainer/host")
    'https://example.org/trainer'
    """
    parts = urlsplit(page_url)
    path = re.sub(r"/[^/]*$", "", parts.path)
    return f"{parts.scheme}://{parts.netloc}{path}"


def join_url(base_url: str, join_code: str) -> str:
    """The address learners open (and the QR code encodes).

    >>> join_url("http://192.168.1.20:8501/", "K7PM3Q")
    'http://192.168.1.20:8501/join?code=K7PM3Q'
    """
    return f"{base_url.rstrip('/')}/join?{urlencode({'code': join_code})}"


def qr_png(text: str, box_px: int = 10) -> bytes:
    """A PNG QR code (medium error correction survives a projector's glare)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_px, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
