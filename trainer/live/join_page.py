"""The join (phone) page's decisions, without Streamlit: joining, what each phase shows, where a
tap goes, which buttons are enabled, and what a submit stores.

The page (``trainer/ui/pages/join.py``) lays out widgets from these values. The store, the
atlas, the questions and the server's ``now`` are passed in; nothing here keeps state between
runs (the player's pins live in the page's session state and are passed back in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trainer.atlas.core import Atlas
from trainer.errors import ConflictError, NotFoundError, RuleError, StoreError
from trainer.live import service as live
from trainer.quiz.kinds import is_multi_site, is_trace
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import Phase, check_browser_joins
from trainer.scoring.score import trace_instructions
from trainer.store import LiveSession, Player, Store

Pin = tuple[float, float]
Tone = Literal["success", "warning", "error"]

NICKNAME_TAKEN = (
    "That nickname is already taken in this class (names are compared ignoring case and "
    "look-alike letters). Please choose another."
)
NO_SUCH_CLASS = "No class has that code. Check the code on the projector."
LINK_INVALID = "That player link is no longer valid. Join again with the code on the projector."
LOBBY_TEXT = "You're in! The class starts when the host opens the first question."
RECEIVED = "Answer received ✓ Wait for the reveal."
TIME_UP = "Time is up. Waiting for the reveal…"


# --------------------------------------------------------------------------------------------
# Who am I?
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinReply:
    """The outcome of the join form: a player, or a message (and the failure to log, if any)."""

    session: LiveSession | None = None
    player: Player | None = None
    error: str = ""
    failure: StoreError | None = None
    #: The error is one of this module's fixed sentences (no typed text in it): shown as is.
    fixed_text: bool = False


def join_class(store: Store, code: str, nickname: str, joins_so_far: int, now: datetime) -> JoinReply:
    """Join with the typed code and nickname; every refusal becomes a sentence for the learner."""
    try:
        check_browser_joins(joins_so_far)
        session, player = live.join(store, code, nickname, now)
    except ConflictError:
        return JoinReply(error=NICKNAME_TAKEN, fixed_text=True)
    except NotFoundError:
        return JoinReply(error=NO_SUCH_CLASS, fixed_text=True)
    except RuleError as exc:
        return JoinReply(error=str(exc))
    except StoreError as exc:  # the database failed: say so plainly, the page logs the detail
        return JoinReply(error=f"You could not join just now. {exc}", failure=exc)
    return JoinReply(session=session, player=player)


def rejoin(store: Store, token: str) -> JoinReply:
    """The player behind the URL token (a reload is the same player), or why the link is dead."""
    if not token:
        return JoinReply()
    try:
        session, player = live.rejoin(store, token)
    except NotFoundError:
        return JoinReply(error=LINK_INVALID, fixed_text=True)
    return JoinReply(session=session, player=player)


# --------------------------------------------------------------------------------------------
# Finished
# --------------------------------------------------------------------------------------------


def board_line(row: live.BoardRow) -> str:
    """One line of the top three on a phone ("(you)" unless the name already says "You")."""
    return f"{row.rank}. {row.name} — {row.points} pts" + (
        "  (you)" if row.is_you and row.name != "You" else ""
    )


def practise_again_params(
    session: LiveSession, questions: Mapping[str, QuestionModel], atlas: Atlas
) -> dict[str, str] | None:
    """Query parameters of "Practise these questions again" (same side and body), or None."""
    again = [qid for qid in session.question_ids if qid in questions]
    if not again:
        return None
    params = {"questions": ",".join(again)}
    side, body = session.settings.get("side"), session.settings.get("body_type")
    if side in ("right", "left"):
        params["side"] = str(side)
    if isinstance(body, str) and body in atlas.body_types:
        params["body"] = body
    return params


@dataclass(frozen=True)
class OwnResult:
    """One question of a finished class as this player did it (only ever their own answer)."""

    number: int
    prompt: str
    answered: bool
    line: str
    feedback: str


def own_results(
    store: Store, atlas: Atlas, questions: Mapping[str, QuestionModel], session: LiveSession, player_id: str
) -> list[OwnResult]:
    """The player's answers, question by question, with the feedback of the reveal.

    Read by primary key (session, question, this player): nobody else's answer is loaded.
    """
    out: list[OwnResult] = []
    for i in range(max(session.current_index + 1, 0)):
        q = questions.get(session.question_ids[i])
        prompt = q.prompt if q is not None else session.question_ids[i]
        mine = store.get_answer(session.id, i, player_id)
        if mine is None:
            out.append(OwnResult(i + 1, prompt, False, "Not answered", ""))
            continue
        line = f"{round(mine.credit * 100)}% · +{mine.points} points"
        if mine.distance_cm is not None:
            line += f" · {mine.distance_cm:.1f} cm"
        result = live.rescore(atlas, questions, session, mine)
        out.append(OwnResult(i + 1, prompt, True, line, result.feedback if result is not None else ""))
    return out


# --------------------------------------------------------------------------------------------
# A question: pins, buttons, submit
# --------------------------------------------------------------------------------------------


def place_pin(pins: Sequence[Pin], click_xy: Pin, max_pins: int, *, nudge: bool = False) -> list[Pin]:
    """Pins after a tap: a one-pin question moves its pin; others add up to their maximum.
    An arrow-key nudge moves the last pin.

    >>> place_pin([(1.0, 1.0)], (2.0, 2.0), 1)
    [(2.0, 2.0)]
    >>> place_pin([(1.0, 1.0)], (2.0, 2.0), 1 + 1)
    [(1.0, 1.0), (2.0, 2.0)]
    >>> place_pin([(1.0, 1.0)], (2.0, 2.0), 0)
    [(1.0, 1.0)]
    >>> place_pin([(1.0, 1.0), (5.0, 5.0)], (5.1, 5.0), 3, nudge=True)
    [(1.0, 1.0), (5.1, 5.0)]
    """
    if nudge and pins:
        return [*pins[:-1], click_xy]
    if max_pins == 1:
        return [click_xy]
    if len(pins) < max_pins:
        return [*pins, click_xy]
    return list(pins)


def undo_pin(pins: Sequence[Pin]) -> list[Pin]:
    """Pins after Undo: the last one goes."""
    return list(pins[:-1])


def reveal_tone(credit: float) -> Tone:
    """Green for full credit, amber for some, red for none."""
    return "success" if credit >= 0.999 else ("warning" if credit > 0 else "error")


@dataclass(frozen=True)
class AnswerArea:
    """What the answer part of the phone shows for an open or closed question."""

    can_answer: bool
    taps: bool
    status: str
    already: str
    hint: str
    instructions: str
    undo_enabled: bool
    submit_enabled: bool
    multi_answer_hint: bool


def answer_area(
    q: QuestionModel,
    phase: Phase,
    *,
    answered: bool,
    sent_message: str,
    pins: int,
    chosen: int,
    min_pins: int,
    max_pins: int,
) -> AnswerArea:
    """Which buttons are enabled and what is said, from the phase and what this phone holds."""
    can_answer = phase is Phase.OPEN and not answered
    taps = can_answer and max_pins > 0
    status = RECEIVED if answered else (TIME_UP if phase is Phase.CLOSED else "")
    if taps:
        hint = "Tap where you would inject." if max_pins == 1 else f"Tap to add pins ({pins} placed)."
    else:
        hint = ""
    instructions = ""
    if can_answer and is_multi_site(q):
        instructions = f"Place {min_pins} pins."
    elif can_answer and is_trace(q):
        instructions = trace_instructions(q) + " Then submit."
    ready = pins >= min_pins if max_pins > 0 else chosen > 0
    return AnswerArea(
        can_answer=can_answer,
        taps=taps,
        status=status,
        already=sent_message if answered and sent_message.startswith("Already") else "",
        hint=hint,
        instructions=instructions,
        undo_enabled=taps and pins > 0,
        submit_enabled=can_answer and ready,
        multi_answer_hint=can_answer and max_pins == 0 and q.multi_answer,
    )


@dataclass(frozen=True)
class SubmitReply:
    """What the phone says after Submit: the server's message, or why nothing was stored."""

    message: str = ""
    error: str = ""
    failure: StoreError | None = None


