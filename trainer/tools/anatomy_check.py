"""``python -m trainer anatomy-check``: the atlas measured against published series it was not built from.

Each check in ``atlas/validation/*.yaml`` (models in :mod:`trainer.atlas.validation`) says
how to measure a published quantity on the resolved 3D body: points (landmarks, sites,
joint centres, points derived from a nerve course) and a quantity (straight distance,
distance along the skin, a signed component along a segment axis, the distance across an
axis, or a ratio of two quantities). This module computes it on each body type and
classifies it: within mean ± 2 SD (or the reported range), outside (by how much), or not
computable (and what is missing).

The computation is pure: :func:`evaluate` takes a check and a :class:`Geometry`. Reading
``atlas/resolved/{body}.json`` and ``atlas/meshes/{body}.npz`` is :func:`load_geometry`'s job.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.validation import (
    Axis,
    CheckModel,
    LineAxis,
    PointSpec,
    Quantity,
)
from trainer.errors import AtlasError

FloatArray = NDArray[np.float64]
Status = Literal["within", "outside", "not_computable"]

SKIN_STEP_CM = 0.2
_NEGATE = {"distal": "proximal", "medial": "lateral", "posterior": "anterior"}


class NotComputable(Exception):
    """The check cannot be measured on this body; the message says what is missing."""


# --- the resolved body --------------------------------------------------------------------


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
        return q[np.arange(n), np.argmin(d2, axis=1)]


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


# --- points, axes and quantities ------------------------------------------------------------


def axis_vector(axis: Axis, geo: Geometry) -> FloatArray:
    """Unit vector of ``segment.direction`` (from the body's frames) or of a two-point line."""
    if isinstance(axis, LineAxis):
        v = point_of(axis.to, geo) - point_of(axis.from_, geo)
    else:
        segment, direction = axis.split(".")
        frame = geo.frames.get(segment) or (geo.frames.get("leg") if segment == "foot" else None)
        if frame is None:
            raise NotComputable(f"no '{segment}' frame in the resolved geometry")
        sign = -1.0 if direction in _NEGATE else 1.0
        v = sign * np.asarray(frame[_NEGATE.get(direction, direction)], dtype=np.float64)
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise NotComputable("zero-length axis")
    return v / n


def _polyline(item: str, geo: Geometry) -> FloatArray:
    found = geo.items.get(item)
    if found is None:
        raise NotComputable(f"item '{item}' is not in the resolved geometry")
    pts = found[1]
    if len(pts) == 0:
        raise NotComputable(f"item '{item}' has no points")
    return pts


def closest_on_polyline(p: FloatArray, path: FloatArray) -> FloatArray:
    """The point of polyline ``path`` nearest ``p``.

    >>> closest_on_polyline(np.array([1.0, 1, 0]), np.array([[0.0, 0, 0], [2, 0, 0]])).tolist()
    [1.0, 0.0, 0.0]
    """
    if len(path) == 1:
        return path[0].copy()
    a, b = path[:-1], path[1:]
    ab = b - a
    denom = np.maximum((ab * ab).sum(1), 1e-18)
    t = np.clip(((p - a) * ab).sum(1) / denom, 0.0, 1.0)
    q = a + t[:, None] * ab
    return q[int(np.argmin(((q - p) ** 2).sum(1)))]


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
    return path[int(np.argmax(path @ direction))].copy()


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


def point_of(spec: PointSpec, geo: Geometry) -> FloatArray:
    """The 3D point a spec names on ``geo``; raises :class:`NotComputable` if it cannot."""
    if spec.landmark is not None:
        if spec.landmark not in geo.landmarks_cm:
            raise NotComputable(f"landmark '{spec.landmark}' is not in the atlas")
        return np.asarray(geo.landmarks_cm[spec.landmark], dtype=np.float64)
    if spec.joint is not None:
        if spec.joint not in geo.joints_cm:
            raise NotComputable(f"joint '{spec.joint}' is not in the resolved geometry")
        return np.asarray(geo.joints_cm[spec.joint], dtype=np.float64)
    if spec.site is not None:
        return _polyline(spec.site, geo)[0].copy()
    if spec.between is not None:
        a, b = point_of(spec.between.from_, geo), point_of(spec.between.to, geo)
        return a + spec.between.fraction * (b - a)
    c = spec.course
    assert c is not None
    path = _polyline(c.item, geo)
    if c.end is not None:
        return (path[0] if c.end == "first" else path[-1]).copy()
    if c.nearest_to is not None:
        return closest_on_polyline(point_of(c.nearest_to, geo), path)
    if c.nearest_to_line is not None:
        a, b = (point_of(p, geo) for p in c.nearest_to_line)
        return nearest_between_polylines(path, np.stack([a, b]))
    if c.nearest_to_item is not None:
        return nearest_between_polylines(path, _polyline(c.nearest_to_item, geo))
    if c.farthest is not None:
        return farthest_along(path, axis_vector(c.farthest, geo))
    plane = c.crossing
    assert plane is not None
    n = axis_vector(plane.axis, geo)
    origin = point_of(plane.point, geo) + plane.offset_cm * n
    hit = plane_crossing(path, origin, n, plane.which)
    if hit is None:
        raise NotComputable(
            f"'{c.item}' does not reach the plane {plane.offset_cm:+g} cm along {_axis_words(plane.axis)}"
        )
    return hit


def _axis_words(axis: Axis) -> str:
    return axis if isinstance(axis, str) else "a two-point line"


def skin_path_length(a: FloatArray, b: FloatArray, skin: Skin, step_cm: float = SKIN_STEP_CM) -> float:
    """Length along the skin from ``a`` to ``b``: the straight chord sampled every ``step_cm``,
    each sample moved to the nearest skin point, summed (the same construction that draws
    course lines on the skin; on a convex surface it follows the geodesic closely)."""
    length = float(np.linalg.norm(b - a))
    k = max(int(math.ceil(length / step_cm)), 1)
    t = np.linspace(0.0, 1.0, k + 1)
    chord = a[None, :] + t[:, None] * (b - a)[None, :]
    on_skin = skin.project(chord)
    return float(np.linalg.norm(np.diff(on_skin, axis=0), axis=1).sum())


def quantity_of(q: Quantity, geo: Geometry) -> float:
    """The value of a quantity on ``geo`` (cm, or a ratio)."""
    if q.distance is not None:
        a, b = (point_of(p, geo) for p in q.distance)
        return float(np.linalg.norm(b - a))
    if q.skin_distance is not None:
        if geo.skin is None:
            raise NotComputable("no skin mesh (atlas/meshes) for a distance along the skin")
        a, b = (point_of(p, geo) for p in q.skin_distance)
        return skin_path_length(a, b, geo.skin)
    for vec, kind in ((q.component, "component"), (q.perpendicular, "perpendicular")):
        if vec is not None:
            d = point_of(vec.to, geo) - point_of(vec.from_, geo)
            n = axis_vector(vec.axis, geo)
            along = float(d @ n)
            if kind == "component":
                return along
            rest = d - along * n
            if vec.drop is not None:
                m = axis_vector(vec.drop, geo)
                m = m - float(m @ n) * n
                size = float(np.linalg.norm(m))
                if size < 1e-9:
                    raise NotComputable("'drop' is parallel to the axis")
                m = m / size
                rest = rest - float(rest @ m) * m
            return float(np.linalg.norm(rest))
    assert q.ratio is not None
    num, den = (quantity_of(x, geo) for x in q.ratio)
    if abs(den) < 1e-9:
        raise NotComputable("ratio with a zero denominator")
    return num / den


# --- classification and the report -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    check_id: str
    body_type: str
    status: Status
    measured: float | None
    low: float
    high: float
    reason: str | None = None

    @property
    def beyond(self) -> float:
        """Signed distance outside the expected interval (+ above, - below, 0 within)."""
        if self.measured is None:
            return 0.0
        if self.measured > self.high:
            return self.measured - self.high
        if self.measured < self.low:
            return self.measured - self.low
        return 0.0


def applies_to(check: CheckModel, body_type: str) -> bool:
    return check.bodies is None or body_type in check.bodies


def evaluate(check: CheckModel, geo: Geometry) -> Outcome:
    """Measure one check on one body and classify it."""
    low, high = check.expected.interval()
    try:
        value = quantity_of(check.compute, geo)
    except NotComputable as exc:
        reason = str(exc)
        missing = [n for n in check.needs if n not in geo.landmarks_cm]
        if missing:
            reason += f" (the source measures from {', '.join(missing)}, which the atlas lacks)"
        return Outcome(check.id, geo.body_type, "not_computable", None, low, high, reason)
    if not math.isfinite(value):
        return Outcome(check.id, geo.body_type, "not_computable", None, low, high, "not a finite number")
    status: Status = "within" if low - 1e-9 <= value <= high + 1e-9 else "outside"
    return Outcome(check.id, geo.body_type, status, value, low, high)


def run_outcomes(
    checks: Sequence[CheckModel], geometries: Mapping[str, Geometry]
) -> dict[str, list[Outcome]]:
    """Every applicable check measured on every body."""
    return {
        body: [evaluate(c, geo) for c in checks if applies_to(c, body)] for body, geo in geometries.items()
    }


def report_json(outcomes: Mapping[str, Sequence[Outcome]], checks_total: int) -> dict[str, Any]:
    """The JSON report of ``anatomy-check --json``."""
    bodies: dict[str, Any] = {}
    for body, outs in outcomes.items():
        bodies[body] = {
            "checks": len(outs),
            "within": sum(o.status == "within" for o in outs),
            "outside": [
                {
                    "id": o.check_id,
                    "measured": _r(o.measured),
                    "expected": [_r(o.low), _r(o.high)],
                    "beyond": _r(o.beyond),
                }
                for o in outs
                if o.status == "outside"
            ],
            "not_computable": [
                {"id": o.check_id, "reason": o.reason} for o in outs if o.status == "not_computable"
            ],
        }
    return {"bodies": bodies, "checks_total": checks_total}


def run_checks(checks: Sequence[CheckModel], geometries: Mapping[str, Geometry]) -> dict[str, Any]:
    """Measure and classify every check on every body; the JSON report."""
    return report_json(run_outcomes(checks, geometries), len(checks))


def within_fraction(body_report: Mapping[str, Any]) -> float:
    """Share of a body's checks that fall within the published spread (not computable counts against)."""
    n = int(body_report["checks"])
    return 0.0 if n == 0 else int(body_report["within"]) / n


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


def _fmt(x: float | None, unit: str) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}" if unit == "ratio" else f"{x:.1f}"


