"""The order in which a question's options are shown, apart from the order they are written in.

Authors tend to write the right answer first; shown in file order, always tapping the first
option would score 100%. Options are therefore displayed through a permutation, and answers
are mapped back to the option itself before scoring, so a score never depends on where an
option was shown. Randomness is passed in (practice: a fresh order per attempt) or derived
from a stable key (a live class question: the same order on every phone and the projector;
an exported deck: the same order on every export).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from trainer.quiz.models import ChoiceModel, QuestionModel

#: Key of a question's own options in :func:`practice_orders`; a case's choice steps use their index.
OWN_CHOICES = -1


def shuffled_order(n_options: int, rng: random.Random) -> tuple[int, ...]:
    """A fresh display order: ``order[k]`` is the file index of the option shown at position k.

    >>> sorted(shuffled_order(4, random.Random(1)))
    [0, 1, 2, 3]
    """
    order = list(range(n_options))
    rng.shuffle(order)
    return tuple(order)


def fixed_order(key: str, n_options: int) -> tuple[int, ...]:
    """A display order that depends only on ``key`` (same on every server, process and export).

    >>> fixed_order("class-1:0", 4) == fixed_order("class-1:0", 4)
    True
    >>> sorted(fixed_order("anything", 5))
    [0, 1, 2, 3, 4]
    """
    seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return shuffled_order(n_options, random.Random(seed))


def to_file_indexes(displayed: Sequence[int], order: Sequence[int]) -> tuple[int, ...]:
    """Map positions the learner picked on screen back to the options' file indexes.

    Positions outside the order are dropped (a tampered client cannot pick a hidden option).

    >>> to_file_indexes([0, 2], (3, 1, 0, 2))
    (3, 0)
    """
    return tuple(order[i] for i in displayed if 0 <= i < len(order))


def to_display_positions(file_indexes: Sequence[int], order: Sequence[int]) -> tuple[int, ...]:
    """Where options (by file index) were shown: for the reveal and the per-option bars.

    >>> to_display_positions([3, 0], (3, 1, 0, 2))
    (0, 2)
    """
    where = {file_index: pos for pos, file_index in enumerate(order)}
    return tuple(where[i] for i in file_indexes if i in where)


def practice_orders(q: QuestionModel, rng: random.Random) -> dict[int, tuple[int, ...]]:
    """Fresh display orders for one practice attempt: the question's own options, if any, under
    :data:`OWN_CHOICES`, and each choice step of a case under the step's index.

    >>> from trainer.quiz.models import QuestionModel
    >>> q = QuestionModel(id="q", type="clinical", prompt="Which one?", choices=[
    ...     {"text": "a", "correct": True}, {"text": "b"}, {"text": "c"}])
    >>> sorted(practice_orders(q, random.Random(0))[OWN_CHOICES])
    [0, 1, 2]
    """
    orders: dict[int, tuple[int, ...]] = {}
    if q.choices:
        orders[OWN_CHOICES] = shuffled_order(len(q.choices), rng)
    for i, step in enumerate(q.steps):
        if step.choices:
            orders[i] = shuffled_order(len(step.choices), rng)
    return orders


def option_texts(choices: Sequence[ChoiceModel], order: Sequence[int]) -> list[str]:
    """The options' texts in display order: all a learner's browser gets before the reveal
    (never which one is right).

    >>> from trainer.quiz.models import ChoiceModel
    >>> option_texts([ChoiceModel(text="a", correct=True), ChoiceModel(text="b")], (1, 0))
    ['b', 'a']
    """
    return [choices[i].text for i in order if 0 <= i < len(choices)]


@dataclass(frozen=True)
class ShownOption:
    """One option as the reveal shows it, at the place the learner saw it."""

    position: int
    file_index: int
    text: str
    correct: bool
    chosen: bool
    why: str | None


def revealed_options(
    choices: Sequence[ChoiceModel], order: Sequence[int], chosen: Sequence[int] = ()
) -> list[ShownOption]:
    """The options in display order with the right ones and the learner's picks (file indexes)
    marked: for practice feedback, the phone after the reveal and the host's table.

    >>> from trainer.quiz.models import ChoiceModel
    >>> rows = revealed_options([ChoiceModel(text="a", correct=True), ChoiceModel(text="b")], (1, 0), chosen=[1])
    >>> [(r.position, r.text, r.correct, r.chosen) for r in rows]
    [(0, 'b', False, True), (1, 'a', True, False)]
    """
    picked = set(chosen)
    return [
        ShownOption(pos, i, choices[i].text, choices[i].correct, i in picked, choices[i].why)
        for pos, i in enumerate(order)
        if 0 <= i < len(choices)
    ]
