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

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import (
    CLICK_NOISE_CM,
    closest_on_polyline,
    decompose,
    direction_words,
    points_in_polygon,
    segment_distances2,
)
from trainer.quiz.models import ChoiceModel, QuestionModel, StepModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def credit_for_distance(distance_cm: FloatArray | float, tolerance_cm: float, zero_cm: float) -> FloatArray:
    """Full credit within tolerance, linear decay to 0 at ``zero_cm``; never increases with distance.

    >>> credit_for_distance(np.array([0.5, 2.0, 3.5]), 1.0, 3.0).tolist()
    [1.0, 0.5, 0.0]
    """
    d = np.asarray(distance_cm, dtype=np.float64)
    return np.minimum(
        np.maximum((zero_cm - d) / (zero_cm - tolerance_cm), 0.0), 1.0
    )  # np.clip, minus its overhead


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


# Items a pin is measured against. Landmarks are left out: they are never targets, never the
# "nearest structure" and never unsafe.
INDEXED_KINDS = ("nerve", "site", "avoid", "territory")
NAMED_KINDS = ("nerve", "site", "avoid")  # candidates for "nearest structure to your pin"
_PRUNE_FROM_PINS = 64  # from this many pins, items a pin cannot be affected by are skipped
_CHUNK_PINS = 4096  # pins per block in that case, so the per-item arrays stay a few MB


@dataclass(frozen=True, eq=False)
class PinFacts:
    """What one vectorised pass learns about N pins (see :meth:`ViewScorer.measure`)."""

    points_cm: FloatArray  # (N, 3) pins lifted onto the skin
    on_body: NDArray[np.bool_]  # (N,)
    target_cm: FloatArray  # (N, T) distance to each requested target
    closest_cm: FloatArray  # (N, T, 3) closest point of each target
    nearest: IntArray  # (N,) column of the nearest named item, -1 if none
    nearest_cm: FloatArray  # (N,) its distance (NaN if none)
    unsafe: IntArray  # (N,) column of the first structure to avoid whose radius holds the pin, -1 if none
    unsafe_cm: FloatArray  # (N,) the pin's distance to it (NaN if none)

    def credits(
        self, target: IntArray, tolerance_cm: float, zero_cm: float, unsafe_scores_zero: bool = True
    ) -> FloatArray:
        """Credit of each pin against its target column (-1 = unmatched: 0 credit).

        A pin off the body scores 0, and so does a pin inside a safety radius (unless
        ``unsafe_scores_zero`` is off, as for tracing), whatever its distance.
        """
        if not self.target_cm.size:
            return np.zeros(len(target))
        d = self.target_cm[np.arange(len(target)), np.maximum(target, 0)]
        ok = (target >= 0) & self.on_body
        if unsafe_scores_zero:
            ok &= self.unsafe < 0
        return np.where(ok, credit_for_distance(d, tolerance_cm, zero_cm), 0.0)


