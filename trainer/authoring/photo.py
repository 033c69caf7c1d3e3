"""Photo overlay: put a view's nerves onto a photo of a real limb. Pure: bytes in, images out.

An instructor taps the view's named landmarks on the photo; we fit a transform from the
render's landmark pixels to the tapped photo pixels and draw the atlas through it.

* **Uploads** are checked by *content* (never by file name), limited in bytes and pixels,
  guarded against decompression bombs and turned upright from their EXIF orientation.
* **Transforms**: similarity (4 parameters), affine (6, least squares) and a thin-plate
  spline (exact at the landmarks, smooth in between) when 6 or more landmarks are tapped.
* **Residuals** are reported in cm on the body: a photo-pixel error divided by the photo's
  scale (photo px per render px) and the render's px_per_cm.

>>> fit = fit_transform([[0, 0], [10, 0], [0, 10], [10, 10]], [[5, 5], [25, 5], [5, 25], [25, 25]], "affine")
>>> fit.apply([[5, 5]]).round(6).tolist(), round(fit.scale, 6)
([[15.0, 15.0]], 2.0)
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedItem, RenderedView
from trainer.errors import TrainerError, UploadError
from trainer.geometry import buffer_polyline

FloatArray = NDArray[np.float64]
TransformKind = Literal["similarity", "affine", "tps"]

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
# Work on at most this many pixels on the long side: taps on a phone photo are no more
# precise than that, and drawing on a 48 MP image would take seconds and hundreds of MB.
WORK_MAX_SIDE_PX = 2400
MIN_LANDMARKS = 4
MIN_POINTS: dict[str, int] = {"similarity": 2, "affine": 3, "tps": 6}

NERVE_RGB = (255, 196, 0)
NERVE_EDGE_RGB = (90, 60, 0)
SITE_RGB = (18, 161, 80)
AVOID_RGBA = (200, 30, 45, 90)
AVOID_EDGE_RGBA = (200, 30, 45, 200)
LANDMARK_RGB = (40, 40, 40)
TAP_RGB = (123, 44, 191)


class FitError(TrainerError, ValueError):
    """The landmarks cannot determine the transform (too few, or all on one line)."""


# ---------------------------------------------------------------------------------- uploads


def heic_supported() -> bool:
    """True when ``pillow-heif`` is installed (it registers HEIC/HEIF with Pillow)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def accepted_formats() -> tuple[str, ...]:
    """Pillow format names we accept, decided from the file's content."""
    return ("JPEG", "PNG", "HEIF") if heic_supported() else ("JPEG", "PNG")


def accepted_label() -> str:
    return "JPEG, PNG or HEIC" if heic_supported() else "JPEG or PNG (HEIC is not supported on this server)"


def load_photo(
    data: bytes,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_UPLOAD_PIXELS,
    work_max_side_px: int = WORK_MAX_SIDE_PX,
) -> Image.Image:
    """Decode an uploaded photo safely and return it upright, RGB, at working size.

    Raises :class:`UploadError` with a sentence a user can act on for anything else.
    """
    if len(data) == 0:
        raise UploadError("The file is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.")
    formats = accepted_formats()
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises beyond; treat
            # both as a bomb so the check does not depend on the warning filters in force.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=list(formats))
            w, h = im.size
            if w * h > max_pixels:
                raise UploadError(
                    f"The image is {w} × {h} px ({w * h / 1e6:.0f} MP); the limit is {max_pixels / 1e6:.0f} MP. "
                    "Resize it or take a smaller photo."
                )
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(
            "The image declares an enormous size (a possible decompression bomb) and was refused."
        ) from None
    except UnidentifiedImageError:
        raise UploadError(
            f"This file is not a {accepted_label()} image (its content was checked, not its name)."
        ) from None
    except UploadError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise UploadError(f"The image could not be read (damaged or truncated file): {exc}") from None
    im = ImageOps.exif_transpose(im) or im
    im = im.convert("RGB")
    if max(im.size) > work_max_side_px:
        im.thumbnail((work_max_side_px, work_max_side_px), Image.Resampling.LANCZOS)
    return im