def _expected_words(check: CheckModel) -> str:
    e, u = check.expected, (" cm" if check.unit == "cm" else "")
    parts = []
    if e.mean is not None:
        parts.append(
            f"{_fmt(e.mean, check.unit)}" + (f" ± {_fmt(e.sd, check.unit)}" if e.sd is not None else "")
        )
    if e.min is not None and e.max is not None:
        parts.append(f"({_fmt(e.min, check.unit)}–{_fmt(e.max, check.unit)})")
    return " ".join(parts) + u


def markdown_report(
    checks: Sequence[CheckModel], outcomes: Mapping[str, Sequence[Outcome]], citations: Mapping[str, str]
) -> str:
    """``docs/anatomy-check.md``: the headline figures, then every check on every body."""
    report = report_json(outcomes, len(checks))
    bodies = list(outcomes)
    lines = [
        "# Anatomy check: the atlas against published measurements it was not built from",
        "",
        "Generated by `python -m trainer anatomy-check`; do not edit by hand. Each row is a published",
        "measurement (cadaver, ultrasound, MRI, CT or surgical series) that no atlas item was placed",
        "from, measured in 3D on each resolved body (`atlas/resolved/`). *Within* means inside the",
        "published mean ± 2 SD, or inside the reported range where no SD was published; not computable",
        "counts against the within fraction. The checks and their sources are in `atlas/validation/`;",
        "the format is in `docs/atlas-validation.md`.",
        "",
        "| body | checks | within | outside | not computable | within fraction |",
        "|---|---|---|---|---|---|",
    ]
    for b in bodies:
        r = report["bodies"][b]
        lines.append(
            f"| {b} | {r['checks']} | {r['within']} | {len(r['outside'])} | {len(r['not_computable'])} | "
            f"{within_fraction(r):.0%} |"
        )
    found = {(o.body_type, o.check_id): o for outs in outcomes.values() for o in outs}
    regions: dict[str, list[CheckModel]] = {}
    for c in checks:
        regions.setdefault(c.region, []).append(c)
    lines += ["", "## Checks per region", "", "| region | checks |", "|---|---|"]
    lines += [f"| {reg} | {len(cs)} |" for reg, cs in sorted(regions.items())]
    for reg, cs in sorted(regions.items()):
        lines += [
            "",
            f"## {reg}",
            "",
            "| check | source (method, n) | expected | " + " | ".join(bodies) + " |",
            "|---|---|---|" + "---|" * len(bodies),
        ]
        for c in cs:
            cells = []
            for b in bodies:
                o = found.get((b, c.id))
                if o is None:
                    cells.append("n/a")
                elif o.status == "not_computable":
                    cells.append(f"not computable: {o.reason}")
                elif o.status == "outside":
                    cells.append(f"**{_fmt(o.measured, c.unit)}** outside ({o.beyond:+.2f})")
                else:
                    cells.append(f"{_fmt(o.measured, c.unit)} within")
            n = f", n = {c.n}" if c.n else ""
            lines.append(
                f"| `{c.id}`: {c.measured} | {citations.get(c.ref, c.ref)} ({c.method}{n}) | "
                f"{_expected_words(c)} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines) + "\n"


def short_citations(refs: Iterable[Any]) -> dict[str, str]:
    """``First author year`` labels for the report, from reference records."""
    out = {}
    for r in refs:
        first = r.citation.split(",")[0].split(" ")[0] if r.citation else r.id
        year = next(
            (
                w.strip(".;()")
                for w in r.citation.replace(";", " ").split()
                if w.strip(".;()").isdigit() and len(w.strip(".;()")) == 4
            ),
            "",
        )
        out[r.id] = f"{first} {year}".strip()
    return out