def send_answer(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session_id: str,
    token: str,
    question_index: int,
    pins: Sequence[Pin],
    chosen: Sequence[int],
    now: datetime,
) -> SubmitReply:
    """Score and store this phone's answer once (server time decides whether it was in time).

    ``chosen`` are display positions; pins are sent for pin questions, positions for choices.
    """
    try:
        outcome = live.submit(
            store,
            atlas,
            questions,
            session_id,
            token,
            list(pins),
            now,
            choices=tuple(chosen),
            question_index=question_index,
        )
    except (RuleError, NotFoundError) as exc:
        return SubmitReply(error=str(exc))
    except StoreError as exc:
        return SubmitReply(error=f"Your answer was not saved. {exc}", failure=exc)
    return SubmitReply(message=outcome.message)


def own_pins(stored: object, unsent: Sequence[Pin]) -> list[Pin]:
    """The pins drawn on the phone: the stored answer's once sent, else the ones placed so far."""
    if isinstance(stored, list):
        return [(float(x), float(y)) for x, y in stored]
    return list(unsent)


#: The join page hides the app's navigation: during a class the phone offers only the class.
NO_SIDEBAR_CSS = (
    "<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],"
    " [data-testid='stExpandSidebarButton'], [data-testid='stSidebarNav'] { display: none !important; }</style>"
)
#: At most this many pins ride in the URL (the most any live question takes is 30).
MAX_URL_PINS = 30


def token_to_use(from_url: str, from_session: str) -> str:
    """The player's token: the URL's, else the one this browser session joined with."""
    return from_url or from_session


def pins_param(index: int, pins: Sequence[Pin]) -> str:
    """Unsent pins of question ``index`` for the URL (``3:120.5,40;130,42``).

    >>> pins_param(2, [(120.5, 40.0), (1.0, 2.25)])
    '2:120.5,40;1,2.25'
    """
    return f"{index}:" + ";".join(f"{x:g},{y:g}" for x, y in pins[:MAX_URL_PINS])


def pins_from_param(raw: str, index: int, max_pins: int) -> list[Pin]:
    """The pins a reload brings back: only for the same question, only finite numbers, at most
    the question's maximum; anything malformed gives no pins (the URL is the learner's to edit).

    >>> pins_from_param("2:120.5,40;1,2.25", 2, 30), pins_from_param("1:5,5", 2, 30)
    ([(120.5, 40.0), (1.0, 2.25)], [])
    >>> pins_from_param("2:nan,1;x,y;1,2,3", 2, 30), pins_from_param("2:1,1;2,2", 2, 1)
    ([], [(1.0, 1.0)])
    """
    head, _, body = (raw or "").partition(":")
    if head != str(index) or not body or max_pins <= 0:
        return []
    out: list[Pin] = []
    for part in body.split(";")[:MAX_URL_PINS]:
        xy = part.split(",")
        try:
            x, y = float(xy[0]), float(xy[1])
        except (ValueError, IndexError):
            return []
        if len(xy) != 2 or not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 100_000:
            return []
        out.append((x, y))
    return out[:max_pins]
