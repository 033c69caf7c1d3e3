"""Small, vectorised geometry helpers used by scoring and the explorer.

Everything is plain numpy so a whole class's pins (10,000+) are scored in one call.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    distances: FloatArray = np.linalg.norm(p - np.asarray(target, dtype=np.float64)[None, :], axis=1)
    return distances


def segment_distances2(
    points: FloatArray, a: FloatArray, ab: FloatArray, denom: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Squared distance from each point ``(N, D)`` to each segment ``a + t·ab`` ``(S, D)``, and ``t``.

    ``denom`` is each segment's squared length (1 for a zero-length segment, a single point).
    Both results are ``(N, S)``; ``t`` is clamped to the segment. Worked out one coordinate
    at a time on ``(N, S)`` arrays, because summing an ``(N, S, D)`` array over its short last
    axis is many times slower. The products are summed in the order numpy's ``einsum`` used
    here before, so distances are the same to the last bit.

    >>> d2, t = segment_distances2(np.array([[1.0, 1.0, 0.0]]), np.zeros((1, 3)), np.array([[2.0, 0, 0]]), np.array([4.0]))
    >>> d2.tolist(), t.tolist()
    ([[1.0]], [[0.5]])
    """
    dim = points.shape[1]
    p = [points[:, k : k + 1] for k in range(dim)]
    rel = [p[k] - a[None, :, k] for k in range(dim)]
    prod = [rel[k] * ab[None, :, k] for k in range(dim)]
    dot = (prod[0] + prod[2]) + prod[1] if dim == 3 else sum(prod[1:], prod[0])
    t = np.minimum(np.maximum(dot / denom[None, :], 0.0), 1.0)
    diff = [p[k] - (a[None, :, k] + t * ab[None, :, k]) for k in range(dim)]
    d2 = diff[0] * diff[0]
    for k in range(1, dim):
        d2 = d2 + diff[k] * diff[k]
    return d2, t


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
    ab = line[1:] - a
    seg_len = np.linalg.norm(ab, axis=1)
    d2, t = segment_distances2(p, a, ab, np.where(seg_len > 0, seg_len**2, 1.0))
    best = np.argmin(d2, axis=1)
    rows = np.arange(len(p))
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    total = cum[-1] if cum[-1] > 0 else 1.0
    tb = t[rows, best]
    arc = (cum[best] + tb * seg_len[best]) / total
    return np.sqrt(d2[rows, best]), a[best] + tb[:, None] * ab[best], arc


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


def decompose(vector_cm: ArrayLike, frame: Mapping[str, ArrayLike]) -> dict[str, float]:
    """Components of a 3D displacement along the anatomical axes of a frame.

    >>> f = {"proximal": [0, 1, 0], "lateral": [-1, 0, 0], "anterior": [0, 0, 1]}
    >>> decompose([-0.5, 2.0, 0.0], f)
    {'proximal': 2.0, 'lateral': 0.5, 'anterior': 0.0}
    """
    v = np.asarray(vector_cm, dtype=np.float64)
    return {k: float(np.dot(v, np.asarray(axis, dtype=np.float64))) for k, axis in frame.items()}


# Words for each frame axis: (positive, negative). The foot has words of its own: on the
# dorsum and the sole the leg's axes read wrongly ("2.0 cm posterior" for "toward the heel").
# The frame is the same (the leg's proximal axis is the foot's dorsal direction at a neutral
# ankle, its anterior axis points to the toes), so only the words change, and a mirrored
# view still reads the same because the lateral axis is mirrored with it.
VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "leg": {
        "proximal": ("proximal", "distal"),
        "lateral": ("lateral", "medial"),
        "anterior": ("anterior", "posterior"),
    },
    "foot": {
        "proximal": ("dorsal", "plantar"),
        "lateral": ("toward the lateral border", "toward the medial border"),
        "anterior": ("toward the toes", "toward the heel"),
    },
}
_AXIS_ORDER = ("proximal", "lateral", "anterior")


# Displacements smaller than this are within the noise of a tap or a click on a scaled-down
# image: direction words leave them out, and a traced point this close counts as on the course.
CLICK_NOISE_CM = 0.3


