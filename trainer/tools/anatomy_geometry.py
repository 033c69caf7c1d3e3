"""The resolved body the anatomy check measures on, and the polyline geometry it needs.

:class:`Geometry` is one body type's committed artifacts (``atlas/resolved/{body}.json``,
``atlas/meshes/{body}.npz``) in body cm; :class:`Skin` answers "nearest skin point" for
distances along the skin. The functions below are pure geometry on point arrays.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trainer.errors import AtlasError

FloatArray = NDArray[np.float64]

SKIN_STEP_CM = 0.2


@dataclass(frozen=True, eq=False)
class Skin:
    """A triangle mesh (cm) with a nearest-surface-point query, for distances along the skin."""

    vertices_cm: FloatArray
    triangles: NDArray[np.int64]
    _tree: Any = field(repr=False)
    _adjacent: NDArray[np.int64] = field(repr=False)

    @classmethod
    def build(cls, vertices_cm: Any, triangles: Any) -> Skin:
        from scipy.spatial import cKDTree

        v = np.asarray(vertices_cm, dtype=np.float64).reshape(-1, 3)
        t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
        used = np.unique(t)
        flat_v = t.reshape(-1)
        flat_t = np.repeat(np.arange(len(t)), 3)
        order = np.argsort(flat_v, kind="stable")
        flat_v, flat_t = flat_v[order], flat_t[order]
        counts = np.bincount(flat_v, minlength=len(v))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(len(flat_v)) - starts[flat_v]
        adj = np.full((len(v), max(int(counts.max()), 1)), -1, dtype=np.int64)
        adj[flat_v, rank] = flat_t
        tree = cKDTree(v[used])
        return cls(v, t, (tree, used), adj)

    def project(self, points_cm: FloatArray, k: int = 8) -> FloatArray:
        """The closest skin point to each point (N, 3)."""
        from trainer.tools.render.resolve import closest_point_on_triangles

        p = np.asarray(points_cm, dtype=np.float64).reshape(-1, 3)
        tree, used = self._tree
        k = min(k, len(used))
        _, nearest = tree.query(p, k=k)
        verts = used[np.asarray(nearest).reshape(len(p), -1)]
        cand = self._adjacent[verts].reshape(len(p), -1)
        n, m = cand.shape
        valid = cand >= 0
        tri = self.triangles[np.where(valid, cand, 0)]
        v = self.vertices_cm
        q = closest_point_on_triangles(
            np.repeat(p, m, axis=0),
            v[tri[..., 0]].reshape(-1, 3),
            v[tri[..., 1]].reshape(-1, 3),
            v[tri[..., 2]].reshape(-1, 3),
        ).reshape(n, m, 3)
        d2 = np.where(valid, ((q - p[:, None, :]) ** 2).sum(axis=2), np.inf)
        return np.asarray(q[np.arange(n), np.argmin(d2, axis=1)], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Geometry:
    """One body type's resolved atlas (right side), in body cm."""

    body_type: str
    joints_cm: Mapping[str, FloatArray]
    frames: Mapping[str, Mapping[str, FloatArray]]
    landmarks_cm: Mapping[str, FloatArray]
    items: Mapping[str, tuple[str, FloatArray]]  # id -> (kind, points (N, 3))
    skin: Skin | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], skin: Skin | None = None) -> Geometry:
        """From the ``atlas/resolved/{body}.json`` structure."""

        def arr(x: Any) -> FloatArray:
            return np.asarray(x, dtype=np.float64)

        return cls(
            body_type=str(data["body_type"]),
            joints_cm={k: arr(v) for k, v in data.get("joints_cm", {}).items()},
            frames={s: {a: arr(v) for a, v in f.items()} for s, f in data.get("frames", {}).items()},
            landmarks_cm={k: arr(v["point_cm"]) for k, v in data.get("landmarks", {}).items()},
            items={
                k: (str(v["kind"]), arr(v["points_cm"]).reshape(-1, 3))
                for k, v in data.get("items", {}).items()
            },
            skin=skin,
        )


def load_geometry(atlas_dir: Path, body_type: str) -> Geometry:
    """Read the committed resolved geometry (and skin mesh, if present) of one body type."""
    path = Path(atlas_dir) / "resolved" / f"{body_type}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AtlasError(f"{path}: resolved geometry missing (it is written by the render tool)") from exc
    except (OSError, ValueError) as exc:
        raise AtlasError(f"{path}: unreadable: {exc}") from exc
    skin = None
    mesh = Path(atlas_dir) / "meshes" / f"{body_type}.npz"
    if mesh.exists():
        with np.load(mesh) as z:
            skin = Skin.build(z["vertices_cm"], z["triangles"])
    return Geometry.from_dict(data, skin)


# --- polylines --------------------------------------------------------------------------------


def closest_on_polyline(p: FloatArray, path: FloatArray) -> FloatArray:
    """The point of polyline ``path`` nearest ``p``.

    >>> closest_on_polyline(np.array([1.0, 1, 0]), np.array([[0.0, 0, 0], [2, 0, 0]])).tolist()
    [1.0, 0.0, 0.0]
    """
    if len(path) == 1:
        return np.array(path[0], dtype=np.float64)
    a, b = path[:-1], path[1:]
    ab = b - a
    denom = np.maximum((ab * ab).sum(1), 1e-18)
    t = np.clip(((p - a) * ab).sum(1) / denom, 0.0, 1.0)
    q = a + t[:, None] * ab
    return np.asarray(q[int(np.argmin(((q - p) ** 2).sum(1)))], dtype=np.float64)


