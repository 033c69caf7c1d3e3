"""Drawing the atlas onto an image through a point map: overlay, taps, legend, scale bar, handout.

Pure: images in, images out. The point map is the identity for a render and a fitted
transform (:mod:`trainer.authoring.photo_fit`) for a photo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image, ImageDraw, ImageFont

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedItem, RenderedView
from trainer.geometry import buffer_polyline

FloatArray = NDArray[np.float64]
TransformKind = Literal["similarity", "affine", "tps"]

NERVE_RGB = (255, 196, 0)
NERVE_EDGE_RGB = (90, 60, 0)
SITE_RGB = (18, 161, 80)
AVOID_RGBA = (200, 30, 45, 90)
AVOID_EDGE_RGBA = (200, 30, 45, 200)
LANDMARK_RGB = (40, 40, 40)
TAP_RGB = (123, 44, 191)

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
