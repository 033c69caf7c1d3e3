"""Hints in Practice (issue 15 item 2): help before answering, at a stated cost in credit.

A learner may ask to see the landmarks, or the course of the nerve a site lies on, before
placing pins. Each hint costs a fixed number of percentage points, said on its button, in the
feedback and in the session summary, and the hints used are stored with the attempt. The costs
are teaching choices of this app, not measured values: seeing the landmarks only orients
(10 points); seeing the nerve's course gives away much of where a site on it lies (25 points).
A hint that would show the answer itself is not offered (no landmark hint when a landmark is
to be placed, no course hint when the nerve itself is the target or is traced).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.quiz.kinds import is_case, placing_parts, placing_targets
from trainer.quiz.models import QuestionModel
from trainer.scoring.results import Result
from trainer.scoring.reveal import course_shapes, landmark_shapes


@dataclass(frozen=True)
class Hint:
    id: str
    label: str
    short: str  # the button's words: two buttons must share one row on a 390-px phone
    penalty: float  # credit lost (0.10 = 10 percentage points)

    @property
    def cost_text(self) -> str:
        return f"−{round(self.penalty * 100)} points"

    @property
    def button_text(self) -> str:
        return f"{self.short} (−{round(self.penalty * 100)})"


LANDMARKS = Hint("landmarks", "Show the landmarks", "Landmarks", 0.10)
COURSE = Hint("course", "Show the nerve's course", "Nerve course", 0.25)
HINTS: dict[str, Hint] = {h.id: h for h in (LANDMARKS, COURSE)}


def _targets(q: QuestionModel) -> list[str]:
    return placing_targets(q) if is_case(q) else [t for p in placing_parts(q) for t in p.targets]


def hinted_nerves(q: QuestionModel, atlas: Atlas) -> list[str]:
    """The nerves whose course the course hint draws: those of the sites to place."""
    out: list[str] = []
    for t in _targets(q):
        site = atlas.sites.get(t)
        if site is not None and site.nerve not in out:
            out.append(site.nerve)
    return out


def available(q: QuestionModel, atlas: Atlas) -> list[Hint]:
    """The hints offered for a question placed on the body (none for choice questions)."""
    targets = _targets(q)
    if not targets:
        return []
    out = []
    if not any(t in atlas.landmarks for t in targets):
        out.append(LANDMARKS)
    if all(t in atlas.sites or t in atlas.avoid for t in targets) and hinted_nerves(q, atlas):
        out.append(COURSE)
    return out


def penalty(used: Sequence[str]) -> float:
    return min(1.0, sum(HINTS[h].penalty for h in dict.fromkeys(used) if h in HINTS))


def used_text(used: Sequence[str]) -> str:
    """'show the landmarks (−10 points)' for the feedback and the summary; '' when none."""
    return ", ".join(
        f"{HINTS[h].label[:1].lower()}{HINTS[h].label[1:]} ({HINTS[h].cost_text})"
        for h in dict.fromkeys(used)
        if h in HINTS
    )


def apply(result: Result, used: Sequence[str]) -> Result:
    """The result with the hints' cost taken off its credit (never below 0) and said."""
    hints = tuple(h for h in dict.fromkeys(used) if h in HINTS)
    if not hints:
        return result
    before = result.credit
    after = max(0.0, before - penalty(hints))
    note = f" Hints used: {used_text(hints)}; {round(before * 100)}% before hints."
    return replace(result, credit=after, feedback=result.feedback + note, hints=hints)


def shapes(used: Sequence[str], q: QuestionModel, view: RenderedView, atlas: Atlas) -> list[dict[str, Any]]:
    """What the hints used show on the board before the answer (never a target)."""
    out: list[dict[str, Any]] = []
    if "course" in used:
        out.extend(course_shapes(view, hinted_nerves(q, atlas)))
    if "landmarks" in used:
        out.extend(landmark_shapes(view, atlas))
    return out
