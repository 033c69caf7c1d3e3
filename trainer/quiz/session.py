"""Choosing practice questions and presenting them. Pure: randomness is passed in."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trainer.atlas.core import Atlas
from trainer.quiz.kinds import pin_range
from trainer.quiz.models import QuestionModel
from trainer.quiz.views import ANY_SIDE, view_id_for, view_region


@dataclass(frozen=True)
class Filters:
    regions: tuple[str, ...] = ()
    nerves: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    difficulties: tuple[int, ...] = ()
    ids: tuple[str, ...] = field(default_factory=tuple)


def question_region(atlas: Atlas, q: QuestionModel) -> str | None:
    """The region a question belongs to: its tag, else its view's region."""
    if q.tags.region:
        return q.tags.region
    return view_region(atlas, q.view)


def question_nerves(atlas: Atlas, q: QuestionModel) -> set[str]:
    nerves = set(q.tags.nerves)
    for t in [*q.targets, *(t for s in q.steps for t in s.targets)]:
        if t in atlas.nerves:
            nerves.add(t)
        elif t in atlas.sites:
            nerves.add(atlas.sites[t].nerve)
        elif t in atlas.territories:
            nerves.add(atlas.territories[t].nerve)
    return nerves


def matches(atlas: Atlas, q: QuestionModel, f: Filters) -> bool:
    if f.ids and q.id not in f.ids:
        return False
    if f.types and q.type not in f.types:
        return False
    if f.difficulties and q.difficulty not in f.difficulties:
        return False
    if f.regions and question_region(atlas, q) not in f.regions:
        return False
    if f.nerves and not (question_nerves(atlas, q) & set(f.nerves)):
        return False
    if f.conditions:
        conds = set(q.tags.conditions)
        for t in q.targets:
            site = atlas.sites.get(t)
            if site is not None:
                conds.update(site.conditions)
        if not conds & set(f.conditions):
            return False
    return True


def pick_questions(
    atlas: Atlas, questions: Sequence[QuestionModel], filters: Filters, n: int, rng: random.Random
) -> list[str]:
    """Up to ``n`` question ids matching the filters, shuffled by the given generator."""
    pool = [q.id for q in questions if matches(atlas, q, filters)]
    if filters.ids:
        order = {qid: i for i, qid in enumerate(filters.ids)}
        pool.sort(key=lambda qid: order.get(qid, 0))
        return pool[:n]
    rng.shuffle(pool)
    return pool[:n]


def choose_side(atlas: Atlas, q: QuestionModel, rng: random.Random) -> str | None:
    """Practise both sides: a base view gets a random side; a full view id keeps its own."""
    return view_id_for(atlas, q.view, ANY_SIDE, rng)


def pins_needed(atlas: Atlas, q: QuestionModel, step: int | None = None) -> tuple[int, int]:
    """(min, max) pins for a pin-type question or case step; (0, 0) for choice types."""
    return pin_range(q, step)


def all_questions(banks: Iterable[QuestionModel]) -> dict[str, QuestionModel]:
    return {q.id: q for q in banks}