def to_png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def to_jpeg_bytes(image: Image.Image, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


# ------------------------------------------------------------------------------ transforms


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
        r = np.linalg.norm(q[:, None, :] - self.ctrl[None, :, :], axis=2)
        return _tps_kernel(r) @ self.weights + q @ self.affine[:, :2].T + self.affine[:, 2]

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
    return Transform("affine", sol.T.copy())


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
    w, a = sol[:n], sol[n:]
    return Transform("tps", a.T.copy(), ctrl=q, weights=w, norm=(float(mean[0]), float(mean[1]), scale))


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


# -------------------------------------------------------------------------------- drawing

PointMap = Callable[[FloatArray], FloatArray]


def identity_map(points_px: FloatArray) -> FloatArray:
    return np.asarray(points_px, dtype=np.float64).reshape(-1, 2)


def font(size_px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, int(size_px)))


def densify(polyline_px: ArrayLike, step_px: float = 4.0) -> FloatArray:
    """Extra points along a polyline so a bending transform bends the drawn line too.

    >>> densify([[0, 0], [10, 0]], 5.0).tolist()
    [[0.0, 0.0], [5.0, 0.0], [10.0, 0.0]]
    """
    line = np.asarray(polyline_px, dtype=np.float64).reshape(-1, 2)
    if len(line) < 2:
        return line
    out = [line[:1]]
    for a, b in zip(line[:-1], line[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step_px)))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.vstack(out)


def visible_runs(item: RenderedItem) -> list[FloatArray]:
    """Stretches of an item's projected polyline that are in sight on the render."""
    runs: list[FloatArray] = []
    cur: list[int] = []
    for i, vis in enumerate(item.visible):
        if vis:
            cur.append(i)
        elif cur:
            runs.append(item.points_px[cur])
            cur = []
    if cur:
        runs.append(item.points_px[cur])
    return runs


@dataclass(frozen=True)
class LegendEntry:
    label: str
    rgb: tuple[int, int, int]
    shape: Literal["line", "dot", "zone", "cross"]


