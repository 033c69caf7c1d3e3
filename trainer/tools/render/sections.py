"""A body to measure, and the plane sections and caliper spans the measurement rules use.

Axes follow MakeHuman: +x is the body's left, +y up, +z anterior; cm. The rules themselves
(which section, which landmarks, per dimension) are in
:mod:`trainer.tools.render.anthropometry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import ConvexHull

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class MeasuredBody:
    """What a measurement needs: skin, landmark points (right side) and joint centres."""

    vertices_cm: FloatArray  # (V, 3) skin vertices, base-mesh indexing
    triangles: IntArray  # (T, 3)
    landmarks_cm: Mapping[str, FloatArray]
    joints_cm: Mapping[str, FloatArray]

    @cached_property
    def floor_y(self) -> float:
        return float(self.used_vertices[:, 1].min())

    @cached_property
    def used_vertices(self) -> FloatArray:
        """The skin vertices the triangles use (computed once per body)."""
        return self.vertices_cm[np.unique(self.triangles)]

    def lm(self, name: str) -> FloatArray:
        return np.asarray(self.landmarks_cm[name], dtype=np.float64)

    def joint(self, name: str) -> FloatArray:
        return np.asarray(self.joints_cm[name], dtype=np.float64)


# --- plane sections ---------------------------------------------------------------------


def unit(v: FloatArray) -> FloatArray:
    return np.asarray(v, dtype=np.float64) / max(float(np.linalg.norm(v)), 1e-12)


def plane_section(
    vertices: FloatArray, triangles: IntArray, origin: FloatArray, normal: FloatArray
) -> list[FloatArray]:
    """The closed (or open) curves where a plane cuts the mesh, one point array per curve.

    Each crossing edge contributes one point; two points are joined when they come from the
    same triangle, and joined points form one connected curve.

    >>> v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    >>> t = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
    >>> [len(c) for c in plane_section(v, t, np.array([0, 0, 0.5]), np.array([0, 0, 1.0]))]
    [3]
    """
    n = unit(normal)
    d = (vertices - origin) @ n
    td = d[triangles]
    crossing = (td.min(axis=1) < 0) & (td.max(axis=1) >= 0)
    tris = triangles[crossing]
    if len(tris) == 0:
        return []
    edges = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    a, b = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    cut = (d[a] < 0) != (d[b] < 0)
    keys = a * len(vertices) + b
    uniq, inverse = np.unique(keys[cut], return_inverse=True)
    ea, eb = uniq // len(vertices), uniq % len(vertices)
    t = d[ea] / (d[ea] - d[eb])
    points = vertices[ea] + t[:, None] * (vertices[eb] - vertices[ea])
    # Per triangle, the indices (into ``points``) of its two cut edges.
    edge_id = np.full(len(edges), -1, dtype=np.int64)
    edge_id[np.nonzero(cut)[0]] = inverse
    per_tri = edge_id.reshape(3, -1).T
    parent = np.arange(len(points))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for row in per_tri:
        ids = row[row >= 0]
        if len(ids) == 2:
            ra, rb = find(int(ids[0])), find(int(ids[1]))
            if ra != rb:
                parent[ra] = rb
    roots = np.array([find(i) for i in range(len(points))])
    return [points[roots == r] for r in np.unique(roots)]


def _in_plane(points: FloatArray, normal: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """2D coordinates of points in the plane with the given normal, and the two plane axes."""
    n = unit(normal)
    helper = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = unit(np.cross(n, helper))
    w = np.cross(n, u)
    return np.stack([points @ u, points @ w], axis=1), u, w


def section_around(
    body: MeasuredBody, origin: FloatArray, normal: FloatArray, centre: FloatArray | None = None
) -> FloatArray:
    """Points of the section curve nearest to ``centre`` (default ``origin``), e.g. one limb."""
    curves = plane_section(body.vertices_cm, body.triangles, origin, normal)
    if not curves:
        raise ValueError("the plane misses the body")
    c = origin if centre is None else centre

    def score(curve: FloatArray) -> float:
        # A curve that surrounds the centre wins over one that merely passes near it.
        centroid = curve.mean(axis=0)
        return float(np.linalg.norm(centroid - c)) + (0.0 if len(curve) >= 6 else 100.0)

    return min(curves, key=score)


def hull_perimeter(points: FloatArray, normal: FloatArray) -> float:
    """Perimeter of the convex hull of points projected onto a plane: a tape round them.

    >>> sq = np.array([[0.0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0], [1, 1, 0]])
    >>> hull_perimeter(sq, np.array([0, 0, 1.0]))
    8.0
    """
    xy, _, _ = _in_plane(points, normal)
    hull = ConvexHull(xy)
    ring = xy[hull.vertices]
    return float(np.linalg.norm(np.roll(ring, -1, axis=0) - ring, axis=1).sum())


def extent(points: FloatArray, axis: FloatArray) -> float:
    """Width of the points along a unit axis (a caliper set on them).

    >>> extent(np.array([[0.0, 0, 0], [3, 1, 0]]), np.array([1.0, 0, 0]))
    3.0
    """
    s = points @ unit(axis)
    return float(s.max() - s.min())
