"""Every pin measured against every item of a view in one vectorised step.

:class:`ViewScorer` is built once per rendered view (and cached by :func:`view_scorer`); it
gives each pin's distance to its target, the nearest named structure and any safety radius it
falls inside. Distances use the arithmetic of :func:`trainer.geometry.closest_on_polyline`, so
they equal a per-item loop to the last bit. :func:`trainer.scoring.score.score` is its only
production caller, so Practice, live classes, exports and ``bench`` share one scorer.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.geometry import segment_distances2

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


# Items a pin is measured against. Landmarks are measured only as targets (a case step "place
# the landmarks"): they are never the "nearest structure" and never unsafe.
INDEXED_KINDS = ("nerve", "site", "avoid", "territory", "landmark")
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
        self,
        target: IntArray,
        tolerance_cm: float,
        zero_cm: float,
        unsafe_scores_zero: bool = True,
        target_items: IntArray | None = None,
    ) -> FloatArray:
        """Credit of each pin against its target column (-1 = unmatched: 0 credit).

        A pin off the body scores 0, and so does a pin inside a safety radius (unless
        ``unsafe_scores_zero`` is off, as for tracing), whatever its distance. When the pin's
        target *is* that structure to avoid (a case step "mark what to avoid"; ``target_items``
        gives each target's item column), its radius does not count against it.
        """
        if not self.target_cm.size:
            return np.zeros(len(target))
        d = self.target_cm[np.arange(len(target)), np.maximum(target, 0)]
        ok = (target >= 0) & self.on_body
        if unsafe_scores_zero:
            safe = self.unsafe < 0
            if target_items is not None and len(target_items):
                safe |= (target >= 0) & (self.unsafe == target_items[np.maximum(target, 0)])
            ok &= safe
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
