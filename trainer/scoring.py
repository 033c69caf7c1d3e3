"""Scoring: a pure function ``score(question, answer, view, atlas) -> Result``.

Clicks are lifted onto the skin through the view's depth map and every distance is measured
on the body in cm. Credit is full within ``tolerance_cm`` and falls linearly to 0 at
``zero_cm``; a pin inside a structure-to-avoid safety radius scores 0 whatever its distance.
Direction words come from the view's anatomical frame, so a left view and its mirrored right
view give the same words and the same score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import closest_on_polyline, decompose, direction_words, points_in_polygon
from trainer.quiz.models import ChoiceModel, QuestionModel, StepModel

FloatArray = NDArray[np.float64]


def credit_for_distance(distance_cm: FloatArray | float, tolerance_cm: float, zero_cm: float) -> FloatArray:
    """Full credit within tolerance, linear decay to 0 at ``zero_cm``; never increases with distance.

    >>> credit_for_distance(np.array([0.5, 2.0, 3.5]), 1.0, 3.0).tolist()
    [1.0, 0.5, 0.0]
    """
    d = np.asarray(distance_cm, dtype=np.float64)
    return np.clip((zero_cm - d) / (zero_cm - tolerance_cm), 0.0, 1.0)


@dataclass(frozen=True)
class Answer:
    """What a learner submitted: pins in natural image pixels and/or chosen option indexes."""

    pins_px: tuple[tuple[float, float], ...] = ()
    choices: tuple[int, ...] = ()
    steps: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class PinResult:
    x_px: float
    y_px: float
    on_body: bool
    target_id: str | None
    distance_cm: float
    credit: float
    direction: dict[str, float]
    direction_text: str
    nearest_id: str | None
    nearest_name: str | None
    nearest_cm: float | None
    safety: str | None
    target_px: tuple[float, float] | None


@dataclass(frozen=True)
class Result:
    question_id: str
    type: str
    credit: float
    feedback: str
    pins: tuple[PinResult, ...] = ()
    chosen: tuple[int, ...] = ()
    correct_choices: tuple[int, ...] = ()
    teaching: str = ""
    references: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    details: dict[str, float] = field(default_factory=dict)
    steps: tuple[Result, ...] = ()

    @property
    def percent(self) -> int:
        return int(round(self.credit * 100))

    @property
    def mean_distance_cm(self) -> float | None:
        ds = [p.distance_cm for p in self.pins if p.target_id is not None]
        return float(np.mean(ds)) if ds else None


@dataclass(frozen=True)
class _Geometry:
    """Item geometry on one rendered view, in body cm."""

    item_id: str
    kind: str
    points_cm: FloatArray


def _item_points(view: RenderedView, item_id: str) -> FloatArray:
    item = view.items.get(item_id)
    if item is None:
        raise KeyError(f"'{item_id}' is not drawn on view {view.view_id}")
    return item.points_cm


def _distances(points_cm: FloatArray, target_cm: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distance from each point to a target point or polyline, and the closest target point."""
    if len(target_cm) == 1:
        diff = points_cm - target_cm[0]
        return np.linalg.norm(diff, axis=1), np.repeat(target_cm, len(points_cm), axis=0)
    d, q, _ = closest_on_polyline(points_cm, target_cm)
    return d, q


def _safety_hits(view: RenderedView, atlas: Atlas, points_cm: FloatArray) -> list[tuple[str, float] | None]:
    """For each pin, the first structure-to-avoid whose safety radius it falls inside."""
    hits: list[tuple[str, float] | None] = [None] * len(points_cm)
    for item in view.items.values():
        if item.kind != "avoid":
            continue
        avoid = atlas.avoid.get(item.id)
        if avoid is None:
            continue
        d, _ = _distances(points_cm, item.points_cm)
        for i in np.nonzero(d <= avoid.safety_radius_cm)[0]:
            if hits[i] is None:
                hits[i] = (item.id, float(d[i]))
    return hits


def _nearest_named(view: RenderedView, atlas: Atlas, point_cm: FloatArray) -> tuple[str | None, float | None]:
    best: tuple[str | None, float | None] = (None, None)
    for item in view.items.values():
        if item.kind not in ("nerve", "site", "avoid"):
            continue
        d, _ = _distances(point_cm.reshape(1, 3), item.points_cm)
        if best[1] is None or d[0] < best[1]:
            best = (item.id, float(d[0]))
    return best