def draw_atlas_overlay(
    image: Image.Image,
    view: RenderedView,
    atlas: Atlas,
    to_image: PointMap = identity_map,
    image_px_per_cm: float | None = None,
    layers: Sequence[str] = ("avoid", "nerves", "sites"),
    labels: bool = True,
    highlight: str | None = None,
    only: Sequence[str] | None = None,
) -> tuple[Image.Image, list[LegendEntry], list[tuple[str, str]]]:
    """Draw the view's structures to avoid, nerve courses and sites onto ``image``.

    ``to_image`` maps render px to ``image`` px (identity for the render itself, the fitted
    transform for a photo). Sizes follow ``image_px_per_cm`` so lines look the same on a
    small render and a large photo. Names would collide on a crowded knee, so items get
    short badges (nerves A, B, ...; sites 1, 2, ...) and the returned key names them.
    Returns the new image, its legend and the key ``[(badge, name)]``.
    """
    ppc = image_px_per_cm if image_px_per_cm is not None else view.camera.px_per_cm
    base = image.convert("RGBA")
    zones = Image.new("RGBA", base.size, (0, 0, 0, 0))
    zdraw = ImageDraw.Draw(zones)
    line_w = max(2, int(round(0.15 * ppc)))
    dot_r = max(4.0, 0.28 * ppc)
    badge_font = font(max(11.0, 0.42 * ppc))
    legend: list[LegendEntry] = []
    key: list[tuple[str, str]] = []
    wanted = set(only) if only is not None else None
    step_view_px = max(2.0, view.camera.px_per_cm * 0.25)

    def pts(run: FloatArray) -> list[tuple[float, float]]:
        mapped = to_image(densify(run, step_view_px))
        return [(float(x), float(y)) for x, y in mapped]

    items = [it for it in view.items.values() if wanted is None or it.id in wanted]
    if "avoid" in layers:
        for it in items:
            a = atlas.avoid.get(it.id)
            if it.kind != "avoid" or a is None or not it.any_visible:
                continue
            for run in visible_runs(it):
                outline = buffer_polyline(run, a.safety_radius_cm * view.camera.px_per_cm)
                poly = [
                    (float(x), float(y))
                    for x, y in to_image(densify(np.vstack([outline, outline[:1]]), step_view_px))
                ]
                zdraw.polygon(poly, fill=AVOID_RGBA, outline=AVOID_EDGE_RGBA, width=max(1, line_w // 2))
            if labels:
                key.append(("!", f"{a.name} (keep {a.safety_radius_cm:g} cm away)"))
            if not any(e.shape == "zone" for e in legend):
                legend.append(LegendEntry("Structure to avoid (safety zone)", AVOID_RGBA[:3], "zone"))
        base = Image.alpha_composite(base, zones)
    draw = ImageDraw.Draw(base)
    badges: list[tuple[tuple[float, float], str, tuple[int, int, int]]] = []
    if "nerves" in layers:
        letter = 0
        for it in items:
            n = atlas.nerves.get(it.id)
            if it.kind != "nerve" or n is None or not it.any_visible:
                continue
            colour = (31, 119, 255) if it.id == highlight else NERVE_RGB
            width = line_w * 2 if it.id == highlight else line_w
            longest: list[tuple[float, float]] = []
            for run in visible_runs(it):
                if len(run) < 2:
                    continue
                p = pts(run)
                draw.line(p, fill=NERVE_EDGE_RGB, width=width + 2, joint="curve")
                draw.line(p, fill=colour, width=width, joint="curve")
                longest = p if len(p) > len(longest) else longest
            if longest and labels:
                tag = chr(ord("A") + letter % 26)
                letter += 1
                badges.append((longest[len(longest) // 3], tag, (150, 100, 0)))
                key.append((tag, n.name))
        if any(it.kind == "nerve" and it.id in atlas.nerves and it.any_visible for it in items):
            legend.append(LegendEntry("Nerve course (letter)", NERVE_RGB, "line"))
    if "sites" in layers:
        number = 0
        for it in items:
            s = atlas.sites.get(it.id)
            if it.kind != "site" or s is None or not it.visible[0]:
                continue
            [(x, y)] = pts(it.points_px[:1])
            draw.ellipse(
                (x - dot_r, y - dot_r, x + dot_r, y + dot_r),
                fill=SITE_RGB,
                outline=(255, 255, 255),
                width=max(1, line_w // 2),
            )
            if labels:
                number += 1
                badges.append(((x + dot_r * 1.6, y - dot_r * 1.6), str(number), (10, 90, 45)))
                key.append((str(number), s.name))
        if number or any(it.kind == "site" for it in items):
            legend.append(LegendEntry("Piercing point / injection site (number)", SITE_RGB, "dot"))
    for (x, y), text, rgb in badges:
        draw.text(
            (x, y),
            text,
            fill=rgb,
            font=badge_font,
            anchor="mm",
            stroke_width=max(2, line_w),
            stroke_fill=(255, 255, 255),
        )
    return base.convert("RGB"), legend, key


def draw_taps(
    image: Image.Image, taps_px: Mapping[str, tuple[float, float]], names: Mapping[str, str], size_px: float
) -> Image.Image:
    """Mark the tapped landmarks (a cross and the landmark's name) on the photo."""
    out = image.copy()
    d = ImageDraw.Draw(out)
    r = max(5.0, size_px)
    f = font(max(11.0, r * 1.2))
    for lm_id, (x, y) in taps_px.items():
        d.line([(x - r, y), (x + r, y)], fill=TAP_RGB, width=max(2, int(r / 4)))
        d.line([(x, y - r), (x, y + r)], fill=TAP_RGB, width=max(2, int(r / 4)))
        d.text(
            (x + r, y + r * 0.3),
            names.get(lm_id, lm_id),
            fill=TAP_RGB,
            font=f,
            stroke_width=2,
            stroke_fill=(255, 255, 255),
        )
    return out


def nice_scale_cm(image_width_px: int, px_per_cm: float) -> float:
    """A round scale-bar length that takes at most about a quarter of the image width.

    >>> nice_scale_cm(1000, 30.0), nice_scale_cm(400, 30.0)
    (5.0, 2.0)
    """
    for cm in (20.0, 10.0, 5.0, 2.0, 1.0, 0.5):
        if cm * px_per_cm <= image_width_px * 0.28:
            return cm
    return 0.5


def compose_handout(
    image: Image.Image,
    title: str,
    legend: Sequence[LegendEntry],
    px_per_cm: float,
    notes: Sequence[str] = (),
    key: Sequence[tuple[str, str]] = (),
) -> Image.Image:
    """Add a white panel below the picture: title, legend, key to the badges, scale bar, notes."""
    w, h = image.size
    unit = max(13.0, w / 72)
    f_title = font(unit * 1.35)
    f_text = font(unit)
    row = unit * 1.7
    cols = 2 if w >= 700 else 1
    col_w = (w - 2 * unit) / cols
    key_rows = -(-len(key) // cols)
    panel_h = int(unit * 3 + row * (len(legend) + key_rows + len(notes)) + unit * 2)
    out = Image.new("RGB", (w, h + panel_h), (255, 255, 255))
    out.paste(image.convert("RGB"), (0, 0))
    d = ImageDraw.Draw(out)
    x0 = unit
    y = h + unit * 0.8
    d.text((x0, y), title, fill=(20, 20, 20), font=f_title)
    y += unit * 2.2
    for e in legend:
        sx, sy = x0, y + unit * 0.55
        if e.shape == "line":
            d.line([(sx, sy), (sx + unit * 2, sy)], fill=e.rgb, width=max(3, int(unit / 4)))
        elif e.shape == "dot":
            d.ellipse((sx + unit * 0.6, sy - unit * 0.4, sx + unit * 1.4, sy + unit * 0.4), fill=e.rgb)
        elif e.shape == "zone":
            pale = (int(e.rgb[0] * 0.35 + 166), int(e.rgb[1] * 0.35 + 166), int(e.rgb[2] * 0.35 + 166))
            d.rectangle((sx, sy - unit * 0.4, sx + unit * 2, sy + unit * 0.4), fill=pale, outline=e.rgb)
        else:
            d.line([(sx + unit * 0.6, sy), (sx + unit * 1.4, sy)], fill=e.rgb, width=3)
            d.line([(sx + unit, sy - unit * 0.4), (sx + unit, sy + unit * 0.4)], fill=e.rgb, width=3)
        d.text((sx + unit * 2.6, y), e.label, fill=(30, 30, 30), font=f_text)
        y += row
    # Scale bar, right-aligned beside the legend.
    cm = nice_scale_cm(w, px_per_cm)
    bar = cm * px_per_cm
    bx1 = w - unit
    bx0 = bx1 - bar
    by = h + unit * 3.4
    d.rectangle((bx0, by, bx1, by + unit * 0.5), fill=(20, 20, 20))
    d.text((bx0, by + unit * 0.8), f"{cm:g} cm", fill=(20, 20, 20), font=f_text)
    max_chars = max(12, int(col_w / (unit * 0.55)) - 4)
    for i, (badge, name) in enumerate(key):
        cx = x0 + (i % cols) * col_w
        cy = y + (i // cols) * row
        label = name if len(name) <= max_chars else name[: max_chars - 1] + "…"
        d.text(
            (cx, cy),
            f"{badge}",
            fill=(120, 60, 0) if badge.isalpha() else (200, 30, 45) if badge == "!" else (10, 90, 45),
            font=f_text,
        )
        d.text((cx + unit * 1.6, cy), label, fill=(30, 30, 30), font=f_text)
    y += key_rows * row
    for note in notes:
        d.text((x0, y), note, fill=(90, 90, 90), font=f_text)
        y += row
    return out


def landmark_guide(
    render: Image.Image, xy_px: tuple[float, float], px_per_cm: float, half_cm: float = 4.0, out_px: int = 240
) -> Image.Image:
    """A small crop of the render around one landmark, with a ring on it: "tap here"."""
    x, y = xy_px
    half = max(20.0, half_cm * px_per_cm)
    box = (int(x - half), int(y - half), int(x + half), int(y + half))
    crop = Image.new("RGB", (box[2] - box[0], box[3] - box[1]), (245, 245, 245))
    crop.paste(render.convert("RGB").crop(box), (0, 0))
    crop = crop.resize((out_px, out_px), Image.Resampling.LANCZOS)
    d = ImageDraw.Draw(crop)
    c = out_px / 2
    r = out_px / 14
    d.ellipse((c - r, c - r, c + r, c + r), outline=(214, 40, 40), width=4)
    d.line([(c - 2.2 * r, c), (c - 1.3 * r, c)], fill=(214, 40, 40), width=3)
    d.line([(c + 1.3 * r, c), (c + 2.2 * r, c)], fill=(214, 40, 40), width=3)
    d.line([(c, c - 2.2 * r), (c, c - 1.3 * r)], fill=(214, 40, 40), width=3)
    d.line([(c, c + 1.3 * r), (c, c + 2.2 * r)], fill=(214, 40, 40), width=3)
    return crop


def view_landmarks(view: RenderedView, atlas: Atlas) -> dict[str, tuple[float, float]]:
    """The view's visible named landmarks and their render pixels, in atlas order."""
    out: dict[str, tuple[float, float]] = {}
    for lm_id in atlas.landmarks:
        it = view.items.get(lm_id)
        if it is None or it.kind != "landmark" or not it.visible[0]:
            continue
        x, y = it.points_px[0]
        if 0 <= x < view.width_px and 0 <= y < view.height_px:
            out[lm_id] = (float(x), float(y))
    return out


def fitted_positions(
    view: RenderedView, atlas: Atlas, transform: Transform
) -> dict[str, tuple[float, float]]:
    """Where each visible site and landmark lands on the photo (for checking and export)."""
    out: dict[str, tuple[float, float]] = {}
    for it in view.items.values():
        if (
            it.kind in ("site", "landmark")
            and it.visible[0]
            and (it.id in atlas.sites or it.id in atlas.landmarks)
        ):
            x, y = transform.apply(it.points_px[:1])[0]
            out[it.id] = (round(float(x), 2), round(float(y), 2))
    return out


def photo_handout(
    photo: Image.Image,
    view: RenderedView,
    atlas: Atlas,
    report: FitReport,
    taps_px: Mapping[str, tuple[float, float]],
    title: str,
    layers: Sequence[str] = ("avoid", "nerves", "sites"),
) -> Image.Image:
    """The photo with the atlas drawn through the fitted transform, plus legend and scale."""
    drawn, legend, key = draw_atlas_overlay(
        photo, view, atlas, report.transform.apply, report.photo_px_per_cm, layers
    )
    drawn = draw_taps(drawn, taps_px, {k: atlas.name_of(k) for k in taps_px}, 0.3 * report.photo_px_per_cm)
    legend = [*legend, LegendEntry("Landmark you tapped", TAP_RGB, "cross")]
    notes = [
        f"Fit: {report.transform.kind}, {len(report.ids)} landmarks, "
        f"error ≈ {report.quality_cm:.1f} cm ({'leave-one-out' if report.loo_cm else 'residual'}).",
        "A guide for skin marking: anatomy varies; palpate and confirm before injecting.",
        "Scale bar is true near the tapped landmarks only (photos have perspective).",
    ]
    return compose_handout(drawn, title, legend, report.photo_px_per_cm, notes, key)
