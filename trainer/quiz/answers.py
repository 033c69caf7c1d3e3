"""What a learner submits, and how it is built from the pins and picks of each part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trainer.quiz.kinds import OWN, is_case, parts
from trainer.quiz.models import QuestionModel

Point = tuple[float, float]


@dataclass(frozen=True)
class Answer:
    """What a learner submitted: pins in natural image pixels and/or chosen option indexes.

    A case holds one answer per step in ``steps`` (in step order).
    """

    pins_px: tuple[Point, ...] = ()
    choices: tuple[int, ...] = ()
    steps: tuple[Answer, ...] = ()


def build_answer(
    q: QuestionModel,
    pins_by_part: Mapping[int, Sequence[Point]],
    choices_by_part: Mapping[int, Sequence[int]],
) -> Answer:
    """The answer to score from the pins and option file indexes given to each part.

    Keys are part indexes (:data:`trainer.quiz.kinds.OWN` for a plain question, the step index
    in a case). A part a learner left empty gets an empty answer (it scores 0).

    >>> from trainer.quiz.models import QuestionModel
    >>> q = QuestionModel(id="q", type="locate", prompt="Tap the site.", targets=["x"])
    >>> build_answer(q, {-1: [(1.0, 2.0)]}, {})
    Answer(pins_px=((1.0, 2.0),), choices=(), steps=())
    """
    if not is_case(q):
        return Answer(pins_px=tuple(pins_by_part.get(OWN, ())), choices=tuple(choices_by_part.get(OWN, ())))
    return Answer(
        steps=tuple(
            Answer(pins_px=tuple(pins_by_part.get(p.index, ())))
            if p.places_pins
            else Answer(choices=tuple(choices_by_part.get(p.index, ())))
            for p in parts(q)
        )
    )
