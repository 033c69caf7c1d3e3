"""From atlas offsets to points on the skin: landmarks, segment frames, snapping, polylines.

Every atlas point is "so many cm proximal/lateral/anterior of a landmark" (or of the point a
fraction of the way from that landmark to another), measured along the landmark's segment
frame, then moved to the nearest point of the skin surface (the same, possibly subdivided,
triangles the renderer draws, so points sit exactly on the image). Left-side geometry uses the
mesh's mirror map and mirrored frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Landmark, SkinPoint
from trainer.errors import AtlasError
from trainer.tools.render.mesh import SkinMesh

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MIDLINE_TOLERANCE_CM = 0.5
MAX_SPACING_CM = 0.5
SIDES = ("right", "left", "midline")
SEGMENTS = ("trunk", "head", "neck", "arm", "forearm", "hand", "thigh", "leg", "foot")


def unit(v: FloatArray) -> FloatArray:
    """``v`` scaled to length 1.

    >>> unit(np.array([3.0, 0.0, 4.0])).tolist()
    [0.6, 0.0, 0.8]
    """
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        raise AtlasError("zero-length axis while building a segment frame")
    return np.asarray(v, dtype=np.float64) / n


@dataclass(frozen=True)
class Frame:
    """Unit anatomical axes of a segment on one side, in body cm coordinates."""

    proximal: FloatArray
    lateral: FloatArray
    anterior: FloatArray

    def offset(self, proximal_cm: float, lateral_cm: float, anterior_cm: float) -> FloatArray:
        """A body displacement from signed offsets along the frame axes.

        >>> f = Frame(np.array([0.0, 1, 0]), np.array([-1.0, 0, 0]), np.array([0.0, 0, 1]))
        >>> f.offset(2.0, 1.0, -0.5).tolist()
        [-1.0, 2.0, -0.5]
        """
        return proximal_cm * self.proximal + lateral_cm * self.lateral + anterior_cm * self.anterior

    def to_dict(self) -> dict[str, list[float]]:
        return {
            "proximal": [float(v) for v in self.proximal],
            "lateral": [float(v) for v in self.lateral],
            "anterior": [float(v) for v in self.anterior],
        }


def side_prefix(side: str) -> str:
    """Joint-name prefix for a side; a midline view uses the body's right side."""
    return "l-" if side == "left" else "r-"


def outward_x(side: str) -> float:
    """+1 on the body's left (MakeHuman +x), -1 on the right and the midline."""
    return 1.0 if side == "left" else -1.0


def complete_frame(proximal: FloatArray, lateral: FloatArray, side: str) -> Frame:
    """Orthonormalise ``lateral`` against ``proximal`` and add ``anterior``.

    The handedness flips between sides so that anterior points forward on both.

    >>> f = complete_frame(np.array([0.0, 1, 0]), np.array([-1.0, 0, 0]), "right")
    >>> (f.anterior + 0.0).tolist()
    [0.0, 0.0, 1.0]
    >>> (complete_frame(np.array([0.0, 1, 0]), np.array([1.0, 0, 0]), "left").anterior + 0.0).tolist()
    [0.0, 0.0, 1.0]
    """
    p = unit(proximal)
    lat = unit(lateral - (lateral @ p) * p)
    a = np.cross(p, lat) if side != "left" else np.cross(lat, p)
    return Frame(proximal=p, lateral=lat, anterior=unit(a))


def segment_frame(
    skin: SkinMesh, segment: str, side: str, landmarks_cm: Mapping[str, FloatArray] | None = None
) -> Frame:
    """The frame of ``segment`` on ``side`` per docs/atlas-format.md "Segment frames"."""
    j = skin.joints_cm
    s = side_prefix(side)
    out = np.array([outward_x(side), 0.0, 0.0])
    if segment in ("trunk", "head", "neck"):
        return complete_frame(np.array([0.0, 1.0, 0.0]), out, side)
    if segment == "arm":
        p = unit(j[s + "shoulder"] - j[s + "elbow"])
        coronal = np.array([p[1], -p[0], 0.0])  # orthogonal to p, no z component
        if coronal @ out < 0:
            coronal = -coronal
        return complete_frame(p, coronal, side)
    if segment == "forearm":
        p = j[s + "elbow"] - j[s + "hand"]
        lm = landmarks_cm or {}
        if "radial_styloid" in lm and "ulnar_styloid" in lm:
            return complete_frame(p, lm["radial_styloid"] - lm["ulnar_styloid"], side)
        return complete_frame(p, out, side)
    if segment == "hand":
        knuckles = np.mean([j[f"{s}finger-{k}-1"] for k in (2, 3, 4, 5)], axis=0)
        p = j[s + "hand"] - knuckles
        return complete_frame(p, j[s + "finger-2-1"] - j[s + "finger-5-1"], side)
    if segment == "thigh":
        return complete_frame(j[s + "upper-leg"] - j[s + "knee"], out, side)
    if segment in ("leg", "foot"):
        return complete_frame(j[s + "knee"] - j[s + "ankle"], out, side)
    raise AtlasError(f"unknown segment {segment!r}; expected one of {', '.join(SEGMENTS)}")


