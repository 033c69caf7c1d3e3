"""A small orientation mark drawn into every rendered view.

Two arrows from a common origin show the anatomical directions that lie most nearly in the
image plane: proximal (superior on the trunk, head and neck) and lateral (medial for views
looking from inside, "patient's right" on midline views) or anterior. Each arrow's length
follows its foreshortening, so an oblique view shows it. The mark goes in the image corner
with the least skin, on a translucent plate, so it hides as little of the body as possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

FloatArray = NDArray[np.float64]

# Sizes for a 900 px image; other sizes scale with the image width.
BOX_PX = 170
MARGIN_PX = 10
ARROW_PX = 50
FONT_PX = 14
REFERENCE_WIDTH_PX = 900
INK = (45, 45, 50)
PLATE = (255, 255, 255, 200)
TRUNK_SEGMENTS = frozenset({"trunk", "head", "neck"})


@dataclass(frozen=True)
class Mark:
    """Where the mark was drawn and what its arrows say (kept in the sidecar)."""

    box_px: tuple[int, int, int, int]
    arrows: tuple[tuple[str, float, float], ...]  # (label, dx, dy) unit-ish image vectors

    def to_dict(self) -> dict[str, Any]:
        return {
            "box_px": list(self.box_px),
            "arrows": [{"label": a, "dx": round(dx, 4), "dy": round(dy, 4)} for a, dx, dy in self.arrows],
        }


def axis_labels(segment: str, side: str) -> dict[str, str]:
    """Words for the positive frame axes of a segment on a side.

    >>> axis_labels("leg", "right")["proximal"], axis_labels("trunk", "midline")["lateral"]
    ('proximal', "patient's right")
    """
    return {
        "proximal": "superior" if segment in TRUNK_SEGMENTS else "proximal",
        "lateral": "patient's right" if side == "midline" else "lateral",
        "anterior": "anterior",
    }


def choose_arrows(
    axes_px_per_cm: Mapping[str, FloatArray], labels: Mapping[str, str]
) -> list[tuple[str, float, float]]:
    """The two frame axes that lie most in the image plane, as ``(label, dx, dy)`` with the
    vector scaled so the longest is 1 (foreshortening kept, at least 0.45).

    >>> choose_arrows({"proximal": np.array([0.0, -30]), "lateral": np.array([-20.0, 0]),
    ...                "anterior": np.array([3.0, 0])}, axis_labels("leg", "right"))
    [('proximal', 0.0, -1.0), ('lateral', -0.6667, 0.0)]
    """
    lengths = {k: float(np.linalg.norm(v)) for k, v in axes_px_per_cm.items()}
    top = sorted(lengths, key=lambda k: (-lengths[k], k))[:2]
    longest = max(lengths[top[0]], 1e-9)
    out = []
    for k in ("proximal", "lateral", "anterior"):
        if k not in top:
            continue
        v = np.asarray(axes_px_per_cm[k], dtype=np.float64)
        unit = v / max(lengths[k], 1e-9)
        scale = max(lengths[k] / longest, 0.45)
        out.append((labels[k], round(float(unit[0] * scale), 4), round(float(unit[1] * scale), 4)))
    return out


def quietest_corner(depth_cm: FloatArray, box_px: int, margin_px: int) -> tuple[int, int]:
    """Top-left pixel of the image corner box holding the least skin (ties: bottom-left first)."""
    h, w = depth_cm.shape
    covered = np.isfinite(depth_cm)
    corners = [
        (margin_px, h - margin_px - box_px),  # bottom-left
        (w - margin_px - box_px, h - margin_px - box_px),  # bottom-right
        (margin_px, margin_px),  # top-left
        (w - margin_px - box_px, margin_px),  # top-right
    ]
    scores = [covered[y : y + box_px, x : x + box_px].mean() for x, y in corners]
    return corners[int(np.argmin(scores))]


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _arrow(draw: ImageDraw.ImageDraw, start: FloatArray, end: FloatArray, width: int, head: float) -> None:
    draw.line([tuple(start), tuple(end)], fill=INK, width=width)
    d = end - start
    d = d / max(float(np.linalg.norm(d)), 1e-9)
    n = np.array([-d[1], d[0]])
    tip = end + d * 2.0
    pts = [tuple(tip), tuple(end - d * head + n * head * 0.55), tuple(end - d * head - n * head * 0.55)]
    draw.polygon(pts, fill=INK)


def draw_mark(
    rgb: NDArray[np.uint8], depth_cm: FloatArray, arrows: list[tuple[str, float, float]]
) -> tuple[NDArray[np.uint8], Mark]:
    """Draw the mark into a copy of ``rgb`` (H, W, 3) and say where it went."""
    k = rgb.shape[1] / REFERENCE_WIDTH_PX
    box, arrow_px = max(16, round(BOX_PX * k)), ARROW_PX * k
    x0, y0 = quietest_corner(depth_cm, box, max(1, round(MARGIN_PX * k)))
    img = Image.fromarray(rgb).convert("RGBA")
    plate = Image.new("RGBA", img.size, (0, 0, 0, 0))
    pd = ImageDraw.Draw(plate)
    pd.rounded_rectangle(
        [x0, y0, x0 + box, y0 + box], radius=max(2, round(12 * k)), fill=PLATE, outline=(150, 150, 155, 220)
    )
    img = Image.alpha_composite(img, plate)
    draw = ImageDraw.Draw(img)
    origin = np.array([x0 + box / 2.0, y0 + box / 2.0])
    # Shift the origin away from where the arrows point so the whole mark fits the plate.
    mean_dir = np.mean([[dx, dy] for _, dx, dy in arrows], axis=0) if arrows else np.zeros(2)
    origin = origin - mean_dir * arrow_px * 0.45
    font = _font(max(6, round(FONT_PX * k)))
    inner = (x0 + 4 * k, y0 + 4 * k, x0 + box - 4 * k, y0 + box - 4 * k)
    for label, dx, dy in arrows:
        d = np.array([dx, dy]) / max(float(np.hypot(dx, dy)), 1e-9)
        bbox = draw.textbbox((0, 0), label, font=font)
        tw, th = bbox[2] - bbox[0], bbox[3] - bbox[1]
        gap = abs(d[0]) * tw / 2.0 + abs(d[1]) * th / 2.0 + 6.0 * k
        # The longest arrow (up to its foreshortened length) whose label, set beyond the
        # arrowhead, still fits on the plate.
        length = float(np.hypot(dx, dy)) * arrow_px
        while length > 12 * k:
            centre = origin + d * (length + gap)
            if (
                inner[0] <= centre[0] - tw / 2
                and centre[0] + tw / 2 <= inner[2]
                and inner[1] <= centre[1] - th / 2
                and centre[1] + th / 2 <= inner[3]
            ):
                break
            length -= 2 * k
        end = origin + d * length
        _arrow(draw, origin, end, max(1, round(3 * k)), 11.0 * k)
        centre = origin + d * (length + gap)
        draw.text(
            (float(centre[0] - tw / 2.0 - bbox[0]), float(centre[1] - th / 2.0 - bbox[1])),
            label,
            fill=INK,
            font=font,
        )
    r = 3 * k
    draw.ellipse([origin[0] - r, origin[1] - r, origin[0] + r, origin[1] + r], fill=INK)
    out = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return out, Mark(box_px=(x0, y0, x0 + box, y0 + box), arrows=tuple(arrows))
