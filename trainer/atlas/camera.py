"""Orthographic camera shared by the offline renderer and the run-time scorer.

Conventions (all body coordinates in cm; MakeHuman axes: +x = body's left, +y = up,
+z = anterior):

* ``right = cross(direction, up)``; image x grows to the right, image y grows downwards.
* A pixel index ``i`` covers ``[i, i + 1)``, so the centre of pixel ``i`` is ``i + 0.5``.
* Depth ``d_cm`` is measured along ``direction`` from the plane through ``center_cm``;
  negative depth is nearer the camera.

>>> cam = Camera.looking(center_cm=(0, 0, 0), direction=(0, 0, -1), up=(0, 1, 0),
...                      width_px=100, height_px=100, extent_cm=10)
>>> cam.px_per_cm
10.0
>>> xy, d = cam.project([[1.0, 2.0, 3.0]])
>>> xy.tolist(), d.tolist()
([[60.0, 30.0]], [-3.0])
>>> cam.unproject(xy[:, 0], xy[:, 1], d).round(6).tolist()
[[1.0, 2.0, 3.0]]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _unit(v: ArrayLike) -> FloatArray:
    a = np.asarray(v, dtype=np.float64)
    n = float(np.linalg.norm(a))
    if n == 0.0:
        raise ValueError("zero-length direction")
    return a / n


@dataclass(frozen=True)
class Camera:
    """An orthographic camera; immutable so it can be cached and shared."""

    center_cm: tuple[float, float, float]
    direction: tuple[float, float, float]
    up: tuple[float, float, float]
    width_px: int
    height_px: int
    px_per_cm: float

    @staticmethod
    def looking(
        center_cm: ArrayLike,
        direction: ArrayLike,
        up: ArrayLike,
        width_px: int,
        height_px: int,
        extent_cm: float,
    ) -> Camera:
        """Build a camera whose image is ``extent_cm`` wide; ``up`` is orthogonalised."""
        d = _unit(direction)
        u = np.asarray(up, dtype=np.float64)
        u = _unit(u - np.dot(u, d) * d)
        c = np.asarray(center_cm, dtype=np.float64)
        return Camera(
            center_cm=(float(c[0]), float(c[1]), float(c[2])),
            direction=(float(d[0]), float(d[1]), float(d[2])),
            up=(float(u[0]), float(u[1]), float(u[2])),
            width_px=int(width_px),
            height_px=int(height_px),
            px_per_cm=float(width_px) / float(extent_cm),
        )

    @functools.cached_property
    def right(self) -> FloatArray:
        """Image x axis in body cm; computed once per camera (every scored pin needs it)."""
        r = np.cross(np.asarray(self.direction), np.asarray(self.up))
        r.setflags(write=False)
        return r

    def project(self, points_cm: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Return ``(xy_px (N, 2), depth_cm (N,))`` for body points."""
        p = np.asarray(points_cm, dtype=np.float64).reshape(-1, 3) - np.asarray(self.center_cm)
        x = self.width_px / 2.0 + (p @ self.right) * self.px_per_cm
        y = self.height_px / 2.0 - (p @ np.asarray(self.up)) * self.px_per_cm
        d = p @ np.asarray(self.direction)
        return np.stack([x, y], axis=1), d

    def unproject(self, x_px: ArrayLike, y_px: ArrayLike, depth_cm: ArrayLike) -> FloatArray:
        """Inverse of :meth:`project`: image position plus depth back to body cm."""
        x = np.asarray(x_px, dtype=np.float64).reshape(-1)
        y = np.asarray(y_px, dtype=np.float64).reshape(-1)
        d = np.asarray(depth_cm, dtype=np.float64).reshape(-1)
        a = (x - self.width_px / 2.0) / self.px_per_cm
        b = (self.height_px / 2.0 - y) / self.px_per_cm
        return (
            np.asarray(self.center_cm, dtype=np.float64)[None, :]
            + a[:, None] * self.right[None, :]
            + b[:, None] * np.asarray(self.up, dtype=np.float64)[None, :]
            + d[:, None] * np.asarray(self.direction, dtype=np.float64)[None, :]
        )

    def image_vector(self, vector_cm: ArrayLike) -> FloatArray:
        """Image displacement in px of a 3D displacement in cm (for axis maps and arrows)."""
        v = np.asarray(vector_cm, dtype=np.float64)
        return np.array([v @ self.right, -(v @ np.asarray(self.up))]) * self.px_per_cm

    def to_dict(self) -> dict[str, Any]:
        return {
            "center_cm": list(self.center_cm),
            "direction": list(self.direction),
            "up": list(self.up),
            "width_px": self.width_px,
            "height_px": self.height_px,
            "px_per_cm": self.px_per_cm,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Camera:
        return Camera(
            center_cm=tuple(float(v) for v in d["center_cm"]),  # type: ignore[arg-type]
            direction=tuple(float(v) for v in d["direction"]),  # type: ignore[arg-type]
            up=tuple(float(v) for v in d["up"]),  # type: ignore[arg-type]
            width_px=int(d["width_px"]),
            height_px=int(d["height_px"]),
            px_per_cm=float(d["px_per_cm"]),
        )