def _pin_results(
    q: QuestionModel | StepModel,
    tolerance_cm: float,
    zero_cm: float,
    pins_px: Sequence[tuple[float, float]],
    view: RenderedView,
    atlas: Atlas,
    targets: Sequence[str | None],
) -> list[PinResult]:
    """Score pins against the given target per pin (None = unmatched extra pin)."""
    if not pins_px:
        return []
    xs = np.array([p[0] for p in pins_px], dtype=np.float64)
    ys = np.array([p[1] for p in pins_px], dtype=np.float64)
    points_cm, on_body = view.lift(xs, ys)
    safety = _safety_hits(view, atlas, points_cm)
    out: list[PinResult] = []
    for i, target_id in enumerate(targets):
        p = points_cm[i]
        nearest_id, nearest_cm = _nearest_named(view, atlas, p)
        hit = safety[i]
        safety_msg = None
        if hit is not None:
            a = atlas.avoid[hit[0]]
            safety_msg = (
                f"Unsafe: this pin is {hit[1]:.1f} cm from the {a.name}, inside its "
                f"{a.safety_radius_cm:.1f} cm safety radius. {a.why}".strip()
            )
        if target_id is None:
            out.append(
                PinResult(float(xs[i]), float(ys[i]), bool(on_body[i]), None, float("nan"), 0.0, {}, "extra pin",
                          nearest_id, atlas.name_of(nearest_id) if nearest_id else None, nearest_cm, safety_msg, None)
            )
            continue
        d, closest = _distances(p.reshape(1, 3), _item_points(view, target_id))
        dist = float(d[0]) if on_body[i] else float("inf")
        credit = float(credit_for_distance(dist, tolerance_cm, zero_cm)) if on_body[i] else 0.0
        if safety_msg is not None:
            credit = 0.0
        comps = decompose(p - closest[0], view.frame) if on_body[i] else {}
        words = direction_words(comps) if on_body[i] else "off the body"
        txy, _ = view.camera.project(closest[0].reshape(1, 3))
        out.append(
            PinResult(
                x_px=float(xs[i]), y_px=float(ys[i]), on_body=bool(on_body[i]), target_id=target_id,
                distance_cm=dist, credit=credit, direction=comps, direction_text=words,
                nearest_id=nearest_id, nearest_name=atlas.name_of(nearest_id) if nearest_id else None,
                nearest_cm=nearest_cm, safety=safety_msg, target_px=(float(txy[0, 0]), float(txy[0, 1])),
            )
        )
    return out


def _lower_name(name: str) -> str:
    """'Sural nerve' -> 'sural nerve', but keep acronyms such as 'IPBSN'."""
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _pin_sentence(pr: PinResult, atlas: Atlas, tolerance_cm: float) -> str:
    name = _lower_name(atlas.name_of(pr.target_id)) if pr.target_id else "target"
    if not pr.on_body:
        return f"That pin is off the body; the {name} is on the skin."
    if pr.safety:
        return pr.safety
    if pr.distance_cm <= tolerance_cm:
        return f"Within tolerance: {pr.distance_cm:.1f} cm from the {name}."
    return f"{pr.direction_text.capitalize()} to the {name} ({pr.distance_cm:.1f} cm away)."


def _score_locate(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    if not a.pins_px:
        return Result(q.id, q.type, 0.0, "No pin placed.")
    pin = a.pins_px[-1:]  # the latest pin is the answer
    [pr] = _pin_results(q, q.tolerance_cm, q.zero_cm, pin, view, atlas, [q.targets[0]])
    return Result(
        q.id, q.type, pr.credit, _pin_sentence(pr, atlas, q.tolerance_cm), pins=(pr,),
        safety=tuple(x for x in [pr.safety] if x),
        details={"distance_cm": pr.distance_cm},
    )


def match_pins(distance_matrix_cm: FloatArray) -> list[tuple[int, int]]:
    """Optimal one-to-one pin→target matching (Hungarian) minimising total distance.

    >>> match_pins(np.array([[5.0, 1.0], [1.0, 5.0]]))
    [(0, 1), (1, 0)]
    """
    if distance_matrix_cm.size == 0:
        return []
    cost = np.where(np.isfinite(distance_matrix_cm), distance_matrix_cm, 1e6)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]


