"""What each question type does: the one place that knows the types by name.

Every module outside ``trainer.quiz`` asks here instead of comparing ``question.type`` (or a
case step's type) with a string (``tests/test_type_strings.py`` enforces it). A new question
type is added to :data:`KINDS` and to the scorer's dispatch; pages, exports, live classes and
tools follow from the answers below.

A question is answered in *parts* (:func:`parts`): a plain question is one part (index
:data:`OWN`); a case has one part per step, in the order written, any number of them placing
pins and any number asking for choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from trainer.quiz.models import QUESTION_TYPES, ChoiceModel, QuestionModel, StepModel

AnswerMode = Literal["pins", "choices", "both"]

#: Index of a question's own part (a case's steps use their index from 0).
OWN = -1

#: Most pins a trace may hold; a multi-site question allows this many beyond its targets.
TRACE_MAX_PINS = 30
EXTRA_PINS_ALLOWED = 3


@dataclass(frozen=True)
class Kind:
    """The fixed behaviour of one question type.

    ``answer_mode`` is what the learner gives (a territory question depends on its ``mode``,
    a case on its steps: see :func:`answer_mode`). ``target_kinds`` are the atlas item kinds
    an author may target. ``skill`` is the spaced-repetition skill the type exercises.
    """

    label: str
    answer_mode: AnswerMode
    on_a_view: bool
    live: bool
    skill: str | None
    target_kinds: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "locate": Kind("Locate", "pins", True, True, "locate", ("site", "nerve")),
    "multi_site": Kind("Multi-site", "pins", True, True, "locate", ("site", "nerve")),
    "trace": Kind("Trace", "pins", True, True, "trace", ("nerve",)),
    "identify": Kind("Identify", "choices", True, True, "identify", ("nerve",)),
    "territory": Kind("Territory", "choices", True, True, "territory", ("territory",)),
    "clinical": Kind("Clinical", "choices", False, True, None, ()),
    "case": Kind("Case", "both", False, False, "locate", ()),
}
assert tuple(KINDS) == QUESTION_TYPES

#: Step types of a case that place pins on the image (the others ask for choices).
PLACING_STEP_TYPES = frozenset({"locate", "multi_site"})


def kind(q: QuestionModel | str) -> Kind:
    """The behaviour of a question (or of a type named by a form or a filter)."""
    return KINDS[q if isinstance(q, str) else q.type]


def type_label(q: QuestionModel | str) -> str:
    """'Multi-site' for multi_site; an unknown type is shown as written."""
    qtype = q if isinstance(q, str) else q.type
    return KINDS[qtype].label if qtype in KINDS else qtype


def is_case(q: QuestionModel) -> bool:
    return q.type == "case"


def is_trace(q: QuestionModel | StepModel) -> bool:
    return q.type == "trace"


def is_multi_site(q: QuestionModel | StepModel) -> bool:
    return q.type == "multi_site"


def is_clinical(q: QuestionModel | StepModel | str) -> bool:
    """A clinical question is asked in words: no view, no targets."""
    return (q if isinstance(q, str) else q.type) == "clinical"


def is_territory(q: QuestionModel | str) -> bool:
    return (q if isinstance(q, str) else q.type) == "territory"


def step_places_pins(step: StepModel) -> bool:
    return step.type in PLACING_STEP_TYPES


def places_pins(q: QuestionModel) -> bool:
    """A plain question answered with pins (locate, multi-site, trace, territory by tapping)."""
    return q.type in ("locate", "multi_site", "trace") or (q.type == "territory" and q.mode == "tap")


def places_sites(q: QuestionModel) -> bool:
    """Pins dropped on points (locate, multi-site, territory by tapping): not a traced course."""
    return places_pins(q) and not is_trace(q)


def type_asks_choices(qtype: str, mode: str | None) -> bool:
    """Questions of this type (and territory mode) are answered by picking options."""
    return qtype in ("identify", "clinical") or (qtype == "territory" and mode == "name")


def asks_choices(q: QuestionModel) -> bool:
    """A plain question answered by picking options (identify, clinical, territory by name)."""
    return type_asks_choices(q.type, q.mode)


def is_locate(q: QuestionModel) -> bool:
    """One pin on one target."""
    return q.type == "locate"


def answer_mode(q: QuestionModel) -> AnswerMode:
    """What the learner gives: pins, choices, or (a case with both kinds of step) both."""
    if is_case(q):
        placing = any(step_places_pins(s) for s in q.steps)
        choosing = any(not step_places_pins(s) for s in q.steps)
        return "both" if placing and choosing else ("pins" if placing else "choices")
    return "pins" if places_pins(q) else "choices"


def needs_view(q: QuestionModel) -> bool:
    """The question is asked on a rendered view (a case only when it has placing steps)."""
    if is_case(q):
        return any(step_places_pins(s) for s in q.steps) or bool(q.view)
    return KINDS[q.type].on_a_view


def is_live(q: QuestionModel) -> bool:
    """Fits one phone screen in a live class (a case's several steps do not)."""
    return KINDS[q.type].live


def skill(q: QuestionModel) -> str | None:
    return KINDS[q.type].skill


def shows_picture(q: QuestionModel) -> bool:
    """A choice question whose image is part of the question (a highlighted course to name, a
    shaded territory to name): shown, inactive, wherever the question is asked."""
    return bool(q.targets) and (q.type == "identify" or (q.type == "territory" and q.mode == "name"))


def pictures_an_item(q: QuestionModel) -> bool:
    """The question is about one item of the picture, whatever its mode (identify: the nerve
    drawn; territory: the skin shaded): an export card shows that item and asks its nerve."""
    return q.type in ("identify", "territory")


def highlights_nerve(q: QuestionModel) -> bool:
    """Before the answer, the question draws its nerve's course (identify)."""
    return q.type == "identify" and bool(q.targets)


def shades_territory(q: QuestionModel) -> bool:
    """Before the answer, the question shades its territory (territory by name)."""
    return q.type == "territory" and q.mode == "name" and bool(q.targets)


ScoringRule = Literal["one_pin", "matched_pins", "course", "inside_area", "options", "steps"]


def scoring_rule(q: QuestionModel) -> ScoringRule:
    """How the scorer measures an answer: the nearest of one pin, pins matched one-to-one to
    targets, a traced course, a pin inside an area, options, or a case's steps one by one."""
    if is_case(q):
        return "steps"
    if asks_choices(q):
        return "options"
    match q.type:
        case "locate":
            return "one_pin"
        case "multi_site":
            return "matched_pins"
        case "trace":
            return "course"
        case "territory":
            return "inside_area"
    raise ValueError(f"unknown question type {q.type}")


def pin_range_of(qtype: str, n_targets: int, mode: str | None = None) -> tuple[int, int]:
    """(min, max) pins for a type with ``n_targets`` targets; (0, 0) when nothing is placed."""
    if qtype == "locate" or (qtype == "territory" and mode == "tap"):
        return (1, 1)
    if qtype == "multi_site":
        return (n_targets, n_targets + EXTRA_PINS_ALLOWED)
    if qtype == "trace":
        return (2, TRACE_MAX_PINS)
    return (0, 0)


@dataclass(frozen=True)
class Part:
    """One thing the learner answers: a whole question (index :data:`OWN`) or one case step."""

    index: int
    type: str
    prompt: str
    targets: tuple[str, ...]
    choices: tuple[ChoiceModel, ...]
    multi_answer: bool
    min_pins: int
    max_pins: int

    @property
    def places_pins(self) -> bool:
        return self.max_pins > 0

    @property
    def asks_choices(self) -> bool:
        return not self.places_pins and bool(self.choices)

    @property
    def is_step(self) -> bool:
        return self.index != OWN


def parts(q: QuestionModel) -> tuple[Part, ...]:
    """The parts a learner answers, in order: the question itself, or each step of a case."""
    if not is_case(q):
        lo, hi = pin_range_of(q.type, len(q.targets), q.mode)
        return (Part(OWN, q.type, q.prompt, tuple(q.targets), tuple(q.choices), q.multi_answer, lo, hi),)
    out = []
    for i, s in enumerate(q.steps):
        lo, hi = pin_range_of(s.type, len(s.targets)) if step_places_pins(s) else (0, 0)
        out.append(Part(i, s.type, s.prompt, tuple(s.targets), tuple(s.choices), s.multi_answer, lo, hi))
    return tuple(out)


def placing_parts(q: QuestionModel) -> tuple[Part, ...]:
    return tuple(p for p in parts(q) if p.places_pins)


def placing_targets(q: QuestionModel) -> list[str]:
    """Every target placed on the image (a case: all its placing steps), for the reveal."""
    return [t for p in placing_parts(q) for t in p.targets]


def pin_range(q: QuestionModel, step: int | None = None) -> tuple[int, int]:
    """(min, max) pins of a question, or of one step of a case; (0, 0) for choices."""
    if step is None:
        return pin_range_of(q.type, len(q.targets), q.mode) if not is_case(q) else (0, 0)
    part = parts(q)[step]
    return (part.min_pins, part.max_pins)


def choice_sets(q: QuestionModel) -> list[tuple[int, Sequence[ChoiceModel]]]:
    """Every set of options a question shows: its own (:data:`OWN`) and each choice step's."""
    out: list[tuple[int, Sequence[ChoiceModel]]] = []
    if q.choices:
        out.append((OWN, q.choices))
    out.extend((i, s.choices) for i, s in enumerate(q.steps) if s.choices)
    return out
