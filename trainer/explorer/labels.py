"""Collision-free label placement for the labelled atlas. Pure: numbers in, boxes out.

Labels are drawn at a fixed *screen* size while the image scales with the screen, so the
placement is computed for the narrowest screen the app supports (a 390 px phone showing the
900 px image): a label that fits there has more room on any wider screen. Each label tries
spots beside its anchor first, then farther away (drawn with a leader line); one that finds
no free spot is left out rather than drawn over another (the legend and hover still name it).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

#: Screen width (px) the placement is computed for: the phone viewport of the design rules.
LABEL_DISPLAY_PX = 390.0
#: Font size of the labels on screen (px).
LABEL_FONT_PX = 10.0
#: Average glyph width of the label font as a fraction of its size (conservative for sans-serif).
CHAR_WIDTH_EM = 0.62
LINE_HEIGHT_EM = 1.3
#: Padding around the text inside the label box, screen px (border included).
PAD_PX = 3.0
#: Characters per line before a label wraps.
WRAP_CHARS = 20
#: Distance rings (multiples of the label's half size) tried around an anchor.
RINGS = (1.0, 2.2, 3.6)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in image pixels (y down)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)


@dataclass(frozen=True)
class LabelRequest:
    """One label to place: ``anchors_px`` are the points it may name, best first."""

    key: str
    text: str
    kind: str  # "landmark" | "nerve"
    anchors_px: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PlacedLabel:
    key: str
    kind: str
    lines: tuple[str, ...]
    anchor_px: tuple[float, float]
    box: Box
    leader: bool  # drawn away from its anchor, with a line to it


def short_label(name: str) -> str:
    """The name without a trailing parenthesis ("Sural nerve (lateral calcaneal)" -> "Sural nerve")."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip() or name


def label_lines(text: str) -> tuple[str, ...]:
    return tuple(textwrap.wrap(text, WRAP_CHARS)) or ("",)


def label_size_px(lines: Sequence[str], image_px_per_screen_px: float) -> tuple[float, float]:
    """Width and height of a label box in image pixels."""
    w = max(len(s) for s in lines) * LABEL_FONT_PX * CHAR_WIDTH_EM + 2 * PAD_PX
    h = len(lines) * LABEL_FONT_PX * LINE_HEIGHT_EM + 2 * PAD_PX
    return w * image_px_per_screen_px, h * image_px_per_screen_px


def _candidates(ax: float, ay: float, w: float, h: float) -> list[tuple[float, float, bool]]:
    """Box centres around an anchor: beside it first, then on wider rings (with a leader)."""
    out = []
    gap = 0.35 * h
    for k, ring in enumerate(RINGS):
        dx = ring * (w / 2 + gap)
        dy = ring * (h / 2 + gap)
        for ux, uy in ((0, -1), (1, 0), (0, 1), (-1, 0), (1, -1), (1, 1), (-1, 1), (-1, -1)):
            out.append((ax + ux * dx, ay + uy * dy, k > 0))
    return out


def place_labels(
    requests: Sequence[LabelRequest],
    width_px: float,
    height_px: float,
    obstacles: Sequence[Box] = (),
    display_px: float = LABEL_DISPLAY_PX,
) -> list[PlacedLabel]:
    """Place labels greedily in request order; no two placed boxes overlap, none leaves the
    image, none covers an obstacle (a marker). Unplaceable labels are left out.

    >>> reqs = [LabelRequest("a", "Alpha", "landmark", ((450.0, 450.0),)),
    ...         LabelRequest("b", "Beta", "landmark", ((452.0, 450.0),))]
    >>> placed = place_labels(reqs, 900, 900)
    >>> [p.key for p in placed], placed[0].box.overlaps(placed[1].box)
    (['a', 'b'], False)
    """
    scale = max(width_px, height_px) / display_px
    taken: list[Box] = []
    out: list[PlacedLabel] = []
    for req in requests:
        lines = label_lines(req.text)
        w, h = label_size_px(lines, scale)
        for ax, ay in req.anchors_px:
            spot = next(
                (
                    (box, leader)
                    for cx, cy, leader in _candidates(ax, ay, w, h)
                    for box in (Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),)
                    if box.x0 >= 0
                    and box.y0 >= 0
                    and box.x1 <= width_px
                    and box.y1 <= height_px
                    and not any(box.overlaps(t) for t in taken)
                    and not any(box.overlaps(o) for o in obstacles)
                ),
                None,
            )
            if spot is not None:
                taken.append(spot[0])
                out.append(PlacedLabel(req.key, req.kind, lines, (ax, ay), spot[0], spot[1]))
                break
    return out


def marker_box(x_px: float, y_px: float, size_screen_px: float, display_px: float, image_px: float) -> Box:
    """The box a marker of ``size_screen_px`` covers, in image pixels."""
    r = size_screen_px / 2 * image_px / display_px
    return Box(x_px - r, y_px - r, x_px + r, y_px + r)
