"""All of a view's items as one segment array, so a pin is measured against everything at once.

Used by the live heatmap (thousands of pins) and by the explorer's "what is under my
finger" look-ups. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ViewIndex:
    item_ids: tuple[str, ...]
    kinds: tuple[str, ...]
    seg_a: FloatArray  # (S, 3)
    seg_ab: FloatArray  # (S, 3)
    seg_len2: FloatArray  # (S,)
    starts: NDArray[np.int64]  # first segment of each item
    radius_cm: FloatArray  # safety radius per item (0 if not a structure to avoid)
    view: RenderedView

    @staticmethod
    def build(view: RenderedView, atlas: Atlas) -> ViewIndex:
        ids, kinds, a_list, b_list, starts, radii = [], [], [], [], [], []
        n = 0
        for item in view.items.values():
            if item.kind not in ("nerve", "site", "avoid"):
                continue
            pts = item.points_cm
            a = pts[:-1] if len(pts) > 1 else pts
            b = pts[1:] if len(pts) > 1 else pts
            ids.append(item.id)
            kinds.append(item.kind)
            starts.append(n)
            a_list.append(a)
            b_list.append(b)
            n += len(a)
            av = atlas.avoid.get(item.id)
            radii.append(av.safety_radius_cm if av is not None else 0.0)
        seg_a = np.vstack(a_list) if a_list else np.zeros((0, 3))
        seg_b = np.vstack(b_list) if b_list else np.zeros((0, 3))
        ab = seg_b - seg_a
        return ViewIndex(tuple(ids), tuple(kinds), seg_a, ab, np.einsum("sd,sd->s", ab, ab),
                         np.asarray(starts, dtype=np.int64), np.asarray(radii), view)

    def distances(self, points_cm: FloatArray) -> FloatArray:
        """(N, items) distance in cm from each point to each item."""
        p = np.asarray(points_cm, dtype=np.float64).reshape(-1, 3)
        if len(self.item_ids) == 0:
            return np.zeros((len(p), 0))
        rel = p[:, None, :] - self.seg_a[None, :, :]
        denom = np.where(self.seg_len2 > 0, self.seg_len2, 1.0)
        t = np.clip(np.einsum("nsd,sd->ns", rel, self.seg_ab) / denom, 0.0, 1.0)
        diff = rel - t[..., None] * self.seg_ab[None, :, :]
        d2 = np.einsum("nsd,nsd->ns", diff, diff)
        return np.sqrt(np.minimum.reduceat(d2, self.starts, axis=1))

    def distance_to_item(self, points_cm: FloatArray, item_id: str, chunk: int = 4096) -> FloatArray:
        """Distance to one item for many points, in chunks so the (points × segments) block stays small."""
        k = self.item_ids.index(item_id)
        lo = self.starts[k]
        hi = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.seg_a)
        a, ab, l2 = self.seg_a[lo:hi], self.seg_ab[lo:hi], self.seg_len2[lo:hi]
        inv = np.where(l2 > 0, 1.0 / np.where(l2 > 0, l2, 1.0), 0.0)
        p = np.asarray(points_cm, dtype=np.float64).reshape(-1, 3)
        out = np.empty(len(p))
        a_dot_ab = np.einsum("sd,sd->s", a, ab)
        a2 = np.einsum("sd,sd->s", a, a)
        for start in range(0, len(p), chunk):
            q = p[start : start + chunk]
            # |q - a - t ab|^2 expanded so everything is a matrix product.
            q_ab = q @ ab.T
            t = np.clip((q_ab - a_dot_ab) * inv, 0.0, 1.0)
            q2 = np.einsum("nd,nd->n", q, q)[:, None]
            d2 = q2 + a2 - 2.0 * (q @ a.T) - 2.0 * t * (q_ab - a_dot_ab) + t * t * l2
            out[start : start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        return out

    def score_pin(self, x_px: float, y_px: float) -> dict[str, object]:
        """One pin against every nerve, site and structure to avoid: nearest item and safety."""
        pts, on_body = self.view.lift([x_px], [y_px])
        d = self.distances(pts)[0]
        k = int(np.argmin(d)) if len(d) else -1
        unsafe = [self.item_ids[i] for i in np.nonzero(d <= self.radius_cm)[0] if self.kinds[i] == "avoid"]
        return {"on_body": bool(on_body[0]), "nearest": self.item_ids[k] if k >= 0 else None,
                "nearest_cm": float(d[k]) if k >= 0 else None, "unsafe": unsafe}