# --- closest point on the skin -------------------------------------------------------


def closest_point_on_triangles(p: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray) -> FloatArray:
    """Closest point to each ``p`` on triangle ``(a, b, c)``; all arrays (N, 3).

    Works through the Voronoi regions of the triangle (vertices, edges, face).

    >>> tri = [np.array([[0.0, 0, 0]]), np.array([[2.0, 0, 0]]), np.array([[0.0, 2, 0]])]
    >>> closest_point_on_triangles(np.array([[0.5, 0.5, 3.0]]), *tri).tolist()
    [[0.5, 0.5, 0.0]]
    >>> closest_point_on_triangles(np.array([[-1.0, -1.0, 0.0]]), *tri).tolist()
    [[0.0, 0.0, 0.0]]
    """
    ab, ac, ap = b - a, c - a, p - a
    d1 = (ab * ap).sum(1)
    d2 = (ac * ap).sum(1)
    bp = p - b
    d3 = (ab * bp).sum(1)
    d4 = (ac * bp).sum(1)
    cp = p - c
    d5 = (ab * cp).sum(1)
    d6 = (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2

    out = np.empty_like(p)
    done = np.zeros(len(p), dtype=bool)

    def take(mask: NDArray[np.bool_], value: FloatArray) -> None:
        m = mask & ~done
        out[m] = value[m]
        done[m] = True

    take((d1 <= 0) & (d2 <= 0), a)
    take((d3 >= 0) & (d4 <= d3), b)
    take((d6 >= 0) & (d5 <= d6), c)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_ab = d1 / (d1 - d3)
        take((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + v_ab[:, None] * ab)
        w_ac = d2 / (d2 - d6)
        take((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + w_ac[:, None] * ac)
        w_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
        take((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), b + w_bc[:, None] * (c - b))
        denom = va + vb + vc
        v = vb / denom
        w = vc / denom
        take(np.ones(len(p), dtype=bool), a + v[:, None] * ab + w[:, None] * ac)
    return out


class SkinSnapper:
    """Nearest point on the skin triangles: KD-tree candidates, then exact distances."""

    def __init__(self, skin: SkinMesh, k_vertices: int = 8) -> None:
        self.skin = skin
        self.k = k_vertices
        tris = skin.triangles
        n_v = len(skin.vertices_cm)
        flat_v = tris.reshape(-1)
        flat_t = np.repeat(np.arange(len(tris)), 3)
        order = np.argsort(flat_v, kind="stable")
        flat_v, flat_t = flat_v[order], flat_t[order]
        counts = np.bincount(flat_v, minlength=n_v)
        max_deg = int(counts.max())
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(len(flat_v)) - starts[flat_v]
        adj = np.full((n_v, max_deg), -1, dtype=np.int64)
        adj[flat_v, rank] = flat_t
        self._adjacent = adj

    def snap(self, points_cm: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(closest skin points (N, 3), distance_cm (N,))``."""
        p = np.asarray(points_cm, dtype=np.float64).reshape(-1, 3)
        if len(p) == 0:
            return p.copy(), np.zeros(0)
        skin = self.skin
        _, nearest = skin.tree.query(p, k=self.k)
        verts = skin.skin_vertex_ids[np.asarray(nearest).reshape(len(p), -1)]
        cand = self._adjacent[verts].reshape(len(p), -1)  # (N, k * deg), -1 padded
        n, m = cand.shape
        valid = cand >= 0
        tri = skin.triangles[np.where(valid, cand, 0)]
        v = skin.vertices_cm
        rep = np.repeat(p, m, axis=0)
        q = closest_point_on_triangles(
            rep, v[tri[..., 0]].reshape(-1, 3), v[tri[..., 1]].reshape(-1, 3), v[tri[..., 2]].reshape(-1, 3)
        ).reshape(n, m, 3)
        d2 = ((q - p[:, None, :]) ** 2).sum(axis=2)
        d2 = np.where(valid, d2, np.inf)
        best = np.argmin(d2, axis=1)
        closest = q[np.arange(n), best]
        return closest, np.sqrt(d2[np.arange(n), best])


# --- landmarks and skin points --------------------------------------------------------


def landmark_vertex(skin: SkinMesh, vertex: int, side: str) -> int:
    """The vertex row for a right-side pick on ``side`` (mirror partner on the left)."""
    if vertex < 0 or vertex >= len(skin.mirror) or skin.mirror[vertex] < 0:
        raise AtlasError(f"vertex {vertex} is not a skin vertex of the base mesh")
    x_cm = float(skin.vertices_cm[vertex, 0])
    if x_cm > MIDLINE_TOLERANCE_CM:
        raise AtlasError(
            f"vertex {vertex} is on the body's left (x = {x_cm:.1f} cm); pick the right-side vertex"
        )
    return int(skin.mirror[vertex]) if side == "left" else int(vertex)


@dataclass(frozen=True)
class SideGeometry:
    """Everything needed to resolve skin points on one side of one body."""

    skin: SkinMesh
    side: str
    landmarks_cm: dict[str, FloatArray]
    landmark_vertices: dict[str, int]
    landmark_segments: dict[str, str]
    frames: dict[str, Frame]
    snapper: SkinSnapper

    def frame_of(self, segment: str) -> Frame:
        return self.frames[segment]


def build_side(
    skin: SkinMesh, side: str, landmarks: Sequence[Landmark], snapper: SkinSnapper | None = None
) -> SideGeometry:
    """Landmark positions (vertex picks, or their rules) and all segment frames for one side."""
    from trainer.tools.render.picks import landmark_points

    snapper = snapper or SkinSnapper(skin)
    pos = landmark_points(skin, landmarks, "left" if side == "left" else "right", snapper)
    verts: dict[str, int] = {}
    segs: dict[str, str] = {}
    skin_ids = skin.skin_vertex_ids
    for lm in landmarks:
        lid = lm.id
        # The landmark's own vertex row (or the nearest skin row for a rule landmark):
        # its normal orients the bony relief drawn there.
        vi = landmark_vertex(skin, lm.vertex, side)
        if not np.allclose(skin.vertices_cm[vi], pos[lid]):
            vi = int(skin_ids[skin.tree.query(pos[lid])[1]])
        verts[lid] = vi
        segs[lid] = lm.segment
    frames = {seg: segment_frame(skin, seg, side, pos) for seg in SEGMENTS}
    return SideGeometry(
        skin=skin,
        side=side,
        landmarks_cm=pos,
        landmark_vertices=verts,
        landmark_segments=segs,
        frames=frames,
        snapper=snapper,
    )


def base_point(geo: SideGeometry, point: SkinPoint) -> FloatArray:
    """Where a skin point's offsets start: its landmark, or ``along.fraction`` of the straight
    line from the landmark to ``along.to`` (so a ratio of a segment scales with each body)."""
    for lid in point.landmark_ids:
        if lid not in geo.landmarks_cm:
            raise AtlasError(f"unknown landmark {lid!r}")
    start = geo.landmarks_cm[point.landmark]
    if point.along is None:
        return np.asarray(start, dtype=np.float64)
    end = geo.landmarks_cm[point.along.to]
    share = point.along.share(float(np.linalg.norm(end - start)))
    return np.asarray(start + share * (end - start), dtype=np.float64)


#: Each direction word as (the frame axis it lies on, +1 or -1 along it).
_DIRECTIONS = {
    "proximal": ("proximal", 1.0),
    "distal": ("proximal", -1.0),
    "lateral": ("lateral", 1.0),
    "medial": ("lateral", -1.0),
    "anterior": ("anterior", 1.0),
    "posterior": ("anterior", -1.0),
}


#: ``level_of`` joins two segments' ideas of "level" only where their long axes lie within 30 degrees
#: (the thigh and the leg differ by 6-8 degrees in the rest pose).
LEVEL_OF_MIN_COSINE = math.cos(math.radians(30.0))


def raw_point(geo: SideGeometry, point: SkinPoint) -> FloatArray:
    """The unsnapped offset point of a skin point: its base point plus the offsets along the
    frame of the landmark's segment (with ``level_of``, the long-axis offset is the one that puts the
    point level with that landmark; with ``distance_from``, the offset along its ``going`` axis is
    solved)."""
    base = base_point(geo, point)
    frame = geo.frames[geo.landmark_segments[point.landmark]]
    p = base + frame.offset(*point.offsets_cm)
    if point.level_of is not None:
        # Moved along the point's own long axis until it is level with the second landmark, level
        # meaning along that landmark's segment's long axis (the patellar apex's level is the leg's,
        # even for a point written from a thigh landmark; the two axes differ by 6-8 degrees here).
        up = np.asarray(frame.proximal, dtype=np.float64)
        level_up = np.asarray(geo.frames[geo.landmark_segments[point.level_of]].proximal, dtype=np.float64)
        cosine = float(up @ level_up)
        if cosine < LEVEL_OF_MIN_COSINE:
            # Far apart (an arm point level with a trunk landmark in the A-pose), "level" has no one
            # meaning and the move along the point's own axis grows as 1/cosine.
            raise AtlasError(
                f"level_of {point.level_of!r}: its segment's long axis is {math.degrees(math.acos(max(-1.0, cosine))):.0f}"
                f" degrees from that of {point.landmark!r}'s segment (at most 30 allowed)"
            )
        p = p + float((geo.landmarks_cm[point.level_of] - p) @ level_up) / cosine * up
    if point.distance_from is None:
        return p
    axis, _ = _DIRECTIONS[point.distance_from.going]
    return p + distance_from_offset(geo, point, p) * np.asarray(getattr(frame, axis), dtype=np.float64)


def distance_from_offset(geo: SideGeometry, point: SkinPoint, in_plane: FloatArray) -> float:
    """The signed offset along the ``going`` axis (the long axis for proximal/distal, the
    front-back axis for anterior/posterior) that puts ``in_plane`` (the point with its other offsets)
    ``distance_from.distance_cm`` in a straight line from ``distance_from.landmark``, moving the
    way ``going`` says; the root farther along that way. With ``onto_skin`` the distance is the
    one seen on the surface (the component along the onto_skin axis left out: the body supplies
    the depth, as for the point's other offsets). Raises when no such point exists."""
    spec = point.distance_from
    assert spec is not None
    frame = geo.frames[geo.landmark_segments[point.landmark]]
    axis_name, sign = _DIRECTIONS[spec.going]
    u = sign * np.asarray(getattr(frame, axis_name), dtype=np.float64)
    w = in_plane - geo.landmarks_cm[spec.landmark]
    if point.onto_skin is not None:
        axis = onto_skin_direction(geo, point)
        w = w - float(w @ axis) * axis
    b = float(w @ u)
    disc = b * b - (float(w @ w) - spec.distance_cm**2)
    t = -b + math.sqrt(disc) if disc >= 0 else -1.0
    if t < 0:
        raise AtlasError(
            f"no point {spec.going} of the in-plane point lies {spec.distance_cm} cm from {spec.landmark!r}"
        )
    return sign * t


ONTO_SKIN_REACH_CM = 10.0


@lru_cache(maxsize=4)
def triangle_centres(skin: SkinMesh) -> FloatArray:
    """Centroid of every skin triangle (cached per mesh object)."""
    v = skin.vertices_cm
    t = skin.triangles
    return (v[t[:, 0]] + v[t[:, 1]] + v[t[:, 2]]) / 3.0


def line_crossings(skin: SkinMesh, point: FloatArray, direction: FloatArray) -> FloatArray:
    """Signed distances (sorted) along ``direction`` from ``point`` at which the whole line
    through it crosses the skin (Moller-Trumbore, both ways). Only triangles whose centre lies
    within 3 cm of the line can be hit (skin triangles are well under that size)."""
    rel = triangle_centres(skin) - point
    along = rel @ direction
    near = np.linalg.norm(rel - along[:, None] * direction, axis=1) < 3.0
    t = skin.triangles[near]
    a, b, c = (skin.vertices_cm[t[:, k]] for k in range(3))
    e1, e2 = b - a, c - a
    p = np.cross(direction, e2)
    det = (e1 * p).sum(axis=1)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = point - a
    u = (s * p).sum(axis=1) * inv
    q = np.cross(s, e1)
    w = (q @ direction) * inv
    dist = (q * e2).sum(axis=1) * inv
    hit = ok & (u >= 0) & (w >= 0) & (u + w <= 1)
    ts = np.sort(dist[hit])
    # A line through a shared edge or vertex (the midline of a mirrored mesh) hits every
    # triangle there once: count that crossing once.
    keep = np.concatenate([[True], np.diff(ts) > 1e-6]) if len(ts) else np.zeros(0, dtype=bool)
    return np.asarray(ts[keep], dtype=np.float64)


def onto_skin(
    skin: SkinMesh, point: FloatArray, direction: FloatArray, reach_cm: float = ONTO_SKIN_REACH_CM
) -> FloatArray:
    """Carry ``point`` along ``direction`` to the skin that faces that way: of the places where
    the line through the point leaves the body going that way (an even number of crossings
    lie beyond them), the nearest within ``reach_cm``. The point's position across the line is
    kept exactly, which is what a source's "x cm below and y cm lateral" describes."""
    ts = line_crossings(skin, point, direction)
    exits = [float(t) for i, t in enumerate(ts) if (len(ts) - 1 - i) % 2 == 0 and abs(t) <= reach_cm]
    if not exits:
        raise AtlasError(f"no skin facing that way within {reach_cm:g} cm of the point's line")
    return point + min(exits, key=abs) * direction


def onto_skin_direction(geo: SideGeometry, point: SkinPoint) -> FloatArray:
    """The unit vector of a point's ``onto_skin`` direction in its landmark's segment frame."""
    axis, sign = _DIRECTIONS[str(point.onto_skin)]
    frame = geo.frames[geo.landmark_segments[point.landmark]]
    return sign * np.asarray(getattr(frame, axis), dtype=np.float64)


def resolve_points(geo: SideGeometry, points: Sequence[SkinPoint]) -> tuple[FloatArray, FloatArray]:
    """Skin points (N, 3) of atlas skin points and how far the skin moved each (N,): snapped to
    the nearest skin, or, with ``onto_skin``, carried along that axis (in-plane moved 0 cm)."""
    if not points:
        return np.zeros((0, 3)), np.zeros(0)
    raw = np.stack([raw_point(geo, p) for p in points])
    out, snaps = geo.snapper.snap(raw)
    for i, p in enumerate(points):
        if p.onto_skin is not None:
            out[i] = onto_skin(geo.skin, raw[i], onto_skin_direction(geo, p))
            snaps[i] = 0.0
    return out, snaps


def densify(
    snapper: SkinSnapper,
    anchors_cm: FloatArray,
    *,
    closed: bool = False,
    max_spacing_cm: float = MAX_SPACING_CM,
) -> FloatArray:
    """Insert skin-snapped points until consecutive points are <= ``max_spacing_cm`` apart.

    Anchors are kept in order; a closed polygon also densifies its closing edge (without
    repeating the first point).
    """
    pts = np.asarray(anchors_cm, dtype=np.float64).reshape(-1, 3)
    if len(pts) < 2:
        return pts.copy()
    for _ in range(6):
        ring = np.concatenate([pts, pts[:1]]) if closed else pts
        seg = ring[1:] - ring[:-1]
        length = np.linalg.norm(seg, axis=1)
        if length.max() <= max_spacing_cm:
            break
        pieces: list[FloatArray] = []
        for i in range(len(ring) - 1):
            pieces.append(ring[i : i + 1])
            k = int(np.ceil(length[i] / (0.9 * max_spacing_cm)))
            if length[i] > max_spacing_cm and k > 1:
                t = np.arange(1, k) / k
                inner = ring[i] + t[:, None] * seg[i]
                pieces.append(snapper.snap(inner)[0])
        if not closed:
            pieces.append(ring[-1:])
        pts = np.concatenate(pieces)
    return pts
