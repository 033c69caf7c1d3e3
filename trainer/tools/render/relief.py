"""Subtle bony relief: bump-mapped normals and ghosted outlines from landmark positions.

A smooth generic mesh hides the bones a clinician palpates. Each relief is a small 3D height
field around a landmark (an anisotropic Gaussian plateau, or a ridge along a polyline such as
the iliac crest); its gradient tilts the shading normals, so the prominence reads as a soft
bulge under the skin. Nothing is labelled: the app overlays labels itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Relief:
    """A bump ``height_cm * exp(-s**sharpness)`` with ``s`` an ellipsoidal distance².

    ``axes`` rows are unit vectors; ``radii_cm`` the matching semi-axes. A polyline relief
    (``path_cm`` with >= 2 points) uses the distance to the path with ``radii_cm[0]``.
    ``outline`` > 0 draws a faint line where ``s == 1`` (patella, malleoli).
    """

    center_cm: tuple[float, float, float]
    axes: tuple[tuple[float, float, float], ...]
    radii_cm: tuple[float, float, float]
    height_cm: float
    sharpness: float = 1.0
    outline: float = 0.0
    path_cm: tuple[tuple[float, float, float], ...] = ()


def _closest_on_path(p: FloatArray, path: FloatArray, step_cm: float = 0.1) -> FloatArray:
    """Nearest point of a polyline, via a KD-tree over samples ``step_cm`` apart (fast)."""
    from scipy.spatial import cKDTree

    samples = [path[:1]]
    for a, b in zip(path[:-1], path[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step_cm)))
        t = np.arange(1, n + 1) / n
        samples.append(a + t[:, None] * (b - a))
    pts = np.concatenate(samples)
    _, idx = cKDTree(pts).query(p)
    nearest: FloatArray = pts[idx]
    return nearest


def relief_field(points_cm: FloatArray, relief: Relief) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Height (N,), gradient (N, 3) and ellipsoidal distance² s (N,) at body points.

    >>> r = Relief((0.0, 0.0, 0.0), ((1.0, 0, 0), (0, 1.0, 0), (0, 0, 1.0)), (1.0, 1.0, 1.0), 0.5)
    >>> h, g, s = relief_field(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]), r)
    >>> h.round(3).tolist(), s.tolist()
    ([0.5, 0.184], [0.0, 1.0])
    """
    p = np.asarray(points_cm, dtype=np.float64)
    if len(relief.path_cm) >= 2:
        q = _closest_on_path(p, np.asarray(relief.path_cm))
        delta = p - q
        r = relief.radii_cm[0]
        s = (delta**2).sum(axis=1) / r**2
        ds = 2.0 * delta / r**2
    else:
        axes = np.asarray(relief.axes)
        radii = np.asarray(relief.radii_cm)
        local = (p - np.asarray(relief.center_cm)) @ axes.T  # (N, 3)
        s = ((local / radii) ** 2).sum(axis=1)
        ds = (2.0 * local / radii**2) @ axes
    k = relief.sharpness
    s_safe = np.maximum(s, 1e-12)
    h = relief.height_cm * np.exp(-(s_safe**k))
    dh_ds = -h * k * s_safe ** (k - 1.0)
    return h, dh_ds[:, None] * ds, s


def apply_relief(
    points_cm: FloatArray, normals: FloatArray, reliefs: Sequence[Relief]
) -> tuple[FloatArray, FloatArray]:
    """Bump-mapped unit normals and an outline strength (0..1) per point."""
    n = normals.copy()
    outline = np.zeros(len(points_cm))
    # Points sorted along x once, so each relief only visits its own slab of points.
    order = np.argsort(points_cm[:, 0], kind="stable")
    xs = points_cm[order, 0]
    for r in reliefs:
        reach = 3.0 * max(r.radii_cm)
        centres = np.asarray(r.path_cm) if len(r.path_cm) >= 2 else np.asarray([r.center_cm])
        lo, hi = centres.min(axis=0) - reach, centres.max(axis=0) + reach
        cand = order[np.searchsorted(xs, lo[0]) : np.searchsorted(xs, hi[0], side="right")]
        pc = points_cm[cand]
        near = cand[np.all((pc[:, 1:] >= lo[1:]) & (pc[:, 1:] <= hi[1:]), axis=1)]
        if len(near) == 0:
            continue
        _, grad, s = relief_field(points_cm[near], r)
        nn = n[near]
        tangential = grad - (grad * nn).sum(axis=1, keepdims=True) * nn
        nn = nn - tangential
        n[near] = nn / np.maximum(np.linalg.norm(nn, axis=1, keepdims=True), 1e-12)
        if r.outline > 0:
            ring = np.exp(-(((np.sqrt(s) - 1.0) / 0.07) ** 2))
            outline[near] = np.maximum(outline[near], r.outline * ring)
    return n, outline


@dataclass(frozen=True)
class _Spec:
    radius_cm: float
    height_cm: float
    elongation: float = 1.0  # semi-axis along the segment's long axis / radius_cm
    outline: float = 0.0