def closest_between_segments(
    p1: FloatArray, q1: FloatArray, p2: FloatArray, q2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Closest points of segments p1-q1 and p2-q2 (clamped), as (on the first, on the second).

    >>> a, b = closest_between_segments(np.array([0.0, 0, 0]), np.array([2.0, 0, 0]),
    ...                                 np.array([1.0, 1, 1]), np.array([1.0, -1, 1]))
    >>> a.tolist(), b.tolist()
    ([1.0, 0.0, 0.0], [1.0, 0.0, 1.0])
    """
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e, f = float(d1 @ d1), float(d2 @ d2), float(d2 @ r)
    if a <= 1e-18 and e <= 1e-18:
        return p1.copy(), p2.copy()
    if a <= 1e-18:
        return p1.copy(), p2 + min(max(f / e, 0.0), 1.0) * d2
    c = float(d1 @ r)
    if e <= 1e-18:
        return p1 + min(max(-c / a, 0.0), 1.0) * d1, p2.copy()
    b = float(d1 @ d2)
    denom = a * e - b * b
    s = min(max((b * f - c * e) / denom, 0.0), 1.0) if denom > 1e-18 else 0.0
    t = (b * s + f) / e
    if t < 0.0:
        t, s = 0.0, min(max(-c / a, 0.0), 1.0)
    elif t > 1.0:
        t, s = 1.0, min(max((b - c) / a, 0.0), 1.0)
    return p1 + s * d1, p2 + t * d2


def nearest_between_polylines(path: FloatArray, other: FloatArray) -> FloatArray:
    """The point of ``path`` closest to polyline ``other`` (either may be a single point).

    >>> nearest_between_polylines(np.array([[0.0, 0, 0], [4, 0, 0]]), np.array([[1.0, 2, 0], [1.0, 1, 0]])).tolist()
    [1.0, 0.0, 0.0]
    """
    segs_a = [(path[i], path[i + 1]) for i in range(len(path) - 1)] or [(path[0], path[0])]
    segs_b = [(other[j], other[j + 1]) for j in range(len(other) - 1)] or [(other[0], other[0])]
    best, best_d = segs_a[0][0], math.inf
    for p1, q1 in segs_a:
        for p2, q2 in segs_b:
            on_a, on_b = closest_between_segments(p1, q1, p2, q2)
            d = float(np.linalg.norm(on_a - on_b))
            if d < best_d:
                best, best_d = on_a, d
    return np.asarray(best, dtype=np.float64)


def farthest_along(path: FloatArray, direction: FloatArray) -> FloatArray:
    """The vertex of ``path`` reaching furthest along ``direction`` (the first one on a tie).

    >>> farthest_along(np.array([[0.0, 0, 0], [1, 3, 0], [2, 1, 0]]), np.array([0.0, 1, 0])).tolist()
    [1.0, 3.0, 0.0]
    """
    return np.array(path[int(np.argmax(path @ direction))], dtype=np.float64)


def plane_crossing(
    path: FloatArray, origin: FloatArray, normal: FloatArray, which: str = "first"
) -> FloatArray | None:
    """Where polyline ``path`` crosses the plane through ``origin`` with unit ``normal``.

    >>> plane_crossing(np.array([[0.0, 0, 0], [0, 4, 0]]), np.array([0.0, 1, 0]), np.array([0.0, 1, 0])).tolist()
    [0.0, 1.0, 0.0]
    """
    s = (path - origin) @ normal
    hits: list[FloatArray] = []
    for i in range(len(path) - 1):
        s0, s1 = s[i], s[i + 1]
        if s0 == 0.0:
            hits.append(path[i].copy())
        elif s0 * s1 < 0.0:
            t = s0 / (s0 - s1)
            hits.append(path[i] + t * (path[i + 1] - path[i]))
    if len(path) and s[-1] == 0.0:
        hits.append(path[-1].copy())
    if not hits:
        return None
    return hits[0] if which == "first" else hits[-1]


def skin_line(a: FloatArray, b: FloatArray, skin: Skin, step_cm: float = SKIN_STEP_CM) -> FloatArray:
    """The line ``a``-``b`` drawn on the skin: the straight chord sampled every ``step_cm``, each
    sample moved to the nearest skin point (the same construction that draws course lines on
    the skin; on a convex surface it follows the geodesic closely)."""
    length = float(np.linalg.norm(b - a))
    k = max(int(math.ceil(length / step_cm)), 1)
    t = np.linspace(0.0, 1.0, k + 1)
    return skin.project(a[None, :] + t[:, None] * (b - a)[None, :])


def skin_path_length(a: FloatArray, b: FloatArray, skin: Skin, step_cm: float = SKIN_STEP_CM) -> float:
    """Length along the skin from ``a`` to ``b``: the :func:`skin_line`'s segments summed."""
    on_skin = skin_line(a, b, skin, step_cm)
    return float(np.linalg.norm(np.diff(on_skin, axis=0), axis=1).sum())
