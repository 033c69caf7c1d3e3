"""Take content elsewhere: Moodle XML, an Anki deck, CSV, and a printable region sheet.

Pure functions from questions and rendered views to bytes or text; the caller offers them
as downloads. What cannot be expressed in the target format is *reported*, never dropped
silently (``ExportResult.skipped``).

Moodle XML lives in :mod:`trainer.authoring.moodle`, Anki in :mod:`trainer.authoring.anki`,
what they share in :mod:`trainer.authoring.export_common`; this module keeps the CSV and the
region sheet and re-exports the rest, so ``trainer.authoring.exports`` stays the one import.

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

import csv
import io
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.anki import anki_package
from trainer.authoring.export_common import (
    ExportResult,
    ViewFor,
    answer_image,
    draw_shapes,
    highlighted_image,
    view_image,
    view_loader,
)
from trainer.authoring.moodle import moodle_fraction, moodle_xml, moodle_zone
from trainer.authoring.photo import compose_handout, draw_atlas_overlay, to_png_bytes
from trainer.quiz.choices import fixed_order
from trainer.quiz.models import QuestionModel
from trainer.safetext import clean_text

__all__ = [
    "QUESTION_CSV_COLUMNS",
    "ExportResult",
    "ViewFor",
    "anki_package",
    "answer_image",
    "draw_shapes",
    "highlighted_image",
    "moodle_fraction",
    "moodle_xml",
    "moodle_zone",
    "questions_csv",
    "region_sheet",
    "region_sheet_png",
    "rows_csv",
    "site_positions_px",
    "view_image",
    "view_loader",
]


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
