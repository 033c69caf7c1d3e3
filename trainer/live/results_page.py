"""A learner's read-only results of a finished class (``/results``), without Streamlit.

Who the learner is comes only from their player token: the one in their personal link
(``/results?token=…``, offered on their phone at the end of the class), or the one their phone
kept when they joined (the host's shared link ``/results?code=…`` asks the phone for it). A token
shows its own player's answers and nothing of anyone else's: every answer is read by primary key
(session, question, this player), and the rank is the player's own. Nothing is shown before the
class is finished, so the link cannot leak an answer during the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.errors import NotFoundError, RuleError
from trainer.live import service as live
from trainer.live.views import ViewLoader
from trainer.quiz.choices import ShownOption, revealed_options
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import Phase, normalise_join_code
from trainer.scoring.reveal import question_shapes, reveal_shapes, shows_picture
from trainer.scoring.score import Result
from trainer.store import LiveSession, Player, Store

LINK_INVALID = (
    "This results link is not valid (the player may have been removed from the class). "
    "Ask the host for the class's results link and open it on the phone you played on."
)
NOT_FINISHED = (
    "The class is not finished yet: your answers and the reveals appear here when the host ends it."
)
NOT_ON_THIS_DEVICE = (
    "This phone did not play in this class, so there are no results to show here. Open the link "
    "on the phone you joined with (the same browser), or use the “See all your answers” link on "
    "your class page."
)
OTHER_CLASS = "This player link belongs to another class."
NO_CODE = "This results link has no class code. Ask the host for the class's results link."


@dataclass(frozen=True)
class OwnReveal:
    """One question as this learner did it, with the reveal (only ever their own answer)."""

    number: int
    prompt: str
    vignette: str
    answered: bool
    credit: float | None
    points: int | None
    distance_cm: float | None
    right_answer: str
    feedback: str
    safety: tuple[str, ...]
    explanation: str
    references: tuple[str, ...]
    options: tuple[ShownOption, ...]
    #: The picture with the reveal (None for a question without an image or a choice question
    #: without a picture): the view, the learner's pins and the shapes to draw.
    view: RenderedView | None = None
    pins_px: tuple[tuple[float, float], ...] = ()
    shapes: tuple[dict[str, Any], ...] = field(default=())

    @property
    def score_line(self) -> str:
        """ "100% · +1420 points · 0.4 cm from the target", or "Not answered"."""
        if self.credit is None:
            return "Not answered"
        line = f"{round(self.credit * 100)}% · +{self.points or 0} points"
        if self.distance_cm is not None:
            line += f" · {self.distance_cm:.1f} cm from the target"
        return line


@dataclass(frozen=True)
class LearnerResults:
    """The page: an error sentence, or the learner's class, standing and questions."""

    error: str = ""
    session: LiveSession | None = None
    player: Player | None = None
    standing: str = ""
    questions: tuple[OwnReveal, ...] = ()


def who(store: Store, token: str, code: str) -> LearnerResults:
    """The player behind the token, checked against the class code of the link (if any)."""
    if not token:
        if not code:
            return LearnerResults(error=NO_CODE)
        return LearnerResults(error=NOT_ON_THIS_DEVICE)
    try:
        session, player = live.rejoin(store, token)
    except NotFoundError:
        return LearnerResults(error=LINK_INVALID)
    if code and link_code(code) != session.join_code:
        return LearnerResults(error=OTHER_CLASS)
    return LearnerResults(session=session, player=player)


def own_reveal(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    player_id: str,
    index: int,
    view_loader: ViewLoader | None = None,
) -> OwnReveal:
    """Question ``index`` with this player's answer (read by primary key) and the reveal."""
    qid = session.question_ids[index]
    q = questions.get(qid)
    mine = store.get_answer(session.id, index, player_id)
    if q is None:
        return OwnReveal(
            number=index + 1,
            prompt=qid,
            vignette="",
            answered=mine is not None,
            credit=None if mine is None else mine.credit,
            points=None if mine is None else mine.points,
            distance_cm=None if mine is None else mine.distance_cm,
            right_answer="(this question is no longer in the banks)",
            feedback="",
            safety=(),
            explanation="",
            references=(),
            options=(),
        )
    result: Result | None = live.rescore(atlas, questions, session, mine) if mine is not None else None
    _, hi = pins_needed(atlas, q)
    order = live.choice_order(session, index, len(q.choices)) if q.choices and hi == 0 else ()
    options = revealed_options(q.choices, order, result.chosen if result is not None else ()) if order else []
    right = [c.text for c in q.choices if c.correct]
    view = live.question_view(atlas, session, index, view_loader)
    pins: tuple[tuple[float, float], ...] = ()
    shapes: list[dict[str, Any]] = []
    if view is not None and (hi > 0 or shows_picture(q)):
        shown = result or Result(question_id=q.id, type=q.type, credit=0.0, feedback="")
        shapes = question_shapes(q, view) + reveal_shapes(q, shown, view, atlas)
        if mine is not None and isinstance(mine.pins, list):
            pins = tuple((float(x), float(y)) for x, y in mine.pins)
    else:
        view = None
    return OwnReveal(
        number=index + 1,
        prompt=q.prompt,
        vignette=q.vignette or "",
        answered=mine is not None,
        credit=None if mine is None else mine.credit,
        points=None if mine is None else mine.points,
        distance_cm=None if mine is None else mine.distance_cm,
        right_answer="; ".join(right) if right else ", ".join(atlas.name_of(t) for t in q.targets),
        feedback=result.feedback if result is not None else "",
        safety=tuple(result.safety) if result is not None else (),
        explanation=q.explanation,
        references=tuple(atlas.references[r].citation if r in atlas.references else r for r in q.references),
        options=tuple(options),
        view=view,
        pins_px=pins,
        shapes=tuple(shapes),
    )


def learner_results(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    token: str,
    code: str = "",
    view_loader: ViewLoader | None = None,
) -> LearnerResults:
    """The read-only results of the player behind ``token``, once their class is finished."""
    me = who(store, token, code)
    if me.error or me.session is None or me.player is None:
        return me
    session, player = me.session, me.player
    if session.state is not Phase.FINISHED:
        return LearnerResults(error=NOT_FINISHED, session=session, player=player)
    try:
        rank, n, points = live.player_standing(store, session, player.id)
        standing = f"Rank {rank} of {n} · {points} points"
    except NotFoundError:
        standing = ""
    shown = range(max(session.current_index + 1, 0))
    return LearnerResults(
        session=session,
        player=player,
        standing=standing,
        questions=tuple(
            own_reveal(store, atlas, questions, session, player.id, i, view_loader) for i in shown
        ),
    )


def personal_params(token: str) -> dict[str, str]:
    """Query parameters of a learner's own results link (``/results?token=…``)."""
    return {"token": token}


def link_code(raw: str) -> str:
    """The class code of a results link in canonical form, or "" when it is not a code.

    >>> link_code(" k7p-m3q "), link_code("<script>")
    ('K7PM3Q', '')
    """
    try:
        return normalise_join_code(raw or "")
    except RuleError:
        return ""


def device_key(code: str) -> str:
    """Where a phone keeps its player token of one class (browser storage name).

    >>> device_key("K7PM3Q")
    'player:K7PM3Q'
    """
    return f"player:{code}"
