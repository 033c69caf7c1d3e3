"""Take content elsewhere: Moodle XML, an Anki deck, CSV, and a printable region sheet.

Pure functions from questions and rendered views to bytes or text; the caller offers them
as downloads. What cannot be expressed in the target format is *reported*, never dropped
silently (``ExportResult.skipped``).

* **Moodle** ``ddmarker`` (drag-and-drop markers) for pin questions: the background image is
  base64 inside the XML, as Moodle requires, scaled to fit 600 × 400 px (the classic
  ddmarker limit) with the drop zones scaled with it. A site becomes a circle of
  ``tolerance_cm``; a nerve course or a territory becomes a polygon. Every zone is made to
  pass Moodle's own checks (:func:`moodle_zone`). Choice questions become ``multichoice``
  with Moodle's allowed fractions and shuffled answers.
* **Anki** ``.apkg`` through ``genanki``: every question type becomes a card. A picture with
  the nerve highlighted (or the territory shaded) → the nerve's name; a pin question
  (locate, multi-site, trace) → the view and the prompt, and on the back the target drawn as
  the app's reveal draws it (a site with its tolerance ring, or the course) with the answer
  in words; clinical and case questions → their choices, in a fixed shuffled order.

Authored text is HTML-escaped and stripped of control characters (``trainer.safetext``) so
an XML file stays well-formed and an Anki field is never split.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.photo import (
    compose_handout,
    draw_atlas_overlay,
    to_jpeg_bytes,
    to_png_bytes,
    visible_runs,
)
from trainer.geometry import buffer_polyline
from trainer.quiz.choices import fixed_order
from trainer.quiz.models import QuestionModel
from trainer.safetext import clean_text

MOODLE_MAX_W_PX = 600
MOODLE_MAX_H_PX = 400
# Moodle accepts only these answer fractions (percent) in multichoice questions.
MOODLE_FRACTIONS = (
    100.0,
    90.0,
    83.33333,
    80.0,
    75.0,
    70.0,
    66.66667,
    60.0,
    50.0,
    40.0,
    33.33333,
    30.0,
    25.0,
    20.0,
    16.66667,
    14.28571,
    12.5,
    11.11111,
    10.0,
    5.0,
    0.0,
)
ANKI_MODEL_IMAGE_ID = 1_734_551_207
ANKI_MODEL_TEXT_ID = 1_734_551_208
ANKI_MODEL_BODY_ID = 1_734_551_209
PIN_TYPES = ("locate", "multi_site", "trace")

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


def moodle_fraction(percent: float) -> str:
    """The nearest fraction Moodle accepts, formatted as Moodle writes it.

    >>> moodle_fraction(100 / 3), moodle_fraction(-50), moodle_fraction(100 / 7)
    ('33.33333', '-50', '14.28571')
    """
    sign = -1.0 if percent < 0 else 1.0
    best = min(MOODLE_FRACTIONS, key=lambda f: abs(f - abs(percent)))
    value = sign * best
    return f"{value:.5f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _fit_scale(
    width_px: int, height_px: int, max_w: int = MOODLE_MAX_W_PX, max_h: int = MOODLE_MAX_H_PX
) -> float:
    return min(1.0, max_w / width_px, max_h / height_px)


def _background_size(view: RenderedView, scale: float) -> tuple[int, int]:
    """Size of the background image as written into the XML (Moodle checks zones against it)."""
    if scale >= 1.0:
        return view.width_px, view.height_px
    return int(round(view.width_px * scale)), int(round(view.height_px * scale))


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


def _background_b64(view: RenderedView, scale: float, cache: dict[str, str]) -> str:
    """The view's image scaled for Moodle, encoded once per export (many questions share it)."""
    if view.key not in cache:
        img = view_image(view)
        if scale < 1.0:
            img = img.resize(_background_size(view, scale), Image.Resampling.LANCZOS)
        cache[view.key] = _png_b64(img)
    return cache[view.key]


def _esc(text: str) -> str:
    """Authored text for HTML: control characters dropped (XML forbids them), then escaped."""
    return html.escape(clean_text(text))


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = clean_text(text)
    return el