def direction_words(
    components: dict[str, float], min_cm: float = CLICK_NOISE_CM, vocabulary: str = "leg", too: bool = False
) -> str:
    """Turn frame components into words, largest first: ``"1.8 cm proximal and 0.6 cm lateral"``.

    Components below ``min_cm`` are left out, because they are within clicking noise.
    ``vocabulary`` is ``"leg"`` (every segment but the foot) or ``"foot"``; ``too`` phrases an
    error ("1.3 cm too proximal", "1.0 cm too far toward the heel").

    >>> direction_words({"proximal": -1.84, "lateral": 0.61, "anterior": 0.1})
    '1.8 cm distal and 0.6 cm lateral'
    >>> direction_words({"proximal": 0.1, "lateral": 0.0, "anterior": 0.0})
    'on target'
    >>> direction_words({"proximal": -0.4, "lateral": 0.0, "anterior": -2.0}, vocabulary="foot")
    '2.0 cm toward the heel and 0.4 cm plantar'
    >>> direction_words({"proximal": 1.3, "lateral": 0.0, "anterior": -1.0}, vocabulary="foot", too=True)
    '1.3 cm too dorsal and 1.0 cm too far toward the heel'
    """
    words = VOCABULARIES[vocabulary]
    parts = []
    # Ties (to 0.01 mm) break in a fixed axis order, so mirrored answers read identically.
    ranked = sorted(
        components.items(),
        key=lambda kv: (-round(abs(kv[1]), 4), _AXIS_ORDER.index(kv[0]) if kv[0] in _AXIS_ORDER else 9),
    )
    for axis, value in ranked:
        if abs(value) < min_cm or axis not in words:
            continue
        word = words[axis][0 if value > 0 else 1]
        if too:
            word = ("too far " if word.startswith("toward") else "too ") + word
        parts.append(f"{abs(value):.1f} cm {word}")
    if not parts:
        return "on target"
    return " and ".join(parts[:2]) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]


def buffer_polyline(polyline: ArrayLike, radius: float, cap_segments: int = 8) -> FloatArray:
    """The outline of every point within ``radius`` of a 2D polyline, as one open ring ``(M, 2)``.

    Used to draw safety zones (and Moodle drop zones) in *image* units, so they scale with
    zoom. Built as the union of one round-capped capsule per segment (shapely), so the zone
    keeps its full width at any bend, a hairpin included. A capsule's caps are drawn as chords
    of exactly one step (a quarter turn / ``cap_segments``); GEOS's own round joins round the
    number of chords and, on near-degenerate hairpins, let one chord span almost two steps,
    which is why the joins are not used. The arc radius is raised by ``1 / cos(step / 2)`` so
    that no chord dips inside ``radius``: the outline lies between ``radius`` and
    1.006 × ``radius`` from the polyline everywhere (1.01 × with ``cap_segments=6``). A path
    that loops round an area would leave a hole in the zone; the outer ring is returned,
    so the hole is drawn filled (larger, never smaller, than the true zone).

    >>> outline = buffer_polyline([[0, 0], [10, 0]], 1.0)
    >>> points_in_polygon([[5, 0.9], [5, 1.1], [10.9, 0], [11.1, 0], [-0.9, 0]], outline).tolist()
    [True, False, True, False, True]
    >>> corner = buffer_polyline([[0, 0], [10, 0], [10, 10]], 1.0)  # a right angle
    >>> points_in_polygon([[5, 0.95], [9.05, 5], [10.6, -0.6], [10.8, -0.8]], corner).tolist()
    [True, True, True, False]
    """
    import shapely

    line = np.asarray(polyline, dtype=np.float64).reshape(-1, 2)
    # Coordinates on a grid of a billionth of the radius: GEOS's union of pieces that meet at
    # points a few 1e-300 apart came out as two polygons (found by hypothesis); the grid moves
    # no point by more than 5e-10 radius, far inside the 1e-5 the arcs are grown by below.
    grid = 1e-9 * float(radius)
    line = np.round(line / grid) * grid
    quad_segs = max(2, int(cap_segments))
    # 1e-5 more: GEOS's union nodes near-coincident arcs a few millionths of the radius inward.
    grown = float(radius) / np.cos(0.5 * np.pi / (2 * quad_segs)) * (1 + 1e-5)
    # GEOS collapses a segment shorter than about 1e-3 of the radius to one of its ends (the
    # zone then falls inside the radius near the other end), so such a segment is drawn as a
    # disc round its midpoint, grown by half its length: it covers both ends and stays within
    # 1.0005 x the radius of the segment.
    short_cm = 1e-3 * float(radius)
    pieces = [shapely.Point(line[0]).buffer(grown, quad_segs=quad_segs)] if len(line) == 1 else []
    for start, end in zip(line[:-1], line[1:], strict=True):
        length = float(np.linalg.norm(end - start))
        if length >= short_cm:
            pieces.append(shapely.LineString([start, end]).buffer(grown, quad_segs=quad_segs))
        else:
            middle = shapely.Point((start + end) / 2)
            pieces.append(middle.buffer(grown + length / 2, quad_segs=quad_segs))
    merged = shapely.union_all(pieces)
    if not isinstance(merged, shapely.Polygon):
        # Consecutive pieces overlap (they share an end point), so the union is one polygon; on
        # near-degenerate hairpins GEOS's overlay has left them apart (found by hypothesis). A
        # growth of a millionth of the radius joins them; the zone only grows.
        merged = shapely.union_all([merged.buffer(1e-6 * float(radius), quad_segs=quad_segs)])
    assert isinstance(merged, shapely.Polygon), merged.geom_type
    shape = merged
    ring = np.asarray(shape.exterior.coords, dtype=np.float64)
    return ring[:-1]  # shapely closes the ring by repeating the first point
