"""``python -m trainer anatomy-check``: the atlas measured against published series it was not built from.

Each check in ``atlas/validation/*.yaml`` (models in :mod:`trainer.atlas.validation`) says
how to measure a published quantity on the resolved 3D body: points (landmarks, sites,
joint centres, points derived from a nerve course) and a quantity (straight distance,
distance along the skin, a signed component along a segment axis, the distance across an
axis, or a ratio of two quantities). This module computes it on each body type and
classifies it: within mean ± 2 SD (or the reported range), outside (by how much), or not
computable (and what is missing).

The computation is pure: :func:`evaluate` takes a check and a :class:`Geometry`. Reading
``atlas/resolved/{body}.json`` and ``atlas/meshes/{body}.npz`` is :func:`load_geometry`'s job
(:mod:`trainer.tools.anatomy_geometry`, with the polyline geometry).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.validation import (
    Axis,
    CheckModel,
    LineAxis,
    PointSpec,
    Quantity,
    measured_items,
)
from trainer.tools.anatomy_geometry import (
    Geometry,
    Skin,
    closest_on_polyline,
    farthest_along,
    load_geometry,
    nearest_between_polylines,
    plane_crossing,
    skin_line,
    skin_path_length,
)

__all__ = [
    "Geometry",
    "NotComputable",
    "Outcome",
    "Skin",
    "evaluate",
    "load_geometry",
    "markdown_report",
    "point_of",
    "quantity_of",
    "report_json",
    "run_checks",
    "run_outcomes",
    "short_citations",
    "unverified_contradicted",
    "within_fraction",
]

FloatArray = NDArray[np.float64]
Status = Literal["within", "outside", "not_computable"]

_NEGATE = {"distal": "proximal", "medial": "lateral", "posterior": "anterior"}


class NotComputable(Exception):
    """The check cannot be measured on this body; the message says what is missing."""


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
        return np.array(_polyline(spec.site, geo)[0], dtype=np.float64)
    if spec.between is not None:
        a, b = point_of(spec.between.from_, geo), point_of(spec.between.to, geo)
        return a + spec.between.fraction * (b - a)
    c = spec.course
    assert c is not None
    path = _polyline(c.item, geo)
    if c.end is not None:
        return np.array(path[0] if c.end == "first" else path[-1], dtype=np.float64)
    if c.nearest_to is not None:
        return closest_on_polyline(point_of(c.nearest_to, geo), path)
    if c.nearest_to_line is not None:
        a, b = (point_of(p, geo) for p in c.nearest_to_line)
        return nearest_between_polylines(path, np.stack([a, b]))
    if c.nearest_to_skin_line is not None:
        # A line drawn on the skin (an incision): between skin landmarks on a convex limb the
        # straight chord runs under the skin and would pull "nearest" towards its ends.
        if geo.skin is None:
            raise NotComputable("no skin mesh (atlas/meshes) to draw the line on")
        a, b = (point_of(p, geo) for p in c.nearest_to_skin_line)
        return nearest_between_polylines(path, skin_line(a, b, geo.skin))
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


def _in_plane(d: FloatArray, n: FloatArray, m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``d`` and the unit axis ``n`` projected onto the plane square to unit ``m`` (axis renormalised)."""
    d = d - float(d @ m) * m
    n = n - float(n @ m) * m
    size = float(np.linalg.norm(n))
    if size < 1e-9:
        raise NotComputable("'drop' is parallel to the axis")
    return d, n / size


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
            if kind == "component":
                if vec.drop is not None:
                    d, n = _in_plane(d, n, axis_vector(vec.drop, geo))
                return float(d @ n)
            along = float(d @ n)
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


@dataclass(frozen=True, kw_only=True)
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
        return Outcome(
            check_id=check.id,
            body_type=geo.body_type,
            status="not_computable",
            measured=None,
            low=low,
            high=high,
            reason=reason,
        )
    if not math.isfinite(value):
        return Outcome(
            check_id=check.id,
            body_type=geo.body_type,
            status="not_computable",
            measured=None,
            low=low,
            high=high,
            reason="not a finite number",
        )
    status: Status = "within" if low - 1e-9 <= value <= high + 1e-9 else "outside"
    return Outcome(
        check_id=check.id, body_type=geo.body_type, status=status, measured=value, low=low, high=high
    )


def run_outcomes(
    checks: Sequence[CheckModel], geometries: Mapping[str, Geometry]
) -> dict[str, list[Outcome]]:
    """Every applicable check measured on every body."""
    return {
        body: [evaluate(c, geo) for c in checks if applies_to(c, body)] for body, geo in geometries.items()
    }


def unverified_contradicted(
    checks: Sequence[CheckModel], outs: Sequence[Outcome], unverified: Collection[str]
) -> list[dict[str, Any]]:
    """The ``verified: false`` items that an outside check measures: an unconfirmed position
    that a published measurement also disagrees with (the issue's target is none)."""
    by_id = {c.id: c for c in checks}
    unverified_ids = set(unverified)
    hit: dict[str, list[str]] = {}
    for o in outs:
        check = by_id.get(o.check_id)
        if o.status != "outside" or check is None:
            continue
        for item in sorted(measured_items(check) & unverified_ids):
            hit.setdefault(item, []).append(o.check_id)
    return [{"item": item, "checks": ids} for item, ids in sorted(hit.items())]


def report_json(
    outcomes: Mapping[str, Sequence[Outcome]],
    checks_total: int,
    checks: Sequence[CheckModel] = (),
    unverified: Collection[str] = (),
) -> dict[str, Any]:
    """The JSON report of ``anatomy-check --json``; ``checks`` and the ``unverified`` item ids
    add each body's list of unverified items contradicted by a check."""
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
            "unverified_contradicted": unverified_contradicted(checks, outs, unverified),
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
    checks: Sequence[CheckModel],
    outcomes: Mapping[str, Sequence[Outcome]],
    citations: Mapping[str, str],
    unverified: Collection[str] = (),
) -> str:
    """``docs/anatomy-check.md``: the headline figures, the unverified items a check
    contradicts, then every check on every body."""
    report = report_json(outcomes, len(checks), checks, unverified)
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
    contradicted = {b: report["bodies"][b]["unverified_contradicted"] for b in bodies}
    # item -> check -> the bodies on which that check is outside
    where: dict[str, dict[str, list[str]]] = {}
    for b in bodies:
        for e in contradicted[b]:
            for cid in e["checks"]:
                where.setdefault(e["item"], {}).setdefault(cid, []).append(b)
    items = sorted(where)
    lines += [
        "",
        "## Unverified items a check contradicts",
        "",
        f"{len(items)} {'item' if len(items) == 1 else 'items'} marked `verified: false` measured by a "
        "check that falls outside on at least one body (per body: "
        + ", ".join(f"{b} {len(contradicted[b])}" for b in bodies)
        + "). Each is a position no reviewer has confirmed that a published measurement also "
        "disagrees with: the first to re-derive.",
    ]
    if items:
        lines += ["", "| item | outside checks (bodies) |", "|---|---|"]
        for item in items:
            row = "; ".join(f"`{cid}` ({', '.join(bs)})" for cid, bs in where[item].items())
            lines.append(f"| `{item}` | {row} |")
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