def _html_p(text: str) -> str:
    """User text as HTML for Moodle's html format (escaped here; XML escapes it once more)."""
    lines = clean_text(text).splitlines()  # cleaned first: splitlines() also breaks at \x0b, \x1c…\x1e
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines if line.strip()) or "<p></p>"


def _common(q: QuestionModel, atlas: Atlas, qtype: str, root: ET.Element) -> ET.Element:
    el = ET.SubElement(root, "question", {"type": qtype})
    _text(el, "name", f"{q.id}")
    return el


def _citations(q: QuestionModel, atlas: Atlas) -> str:
    return " · ".join(atlas.references[r].citation for r in q.references if r in atlas.references)


def _general_feedback(el: ET.Element, q: QuestionModel, atlas: Atlas) -> None:
    refs = _citations(q, atlas)
    fb = _html_p(q.explanation) + ("<p><small>" + _esc(refs) + "</small></p>" if refs else "")
    _text(el, "generalfeedback", fb, "html")
    ET.SubElement(el, "defaultgrade").text = "1.0000000"
    ET.SubElement(el, "penalty").text = "0.3333333"
    ET.SubElement(el, "hidden").text = "0"
    ET.SubElement(el, "idnumber").text = q.id


# ------------------------------------------------------------------- Moodle drop zones


def _clip_to_rect(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Sutherland–Hodgman: the part of a polygon inside [0, width] × [0, height]."""
    poly = [(float(x), float(y)) for x, y in points]
    edges = ((0, 0.0, 1), (0, width, -1), (1, 0.0, 1), (1, height, -1))  # (axis, bound, inside sign)
    for axis, bound, sign in edges:
        if not poly:
            break
        out: list[tuple[float, float]] = []
        for i, cur in enumerate(poly):
            prev = poly[i - 1]
            cur_in = sign * (cur[axis] - bound) >= 0
            prev_in = sign * (prev[axis] - bound) >= 0
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                cross = (prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1]))
                out.append((bound, cross[1]) if axis == 0 else (cross[0], bound))
            if cur_in:
                out.append(cur)
        poly = out
    return np.asarray(poly, dtype=float).reshape(-1, 2)


def _int_ring(points: np.ndarray, width: int, height: int) -> list[tuple[int, int]]:
    """Whole pixels inside the image, with no point equal to the one before it (nor last = first)."""
    ring: list[tuple[int, int]] = []
    for x, y in points:
        p = (min(max(int(round(x)), 0), width), min(max(int(round(y)), 0), height))
        if not ring or ring[-1] != p:
            ring.append(p)
    while len(ring) > 1 and ring[-1] == ring[0]:
        ring.pop()
    return ring


def _ring_area_px2(ring: Sequence[tuple[int, int]]) -> float:
    xs = np.array([p[0] for p in ring], dtype=float)
    ys = np.array([p[1] for p in ring], dtype=float)
    return 0.5 * abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))))


def moodle_zone(
    shape: str, points_px: np.ndarray, radius_px: float, width_px: int, height_px: int
) -> tuple[str, str] | None:
    """A drop zone Moodle accepts, as ``(shape, coords)``, or None if nothing of it is on the image.

    Moodle's ddmarker checks each zone when a question is saved (question/type/ddmarker/
    shapes.php and the ``validation`` of edit_ddmarker_form.php), and we meet every rule:

    * every coordinate is a whole number made of digits only (``is_only_numbers``: the
      pattern ``^[0-9]+$``), so no minus sign and no decimals (error ``onlyusewholepositivenumbers``);
    * a circle is ``x,y;r``: exactly one ``;`` and two numbers before it;
    * a polygon is ``x1,y1;x2,y2;…`` with at least three points (``polygonmusthaveatleastthreepoints``),
      each exactly two numbers, and no point equal to the point before it (``repeatedpoint``);
      a last point equal to the first is dropped by Moodle, so we do not write one;
    * the shape lies inside the background image (``inside_width_height``, error
      ``shapeoutsideboundsofbgimage``): a circle's box ``x ± r, y ± r`` and a polygon's
      bounding box within ``0 ≤ x ≤ width`` and ``0 ≤ y ≤ height``.

    A site's circle that would cross the edge becomes a polygon of the same circle clipped to
    the image, so the tolerance stays where the learner can drop; a course or territory
    polygon is clipped to the image the same way.

    >>> moodle_zone("circle", np.array([[100.0, 120.0]]), 10.0, 200, 200)
    ('circle', '100,120;10')
    >>> moodle_zone("circle", np.array([[5.0, 100.0]]), 10.0, 200, 200)[0]
    'polygon'
    >>> moodle_zone("polygon", np.array([[-50.0, -50.0], [-10.0, -50.0], [-10.0, -10.0]]), 0, 200, 200) is None
    True
    """
    if shape == "circle":
        x, y = float(points_px[0][0]), float(points_px[0][1])
        cx, cy, r = int(round(x)), int(round(y)), max(1, int(round(radius_px)))
        if cx - r >= 0 and cy - r >= 0 and cx + r <= width_px and cy + r <= height_px:
            return "circle", f"{cx},{cy};{r}"
        t = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
        points_px = np.stack([x + radius_px * np.cos(t), y + radius_px * np.sin(t)], axis=1)
    clipped = _clip_to_rect(np.asarray(points_px, dtype=float), float(width_px), float(height_px))
    ring = _int_ring(clipped, width_px, height_px)
    if len(ring) < 3 or _ring_area_px2(ring) < 1.0:
        return None
    return "polygon", ";".join(f"{x},{y}" for x, y in ring)


def _drop_shape(view: RenderedView, q: QuestionModel, target: str, scale: float) -> tuple[str, str] | None:
    """(shape, coords) of one target's drop zone in background-image pixels."""
    item = view.items.get(target)
    if item is None or not item.any_visible:
        return None
    ppc = view.camera.px_per_cm * scale
    width_px, height_px = _background_size(view, scale)
    if item.kind == "site":
        return moodle_zone("circle", item.points_px[:1] * scale, q.tolerance_cm * ppc, width_px, height_px)
    if item.kind == "territory":
        pts = item.points_px * scale
    else:
        runs = [r for r in visible_runs(item) if len(r) >= 1]
        if not runs:
            return None
        run = max(runs, key=len) * scale
        pts = buffer_polyline(run, q.tolerance_cm * ppc, cap_segments=6)
    return moodle_zone("polygon", pts, 0.0, width_px, height_px)


