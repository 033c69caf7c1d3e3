"""Fitting a render→photo transform from tapped landmarks, with residuals in cm on the body.

* **Transforms**: similarity (4 parameters), affine (6, least squares) and a thin-plate
  spline (exact at the landmarks, smooth in between) when 6 or more landmarks are tapped.
* **Residuals** are reported in cm on the body: a photo-pixel error divided by the photo's
  scale (photo px per render px) and the render's px_per_cm; leaving each landmark out in turn
  shows the error *between* landmarks that a spline's zero residual would hide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trainer.errors import TrainerError

FloatArray = NDArray[np.float64]
TransformKind = Literal["similarity", "affine", "tps"]

MIN_LANDMARKS = 4
MIN_POINTS: dict[str, int] = {"similarity": 2, "affine": 3, "tps": 6}


class FitError(TrainerError, ValueError):
    """The landmarks cannot determine the transform (too few, or all on one line)."""


def _tps_kernel(r: FloatArray) -> FloatArray:
    """U(r) = r² log r, with U(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(r > 0, r * r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return out


@dataclass(frozen=True)
class Transform:
    """A fitted map from render pixels to photo pixels.

    ``affine`` is the 2×3 linear-plus-offset part (the whole map for similarity and affine);
    a thin-plate spline adds ``weights`` on ``ctrl`` points, in coordinates normalised by
    ``norm`` (mean x, mean y, scale) so the solve stays well conditioned.
    """

    kind: TransformKind
    affine: FloatArray
    ctrl: FloatArray | None = None
    weights: FloatArray | None = None
    norm: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def apply(self, points_px: ArrayLike) -> FloatArray:
        """Map ``(N, 2)`` render pixels to photo pixels."""
        p = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        if self.kind != "tps":
            return p @ self.affine[:, :2].T + self.affine[:, 2]
        assert self.ctrl is not None and self.weights is not None
        q = (p - np.array(self.norm[:2])) / self.norm[2]
        r: FloatArray = np.linalg.norm(q[:, None, :] - self.ctrl[None, :, :], axis=2)
        mapped: FloatArray = _tps_kernel(r) @ self.weights + q @ self.affine[:, :2].T + self.affine[:, 2]
        return mapped

    @property
    def scale(self) -> float:
        """Photo px per render px of the global linear part (for cm conversions)."""
        a = self.affine[:, :2] / (self.norm[2] if self.kind == "tps" else 1.0)
        return float(np.sqrt(abs(np.linalg.det(a))))


def _check_points(src: FloatArray, dst: FloatArray, kind: str) -> None:
    if src.shape != dst.shape:
        raise FitError("every render landmark needs exactly one tapped point")
    need = MIN_POINTS[kind]
    if len(src) < need:
        raise FitError(f"a {kind} fit needs at least {need} landmarks; {len(src)} given")
    if kind != "similarity":
        centred = src - src.mean(axis=0)
        sv = np.linalg.svd(centred, compute_uv=False)
        if len(sv) < 2 or sv[1] < 1e-6 * max(sv[0], 1e-12):
            raise FitError(
                "the landmarks lie (almost) on one line, so the fit is undetermined; tap landmarks spread over the photo"
            )


def fit_similarity(src_px: ArrayLike, dst_px: ArrayLike) -> Transform:
    """Rotation, uniform scale and shift, least squares (Umeyama); at least 2 points.

    >>> t = fit_similarity([[0, 0], [1, 0]], [[0, 0], [0, 2]])
    >>> t.apply([[1, 0]]).round(6).tolist(), round(t.scale, 6)
    ([[0.0, 2.0]], 2.0)
    """
    src = np.asarray(src_px, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_px, dtype=np.float64).reshape(-1, 2)
    _check_points(src, dst, "similarity")
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - ms, dst - md
    var = float((s**2).sum())
    if var == 0:
        raise FitError("the landmarks coincide")
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.diag([1.0, 1.0 if np.linalg.det(u @ vt) >= 0 else -1.0])
    rot = u @ e @ vt
    c = float(np.trace(np.diag(sig) @ e) / (var / len(src)))
    a = c * rot
    return Transform("similarity", np.hstack([a, (md - a @ ms)[:, None]]))


def fit_affine(src_px: ArrayLike, dst_px: ArrayLike) -> Transform:
    """General affine map, least squares; at least 3 points not on one line.

    >>> t = fit_affine([[0, 0], [1, 0], [0, 1]], [[1, 1], [3, 1], [1, 2]])
    >>> t.apply([[1, 1]]).round(6).tolist()
    [[3.0, 2.0]]
    """
    src = np.asarray(src_px, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_px, dtype=np.float64).reshape(-1, 2)
    _check_points(src, dst, "affine")
    design = np.hstack([src, np.ones((len(src), 1))])
    sol, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return Transform("affine", np.array(sol.T, dtype=np.float64))


def fit_tps(src_px: ArrayLike, dst_px: ArrayLike, smoothing: float = 0.0) -> Transform:
    """Thin-plate spline through the landmarks (exact when ``smoothing`` is 0); at least 6 points.

    >>> src = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5], [2, 8]]
    >>> t = fit_tps(src, [[x + 1, y] for x, y in src])
    >>> t.apply([[7, 3]]).round(6).tolist()
    [[8.0, 3.0]]
    """
    src = np.asarray(src_px, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_px, dtype=np.float64).reshape(-1, 2)
    _check_points(src, dst, "tps")
    mean = src.mean(axis=0)
    scale = float(np.sqrt(((src - mean) ** 2).sum(axis=1).mean())) or 1.0
    q = (src - mean) / scale
    n = len(q)
    k = _tps_kernel(np.linalg.norm(q[:, None, :] - q[None, :, :], axis=2)) + smoothing * np.eye(n)
    p = np.hstack([q, np.ones((n, 1))])
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = k
    system[:n, n:] = p
    system[n:, :n] = p.T
    rhs = np.vstack([dst, np.zeros((3, 2))])
    try:
        sol = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        raise FitError("the landmarks do not determine a spline (repeated or collinear points)") from None
    w = np.array(sol[:n], dtype=np.float64)
    a = np.array(sol[n:].T, dtype=np.float64)
    return Transform("tps", a, ctrl=q, weights=w, norm=(float(mean[0]), float(mean[1]), scale))


def choose_kind(n_points: int) -> TransformKind:
    """Spline from 6 landmarks (enough to check it by leaving one out), else affine."""
    if n_points < MIN_LANDMARKS:
        raise FitError(f"tap at least {MIN_LANDMARKS} landmarks; {n_points} tapped so far")
    return "tps" if n_points >= MIN_POINTS["tps"] else "affine"


def fit_transform(
    src_px: ArrayLike, dst_px: ArrayLike, kind: TransformKind | Literal["auto"] = "auto"
) -> Transform:
    """Fit the named kind; ``auto`` picks affine from 4 landmarks and a spline from 6."""
    src = np.asarray(src_px, dtype=np.float64).reshape(-1, 2)
    if kind == "auto":
        kind = choose_kind(len(src))
    fitter: dict[str, Callable[[ArrayLike, ArrayLike], Transform]] = {
        "similarity": fit_similarity,
        "affine": fit_affine,
        "tps": fit_tps,
    }
    return fitter[kind](src, dst_px)


@dataclass(frozen=True)
class FitReport:
    """A fitted transform and how well it agrees with the taps, in cm on the body."""

    transform: Transform
    ids: tuple[str, ...]
    residual_rms_cm: float  # fitted landmarks vs taps (0 for an interpolating spline)
    loo_cm: tuple[float, ...]  # leave-one-out error per landmark (empty when too few)
    photo_px_per_cm: float

    @property
    def loo_rms_cm(self) -> float | None:
        return float(np.sqrt(np.mean(np.square(self.loo_cm)))) if self.loo_cm else None

    @property
    def quality_cm(self) -> float:
        """The honest figure to show: leave-one-out if available, else the plain residual."""
        loo = self.loo_rms_cm
        return loo if loo is not None else self.residual_rms_cm


def fit_landmarks(
    view_px: Mapping[str, tuple[float, float]],
    photo_px: Mapping[str, tuple[float, float]],
    px_per_cm: float,
    kind: TransformKind | Literal["auto"] = "auto",
) -> FitReport:
    """Fit render→photo from the landmarks tapped on both, with residuals in cm.

    Leaving each landmark out in turn and predicting it from the others shows how far off
    the overlay can be *between* landmarks, which a spline's zero residual would hide.

    >>> rep = fit_landmarks({"a": (0, 0), "b": (10, 0), "c": (0, 10), "d": (10, 10)},
    ...                     {"a": (0, 0), "b": (20, 0), "c": (0, 20), "d": (20, 20)}, px_per_cm=5.0)
    >>> rep.transform.kind, round(rep.residual_rms_cm, 6), round(rep.photo_px_per_cm, 6)
    ('affine', 0.0, 10.0)
    """
    ids = tuple(i for i in view_px if i in photo_px)
    src = np.array([view_px[i] for i in ids], dtype=np.float64).reshape(-1, 2)
    dst = np.array([photo_px[i] for i in ids], dtype=np.float64).reshape(-1, 2)
    chosen: TransformKind = choose_kind(len(ids)) if kind == "auto" else kind
    t = fit_transform(src, dst, chosen)
    # The global scale comes from an affine fit, so a spline and an affine map agree on it.
    scale = fit_affine(src, dst).scale if len(ids) >= 3 else t.scale
    photo_px_per_cm = scale * px_per_cm
    resid = np.linalg.norm(t.apply(src) - dst, axis=1)
    loo: list[float] = []
    loo_kind: TransformKind = chosen if len(ids) - 1 >= MIN_POINTS[chosen] else "affine"
    if len(ids) - 1 >= max(MIN_POINTS[loo_kind], 3):
        for i in range(len(ids)):
            keep = np.arange(len(ids)) != i
            try:
                ti = fit_transform(src[keep], dst[keep], loo_kind)
            except FitError:
                loo = []
                break
            loo.append(float(np.linalg.norm(ti.apply(src[i : i + 1])[0] - dst[i]) / photo_px_per_cm))
    return FitReport(t, ids, float(np.sqrt(np.mean(resid**2)) / photo_px_per_cm), tuple(loo), photo_px_per_cm)
