"""Anki ``.apkg`` through ``genanki``: every question type becomes a card.

A picture with the nerve highlighted (or the territory shaded) → the nerve's name; a pin
question (locate, multi-site, trace) → the view and the prompt, and on the back the target
drawn as the app's reveal draws it (a site with its tolerance ring, or the course) with the
answer in words; clinical and case questions → their choices, in a fixed shuffled order.
"""

from __future__ import annotations

import hashlib
import html
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.export_common import (
    ExportResult,
    ViewFor,
    _citations,
    _esc,
    answer_image,
    highlighted_image,
)
from trainer.authoring.photo import to_jpeg_bytes, to_png_bytes
from trainer.quiz.choices import fixed_order
from trainer.quiz.kinds import (
    is_case,
    is_clinical,
    is_territory,
    is_trace,
    parts,
    pictures_an_item,
    places_pins,
    placing_targets,
)
from trainer.quiz.models import QuestionModel

ANKI_MODEL_IMAGE_ID = 1_734_551_207
ANKI_MODEL_TEXT_ID = 1_734_551_208
ANKI_MODEL_BODY_ID = 1_734_551_209


def _stable_id(text: str) -> int:
    """Anki deck ids must be stable across exports, so re-imports update instead of duplicating."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) % (1 << 31) + (1 << 30)


ANKI_CSS = (
    ".card { font-family: sans-serif; font-size: 18px; text-align: center; } img { max-width: 100%; }"
    " .why { font-size: 15px; color: #444; text-align: left; } .ref { font-size: 12px; color: #777; }"
)


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


def _pin_answer(traced: bool, targets: Sequence[str], tolerance_cm: float, atlas: Atlas) -> str:
    """The answer of a placing question or step as card HTML."""
    if traced:
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


def _rationales(key: str, choices: Sequence[Any]) -> str:
    """Why each option is right or wrong (the banks' ``why`` texts), lettered as on the front."""
    order = fixed_order(key, len(choices))
    rows = [
        f"<li><b>{chr(ord('a') + pos)}.</b> {'right' if choices[i].correct else 'wrong'}: {_esc(choices[i].why)}</li>"
        for pos, i in enumerate(order)
        if choices[i].why
    ]
    return "<ul class=why style='text-align:left'>" + "".join(rows) + "</ul>" if rows else ""


def _write_highlighted(path: Path, *, view: RenderedView, atlas: Atlas, item_id: str) -> None:
    path.write_bytes(to_png_bytes(highlighted_image(view, atlas, item_id)))


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

        def add_media(name: str, write: Callable[[Path], object]) -> str:
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
            if pictures_an_item(q):
                if view is None or not q.targets or q.targets[0] not in view.items:
                    skipped.append(f"{q.id}: its view has not been rendered")
                    continue
                target = q.targets[0]
                nerve_id = atlas.territories[target].nerve if target in atlas.territories else target
                image = add_media(
                    f"trainer_{view.key}__{target}.png",
                    partial(_write_highlighted, view=view, atlas=atlas, item_id=target),
                )
                prompt = (
                    "Which nerve is highlighted?"
                    if not is_territory(q)
                    else "Which nerve supplies the shaded skin?"
                )
                note(image_model, q, [_esc(prompt), image, _esc(atlas.name_of(nerve_id)), why, refs])
            elif places_pins(q):
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
                        _pin_answer(is_trace(q), q.targets, q.tolerance_cm, atlas),
                        why,
                        refs,
                    ],
                )
            elif is_clinical(q):
                question = (f"<p>{_esc(q.vignette)}</p>" if q.vignette else "") + _esc(q.prompt)
                choices, answer = _choice_lists(q.id, q.choices)
                note(text_model, q, [question, choices, answer, why + _rationales(q.id, q.choices), refs])
            elif is_case(q):
                placing = placing_targets(q)
                if placing and (view is None or any(t not in view.items for t in placing)):
                    skipped.append(f"{q.id}: its view has not been rendered")
                    continue
                front = (f"<p>{_esc(q.vignette)}</p>" if q.vignette else "") + f"<p>{_esc(q.prompt)}</p>"
                answers: list[str] = []
                case_why = why
                for part in parts(q):
                    i = part.index + 1
                    front += f"<p><b>Step {i}.</b> {_esc(part.prompt)}</p>"
                    if not part.places_pins:
                        shown, right = _choice_lists(f"{q.id}:{i}", part.choices)
                        front += shown
                        answers.append(f"Step {i}: {right}")
                        rationale = _rationales(f"{q.id}:{i}", part.choices)
                        case_why += f"<p><b>Step {i}.</b></p>{rationale}" if rationale else ""
                    else:
                        answers.append(
                            f"Step {i}: " + _pin_answer(False, part.targets, q.tolerance_cm, atlas)
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
                        case_why,
                        refs,
                    ],
                )
            else:
                skipped.append(f"{q.id}: Anki has no card for a {q.type} question")
        out = Path(tmp) / "deck.apkg"
        genanki.Package(deck, media_files=[str(p) for p in media.values()]).write_to_file(str(out))
        data = out.read_bytes()
    return ExportResult(data, count, skipped)
