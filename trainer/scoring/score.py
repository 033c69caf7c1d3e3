"""Scoring: a pure function ``score(question, answer, view, atlas) -> Result``.

Clicks are lifted onto the skin through the view's depth map and every distance is measured
on the body in cm. Credit is full within ``tolerance_cm`` and falls linearly to 0 at
``zero_cm``; a pin inside a structure-to-avoid safety radius scores 0 whatever its distance.
Direction words come from the view's anatomical frame, so a left view and its mirrored right
view give the same words and the same score.

Every pin is measured against every item of its view in one vectorised step
(:class:`ViewScorer`, built once per rendered view and cached), which gives its distance to
the target, the nearest named structure and any safety radius it falls inside. Practice, live
classes, the author's try-out and ``bench`` all go through :func:`score`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import closest_on_polyline, points_in_polygon
from trainer.quiz.answers import Answer
from trainer.quiz.kinds import parts, scoring_rule
from trainer.quiz.models import ChoiceModel, QuestionModel, StepModel
from trainer.scoring.pins import (
    count_noun,
    direction_vocabulary,
    extra_pin_policy_text,
    match_pins,
    pin_notes,
    pin_results,
    pin_sentence,
)
from trainer.scoring.results import PinResult, Result
from trainer.scoring.trace import (
    _score_trace,
    trace_coverage,
    trace_full_credit_cm,
    trace_instructions,
    trace_reach_cm,
)
from trainer.scoring.view_scorer import (
    INDEXED_KINDS,
    NAMED_KINDS,
    FloatArray,
    IntArray,
    PinFacts,
    ViewScorer,
    credit_for_distance,
    view_scorer,
)

__all__ = [
    "INDEXED_KINDS",
    "NAMED_KINDS",
    "Answer",
    "FloatArray",
    "IntArray",
    "PinFacts",
    "PinResult",
    "Result",
    "ViewScorer",
    "count_noun",
    "credit_for_distance",
    "direction_vocabulary",
    "extra_pin_policy_text",
    "match_pins",
    "score",
    "trace_coverage",
    "trace_full_credit_cm",
    "trace_instructions",
    "trace_reach_cm",
    "view_scorer",
]


def _score_locate(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    if not a.pins_px:
        return Result(q.id, q.type, 0.0, "No pin placed.")
    pin = a.pins_px[-1:]  # the latest pin is the answer
    [pr] = pin_results(q.tolerance_cm, q.zero_cm, pin, view, atlas, [q.targets[0]])
    return Result(
        q.id,
        q.type,
        pr.credit,
        pin_sentence(pr, atlas, q.tolerance_cm, direction_vocabulary(atlas, view.view_id)),
        pins=(pr,),
        safety=tuple(x for x in [pr.safety] if x),
        details={"distance_cm": pr.distance_cm},
    )


def _score_multi(
    q: QuestionModel | StepModel,
    tol: float,
    zero: float,
    policy: str,
    a: Answer,
    view: RenderedView,
    atlas: Atlas,
) -> tuple[float, list[PinResult], str]:
    targets = list(q.targets)
    if not a.pins_px:
        return 0.0, [], "No pins placed."
    scorer = view_scorer(view, atlas)
    xs = np.array([p[0] for p in a.pins_px], dtype=np.float64)
    ys = np.array([p[1] for p in a.pins_px], dtype=np.float64)
    facts = scorer.measure(view, xs, ys, scorer.columns(view, targets))
    dm = np.where(facts.on_body[:, None], facts.target_cm, np.inf)
    pairs = match_pins(dm)
    per_pin: list[str | None] = [None] * len(xs)
    for r, c in pairs:
        per_pin[r] = targets[c]
    prs = pin_results(tol, zero, a.pins_px, view, atlas, per_pin, facts=facts, target_ids=targets)
    total = sum(p.credit for p in prs if p.target_id is not None)
    n_extra = max(0, len(xs) - len(targets))
    denom = len(targets) + (n_extra if policy == "penalise" else 0)
    credit = total / denom
    found = sum(1 for p in prs if p.target_id is not None and p.credit >= 0.999)
    missing = len(targets) - len([p for p in prs if p.target_id is not None])
    parts = [f"{found} of {len(targets)} sites within tolerance."]
    if missing:
        parts.append(f"{missing} site(s) had no pin.")
    if n_extra:
        parts.append(f"{n_extra} extra pin(s): {extra_pin_policy_text(policy).lower()}")
    if prs:
        parts.extend(pin_notes(prs, atlas, tol))
    return credit, prs, " ".join(parts)


def _score_choices(
    choices: Sequence[ChoiceModel], chosen: Sequence[int], multi: bool
) -> tuple[float, tuple[int, ...]]:
    correct = tuple(i for i, c in enumerate(choices) if c.correct)
    picked = {i for i in chosen if 0 <= i < len(choices)}
    if not multi:
        if len(picked) != 1:
            return 0.0, correct
        return (1.0 if next(iter(picked)) in correct else 0.0), correct
    right = len(picked & set(correct))
    wrong = len(picked - set(correct))
    return float(max(0.0, (right - wrong) / max(1, len(correct)))), correct


def _choice_result(q: QuestionModel, a: Answer) -> Result:
    credit, correct = _score_choices(q.choices, a.choices, q.multi_answer)
    right_text = "; ".join(q.choices[i].text for i in correct)
    fb = (
        "Correct."
        if credit >= 0.999
        else (f"Partly right. Correct: {right_text}." if credit > 0 else f"Not quite. Correct: {right_text}.")
    )
    return Result(q.id, q.type, credit, fb, chosen=tuple(a.choices), correct_choices=correct)


def _score_territory_tap(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    terr_id = q.targets[0]
    if not a.pins_px:
        return Result(q.id, q.type, 0.0, "No pin placed.")
    x, y = a.pins_px[-1]
    item = view.items[terr_id]
    inside = bool(points_in_polygon([[x, y]], item.points_px)[0])
    pts, on_body = view.lift([x], [y])
    ring = np.vstack([item.points_cm, item.points_cm[:1]])
    d, _, _ = closest_on_polyline(pts, ring)
    dist = 0.0 if inside else float(d[0])
    credit = (
        1.0
        if inside and on_body[0]
        else float(credit_for_distance(dist, q.tolerance_cm, q.zero_cm))
        if on_body[0]
        else 0.0
    )
    name = atlas.name_of(atlas.territories[terr_id].nerve)
    fb = (
        f"Inside the territory of the {name}."
        if inside
        else f"Outside the territory of the {name}, {dist:.1f} cm from its edge."
    )
    pr = PinResult(
        float(x),
        float(y),
        bool(on_body[0]),
        terr_id,
        dist,
        credit,
        {},
        "inside" if inside else "outside",
        None,
        None,
        None,
        None,
        None,
    )
    return Result(
        q.id, q.type, credit, fb, pins=(pr,), details={"inside": float(inside), "distance_cm": dist}
    )


def _score_case(q: QuestionModel, a: Answer, view: RenderedView | None, atlas: Atlas) -> Result:
    """Each step scored on its own, in order (any number of placing and choice steps); the
    case's credit is their mean."""
    results: list[Result] = []
    for part in parts(q):
        step = q.steps[part.index]
        sa = a.steps[part.index] if part.index < len(a.steps) else Answer()
        if not part.places_pins:
            credit, correct = _score_choices(step.choices, sa.choices, step.multi_answer)
            fb = (
                "Correct."
                if credit >= 0.999
                else "Correct: " + "; ".join(step.choices[j].text for j in correct) + "."
            )
            results.append(
                Result(
                    f"{q.id}#{part.index}", step.type, credit, fb, chosen=sa.choices, correct_choices=correct
                )
            )
        else:
            assert view is not None
            credit, prs, fb = _score_multi(step, q.tolerance_cm, q.zero_cm, q.extra_pins, sa, view, atlas)
            results.append(
                Result(
                    f"{q.id}#{part.index}",
                    step.type,
                    credit,
                    fb,
                    pins=tuple(prs),
                    safety=tuple(p.safety for p in prs if p.safety),
                )
            )
    credit = float(np.mean([r.credit for r in results])) if results else 0.0
    fb = " ".join(f"Step {i + 1}: {r.feedback}" for i, r in enumerate(results))
    return Result(
        q.id, q.type, credit, fb, steps=tuple(results), safety=tuple(s for r in results for s in r.safety)
    )


