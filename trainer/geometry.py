"""Small, vectorised geometry helpers used by scoring and the explorer.

Everything is plain numpy so a whole class's pins (10,000+) are scored in one call.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def as_points(points: ArrayLike, dim: int) -> FloatArray:
    """Coerce to an ``(N, dim)`` float array, so one point and many points look alike."""
    a = np.asarray(points, dtype=np.float64)
    return a.reshape(-1, dim)


def distances_to_point(points: ArrayLike, target: ArrayLike) -> FloatArray:
    """Euclidean distance from each point to one target.

    >>> distances_to_point([[0, 0, 0], [3, 4, 0]], [0, 0, 0]).tolist()
    [0.0, 5.0]
    """
    p = as_points(points, np.asarray(target).size)
    return np.linalg.norm(p - np.asarray(target, dtype=np.float64)[None, :], axis=1)


def closest_on_polyline(points: ArrayLike, polyline: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distance from each point to a polyline, the closest point on it, and arc position in [0, 1].

    The arc position lets trace scoring measure *coverage* of a course.

    >>> d, q, t = closest_on_polyline([[1.0, 1.0]], [[0, 0], [2, 0]])
    >>> d.tolist(), q.tolist(), t.tolist()
    ([1.0], [[1.0, 0.0]], [0.5])
    """
    line = np.asarray(polyline, dtype=np.float64)
    dim = line.shape[1]
    p = as_points(points, dim)
    if len(line) == 1:
        diff = p - line[0]
        return np.linalg.norm(diff, axis=1), np.repeat(line[:1], len(p), axis=0), np.zeros(len(p))
    a = line[:-1]
    b = line[1:]
    ab = b - a
    seg_len = np.linalg.norm(ab, axis=1)
    denom = np.where(seg_len > 0, seg_len**2, 1.0)
    # (N, S) parameter of the projection on each segment, clamped to the segment
    t = np.einsum("nsd,sd->ns", p[:, None, :] - a[None, :, :], ab) / denom[None, :]
    t = np.clip(t, 0.0, 1.0)
    q = a[None, :, :] + t[..., None] * ab[None, :, :]
    d2 = np.sum((p[:, None, :] - q) ** 2, axis=2)
    best = np.argmin(d2, axis=1)
    rows = np.arange(len(p))
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    total = cum[-1] if cum[-1] > 0 else 1.0
    arc = (cum[best] + t[rows, best] * seg_len[best]) / total
    return np.sqrt(d2[rows, best]), q[rows, best], arc


def points_in_polygon(points: ArrayLike, polygon: ArrayLike) -> NDArray[np.bool_]:
    """Even-odd rule test of 2D points against a closed polygon.

    >>> square = [[0, 0], [2, 0], [2, 2], [0, 2]]
    >>> points_in_polygon([[1, 1], [3, 1]], square).tolist()
    [True, False]
    """
    poly = np.asarray(polygon, dtype=np.float64)
    p = as_points(points, 2)
    x, y = p[:, 0][:, None], p[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    crosses = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    hits = crosses & (x < x_at)
    return np.asarray(np.count_nonzero(hits, axis=1) % 2 == 1)


def polyline_length(polyline: ArrayLike) -> float:
    """Total length of a polyline.

    >>> polyline_length([[0, 0], [3, 4], [3, 5]])
    6.0
    """
    line = np.asarray(polyline, dtype=np.float64)
    if len(line) < 2:
        return 0.0
    return float(np.sum(np.linalg.norm(np.diff(line, axis=0), axis=1)))


def decompose(vector_cm: ArrayLike, frame: dict[str, ArrayLike]) -> dict[str, float]:
    """Components of a 3D displacement along the anatomical axes of a frame.

    >>> f = {"proximal": [0, 1, 0], "lateral": [-1, 0, 0], "anterior": [0, 0, 1]}
    >>> decompose([-0.5, 2.0, 0.0], f)
    {'proximal': 2.0, 'lateral': 0.5, 'anterior': 0.0}
    """
    v = np.asarray(vector_cm, dtype=np.float64)
    return {k: float(np.dot(v, np.asarray(axis, dtype=np.float64))) for k, axis in frame.items()}


_WORDS = {
    "proximal": ("proximal", "distal"),
    "lateral": ("lateral", "medial"),
    "anterior": ("anterior", "posterior"),
}


def direction_words(components: dict[str, float], min_cm: float = 0.3) -> str:
    """Turn frame components into words, largest first: ``"1.8 cm proximal and 0.6 cm lateral"``.

    Components below ``min_cm`` are left out, because they are within clicking noise.

    >>> direction_words({"proximal": -1.84, "lateral": 0.61, "anterior": 0.1})
    '1.8 cm distal and 0.6 cm lateral'
    >>> direction_words({"proximal": 0.1, "lateral": 0.0, "anterior": 0.0})
    'on target'
    """
    parts = []
    order = list(_WORDS)
    # Ties (to 0.01 mm) break in a fixed axis order, so mirrored answers read identically.
    ranked = sorted(components.items(), key=lambda kv: (-round(abs(kv[1]), 4), order.index(kv[0]) if kv[0] in order else 9))
    for axis, value in ranked:
        if abs(value) < min_cm or axis not in _WORDS:
            continue
        pos, neg = _WORDS[axis]
        parts.append(f"{abs(value):.1f} cm {pos if value > 0 else neg}")
    if not parts:
        return "on target"
    return " and ".join(parts[:2]) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]


def buffer_polyline(polyline: ArrayLike, radius: float, cap_segments: int = 8) -> FloatArray:
    """A closed outline at ``radius`` around a 2D polyline (a capsule for one segment).

    Used to draw safety zones in *image* units, so they scale with zoom instead of
    staying a fixed number of screen pixels wide.

    >>> outline = buffer_polyline([[0, 0], [10, 0]], 1.0)
    >>> points_in_polygon([[5, 0.9], [5, 1.1], [10.9, 0], [11.1, 0], [-0.9, 0]], outline).tolist()
    [True, False, True, False, True]
    """
    line = np.asarray(polyline, dtype=np.float64).reshape(-1, 2)
    if len(line) == 1 or polyline_length(line) == 0:
        t = np.linspace(0, 2 * np.pi, 4 * cap_segments, endpoint=False)
        return line[0] + radius * np.stack([np.cos(t), np.sin(t)], axis=1)
    seg = np.diff(line, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    keep = np.concatenate([[True], seg_len > 1e-9])
    line = line[keep]
    seg = np.diff(line, axis=0)
    tang = seg / np.linalg.norm(seg, axis=1)[:, None]
    normals_seg = np.stack([-tang[:, 1], tang[:, 0]], axis=1)
    normals = np.vstack([normals_seg[:1], normals_seg[:-1] + normals_seg[1:], normals_seg[-1:]])
    normals /= np.maximum(np.linalg.norm(normals, axis=1), 1e-9)[:, None]
    left = line + radius * normals
    right = line - radius * normals

    def cap(center: FloatArray, normal: FloatArray) -> FloatArray:
        # Sweep half a turn from the side we are on, round the tip, to the other side.
        t = float(np.arctan2(normal[1], normal[0])) - np.linspace(0, np.pi, cap_segments + 1)[1:-1]
        return center + radius * np.stack([np.cos(t), np.sin(t)], axis=1)

    return np.vstack([left, cap(line[-1], normals[-1]), right[::-1], cap(line[0], -normals[0])])
