"""What every export shares: the view a question is exported on, the result, the images.

Authored text is HTML-escaped and stripped of control characters (``trainer.safetext``) so
an XML file stays well-formed and an Anki field is never split.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageColor, ImageDraw

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.photo import draw_atlas_overlay, to_png_bytes
from trainer.quiz.models import QuestionModel
from trainer.safetext import clean_text

ViewFor = Callable[[QuestionModel], RenderedView | None]


def view_loader(atlas: Atlas, side: str = "right", body_type: str | None = None) -> ViewFor:
    """The rendered view each question is exported on (one side, one body type), loaded once.

    A view that has not been rendered gives None, which the exporters report as skipped.
    """
    from trainer.atlas.rendered import load_rendered_view
    from trainer.errors import AtlasError
    from trainer.quiz.bank import resolve_view_id

    cache: dict[str, RenderedView | None] = {}

    def get(q: QuestionModel) -> RenderedView | None:
        view_id = resolve_view_id(atlas, q.view, side)
        if view_id is None:
            return None
        if view_id not in cache:
            try:
                cache[view_id] = load_rendered_view(view_id, body_type or atlas.default_body_type, atlas.root)
            except AtlasError:
                cache[view_id] = None
        return cache[view_id]

    return get


@dataclass
class ExportResult:
    data: bytes
    count: int
    skipped: list[str] = field(default_factory=list)


def view_image(view: RenderedView) -> Image.Image:
    with Image.open(view.image_path) as im:
        return im.convert("RGB")


def highlighted_image(view: RenderedView, atlas: Atlas, item_id: str) -> Image.Image:
    """The render with one nerve drawn boldly, or one territory shaded: the card's question."""
    base = view_image(view)
    item = view.items[item_id]
    if item.kind == "territory":
        layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).polygon(
            [(float(x), float(y)) for x, y in item.points_px],
            fill=(90, 140, 255, 80),
            outline=(60, 100, 230, 220),
            width=3,
        )
        return Image.alpha_composite(base.convert("RGBA"), layer).convert("RGB")
    out, _, _ = draw_atlas_overlay(
        base, view, atlas, layers=("nerves",), labels=False, highlight=item_id, only=[item_id]
    )
    return out


def _png_b64(image: Image.Image) -> str:
    return base64.b64encode(to_png_bytes(image)).decode("ascii")


def _esc(text: str) -> str:
    """Authored text for HTML: control characters dropped (XML forbids them), then escaped."""
    return html.escape(clean_text(text))


def _citations(q: QuestionModel, atlas: Atlas) -> str:
    return " · ".join(atlas.references[r].citation for r in q.references if r in atlas.references)


def _rgba(colour: str) -> tuple[int, int, int, int]:
    """A reveal shape's colour ("#12a150", "white", "rgba(200,30,45,0.35)") for Pillow."""
    colour = colour.strip()
    if colour.startswith("rgba(") and colour.endswith(")"):
        r, g, b, a = (v.strip() for v in colour[5:-1].split(","))
        return int(r), int(g), int(b), int(round(float(a) * 255))
    rgb = ImageColor.getrgb(colour)
    return (*rgb[:3], rgb[3] if len(rgb) == 4 else 255)  # type: ignore[misc]


def draw_shapes(image: Image.Image, shapes: Sequence[Mapping[str, Any]]) -> Image.Image:
    """Rasterise the app's overlay shapes (``trainer.scoring.reveal``) onto an image, for a printed card.

    Circles, polylines and polygons are drawn; arrows and labels belong to a learner's pins,
    which a card has none of. Each shape is composited on its own, so translucent zones blend.
    """
    out = image.convert("RGBA")
    for shape in shapes:
        kind = shape.get("type")
        if kind not in ("circle", "polyline", "polygon"):
            continue
        layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        width = max(1, int(round(float(shape.get("width", 2)))))
        stroke = _rgba(shape["stroke"]) if shape.get("stroke") else None
        fill = _rgba(shape["fill"]) if shape.get("fill") else None
        if kind == "circle":
            x, y, r = float(shape["x"]), float(shape["y"]), float(shape["r"])
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=stroke, width=width)
        elif kind == "polyline":
            draw.line(
                [(float(a), float(b)) for a, b in shape["points"]], fill=stroke, width=width, joint="curve"
            )
        else:
            draw.polygon(
                [(float(a), float(b)) for a, b in shape["points"]], fill=fill, outline=stroke, width=width
            )
        out = Image.alpha_composite(out, layer)
    return out.convert("RGB")


def answer_image(q: QuestionModel, view: RenderedView, atlas: Atlas, targets: Sequence[str]) -> Image.Image:
    """The view with the targets drawn exactly as the app's reveal draws them, and no pins."""
    from trainer.scoring.reveal import reveal_shapes
    from trainer.scoring.score import Result

    nothing_placed = Result(question_id=q.id, type=q.type, credit=0.0, feedback="")
    return draw_shapes(view_image(view), reveal_shapes(q, nothing_placed, view, atlas, targets=list(targets)))
