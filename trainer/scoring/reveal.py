"""Overlay shapes for the answer surface, split by what a learner may see when.

``question_shapes`` is everything shown *before* answering (only what the question itself
displays: the highlighted nerve of an identify question, the shaded territory of a
"name the nerve" question). ``reveal_shapes`` adds targets, courses and error arrows after
the answer has been scored on the server.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedItem, RenderedView
from trainer.quiz.kinds import highlights_nerve, is_case, placing_targets, shades_territory, shows_picture
from trainer.quiz.models import QuestionModel
from trainer.scoring.results import Result

__all__ = [
    "course_shapes",
    "landmark_shapes",
    "question_shapes",
    "reveal_shapes",
    "reveal_targets",
    "shows_picture",
]

TARGET = "#12a150"
COURSE = "#1f77ff"
AVOID = "rgba(200,30,45,0.35)"
ARROW = "#d62828"
LANDMARK = "#7a4dd8"


def _runs(item: RenderedItem) -> list[list[list[float]]]:
    """Split a polyline into visible runs."""
    runs: list[list[list[float]]] = []
    cur: list[list[float]] = []
    for (x, y), vis in zip(item.points_px, item.visible, strict=True):
        if vis:
            cur.append([round(float(x), 1), round(float(y), 1)])
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def _polyline(item: RenderedItem, stroke: str, width: float, dash: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "type": "polyline",
            "points": run,
            "stroke": stroke,
            "width": width,
            **({"dash": dash} if dash else {}),
        }
        for run in _runs(item)
        if len(run) >= 2
    ]


def reveal_targets(q: QuestionModel) -> list[str]:
    """What the reveal draws: the question's targets, or every placing step's of a case."""
    return placing_targets(q) if is_case(q) else list(q.targets)


def question_shapes(q: QuestionModel, view: RenderedView | None) -> list[dict[str, Any]]:
    """What the question shows before the answer; never a target to place."""
    if view is None:
        return []
    w = max(view.width_px, view.height_px) / 150
    if highlights_nerve(q):
        return _polyline(view.items[q.targets[0]], COURSE, w * 1.6)
    if shades_territory(q):
        item = view.items[q.targets[0]]
        pts = [[round(float(x), 1), round(float(y), 1)] for x, y in item.points_px]
        return [
            {
                "type": "polygon",
                "points": pts,
                "stroke": "rgba(90,140,255,0.8)",
                "fill": "rgba(90,140,255,0.28)",
                "width": w / 2,
            }
        ]
    return []


def landmark_shapes(view: RenderedView, atlas: Atlas) -> list[dict[str, Any]]:
    """A hint before the answer: every landmark visible in the view, marked and named."""
    w = max(view.width_px, view.height_px) / 150
    shapes: list[dict[str, Any]] = []
    for item in view.items.values():
        if item.kind != "landmark" or not item.any_visible:
            continue
        x, y = (round(float(v), 1) for v in item.points_px[0])
        shapes.append(
            {
                "type": "circle",
                "x": x,
                "y": y,
                "r": w * 1.1,
                "stroke": "white",
                "fill": LANDMARK,
                "width": w / 3,
            }
        )
        shapes.append(
            {"type": "text", "x": x + w * 1.6, "y": y, "text": atlas.name_of(item.id), "fill": LANDMARK}
        )
    return shapes


def course_shapes(view: RenderedView, nerve_ids: list[str]) -> list[dict[str, Any]]:
    """A hint before the answer: the courses of these nerves (never a site on them)."""
    w = max(view.width_px, view.height_px) / 150
    return [s for n in nerve_ids if n in view.items for s in _polyline(view.items[n], COURSE, w, dash="8 5")]


def reveal_shapes(
    q: QuestionModel, result: Result, view: RenderedView, atlas: Atlas, targets: list[str] | None = None
) -> list[dict[str, Any]]:
    """After scoring: true courses, targets with their tolerance ring, arrows for each error."""
    ppc = view.camera.px_per_cm
    w = max(view.width_px, view.height_px) / 150
    shapes: list[dict[str, Any]] = []
    target_ids = targets if targets is not None else reveal_targets(q)
    for item in view.items.values():
        if item.kind == "avoid" and item.any_visible:
            a = atlas.avoid.get(item.id)
            radius_px = (a.safety_radius_cm if a else 0.5) * ppc
            shapes.extend(_polyline(item, AVOID, max(2.0, 2 * radius_px)))
    nerves_shown: set[str] = set()
    for t in target_ids:
        if t in atlas.sites:
            nerves_shown.add(atlas.sites[t].nerve)
        elif t in atlas.nerves:
            nerves_shown.add(t)
    for n in nerves_shown:
        if n in view.items:
            shapes.extend(_polyline(view.items[n], COURSE, w, dash=None))
    for t in target_ids:
        target = view.items.get(t)
        if target is None:
            continue
        if target.kind == "site":
            x, y = target.points_px[0]
            shapes.append(
                {
                    "type": "circle",
                    "x": round(float(x), 1),
                    "y": round(float(y), 1),
                    "r": round(q.tolerance_cm * ppc, 1),
                    "stroke": TARGET,
                    "width": w / 2,
                    "dash": "6 4",
                }
            )
            shapes.append(
                {
                    "type": "circle",
                    "x": round(float(x), 1),
                    "y": round(float(y), 1),
                    "r": w * 1.2,
                    "stroke": "white",
                    "fill": TARGET,
                    "width": w / 3,
                }
            )
        elif target.kind == "territory":
            pts = [[round(float(a), 1), round(float(b), 1)] for a, b in target.points_px]
            shapes.append(
                {
                    "type": "polygon",
                    "points": pts,
                    "stroke": TARGET,
                    "fill": "rgba(18,161,80,0.18)",
                    "width": w / 2,
                }
            )
    for pr in [*result.pins, *(p for s in result.steps for p in s.pins)]:
        if pr.target_px is not None and pr.on_body and np.isfinite(pr.distance_cm) and pr.distance_cm > 0.05:
            shapes.append(
                {
                    "type": "arrow",
                    "x1": round(pr.x_px, 1),
                    "y1": round(pr.y_px, 1),
                    "x2": round(pr.target_px[0], 1),
                    "y2": round(pr.target_px[1], 1),
                    "stroke": ARROW,
                    "width": w / 2,
                    "dash": "4 3",
                }
            )
            mx, my = (pr.x_px + pr.target_px[0]) / 2, (pr.y_px + pr.target_px[1]) / 2
            shapes.append(
                {
                    "type": "text",
                    "x": round(mx, 1),
                    "y": round(my, 1),
                    "text": f"{pr.distance_cm:.1f} cm",
                    "fill": ARROW,
                }
            )
    return shapes