def _moodle_ddmarker(
    root: ET.Element,
    q: QuestionModel,
    atlas: Atlas,
    view: RenderedView,
    skipped: list[str],
    cache: dict[str, str],
) -> bool:
    targets = list(q.targets)
    scale = _fit_scale(view.width_px, view.height_px)
    shapes = [_drop_shape(view, q, t, scale) for t in targets]
    if any(s is None for s in shapes):
        skipped.append(f"{q.id}: a target is not visible on {view.view_id}")
        return False
    el = _common(q, atlas, "ddmarker", root)
    side = atlas.views[view.view_id].side if view.view_id in atlas.views else view.side
    extra = " Drag one marker onto each point." if len(targets) > 1 else " Drag the marker onto the point."
    _text(el, "questiontext", _html_p(q.prompt + extra) + f"<p><small>{_esc(side)} side</small></p>", "html")
    _general_feedback(el, q, atlas)
    ET.SubElement(el, "showmisplaced")
    _text(el, "correctfeedback", "<p>Your answer is correct.</p>", "html")
    _text(el, "partiallycorrectfeedback", "<p>Your answer is partially correct.</p>", "html")
    _text(el, "incorrectfeedback", "<p>Your answer is incorrect.</p>", "html")
    ET.SubElement(el, "shownumcorrect")
    f = ET.SubElement(el, "file", {"name": f"{view.key}.png", "encoding": "base64"})
    f.text = _background_b64(view, scale, cache)
    drag = ET.SubElement(el, "drag")
    ET.SubElement(drag, "no").text = "1"
    ET.SubElement(drag, "text").text = "Injection point" if q.type != "territory" else "Tap point"
    ET.SubElement(drag, "noofdrags").text = str(len(targets))
    for i, shape in enumerate(shapes, start=1):
        assert shape is not None
        drop = ET.SubElement(el, "drop")
        ET.SubElement(drop, "no").text = str(i)
        ET.SubElement(drop, "shape").text = shape[0]
        ET.SubElement(drop, "coords").text = shape[1]
        ET.SubElement(drop, "choice").text = "1"
    return True


