"""Quiz bank YAML models (schema_version 1). See ``docs/quiz-format.md``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from trainer.atlas.models import Strict, Technique

QuestionType = Literal["locate", "multi_site", "trace", "identify", "territory", "clinical", "case"]
QUESTION_TYPES: tuple[str, ...] = (
    "locate",
    "multi_site",
    "trace",
    "identify",
    "territory",
    "clinical",
    "case",
)


class ChoiceModel(Strict):
    text: str = Field(min_length=1)
    correct: bool = False
    item: str | None = None  # atlas id this choice names (identify / territory / case)
    why: str | None = None


class Tags(Strict):
    region: str | None = None
    nerves: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)


class StepModel(Strict):
    """One step of a case: choose the nerve, then place the sites."""

    type: Literal["identify", "locate", "multi_site", "clinical"]
    prompt: str
    targets: list[str] = Field(default_factory=list)
    choices: list[ChoiceModel] = Field(default_factory=list)
    multi_answer: bool = False


class QuestionModel(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    type: QuestionType
    prompt: str = Field(min_length=5)
    view: str | None = None  # base view id (side chosen at run time) or a full view id
    targets: list[str] = Field(default_factory=list)
    mode: Literal["name", "tap"] | None = None  # territory questions
    choices: list[ChoiceModel] = Field(default_factory=list)
    multi_answer: bool = False
    steps: list[StepModel] = Field(default_factory=list)
    vignette: str | None = None
    tolerance_cm: float = Field(default=1.0, gt=0, le=5)
    zero_cm: float = Field(default=3.0, gt=0, le=15)
    # A locate question inherits its target site's tolerance and zero_cm (trainer.atlas.tolerance);
    # one that differs says why here.
    tolerance_reason: str | None = None
    extra_pins: Literal["penalise", "ignore"] = "penalise"
    difficulty: int = Field(default=2, ge=1, le=3)
    tags: Tags = Field(default_factory=Tags)
    technique: Technique = "classic_pit"
    explanation: str = ""
    references: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _zero_beyond_tolerance(self) -> QuestionModel:
        if self.zero_cm <= self.tolerance_cm:
            raise ValueError("zero_cm must be larger than tolerance_cm")
        return self


class BankInfo(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    title: str
    description: str = ""


class BankFile(Strict):
    schema_version: Literal[1]
    bank: BankInfo
    questions: list[QuestionModel] = Field(default_factory=list)
