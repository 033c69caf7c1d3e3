"""Moodle XML: ``ddmarker`` (drag-and-drop markers) for pin questions, ``multichoice`` for
choice questions.

The background image is base64 inside the XML, as Moodle requires, scaled to fit 600 × 400 px
(the classic ddmarker limit) with the drop zones scaled with it. A site becomes a circle of
``tolerance_cm``; a nerve course or a territory becomes a polygon. Every zone is made to pass
Moodle's own checks (:func:`moodle_zone`). Choice questions get Moodle's allowed fractions and
shuffled answers. What Moodle cannot express is reported in ``ExportResult.skipped``.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np
from PIL import Image

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.export_common import (
    ExportResult,
    ViewFor,
    _citations,
    _esc,
    _png_b64,
    highlighted_image,
    view_image,
)
from trainer.authoring.photo import visible_runs
from trainer.geometry import buffer_polyline
from trainer.quiz.choices import fixed_order
from trainer.quiz.kinds import asks_choices, is_territory, kind, places_sites, shows_picture
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


def _background_b64(view: RenderedView, scale: float, cache: dict[str, str]) -> str:
    """The view's image scaled for Moodle, encoded once per export (many questions share it)."""
    if view.key not in cache:
        img = view_image(view)
        if scale < 1.0:
            img = img.resize(_background_size(view, scale), Image.Resampling.LANCZOS)
        cache[view.key] = _png_b64(img)
    return cache[view.key]


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
    ET.SubElement(drag, "text").text = "Tap point" if is_territory(q) else "Injection point"
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
    if view is not None and shows_picture(q):
        name = f"{view.key}__{q.targets[0]}.png"
        text_el = qt.find("text")
        assert text_el is not None  # made by _text above
        text_el.text = (
            text
            + f'<p><img src="@@PLUGINFILE@@/{name}" alt="body view" width="{min(view.width_px, 600)}"></p>'
        )
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
        if places_sites(q):
            view = view_for(q)
            if view is None:
                skipped.append(f"{q.id}: its view has not been rendered")
                continue
            count += _moodle_ddmarker(root, q, atlas, view, skipped, cache)
        elif asks_choices(q):
            view = view_for(q) if kind(q).on_a_view else None
            _moodle_multichoice(root, q, atlas, view)
            count += 1
        else:
            skipped.append(f"{q.id}: Moodle has no question type for a {q.type} question")
    ET.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return ExportResult(data, count, skipped)
