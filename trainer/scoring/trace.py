"""Scoring a traced course: coverage of the visible course and closeness of the points."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import CLICK_NOISE_CM, closest_on_polyline
from trainer.quiz.answers import Answer
from trainer.quiz.models import QuestionModel
from trainer.scoring.pins import count_noun, item_points, pin_results
from trainer.scoring.results import Result
from trainer.scoring.view_scorer import FloatArray


def trace_reach_cm(q: QuestionModel) -> float:
    """How far along the course, either side, one traced point counts as covering it."""
    return q.tolerance_cm


def trace_full_credit_cm(q: QuestionModel) -> float:
    """A traced point this close to the course earns full credit; farther, credit falls to 0 at ``zero_cm``.

    Only tap noise is forgiven, not the question's tolerance: a path drawn on the nerve must
    beat one drawn beside it, even when both lie within the tolerance.
    """
    return min(CLICK_NOISE_CM, q.tolerance_cm)


def trace_instructions(q: QuestionModel) -> str:
    """What learners are told before tracing: the spacing that earns full coverage."""
    reach = trace_reach_cm(q)
    return (
        f"Tap points along the nerve's course from one end to the other, no more than {2 * reach:g} cm "
        f"apart: each point covers {reach:g} cm of the course either side of it."
    )


def _visible_intervals_cm(item_visible: NDArray[np.bool_], cum_cm: FloatArray) -> list[tuple[float, float]]:
    """Stretches of the course (arc length in cm) whose segments are visible in the view.

    A course seen almost edge-on (visible stretches under 5% of it) counts whole.
    """
    both = item_visible[:-1] & item_visible[1:]
    out: list[tuple[float, float]] = []
    for k in np.nonzero(both)[0]:
        lo, hi = float(cum_cm[k]), float(cum_cm[k + 1])
        if out and abs(out[-1][1] - lo) < 1e-12:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    total = float(cum_cm[-1])
    if sum(hi - lo for lo, hi in out) <= 0.05 * total:
        return [(0.0, total)]
    return out


def trace_coverage(
    arc_cm: FloatArray, credit: FloatArray, reach_cm: float, visible_cm: Sequence[tuple[float, float]]
) -> float:
    """Credit-weighted share of the visible course that the traced points cover.

    Each point covers the course within ``reach_cm`` (along the course) of where it lands
    (``arc_cm``), with its own credit; each bit of the visible course takes the best credit
    covering it (0 if none), and the result is the mean over the visible course. Exact: the
    covering credit is constant between the ends of the reach intervals.

    >>> trace_coverage(np.array([1.0, 5.0]), np.array([1.0, 0.5]), 1.0, [(0.0, 10.0)])
    0.3
    """
    length = sum(hi - lo for lo, hi in visible_cm)
    if length <= 0 or len(arc_cm) == 0:
        return float(np.max(credit)) if len(credit) else 0.0
    covered = 0.0
    for lo, hi in visible_cm:
        cuts = np.concatenate([[lo, hi], arc_cm - reach_cm, arc_cm + reach_cm])
        cuts = np.unique(np.clip(cuts, lo, hi))
        mids = 0.5 * (cuts[:-1] + cuts[1:])
        reach = np.abs(mids[:, None] - arc_cm[None, :]) <= reach_cm
        best = np.max(np.where(reach, credit[None, :], 0.0), axis=1, initial=0.0)
        covered += float(np.sum(best * np.diff(cuts)))
    return covered / length


def _score_trace(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    """Trace credit = min(coverage, closeness), both built from each point's own credit.

    * each traced point earns ``c_i``: 1 within :func:`trace_full_credit_cm` (tap noise) of the
      course, falling linearly to 0 at ``zero_cm``; 0 off the body;
    * coverage: each point covers the course :func:`trace_reach_cm` (the tolerance) either
      side of its closest course point, with credit ``c_i``; coverage is the mean over the
      visible course of the best credit covering each bit (:func:`trace_coverage`);
    * closeness: the mean ``c_i`` over all traced points, so stray points lower it;
    * the score is the smaller of the two: it needs the whole course *and* points on it.

    Moving any point farther from the course (keeping the course position it projects to)
    can only lower its ``c_i``, so neither term, nor the score, can rise: credit falls with
    distance and rises with coverage. Points inside a safety radius are not zeroed (tracing
    is about the course, not where to inject); they earn a caution instead.
    """
    nerve_id = q.targets[0]
    course = item_points(view, nerve_id)
    if len(a.pins_px) < 2:
        return Result(q.id, q.type, 0.0, "Place at least two points along the course.")
    prs = pin_results(
        trace_full_credit_cm(q),
        q.zero_cm,
        a.pins_px,
        view,
        atlas,
        [nerve_id] * len(a.pins_px),
        unsafe_scores_zero=False,
    )
    on_body = np.array([p.on_body for p in prs])
    if on_body.sum() < 2:
        return Result(q.id, q.type, 0.0, "Your points are off the body.", pins=tuple(prs))
    credit = np.array([p.credit for p in prs])
    d_cm = np.array([p.distance_cm for p in prs])[on_body]
    pts = np.array([[p.x_px, p.y_px] for p in prs])[on_body]
    lifted, _ = view.lift(pts[:, 0], pts[:, 1])
    _, _, arc = closest_on_polyline(lifted, course)
    seg = np.linalg.norm(np.diff(course, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    reach = trace_reach_cm(q)
    coverage = trace_coverage(
        arc * cum[-1], credit[on_body], reach, _visible_intervals_cm(view.items[nerve_id].visible, cum)
    )
    closeness = float(np.mean(credit))
    name = atlas.name_of(nerve_id)
    mean_cm = float(np.mean(d_cm))
    fb = (
        f"Your points lie on average {mean_cm:.1f} cm from the {name} and cover {coverage * 100:.0f}% of its "
        f"visible course (each point covers {reach:g} cm either side)."
    )
    if closeness < coverage:
        fb += f" Points away from the course hold the score to {closeness * 100:.0f}%."
    n_off = int((~on_body).sum())
    if n_off:
        fb += f" {count_noun(n_off, 'point')} off the body scored 0."
    near = sorted(
        {
            p.safety.split(" cm from the ")[1].split(",")[0]
            for p in prs
            if p.safety and " cm from the " in p.safety
        }
    )
    if near:
        fb += f" Some points lie within the safety radius of the {', '.join(near)}: fine for tracing, but never inject there."
    return Result(
        q.id,
        q.type,
        min(coverage, closeness),
        fb,
        pins=tuple(prs),
        safety=(),
        details={"mean_distance_cm": mean_cm, "coverage": coverage, "closeness": closeness},
    )
