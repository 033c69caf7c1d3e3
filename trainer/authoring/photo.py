"""Photo overlay: put a view's nerves onto a photo of a real limb. Pure: bytes in, images out.

An instructor taps the view's named landmarks on the photo; we fit a transform from the
render's landmark pixels to the tapped photo pixels and draw the atlas through it.

Three modules, one per idea, and this one is the entry point that re-exports the rest:

* **Uploads** (here) are checked by *content* (never by file name), limited in bytes and
  pixels, guarded against decompression bombs and turned upright from their EXIF orientation.
* **Transforms** (:mod:`trainer.authoring.photo_fit`): similarity, affine and thin-plate
  spline fits with residuals in cm on the body.
* **Drawing** (:mod:`trainer.authoring.photo_draw`): the atlas overlay, taps, legend, scale
  bar and the printable handout.

>>> fit = fit_transform([[0, 0], [10, 0], [0, 10], [10, 10]], [[5, 5], [25, 5], [5, 25], [25, 25]], "affine")
>>> fit.apply([[5, 5]]).round(6).tolist(), round(fit.scale, 6)
([[15.0, 15.0]], 2.0)
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.photo_draw import (
    TAP_RGB,
    LegendEntry,
    compose_handout,
    draw_atlas_overlay,
    draw_taps,
    visible_runs,
)
from trainer.authoring.photo_fit import (
    MIN_LANDMARKS,
    FitError,
    FitReport,
    Transform,
    fit_affine,
    fit_landmarks,
    fit_similarity,
    fit_tps,
    fit_transform,
)
from trainer.errors import UploadError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PIXELS",
    "MIN_LANDMARKS",
    "FitError",
    "FitReport",
    "LegendEntry",
    "Transform",
    "accepted_formats",
    "accepted_label",
    "compose_handout",
    "draw_atlas_overlay",
    "draw_taps",
    "fit_affine",
    "fit_landmarks",
    "fit_similarity",
    "fit_tps",
    "fit_transform",
    "fitted_positions",
    "heic_supported",
    "landmark_guide",
    "load_photo",
    "photo_handout",
    "to_jpeg_bytes",
    "to_png_bytes",
    "view_landmarks",
    "visible_runs",
]

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
# Work on at most this many pixels on the long side: taps on a phone photo are no more
# precise than that, and drawing on a 48 MP image would take seconds and hundreds of MB.
WORK_MAX_SIDE_PX = 2400


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
    upright = ImageOps.exif_transpose(im).convert("RGB")
    if max(upright.size) > work_max_side_px:
        upright.thumbnail((work_max_side_px, work_max_side_px), Image.Resampling.LANCZOS)
    return upright


def to_png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def to_jpeg_bytes(image: Image.Image, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


# ------------------------------------------------------------------ a view on a photo


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