def extra_pin_policy_text(policy: str) -> str:
    """What learners are told about extra pins before they answer."""
    if policy == "ignore":
        return "Extra pins beyond the number of targets are ignored."
    return "Each extra pin beyond the number of targets counts as a miss and lowers your score."


def _score_multi(q: QuestionModel | StepModel, tol: float, zero: float, policy: str, a: Answer,
                 view: RenderedView, atlas: Atlas) -> tuple[float, list[PinResult], str]:
    targets = list(q.targets)
    if not a.pins_px:
        return 0.0, [], "No pins placed."
    xs = np.array([p[0] for p in a.pins_px])
    ys = np.array([p[1] for p in a.pins_px])
    pts, on_body = view.lift(xs, ys)
    dm = np.full((len(pts), len(targets)), np.inf)
    for j, t in enumerate(targets):
        d, _ = _distances(pts, _item_points(view, t))
        dm[:, j] = np.where(on_body, d, np.inf)
    pairs = match_pins(dm)
    per_pin: list[str | None] = [None] * len(pts)
    for r, c in pairs:
        per_pin[r] = targets[c]
    prs = _pin_results(q, tol, zero, a.pins_px, view, atlas, per_pin)
    total = sum(p.credit for p in prs if p.target_id is not None)
    n_extra = max(0, len(pts) - len(targets))
    denom = len(targets) + (n_extra if policy == "penalise" else 0)
    credit = total / denom
    found = sum(1 for p in prs if p.target_id is not None and p.credit >= 0.999)
    missing = len(targets) - len([p for p in prs if p.target_id is not None])
    parts = [f"{found} of {len(targets)} sites within tolerance."]
    if missing:
        parts.append(f"{missing} site(s) had no pin.")
    if n_extra:
        parts.append(f"{n_extra} extra pin(s): {extra_pin_policy_text(policy).lower()}")
    return credit, prs, " ".join(parts)


