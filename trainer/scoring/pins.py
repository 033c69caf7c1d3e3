"""Pins scored against their targets, and the words that say where each pin lies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import decompose, direction_words
from trainer.scoring.results import PinResult
from trainer.scoring.view_scorer import FloatArray, PinFacts, view_scorer


def item_points(view: RenderedView, item_id: str) -> FloatArray:
    item = view.items.get(item_id)
    if item is None:
        raise KeyError(f"'{item_id}' is not drawn on view {view.view_id}")
    return item.points_cm


def direction_vocabulary(atlas: Atlas, view_id: str) -> str:
    """``"foot"`` on views of the foot, else ``"leg"`` (see :data:`trainer.geometry.VOCABULARIES`).

    A view is of the foot when its region's segment is the foot, or when it looks at a leg
    region from above or below: on a standing body only the dorsum and the sole face that way.
    """
    view = atlas.views.get(view_id)
    region = atlas.regions.get(view.region) if view is not None else None
    if view is None or region is None:
        return "leg"
    from_above_or_below = view.look_from in ("superior", "inferior")
    return "foot" if region.segment == "foot" or (region.segment == "leg" and from_above_or_below) else "leg"


def pin_results(
    tolerance_cm: float,
    zero_cm: float,
    pins_px: Sequence[tuple[float, float]],
    view: RenderedView,
    atlas: Atlas,
    targets: Sequence[str | None],
    *,
    facts: PinFacts | None = None,
    target_ids: Sequence[str] = (),
    unsafe_scores_zero: bool = True,
) -> list[PinResult]:
    """Score pins against the given target per pin (None = unmatched extra pin).

    ``facts`` may carry a measurement already made for ``target_ids`` (multi-site matching).
    """
    if not pins_px:
        return []
    scorer = view_scorer(view, atlas)
    xs = np.array([p[0] for p in pins_px], dtype=np.float64)
    ys = np.array([p[1] for p in pins_px], dtype=np.float64)
    if facts is None:
        target_ids = list(dict.fromkeys(t for t in targets if t is not None))
        facts = scorer.measure(view, xs, ys, scorer.columns(view, target_ids))
    slot = {t: j for j, t in enumerate(target_ids)}
    per_pin = np.array([slot[t] if t is not None else -1 for t in targets], dtype=np.int64)
    target_items = scorer.columns(view, target_ids)
    credits = facts.credits(per_pin, tolerance_cm, zero_cm, unsafe_scores_zero, target_items)
    vocabulary = direction_vocabulary(atlas, view.view_id)
    out: list[PinResult] = []
    for i, target_id in enumerate(targets):
        on_body = bool(facts.on_body[i])
        k_near = int(facts.nearest[i])
        nearest_id = scorer.item_ids[k_near] if k_near >= 0 else None
        nearest_cm = float(facts.nearest_cm[i]) if k_near >= 0 else None
        nearest_name = atlas.name_of(nearest_id) if nearest_id else None
        k_unsafe = int(facts.unsafe[i])
        safety_msg = None
        marks_it = target_id is not None and k_unsafe >= 0 and scorer.item_ids[k_unsafe] == target_id
        if k_unsafe >= 0 and not marks_it:
            a = atlas.avoid[scorer.item_ids[k_unsafe]]
            safety_msg = (
                f"Unsafe: this pin is {float(facts.unsafe_cm[i]):.1f} cm from the {a.name}, inside its "
                f"{a.safety_radius_cm:.1f} cm safety radius. {a.why}".strip()
            )
        if target_id is None:
            out.append(
                PinResult(
                    float(xs[i]),
                    float(ys[i]),
                    on_body,
                    None,
                    float("nan"),
                    0.0,
                    {},
                    "extra pin",
                    nearest_id,
                    nearest_name,
                    nearest_cm,
                    safety_msg,
                    None,
                )
            )
            continue
        j = int(per_pin[i])
        closest = facts.closest_cm[i, j]
        dist = float(facts.target_cm[i, j]) if on_body else float("inf")
        comps = decompose(facts.points_cm[i] - closest, view.frame) if on_body else {}
        words = direction_words(comps, vocabulary=vocabulary) if on_body else "off the body"
        txy, _ = view.camera.project(closest.reshape(1, 3))
        out.append(
            PinResult(
                x_px=float(xs[i]),
                y_px=float(ys[i]),
                on_body=on_body,
                target_id=target_id,
                distance_cm=dist,
                credit=float(credits[i]),
                direction=comps,
                direction_text=words,
                nearest_id=nearest_id,
                nearest_name=nearest_name,
                nearest_cm=nearest_cm,
                safety=safety_msg,
                target_px=(float(txy[0, 0]), float(txy[0, 1])),
            )
        )
    return out


def _lower_name(name: str) -> str:
    """'Sural nerve' -> 'sural nerve', but keep acronyms such as 'IPBSN'."""
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _relative_to(words: str, name: str, vocabulary: str) -> str:
    """'1.8 cm proximal to the sural nerve'; on the foot '2.0 cm toward the heel from the ...'."""
    return f"{words} {'from' if vocabulary == 'foot' else 'to'} the {name}"


def pin_sentence(pr: PinResult, atlas: Atlas, tolerance_cm: float, vocabulary: str) -> str:
    """Where the pin is relative to its target. The safety message itself is in ``Result.safety``."""
    name = _lower_name(atlas.name_of(pr.target_id)) if pr.target_id else "target"
    if not pr.on_body:
        return f"That pin is off the body; the {name} is on the skin."
    within = pr.distance_cm <= tolerance_cm
    if pr.safety:
        where = (
            f"although it is within tolerance ({pr.distance_cm:.1f} cm from the {name})"
            if within
            else f"it lies {_relative_to(pr.direction_text, name, vocabulary)} ({pr.distance_cm:.1f} cm away)"
        )
        return f"No credit: the pin is inside a safety zone, {where}."
    if within:
        if pr.direction_text == "on target":
            return f"Within tolerance: on target ({pr.distance_cm:.1f} cm from the {name})."
        return f"Within tolerance: {_relative_to(pr.direction_text, name, vocabulary)} — fine."
    sentence = _relative_to(pr.direction_text, name, vocabulary)
    return f"{sentence[:1].upper()}{sentence[1:]} ({pr.distance_cm:.1f} cm away)."


def pin_notes(prs: Sequence[PinResult], atlas: Atlas, tolerance_cm: float) -> list[str]:
    """One short line per pin, in the order placed, saying which pin missed and which way:
    'Pin 1 (site A): 0.4 cm distal — fine.', 'Pin 2 (site B): 2.3 cm proximal, 2.3 cm away: missed.'

    Direction words are given inside the tolerance too, so a learner sees a consistent bias.
    """
    out = []
    for i, pr in enumerate(prs, start=1):
        if pr.target_id is None:
            out.append(f"Pin {i}: extra pin.")
            continue
        name = _lower_name(atlas.name_of(pr.target_id))
        if not pr.on_body:
            out.append(f"Pin {i} ({name}): off the body.")
        elif pr.safety:
            out.append(f"Pin {i} ({name}): inside a safety zone, no credit.")
        elif pr.distance_cm <= tolerance_cm:
            out.append(f"Pin {i} ({name}): {pr.direction_text} — fine.")
        else:
            verdict = "partial credit" if pr.credit > 0 else "missed"
            out.append(f"Pin {i} ({name}): {pr.direction_text}, {pr.distance_cm:.1f} cm away: {verdict}.")
    return out


def match_pins(distance_matrix_cm: FloatArray) -> list[tuple[int, int]]:
    """Optimal one-to-one pin→target matching (Hungarian) minimising total distance.

    >>> match_pins(np.array([[5.0, 1.0], [1.0, 5.0]]))
    [(0, 1), (1, 0)]
    """
    if distance_matrix_cm.size == 0:
        return []
    cost = np.where(np.isfinite(distance_matrix_cm), distance_matrix_cm, 1e6)
    from scipy.optimize import linear_sum_assignment  # 0.6 s to import: only when several pins are matched

    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]


def extra_pin_policy_text(policy: str) -> str:
    """What learners are told about extra pins before they answer."""
    if policy == "ignore":
        return "Extra pins beyond the number of targets are ignored."
    return "Each extra pin beyond the number of targets counts as a miss and lowers your score."


def count_noun(n: int, noun: str, plural: str | None = None) -> str:
    """'1 answer', '3 answers'.

    >>> count_noun(1, "answer"), count_noun(2, "answer"), count_noun(2, "match", "matches")
    ('1 answer', '2 answers', '2 matches')
    """
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