def _moodle_multichoice(root: ET.Element, q: QuestionModel, atlas: Atlas, view: RenderedView | None) -> None:
    el = _common(q, atlas, "multichoice", root)
    text = _html_p(q.vignette or "") if q.vignette else ""
    text += _html_p(q.prompt)
    qt = _text(el, "questiontext", text, "html")
    if view is not None and q.targets and q.type in ("identify", "territory"):
        name = f"{view.key}__{q.targets[0]}.png"
        qt.find("text").text = (
            text
            + f'<p><img src="@@PLUGINFILE@@/{name}" alt="body view" width="{min(view.width_px, 600)}"></p>'
        )  # type: ignore[union-attr]
        f = ET.SubElement(qt, "file", {"name": name, "path": "/", "encoding": "base64"})
        f.text = _png_b64(highlighted_image(view, atlas, q.targets[0]))
    _general_feedback(el, q, atlas)
    n_right = sum(c.correct for c in q.choices)
    multi = q.multi_answer or n_right > 1
    ET.SubElement(el, "single").text = "false" if multi else "true"
    # Moodle shuffles for each attempt; the file order is a fixed shuffle too, so a teacher who
    # turns shuffling off does not get the right answer first (authors tend to write it first).
    ET.SubElement(el, "shuffleanswers").text = "true"
    ET.SubElement(el, "answernumbering").text = "abc"
    for i in fixed_order(q.id, len(q.choices)):
        c = q.choices[i]
        # Multi-answer mirrors our scoring: (right − wrong) / n_right.
        pct = (100.0 / max(1, n_right)) * (1 if c.correct else -1) if multi else (100.0 if c.correct else 0.0)
        a = ET.SubElement(el, "answer", {"fraction": moodle_fraction(pct), "format": "html"})
        ET.SubElement(a, "text").text = _html_p(c.text)
        _text(a, "feedback", _html_p(c.why) if c.why else "", "html")


def moodle_xml(
    questions: Sequence[QuestionModel],
    atlas: Atlas,
    view_for: ViewFor,
    category: str = "Nerve Mapping Trainer",
) -> ExportResult:
    """A Moodle question-bank XML file (import: Question bank → Import → Moodle XML format)."""
    root = ET.Element("quiz")
    cat = ET.SubElement(root, "question", {"type": "category"})
    _text(cat, "category", f"$course$/{category}")
    skipped: list[str] = []
    cache: dict[str, str] = {}
    count = 0
    for q in questions:
        if q.type in ("locate", "multi_site") or (q.type == "territory" and q.mode == "tap"):
            view = view_for(q)
            if view is None:
                skipped.append(f"{q.id}: its view has not been rendered")
                continue
            count += _moodle_ddmarker(root, q, atlas, view, skipped, cache)
        elif q.type in ("clinical", "identify") or (q.type == "territory" and q.mode == "name"):
            view = view_for(q) if q.type != "clinical" else None
            _moodle_multichoice(root, q, atlas, view)
            count += 1
        else:
            skipped.append(f"{q.id}: Moodle has no question type for a {q.type} question")
    ET.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return ExportResult(data, count, skipped)


# ------------------------------------------------------------------------------------ Anki