@dataclass(frozen=True, eq=False)
class ViewScorer:
    """Every nerve, site, structure to avoid and territory of one rendered view as one segment array.

    A single point is a zero-length segment. Distances use the arithmetic of
    :func:`trainer.geometry.closest_on_polyline`, so they equal a per-item loop to the last bit;
    the speed comes from measuring a pin against all segments of all items in one numpy step.
    Holds no reference to the view, so caching it does not keep views alive.
    """

    item_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    column: dict[str, int]
    seg_a: FloatArray  # (S, 3) segment starts
    seg_ab: FloatArray  # (S, 3) segment vectors
    seg_denom: FloatArray  # (S,) squared segment length (1 for a point)
    starts: IntArray  # (items,) first segment of each item
    named: NDArray[np.bool_]  # (items,) kind in NAMED_KINDS
    radius_cm: FloatArray  # (items,) safety radius; -inf where the item is not a structure to avoid
    named_columns: IntArray  # columns where ``named``
    box_lo: FloatArray  # (items, 3) bounding box of each item, for skipping far items in batches
    box_hi: FloatArray  # (items, 3)
    probe_cm: FloatArray  # (P, 3) a few vertices of each named item: first, quarter points, last

    @staticmethod
    def build(view: RenderedView, atlas: Atlas) -> ViewScorer:
        ids, kinds, a_list, ab_list, starts, radii, lo, hi = [], [], [], [], [], [], [], []
        n = 0
        for item in view.items.values():
            if item.kind not in INDEXED_KINDS or len(item.points_cm) == 0:
                continue
            pts = item.points_cm
            a = pts[:-1] if len(pts) > 1 else pts
            ab = (pts[1:] - pts[:-1]) if len(pts) > 1 else np.zeros_like(pts)
            ids.append(item.id)
            kinds.append(item.kind)
            starts.append(n)
            a_list.append(a)
            ab_list.append(ab)
            n += len(a)
            lo.append(pts.min(axis=0))
            hi.append(pts.max(axis=0))
            avoid = atlas.avoid.get(item.id) if item.kind == "avoid" else None
            radii.append(avoid.safety_radius_cm if avoid is not None else -np.inf)
        seg_a = np.vstack(a_list) if a_list else np.zeros((0, 3))
        seg_ab = np.vstack(ab_list) if ab_list else np.zeros((0, 3))
        seg_len = np.linalg.norm(seg_ab, axis=1)
        return ViewScorer(
            item_ids=tuple(ids),
            kinds=tuple(kinds),
            column={k: i for i, k in enumerate(ids)},
            seg_a=seg_a,
            seg_ab=seg_ab,
            seg_denom=np.where(seg_len > 0, seg_len**2, 1.0),
            starts=np.asarray(starts, dtype=np.int64),
            named=np.array([k in NAMED_KINDS for k in kinds], dtype=bool),
            radius_cm=np.asarray(radii, dtype=np.float64),
            named_columns=np.array([i for i, k in enumerate(kinds) if k in NAMED_KINDS], dtype=np.int64),
            box_lo=np.array(lo).reshape(-1, 3),
            box_hi=np.array(hi).reshape(-1, 3),
            probe_cm=np.array(
                [
                    pts[i]
                    for item_id, kind in zip(ids, kinds, strict=True)
                    if kind in NAMED_KINDS
                    for pts in [view.items[item_id].points_cm]
                    for i in sorted({0, len(pts) // 4, len(pts) // 2, 3 * len(pts) // 4, len(pts) - 1})
                ]
            ).reshape(-1, 3),
        )

    def columns(self, view: RenderedView, item_ids: Sequence[str]) -> IntArray:
        """Columns of the given items; a KeyError names an item the view does not draw."""
        out = []
        for item_id in item_ids:
            if item_id not in self.column:
                raise KeyError(f"'{item_id}' is not drawn on view {view.view_id}")
            out.append(self.column[item_id])
        return np.asarray(out, dtype=np.int64)

    def _segments_of(self, k: int) -> slice:
        end = int(self.starts[k + 1]) if k + 1 < len(self.starts) else len(self.seg_a)
        return slice(int(self.starts[k]), end)

    def distances(self, points_cm: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Squared distance from each point to each segment, the clamped parameter, and per item.

        Returns ``(d2 (N, S), t (N, S), item_cm (N, items))``.
        """
        d2, t = segment_distances2(points_cm, self.seg_a, self.seg_ab, self.seg_denom)
        if len(self.starts) == 0:
            return d2, t, np.zeros((len(points_cm), 0))
        return d2, t, np.sqrt(np.minimum.reduceat(d2, self.starts, axis=1))

    def measure(self, view: RenderedView, x_px: FloatArray, y_px: FloatArray, targets: IntArray) -> PinFacts:
        """Lift pins onto the skin and measure them against every item at once."""
        points_cm, on_body = view.lift(x_px, y_px)
        spans = [self._segments_of(int(k)) for k in targets]
        n = len(points_cm)
        if n < _PRUNE_FROM_PINS or n <= _CHUNK_PINS:
            return PinFacts(points_cm, on_body, *self._measure_block(points_cm, targets, spans))
        blocks = [
            self._measure_block(points_cm[lo : lo + _CHUNK_PINS], targets, spans)
            for lo in range(0, n, _CHUNK_PINS)
        ]
        return PinFacts(points_cm, on_body, *(np.concatenate(parts) for parts in zip(*blocks, strict=True)))

    def _measure_block(
        self, points_cm: FloatArray, targets: IntArray, spans: Sequence[slice]
    ) -> tuple[FloatArray, FloatArray, IntArray, FloatArray, IntArray, FloatArray]:
        n = len(points_cm)
        rows = np.arange(n)
        closest = np.empty((n, len(targets), 3))
        if n < _PRUNE_FROM_PINS:  # a few pins: every segment at once
            d2, t, item_cm = self.distances(points_cm)
            for j, span in enumerate(spans):
                best = span.start + d2[:, span].argmin(axis=1)  # first of equals, as closest_on_polyline
                closest[:, j] = self.seg_a[best] + t[rows, best][:, None] * self.seg_ab[best]
        else:
            item_cm = self._pruned_item_distances(points_cm, targets, spans, closest)
        target_cm = item_cm[:, targets]
        if len(self.named_columns):
            named_cm = item_cm[:, self.named_columns]
            pick = named_cm.argmin(axis=1)  # first of equals, in view order
            nearest, nearest_cm = self.named_columns[pick], named_cm[rows, pick]
        else:
            nearest, nearest_cm = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
        if item_cm.shape[1] == 0:
            return target_cm, closest, nearest, nearest_cm, np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
        inside = item_cm <= self.radius_cm[None, :]
        first = inside.argmax(axis=1)  # the first structure to avoid in view order
        hit = inside[rows, first]
        unsafe = np.where(hit, first, -1)
        unsafe_cm = np.where(hit, item_cm[rows, first], np.nan)
        return target_cm, closest, nearest, nearest_cm, unsafe, unsafe_cm

    def _pruned_item_distances(
        self, p: FloatArray, targets: IntArray, spans: Sequence[slice], closest: FloatArray
    ) -> FloatArray:
        """Per-item distances for many pins, skipping (as +inf) each item that cannot matter to a pin.

        An item matters if it is a target, if its bounding box is within a safety radius it
        carries, or if its box is no farther than the pin's distance to the nearest probe vertex
        of any named item (so it could be the nearest). A 1e-9 margin keeps near-ties in. The items
        that are measured use :func:`trainer.geometry.segment_distances2`, so the outcome equals the all-segments path.
        """
        n, n_items = len(p), len(self.item_ids)
        lower2 = np.zeros((n, n_items))
        upper2 = np.zeros((n, len(self.probe_cm)))
        for k in range(3):  # one coordinate at a time: (N, items) arrays, no reduction over a short axis
            c = p[:, k : k + 1]
            gap = np.maximum(self.box_lo[None, :, k] - c, 0.0) + np.maximum(c - self.box_hi[None, :, k], 0.0)
            lower2 += gap * gap
            to_probe = c - self.probe_cm[None, :, k]
            upper2 += to_probe * to_probe
        lower = np.sqrt(lower2)
        # The nearest named item is no farther than the nearest probe point (a vertex of one).
        reach = np.sqrt(upper2.min(axis=1)) if len(self.probe_cm) else np.full(n, -np.inf)
        need = self.named[None, :] & (lower <= (reach + 1e-9 * (1.0 + reach))[:, None])
        need |= lower <= self.radius_cm[None, :] + 1e-9
        need[:, targets] = True
        item_cm = np.full((n, n_items), np.inf)
        for k in range(n_items):
            rows = np.nonzero(need[:, k])[0]
            if len(rows) == 0:
                continue
            span = self._segments_of(k)
            a, ab = self.seg_a[span], self.seg_ab[span]
            d2, t = segment_distances2(p[rows], a, ab, self.seg_denom[span])
            best = d2.argmin(axis=1)
            local = np.arange(len(rows))
            item_cm[rows, k] = np.sqrt(d2[local, best])
            for j in np.nonzero(targets == k)[0]:  # a target is measured for every pin
                closest[:, j] = a[best] + t[local, best][:, None] * ab[best]
        return item_cm


_SCORERS: dict[int, tuple[weakref.ref[Atlas], ViewScorer]] = {}
_SCORERS_LOCK = threading.Lock()


def view_scorer(view: RenderedView, atlas: Atlas) -> ViewScorer:
    """The view's :class:`ViewScorer`, built on first use and kept while the view lives.

    Keyed by the view object (views are loaded once and cached by the atlas loader) and
    rebuilt when the atlas object changes, since safety radii come from the atlas.
    """
    key = id(view)
    entry = _SCORERS.get(key)
    if entry is not None and entry[0]() is atlas:
        return entry[1]
    scorer = ViewScorer.build(view, atlas)
    with _SCORERS_LOCK:
        if key not in _SCORERS:
            weakref.finalize(view, _SCORERS.pop, key, None)
        _SCORERS[key] = (weakref.ref(atlas), scorer)
    return scorer


def _item_points(view: RenderedView, item_id: str) -> FloatArray:
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


def _pin_results(
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
    credits = facts.credits(per_pin, tolerance_cm, zero_cm, unsafe_scores_zero)
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
        if k_unsafe >= 0:
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


def _pin_sentence(pr: PinResult, atlas: Atlas, tolerance_cm: float, vocabulary: str) -> str:
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
        return f"Within tolerance: {pr.distance_cm:.1f} cm from the {name}."
    sentence = _relative_to(pr.direction_text, name, vocabulary)
    return f"{sentence[:1].upper()}{sentence[1:]} ({pr.distance_cm:.1f} cm away)."


def _score_locate(q: QuestionModel, a: Answer, view: RenderedView, atlas: Atlas) -> Result:
    if not a.pins_px:
        return Result(q.id, q.type, 0.0, "No pin placed.")
    pin = a.pins_px[-1:]  # the latest pin is the answer
    [pr] = _pin_results(q.tolerance_cm, q.zero_cm, pin, view, atlas, [q.targets[0]])
    return Result(
        q.id,
        q.type,
        pr.credit,
        _pin_sentence(pr, atlas, q.tolerance_cm, direction_vocabulary(atlas, view.view_id)),
        pins=(pr,),
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
    prs = _pin_results(tol, zero, a.pins_px, view, atlas, per_pin, facts=facts, target_ids=targets)
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
    return credit, prs, " ".join(parts)


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
    course = _item_points(view, nerve_id)
    if len(a.pins_px) < 2:
        return Result(q.id, q.type, 0.0, "Place at least two points along the course.")
    prs = _pin_results(
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


def count_noun(n: int, noun: str, plural: str | None = None) -> str:
    """'1 answer', '3 answers'.

    >>> count_noun(1, "answer"), count_noun(2, "answer"), count_noun(2, "match", "matches")
    ('1 answer', '2 answers', '2 matches')
    """
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


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
    results: list[Result] = []
    for i, step in enumerate(q.steps):
        sa = a.steps[i] if i < len(a.steps) else Answer()
        if step.type in ("identify", "clinical"):
            credit, correct = _score_choices(step.choices, sa.choices, step.multi_answer)
            fb = (
                "Correct."
                if credit >= 0.999
                else "Correct: " + "; ".join(step.choices[j].text for j in correct) + "."
            )
            results.append(
                Result(f"{q.id}#{i}", step.type, credit, fb, chosen=sa.choices, correct_choices=correct)
            )
        else:
            assert view is not None
            credit, prs, fb = _score_multi(step, q.tolerance_cm, q.zero_cm, q.extra_pins, sa, view, atlas)
            results.append(
                Result(
                    f"{q.id}#{i}",
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
            r = Result(
                q.id, q.type, credit, fb, pins=tuple(prs), safety=tuple(p.safety for p in prs if p.safety)
            )
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