def _score_trace(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    nerve_id = q.targets[0]
    course = _item_points(view, nerve_id)
    if len(a.pins_px) < 2:
        return Result(q.id, q.type, 0.0, "Place at least two points along the course.")
    xs = np.array([p[0] for p in a.pins_px])
    ys = np.array([p[1] for p in a.pins_px])
    pts, on_body = view.lift(xs, ys)
    pts = pts[on_body]
    if len(pts) < 2:
        return Result(q.id, q.type, 0.0, "Your points are off the body.")
    d_pins, _, arc = closest_on_polyline(pts, course)
    d_course, _, _ = closest_on_polyline(course, pts)
    visible = view.items[nerve_id].visible
    d_course_vis = d_course[visible] if visible.any() else d_course
    sym_mean = 0.5 * (float(d_pins.mean()) + float(d_course_vis.mean()))
    near = d_pins <= q.zero_cm
    vis_arc = _visible_arc_span(view, nerve_id)
    coverage = float(np.clip((arc[near].max() - arc[near].min()) / vis_arc, 0, 1)) if near.sum() >= 2 else 0.0
    credit = float(credit_for_distance(sym_mean, q.tolerance_cm, q.zero_cm)) * coverage
    prs = _pin_results(q, q.tolerance_cm, q.zero_cm, a.pins_px, view, atlas, [nerve_id] * len(a.pins_px))
    name = atlas.name_of(nerve_id)
    fb = (
        f"Your path is on average {sym_mean:.1f} cm from the {name} and covers "
        f"{coverage * 100:.0f}% of its visible course."
    )
    # Tracing is about the course, not where to inject, so points near a vein do not zero
    # the score; they earn a caution instead.
    near = sorted({p.safety.split(" cm from the ")[1].split(",")[0] for p in prs if p.safety and " cm from the " in p.safety})
    if near:
        fb += f" Some points lie within the safety radius of the {', '.join(near)}: fine for tracing, but never inject there."
    return Result(q.id, q.type, credit, fb, pins=tuple(prs), safety=(),
                  details={"symmetric_mean_cm": sym_mean, "coverage": coverage})


def _visible_arc_span(view: RenderedView, item_id: str) -> float:
    item = view.items[item_id]
    if not item.visible.any() or len(item.points_cm) < 2:
        return 1.0
    seg = np.linalg.norm(np.diff(item.points_cm, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-9)
    idx = np.nonzero(item.visible)[0]
    span = cum[idx.max()] - cum[idx.min()]
    return float(span) if span > 0.05 else 1.0


def _score_choices(choices: Sequence[ChoiceModel], chosen: Sequence[int], multi: bool) -> tuple[float, tuple[int, ...]]:
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
    fb = "Correct." if credit >= 0.999 else (f"Partly right. Correct: {right_text}." if credit > 0 else f"Not quite. Correct: {right_text}.")
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
    credit = 1.0 if inside and on_body[0] else float(credit_for_distance(dist, q.tolerance_cm, q.zero_cm)) if on_body[0] else 0.0
    name = atlas.name_of(atlas.territories[terr_id].nerve)
    fb = f"Inside the territory of the {name}." if inside else f"Outside the territory of the {name}, {dist:.1f} cm from its edge."
    pr = PinResult(float(x), float(y), bool(on_body[0]), terr_id, dist, credit, {}, "inside" if inside else "outside",
                   None, None, None, None, None)
    return Result(q.id, q.type, credit, fb, pins=(pr,), details={"inside": float(inside), "distance_cm": dist})


def _score_case(q: QuestionModel, a: Answer, view: RenderedView | None, atlas: Atlas) -> Result:
    results: list[Result] = []
    for i, step in enumerate(q.steps):
        sa = a.steps[i] if i < len(a.steps) else Answer()
        if step.type in ("identify", "clinical"):
            credit, correct = _score_choices(step.choices, sa.choices, step.multi_answer)
            fb = "Correct." if credit >= 0.999 else "Correct: " + "; ".join(step.choices[j].text for j in correct) + "."
            results.append(Result(f"{q.id}#{i}", step.type, credit, fb, chosen=sa.choices, correct_choices=correct))
        else:
            assert view is not None
            credit, prs, fb = _score_multi(step, q.tolerance_cm, q.zero_cm, q.extra_pins, sa, view, atlas)
            results.append(Result(f"{q.id}#{i}", step.type, credit, fb, pins=tuple(prs),
                                  safety=tuple(p.safety for p in prs if p.safety)))
    credit = float(np.mean([r.credit for r in results])) if results else 0.0
    fb = " ".join(f"Step {i + 1}: {r.feedback}" for i, r in enumerate(results))
    return Result(q.id, q.type, credit, fb, steps=tuple(results),
                  safety=tuple(s for r in results for s in r.safety))


def score(question: QuestionModel, answer: Answer, view: RenderedView | None, atlas: Atlas) -> Result:
    """Score one answer. Pure: same inputs, same Result; no IO, no clock, no randomness."""
    q = question
    match q.type:
        case "locate":
            assert view is not None
            r = _score_locate(q, answer, view, atlas)
        case "multi_site":
            assert view is not None
            credit, prs, fb = _score_multi(q, q.tolerance_cm, q.zero_cm, q.extra_pins, answer, view, atlas)
            r = Result(q.id, q.type, credit, fb, pins=tuple(prs), safety=tuple(p.safety for p in prs if p.safety))
        case "trace":
            assert view is not None
            r = _score_trace(q, answer, view, atlas)
        case "territory" if q.mode == "tap":
            assert view is not None
            r = _score_territory_tap(q, answer, view, atlas)
        case "identify" | "territory" | "clinical":
            r = _choice_result(q, answer)
        case "case":
            r = _score_case(q, answer, view, atlas)
        case _:
            raise ValueError(f"unknown question type {q.type}")
    return Result(
        question_id=r.question_id, type=r.type, credit=float(np.clip(r.credit, 0.0, 1.0)), feedback=r.feedback,
        pins=r.pins, chosen=r.chosen, correct_choices=r.correct_choices, teaching=q.explanation,
        references=tuple(q.references), safety=r.safety, details=r.details, steps=r.steps,
    )