def _score_multi_question(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    credit, prs, fb = _score_multi(q, q.tolerance_cm, q.zero_cm, q.extra_pins, a, view, atlas)
    return Result(q.id, q.type, credit, fb, pins=tuple(prs), safety=tuple(p.safety for p in prs if p.safety))


def score(question: QuestionModel, answer: Answer, view: RenderedView | None, atlas: Atlas) -> Result:
    """Score one answer. Pure: same inputs, same Result; no IO, no clock, no randomness."""
    q = question
    match scoring_rule(q):
        case "options":
            r = _choice_result(q, answer)
        case "steps":
            r = _score_case(q, answer, view, atlas)
        case rule:
            assert view is not None
            pin_scorers = {
                "one_pin": _score_locate,
                "matched_pins": _score_multi_question,
                "course": _score_trace,
                "inside_area": _score_territory_tap,
            }
            r = pin_scorers[rule](q, answer, view, atlas)
    return Result(
        question_id=r.question_id,
        type=r.type,
        credit=min(1.0, max(0.0, float(r.credit))),
        feedback=r.feedback,
        pins=r.pins,
        chosen=r.chosen,
        correct_choices=r.correct_choices,
        teaching=q.explanation,
        references=tuple(q.references),
        safety=r.safety,
        details=r.details,
        steps=r.steps,
    )