def _stable_id(text: str) -> int:
    """Anki deck ids must be stable across exports, so re-imports update instead of duplicating."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) % (1 << 31) + (1 << 30)


ANKI_CSS = (
    ".card { font-family: sans-serif; font-size: 18px; text-align: center; } img { max-width: 100%; }"
    " .why { font-size: 15px; color: #444; text-align: left; } .ref { font-size: 12px; color: #777; }"
)


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


def _target_words(atlas: Atlas, target: str) -> str:
    """Where a target is, in words: a site from its landmark, a nerve or territory by name."""
    from trainer.atlas.describe import offset_words

    if target in atlas.sites:
        site = atlas.sites[target]
        return f"{site.name}: {offset_words(site.at, atlas)}"
    if target in atlas.nerves:
        return f"anywhere on the course of the {atlas.name_of(target)}"
    if target in atlas.territories:
        return f"inside the skin territory of the {atlas.name_of(atlas.territories[target].nerve)}"
    return atlas.name_of(target)


def _pin_answer(q_type: str, targets: Sequence[str], tolerance_cm: float, atlas: Atlas) -> str:
    """The answer of a placing question or step as card HTML."""
    if q_type == "trace":
        return f"The course of the {_esc(atlas.name_of(targets[0]))}, drawn on the image."
    items = "".join(f"<li>{_esc(_target_words(atlas, t))}</li>" for t in targets)
    return f"<ol style='text-align:left'>{items}</ol>Full credit within {tolerance_cm:g} cm."


def _choice_lists(key: str, choices: Sequence[Any]) -> tuple[str, str]:
    """(the options as shown, the right ones) in a fixed shuffled order, with their letters."""
    order = fixed_order(key, len(choices))
    shown = (
        "<ol type=a style='text-align:left'>"
        + "".join(f"<li>{_esc(choices[i].text)}</li>" for i in order)
        + "</ol>"
    )
    right = "<br>".join(
        f"{chr(ord('a') + pos)}. {_esc(choices[i].text)}" for pos, i in enumerate(order) if choices[i].correct
    )
    return shown, right


def _choice_reasons(key: str, choices: Sequence[Any]) -> str:
    """Why each option is right or wrong (the banks' ``why`` texts), lettered as on the front."""
    order = fixed_order(key, len(choices))
    rows = [
        f"<li>{chr(ord('a') + pos)}. {'right' if choices[i].correct else 'wrong'}: {_esc(choices[i].why)}</li>"
        for pos, i in enumerate(order)
        if getattr(choices[i], "why", "")
    ]
    return "<ul class=why>" + "".join(rows) + "</ul>" if rows else ""


def anki_package(
    questions: Sequence[QuestionModel],
    atlas: Atlas,
    view_for: ViewFor,
    deck_name: str = "Nerve Mapping Trainer",
) -> ExportResult:
    """An ``.apkg`` with a card for every question whose view is rendered.

    * identify and territory: the highlighted nerve or shaded skin → the nerve's name;
    * locate, multi-site and trace: the view and the prompt → the target drawn (a site with its
      tolerance ring, a course) and the answer in words;
    * clinical: the options in a fixed shuffled order → the right ones, by letter;
    * case: the vignette and every step → each step's answer, with the placing steps drawn.
    """
    import genanki

    back = "<hr id=answer><b>{{Answer}}</b><div class=why>{{Why}}</div><div class=ref>{{Reference}}</div>"
    image_model = genanki.Model(
        ANKI_MODEL_IMAGE_ID,
        "Nerve Mapping Trainer: picture",
        fields=[
            {"name": "Prompt"},
            {"name": "Image"},
            {"name": "Answer"},
            {"name": "Why"},
            {"name": "Reference"},
        ],
        templates=[
            {"name": "Name the nerve", "qfmt": "{{Prompt}}<br>{{Image}}", "afmt": "{{FrontSide}}" + back}
        ],
        css=ANKI_CSS,
    )
    text_model = genanki.Model(
        ANKI_MODEL_TEXT_ID,
        "Nerve Mapping Trainer: clinical",
        fields=[
            {"name": "Question"},
            {"name": "Choices"},
            {"name": "Answer"},
            {"name": "Why"},
            {"name": "Reference"},
        ],
        templates=[
            {"name": "Clinical", "qfmt": "{{Question}}<br>{{Choices}}", "afmt": "{{FrontSide}}" + back}
        ],
        css=ANKI_CSS,
    )
    # The back shows the answer image instead of the front's plain view (not both).
    body_model = genanki.Model(
        ANKI_MODEL_BODY_ID,
        "Nerve Mapping Trainer: on the body",
        fields=[
            {"name": "Prompt"},
            {"name": "Image"},
            {"name": "AnswerImage"},
            {"name": "Answer"},
            {"name": "Why"},
            {"name": "Reference"},
        ],
        templates=[
            {
                "name": "Place on the body",
                "qfmt": "{{Prompt}}<br>{{Image}}",
                "afmt": "{{Prompt}}<br>{{AnswerImage}}" + back,
            }
        ],
        css=ANKI_CSS,
    )
    deck = genanki.Deck(_stable_id(deck_name), deck_name)
    skipped: list[str] = []
    count = 0
    with tempfile.TemporaryDirectory(prefix="trainer-anki-") as tmp:
        media: dict[str, Path] = {}

        def add_media(name: str, write: Callable[[Path], None]) -> str:
            if name not in media:
                path = Path(tmp) / name
                write(path)
                media[name] = path
            return f'<img src="{html.escape(name)}">'

        def plain_view(view: RenderedView) -> str:
            return add_media(
                f"trainer_{view.key}.png", lambda p: p.write_bytes(Path(view.image_path).read_bytes())
            )

        def drawn(q: QuestionModel, view: RenderedView, targets: Sequence[str]) -> str:
            return add_media(
                f"trainer_{q.id}__answer.jpg",
                lambda p: p.write_bytes(to_jpeg_bytes(answer_image(q, view, atlas, targets), quality=85)),
            )

        def note(model: Any, q: QuestionModel, fields: list[str]) -> None:
            nonlocal count
            deck.add_note(genanki.Note(model=model, fields=fields, guid=genanki.guid_for("trainer", q.id)))
            count += 1

        for q in questions:
            refs = _esc(_citations(q, atlas))
            why = _esc(q.explanation)
            view = view_for(q) if q.view else None
            side = f"<div class=ref>{_esc(view.side)} side</div>" if view is not None else ""
            if q.type in ("identify", "territory"):
                if view is None or not q.targets or q.targets[0] not in view.items:
                    skipped.append(f"{q.id}: its view has not been rendered")
                    continue
                target = q.targets[0]
                nerve_id = atlas.territories[target].nerve if target in atlas.territories else target
                image = add_media(
                    f"trainer_{view.key}__{target}.png",
                    lambda p, v=view, t=target: p.write_bytes(to_png_bytes(highlighted_image(v, atlas, t))),
                )
                prompt = (
                    "Which nerve is highlighted?"
                    if q.type == "identify"
                    else "Which nerve supplies the shaded skin?"
                )
                note(image_model, q, [_esc(prompt), image, _esc(atlas.name_of(nerve_id)), why, refs])
            elif q.type in PIN_TYPES:
                if view is None or not q.targets or any(t not in view.items for t in q.targets):
                    skipped.append(f"{q.id}: its view has not been rendered")
                    continue
                prompt = _esc(q.prompt) + side
                note(
                    body_model,
                    q,
                    [
                        prompt,
                        plain_view(view),
                        drawn(q, view, q.targets),
                        _pin_answer(q.type, q.targets, q.tolerance_cm, atlas),
                        why,
                        refs,
                    ],
                )
            elif q.type == "clinical":
                question = (f"<p>{_esc(q.vignette)}</p>" if q.vignette else "") + _esc(q.prompt)
                choices, answer = _choice_lists(q.id, q.choices)
                note(text_model, q, [question, choices, answer, why + _choice_reasons(q.id, q.choices), refs])
            elif q.type == "case":
                placing = [t for st in q.steps if st.type in ("locate", "multi_site") for t in st.targets]
                if placing and (view is None or any(t not in view.items for t in placing)):
                    skipped.append(f"{q.id}: its view has not been rendered")
                    continue
                front = (f"<p>{_esc(q.vignette)}</p>" if q.vignette else "") + f"<p>{_esc(q.prompt)}</p>"
                answers: list[str] = []
                for i, step in enumerate(q.steps, start=1):
                    front += f"<p><b>Step {i}.</b> {_esc(step.prompt)}</p>"
                    if step.type in ("identify", "clinical"):
                        shown, right = _choice_lists(f"{q.id}:{i}", step.choices)
                        front += shown
                        answers.append(f"Step {i}: {right}" + _choice_reasons(f"{q.id}:{i}", step.choices))
                    else:
                        answers.append(
                            f"Step {i}: " + _pin_answer(step.type, step.targets, q.tolerance_cm, atlas)
                        )
                images = (
                    (plain_view(view), drawn(q, view, placing)) if placing and view is not None else ("", "")
                )
                note(
                    body_model,
                    q,
                    [
                        front + (side if placing else ""),
                        images[0],
                        images[1],
                        "<br>".join(answers),
                        why,
                        refs,
                    ],
                )
            else:
                skipped.append(f"{q.id}: Anki has no card for a {q.type} question")
        out = Path(tmp) / "deck.apkg"
        genanki.Package(deck, media_files=[str(p) for p in media.values()]).write_to_file(str(out))
        data = out.read_bytes()
    return ExportResult(data, count, skipped)


# ------------------------------------------------------------------------------------ CSV


def rows_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """Rows (already made spreadsheet-safe by the store) as CSV with a header line."""
    buf = io.StringIO()
    if not rows:
        return ""
    w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


QUESTION_CSV_COLUMNS = (
    "bank",
    "id",
    "type",
    "view",
    "targets",
    "prompt",
    "vignette",
    "choices",
    "correct",
    "tolerance_cm",
    "zero_cm",
    "difficulty",
    "technique",
    "explanation",
    "references",
)


def questions_csv(banks: Sequence[tuple[str, Sequence[QuestionModel]]]) -> ExportResult:
    """Questions as a spreadsheet: one row each, choices in the same fixed shuffled order as Anki.

    Text cells a spreadsheet would run as a formula are neutralised, and control characters
    dropped (a stray one would split a row in some readers).
    """
    from trainer.store.store import _csv_safe  # the one home of the CSV-injection rule

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(QUESTION_CSV_COLUMNS)
    count = 0
    for bank_id, questions in banks:
        for q in questions:
            shown = [q.choices[i] for i in fixed_order(q.id, len(q.choices))]
            row = [
                bank_id,
                q.id,
                q.type,
                q.view or "",
                " | ".join(q.targets),
                q.prompt,
                q.vignette or "",
                " | ".join(c.text for c in shown),
                " | ".join(c.text for c in shown if c.correct),
                f"{q.tolerance_cm:g}",
                f"{q.zero_cm:g}",
                q.difficulty,
                q.technique,
                q.explanation,
                " | ".join(q.references),
            ]
            w.writerow([_csv_safe(clean_text(v)) if isinstance(v, str) else v for v in row])
            count += 1
    return ExportResult(buf.getvalue().encode("utf-8"), count)


# -------------------------------------------------------------------------- region sheet


def region_sheet(view: RenderedView, atlas: Atlas, title: str | None = None) -> Image.Image:
    """A printable page: the view with nerves, sites, safety zones, labels, legend and scale."""
    base = view_image(view)
    drawn, legend, key = draw_atlas_overlay(base, view, atlas, layers=("avoid", "nerves", "sites"))
    v = atlas.views.get(view.view_id)
    region = atlas.regions.get(view.region)
    heading = (
        title
        or f"{region.name if region else view.region}: {v.side if v else view.side} side ({atlas.body_types[view.body_type].name if view.body_type in atlas.body_types else view.body_type})"
    )
    notes = ["Nerve Mapping Trainer · a teaching aid, not clinical guidance: anatomy varies, palpate."]
    unverified = [
        atlas.name_of(i)
        for i, it in view.items.items()
        if it.any_visible and (x := atlas.item(i)) is not None and not getattr(x, "verified", True)
    ]
    if unverified:
        notes.append(f"{len(unverified)} item(s) on this sheet are not yet verified against their sources.")
    return compose_handout(drawn, heading, legend, view.camera.px_per_cm, notes, key)


def region_sheet_png(view: RenderedView, atlas: Atlas, title: str | None = None) -> bytes:
    return to_png_bytes(region_sheet(view, atlas, title))


def site_positions_px(view: RenderedView) -> dict[str, tuple[float, float]]:
    """Site pixels on the render (used by tests and the sheet)."""
    return {
        i: (float(it.points_px[0, 0]), float(it.points_px[0, 1]))
        for i, it in view.items.items()
        if it.kind == "site" and bool(np.asarray(it.visible)[0])
    }
