"""Lesson file models (schema_version 1). See ``docs/lesson-format.md``.

A lesson is data an instructor can write: ordered steps that point at atlas ids (landmarks,
nerves, sites, structures to avoid) with their text and references, then bank question ids
to check yourself with. The models check shape only; :mod:`trainer.learn.lessons` checks
that every id resolves.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trainer.atlas.models import Strict

LessonKind = Literal["condition", "region", "method"]
StepKind = Literal["palpate", "course", "piercing", "sites", "avoid", "method"]
STEP_KINDS: tuple[str, ...] = ("palpate", "course", "piercing", "sites", "avoid", "method")
#: A heading a page can show for each step kind.
STEP_KIND_LABELS: dict[str, str] = {
    "palpate": "Palpate the landmarks",
    "course": "Follow the nerve",
    "piercing": "Where it pierces the fascia",
    "sites": "Injection sites",
    "avoid": "What to avoid",
    "method": "Method",
}
Id = str


class StepModel(Strict):
    """One step: a short text, the atlas items it shows, and the references for its claims."""

    id: Id = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    kind: StepKind
    title: str = Field(min_length=3)
    text: str = Field(min_length=10)
    landmarks: list[Id] = Field(default_factory=list)
    nerves: list[Id] = Field(default_factory=list)
    sites: list[Id] = Field(default_factory=list)
    avoid: list[Id] = Field(default_factory=list)
    points: list[str] = Field(default_factory=list)  # bullet points under the text
    references: list[Id] = Field(min_length=1)

    @model_validator(mode="after")
    def _shows_what_it_says(self) -> StepModel:
        needs = {"palpate": self.landmarks, "course": self.nerves, "sites": self.sites, "avoid": self.avoid}
        if self.kind in needs and not needs[self.kind]:
            field = {"palpate": "landmarks", "course": "nerves", "sites": "sites", "avoid": "avoid"}[
                self.kind
            ]
            raise ValueError(f"a '{self.kind}' step must list at least one id under '{field}'")
        if self.kind == "piercing" and not (self.sites or self.nerves):
            raise ValueError("a 'piercing' step must list the sites (or nerves) it shows")
        return self


class LessonInfo(Strict):
    id: Id = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    title: str = Field(min_length=3)
    kind: LessonKind
    summary: str = Field(min_length=10)
    region: Id | None = None  # atlas region the figure shows
    view: Id | None = None  # base view id (the side is the learner's choice); default: the region's first
    conditions: list[Id] = Field(default_factory=list)
    order: int = 100  # position in the lesson list (lower first)

    @model_validator(mode="after")
    def _body_lessons_have_a_region(self) -> LessonInfo:
        if self.kind != "method" and self.region is None:
            raise ValueError("a region or condition lesson needs a 'region' to draw")
        if self.kind == "condition" and not self.conditions:
            raise ValueError("a condition lesson must name its conditions")
        return self


class LessonFile(Strict):
    schema_version: Literal[1]
    lesson: LessonInfo
    steps: list[StepModel] = Field(min_length=1)
    check: list[Id] = Field(default_factory=list)  # bank question ids answered in place (choice questions)
    practice: list[Id] = Field(default_factory=list)  # bank question ids to place on the body in Practice