# Palpable prominences and how large they feel under the skin (radius, rise). The rise is a
# shading height, not geometry: enough that a learner sees where the bone comes to the skin
# (patella, malleoli, epicondyles, ASIS, iliac crest), with a faint outline on the ones the
# atlas measures from most.
RELIEF_SPECS: dict[str, _Spec] = {
    "lateral_epicondyle_humerus": _Spec(0.9, 0.40, outline=0.30),
    "medial_epicondyle_humerus": _Spec(1.0, 0.45, outline=0.30),
    "olecranon": _Spec(1.2, 0.40, 1.2, outline=0.20),
    "radial_styloid": _Spec(0.7, 0.30, outline=0.20),
    "ulnar_styloid": _Spec(0.7, 0.35, outline=0.25),
    "acromion": _Spec(1.4, 0.35, 0.8, outline=0.20),
    "asis": _Spec(1.0, 0.45, outline=0.30),
    "greater_trochanter": _Spec(2.5, 0.40, 1.3),
    "tibial_tuberosity": _Spec(1.0, 0.40, 1.4, outline=0.20),
    "fibular_head": _Spec(1.0, 0.45, 1.1, outline=0.30),
    "medial_malleolus": _Spec(1.3, 0.55, 1.3, outline=0.35),
    "lateral_malleolus": _Spec(1.2, 0.55, 1.5, outline=0.35),
    "medial_femoral_epicondyle": _Spec(1.4, 0.35, outline=0.20),
    "lateral_femoral_epicondyle": _Spec(1.3, 0.35, outline=0.20),
    "navicular_tuberosity": _Spec(0.8, 0.30),
    "base_fifth_metatarsal": _Spec(0.8, 0.30, 1.2),
    "eop": _Spec(0.9, 0.25),
    "mastoid_tip": _Spec(0.9, 0.25, 1.3),
    "c7_spinous": _Spec(0.8, 0.30),
    "pisiform": _Spec(0.6, 0.25),
    "lister_tubercle": _Spec(0.5, 0.20),
}


def _unit(v: FloatArray) -> FloatArray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def build_reliefs(
    landmarks_cm: Mapping[str, FloatArray],
    normals_at: Mapping[str, FloatArray],
    proximal_axis: Mapping[str, FloatArray],
) -> list[Relief]:
    """Reliefs for the landmarks present: per-landmark bumps, the patella, the iliac crest.

    ``normals_at`` is the skin normal at each landmark and ``proximal_axis`` the long axis
    of its segment; both orient the bumps. Missing landmarks are skipped silently.
    """
    out: list[Relief] = []
    for lid, spec in RELIEF_SPECS.items():
        if lid not in landmarks_cm:
            continue
        c = np.asarray(landmarks_cm[lid], dtype=np.float64)
        nrm = _unit(np.asarray(normals_at[lid]))
        long_axis = np.asarray(proximal_axis[lid])
        a = _unit(long_axis - (long_axis @ nrm) * nrm)
        b = np.cross(nrm, a)
        # The bump centre sits a little under the skin so the bulge is widest at the skin.
        centre = c - 0.3 * spec.radius_cm * nrm
        out.append(
            Relief(
                center_cm=tuple(centre.tolist()),
                axes=(tuple(a.tolist()), tuple(b.tolist()), tuple(nrm.tolist())),
                radii_cm=(spec.radius_cm * spec.elongation, spec.radius_cm, 2.0 * spec.radius_cm),
                height_cm=spec.height_cm,
                sharpness=1.0,
                outline=spec.outline,
            )
        )
    if {"patella_base", "patella_apex"} <= landmarks_cm.keys():
        base = np.asarray(landmarks_cm["patella_base"])
        apex = np.asarray(landmarks_cm["patella_apex"])
        centre = 0.5 * (base + apex)
        nrm = _unit(np.asarray(normals_at["patella_base"]) + np.asarray(normals_at["patella_apex"]))
        a = _unit((base - apex) - ((base - apex) @ nrm) * nrm)
        b = np.cross(nrm, a)
        half_len = 0.5 * float(np.linalg.norm(base - apex))
        half_w = 0.95 * half_len
        if "patella_medial_border_mid" in landmarks_cm:
            m = np.asarray(landmarks_cm["patella_medial_border_mid"]) - centre
            half_w = max(abs(float(m @ b)), 0.6 * half_len)
        out.append(
            Relief(
                center_cm=tuple((centre - 0.4 * nrm).tolist()),
                axes=(tuple(a.tolist()), tuple(b.tolist()), tuple(nrm.tolist())),
                radii_cm=(half_len, half_w, 4.0),
                height_cm=0.50,
                sharpness=1.6,  # a flat-topped plate with a soft rim, like the patella
                outline=0.40,
            )
        )
    crest = [k for k in ("asis", "iliac_crest_tubercle", "psis") if k in landmarks_cm]
    if len(crest) >= 2:
        out.append(
            Relief(
                center_cm=tuple(np.asarray(landmarks_cm[crest[0]]).tolist()),
                axes=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
                radii_cm=(1.2, 1.2, 1.2),
                height_cm=0.25,
                path_cm=tuple(tuple(np.asarray(landmarks_cm[k]).tolist()) for k in crest),
            )
        )
    return out
