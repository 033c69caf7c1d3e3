"""The author page's decisions, without Streamlit: what the form asks for each question type,
what a click or a list edit does to the targets, the preview's try, what Save and Merge write,
and what the export tab offers.

Files are read and written only in the folders the caller passes (the author banks and the
shipped banks); everything else is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.questions import (
    TARGET_KINDS,
    MergeReport,
    TargetChange,
    apply_click,
    bank_path,
    build_question,
    default_choices,
    merge_questions,
    new_bank,
    question_ids,
    save_question,
    snap_click,
    suggest_id,
    target_options,
    targets_words,
    write_bank,
)
from trainer.errors import Problem
from trainer.quiz.models import BankFile, QuestionModel
from trainer.quiz.session import pins_needed
from trainer.scoring.score import Answer, score
from trainer.store.records import LiveSession


@dataclass(frozen=True)
class TypeForm:
    """What the author form asks for one question type."""

    label: str
    on_a_view: bool  # drawn on a body view, with targets (a clinical question is text only)
    single_target: bool  # one target; a click replaces it (multi-site adds and removes)
    measured: bool  # scored by distance, so the tolerance fields apply
    choices: bool  # always has choices to tick
    modes: bool  # the learner either names the shaded area or taps inside it (territory)
    several_correct: bool  # may have several correct choices


FORMS: dict[str, TypeForm] = {
    "locate": TypeForm("Locate (one pin)", True, True, True, False, False, False),
    "multi_site": TypeForm("Multi-site (several pins)", True, False, True, False, False, False),
    "trace": TypeForm("Trace a course", True, True, True, False, False, False),
    "identify": TypeForm("Identify the highlighted nerve", True, True, False, True, False, False),
    "territory": TypeForm("Territory", True, True, True, False, True, False),
    "clinical": TypeForm("Clinical (multiple choice)", False, False, False, True, False, True),
}
TERRITORY_MODES = {"name": "names the nerve of the shaded area", "tap": "taps inside the territory"}
DIFFICULTIES = {1: "easy", 2: "medium", 3: "hard"}
#: Colours of the targets drawn on the author's image, by kind.
KIND_COLOURS = {"site": "#12a150", "nerve": "#1f77ff", "territory": "rgba(90,140,255,0.8)"}
TERRITORY_FILL = "rgba(90,140,255,0.25)"
#: "Not exported: ..." lists this many questions, then "…".
SKIPPED_SHOWN = 20


def mode_of(qtype: str, chosen: str | None) -> str | None:
    """The territory mode (naming by default); None for the types that have none."""
    return (chosen or "name") if FORMS[qtype].modes else None


def needs_choices(qtype: str, mode: str | None) -> bool:
    return FORMS[qtype].choices or mode == "name"


def choices_heading(qtype: str) -> str:
    return "**Choices** (tick the correct one" + ("s" if FORMS[qtype].several_correct else "") + ")"


def snap_hint(qtype: str) -> str:
    kinds = target_kinds(qtype)
    return (
        "Click on the image to pick a target: the click snaps to the nearest "
        + " or ".join(kinds)
        + " within 3 cm on the body. Or choose from the list."
    )


def target_kinds(qtype: str) -> tuple[str, ...]:
    """Which atlas items a click may pick for this type."""
    return TARGET_KINDS[qtype]


# -- targets ---------------------------------------------------------------------------------------


def targets_kept(view: RenderedView | None, atlas: Atlas, qtype: str, targets: Sequence[str]) -> list[str]:
    """After a change of view or type, the targets the new one can still use."""
    options = target_options(view, atlas, qtype)
    return [t for t in targets if t in options]


def click(
    view: RenderedView, atlas: Atlas, qtype: str, targets: Sequence[str], x_px: float, y_px: float
) -> TargetChange:
    """A click on the image: snap it to a target of an allowed kind and add, replace or remove it."""
    snap = snap_click(view, x_px, y_px, target_kinds(qtype))
    return apply_click(targets, snap, FORMS[qtype].single_target, atlas.name_of)


def list_edit_message(targets: Sequence[str], atlas: Atlas) -> str:
    return "Changed in the list. " + targets_words(targets, atlas.name_of)


def target_shapes(view: RenderedView, targets: Sequence[str]) -> list[dict[str, Any]]:
    """The chosen targets drawn on the author's image: sites as dots, courses as lines, areas shaded."""
    w = max(view.width_px, view.height_px) / 150
    shapes: list[dict[str, Any]] = []
    for t in targets:
        it = view.items.get(t)
        if it is None:
            continue
        if it.kind == "site":
            x, y = it.points_px[0]
            shapes.append(
                {
                    "type": "circle",
                    "x": float(x),
                    "y": float(y),
                    "r": w * 1.5,
                    "stroke": "white",
                    "fill": KIND_COLOURS["site"],
                    "width": w / 3,
                }
            )
        elif it.kind == "nerve":
            pts = [[float(a), float(b)] for (a, b), vis in zip(it.points_px, it.visible, strict=True) if vis]
            shapes.append({"type": "polyline", "points": pts, "stroke": KIND_COLOURS["nerve"], "width": w})
        else:
            pts = [[float(a), float(b)] for a, b in it.points_px]
            shapes.append(
                {
                    "type": "polygon",
                    "points": pts,
                    "stroke": KIND_COLOURS["territory"],
                    "fill": TERRITORY_FILL,
                    "width": w / 2,
                }
            )
    return shapes


# -- choices and the draft -------------------------------------------------------------------------


def seed_choices(atlas: Atlas, qtype: str, targets: Sequence[str]) -> list[dict[str, Any]]:
    """The choices table to start from: the target's nerve among its neighbours, else two blank rows."""
    seeded = default_choices(atlas, targets[0]) if FORMS[qtype].on_a_view and targets else []
    return [{"text": c.text, "correct": c.correct, "why": ""} for c in seeded] or [
        {"text": "", "correct": True, "why": ""},
        {"text": "", "correct": False, "why": ""},
    ]


def choices_from_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The edited table as choices: blank rows dropped, text and reasons trimmed."""
    out: list[dict[str, Any]] = []
    for row in rows:
        text = str(row.get("text") or "").strip()
        if not text:
            continue
        choice: dict[str, Any] = {"text": text, "correct": bool(row.get("correct"))}
        why = str(row.get("why") or "").strip()
        if why:
            choice["why"] = why
        out.append(choice)
    return out


def default_id(
    atlas: Atlas, view_id: str, qtype: str, targets: Sequence[str], prompt: str, taken: Mapping[str, str]
) -> str:
    """An unused id made from the view, type and first target (or the prompt, for a clinical question)."""
    if FORMS[qtype].on_a_view:
        return suggest_id(f"{atlas.views[view_id].base_id}_{qtype}_{(list(targets) or ['q'])[0]}", taken)
    return suggest_id(f"clinical_{prompt[:30]}", taken)


@dataclass(frozen=True)
class Draft:
    """The form as typed."""

    qid: str
    qtype: str
    view_id: str
    side_only: bool
    targets: tuple[str, ...]
    prompt: str
    explanation: str
    tolerance_cm: float
    zero_cm: float
    difficulty: int
    technique: str
    references: tuple[str, ...]
    choices: tuple[dict[str, Any], ...]
    multi_answer: bool
    mode: str | None


def draft_question(atlas: Atlas, draft: Draft) -> tuple[QuestionModel | None, list[Problem]]:
    """The question the form describes, or every problem with it (the validator's own lines).

    Both sides are practised unless the author ticked "only this side": the question then
    names the full view id instead of the view's base id.
    """
    view = draft.view_id if draft.side_only else atlas.views[draft.view_id].base_id
    return build_question(
        atlas,
        qid=draft.qid,
        qtype=draft.qtype,
        prompt=draft.prompt,
        view=view,
        targets=list(draft.targets),
        tolerance_cm=draft.tolerance_cm,
        zero_cm=draft.zero_cm,
        explanation=draft.explanation,
        references=list(draft.references),
        choices=list(draft.choices),
        multi_answer=draft.multi_answer,
        mode=draft.mode,
        difficulty=draft.difficulty,
        technique=draft.technique,
    )


# -- the preview's try -----------------------------------------------------------------------------


def takes_pins(atlas: Atlas, q: QuestionModel) -> bool:
    """The preview lets the author tap as a learner would (pin questions only)."""
    return pins_needed(atlas, q)[1] > 0


def try_pins(
    atlas: Atlas, q: QuestionModel, pins: Sequence[tuple[float, float]], x_px: float, y_px: float
) -> list[tuple[float, float]]:
    """The try's pins after a tap: a one-pin question moves its pin, others add one (up to their limit)."""
    most = pins_needed(atlas, q)[1]
    if most <= 1:
        return [(x_px, y_px)]
    return [*pins, (x_px, y_px)][-most:]


def try_result(
    atlas: Atlas, q: QuestionModel, pins: Sequence[tuple[float, float]], view: RenderedView
) -> str:
    res = score(q, Answer(pins_px=tuple(pins)), view, atlas)
    return f"Your try scores {res.percent}%: {res.feedback}"


# -- saving and merging ----------------------------------------------------------------------------

NEW_BANK = "__new__"


def bank_label(bank_id: str, banks: Mapping[str, BankFile]) -> str:
    return "New bank…" if bank_id == NEW_BANK else f"{banks[bank_id].bank.title} ({bank_id})"


def all_ids(folders: Sequence[Path]) -> dict[str, str]:
    """Every question id used in these folders' banks (a new question's id must be none of them)."""
    return question_ids(folders)


def ids_elsewhere(folders: Sequence[Path], author_folder: Path, bank_id: str) -> dict[str, str]:
    """Question ids used in every bank but the author bank ``bank_id`` (ids are unique across banks)."""
    return question_ids(folders, except_file=bank_path(author_folder, bank_id))


@dataclass(frozen=True)
class Saved:
    """A save's outcome: the file written, or why nothing was."""

    path: Path | None
    message: str


def save(
    folder: Path,
    shipped: Path,
    banks: Mapping[str, BankFile],
    choice: str,
    new_id: str,
    new_title: str,
    q: QuestionModel,
) -> Saved:
    """Append the question to the chosen bank (or a new one) in the author folder; refuse a taken id."""
    try:
        if choice == NEW_BANK:
            bank_id = new_id.strip()
            if bank_id in banks:
                raise ValueError(f"a bank with id '{bank_id}' already exists; choose it from the list")
            bank_path(folder, bank_id)  # a readable refusal of an id no file could be named after
            bank = new_bank(bank_id, new_title.strip() or bank_id)
        else:
            bank = banks[choice]
        path = save_question(folder, bank, q, ids_elsewhere([shipped, folder], folder, bank.bank.id))
    except (ValueError, OSError) as exc:
        return Saved(None, f"Not saved: {exc}")
    return Saved(path, f"Saved '{q.id}' to {path}. It is available in Practice and Host a class now.")


def merge_into_options(upload: BankFile, banks: Mapping[str, BankFile]) -> list[str]:
    """Where an uploaded bank can go: its own id first (new or existing), then the other author banks."""
    return [upload.bank.id, *(b for b in banks if b != upload.bank.id)]


def merge_into_label(bank_id: str, banks: Mapping[str, BankFile]) -> str:
    return f"{bank_id} ({'existing' if bank_id in banks else 'new bank'})"


def merge_plan(
    folder: Path,
    shipped: Path,
    banks: Mapping[str, BankFile],
    upload: BankFile,
    into: str,
    rename_suffix: str | None = None,
) -> MergeReport:
    """What merging the upload into ``into`` would do (nothing is written)."""
    target = banks.get(into) or new_bank(into, upload.bank.title, upload.bank.description)
    return merge_questions(
        target, upload.questions, ids_elsewhere([shipped, folder], folder, into), rename_suffix
    )


def merge(
    folder: Path,
    shipped: Path,
    banks: Mapping[str, BankFile],
    upload: BankFile,
    into: str,
    rename_suffix: str | None,
) -> list[str]:
    """Merge and write the bank; returns what happened, line by line."""
    report = merge_plan(folder, shipped, banks, upload, into, rename_suffix)
    write_bank(folder, report.bank)
    return report.lines() or ["Nothing to merge."]


def conflict_warning(report: MergeReport) -> str | None:
    if not report.conflicts:
        return None
    return f"{len(report.conflicts)} id(s) are already used and will not overwrite anything: " + ", ".join(
        report.conflicts
    )


# -- exports ---------------------------------------------------------------------------------------


def export_banks(shipped: Mapping[str, BankFile], authored: Mapping[str, BankFile]) -> dict[str, BankFile]:
    """Every bank that can be exported, keyed ``quiz:<id>`` (shipped) or ``author:<id>`` (yours)."""
    return {**{f"quiz:{k}": v for k, v in shipped.items()}, **{f"author:{k}": v for k, v in authored.items()}}


def is_authored(key: str) -> bool:
    return key.startswith("author:")


def export_label(key: str, banks: Mapping[str, BankFile]) -> str:
    return f"{banks[key].bank.title} ({'yours' if is_authored(key) else 'shipped'})"


def exported_questions(
    keys: Sequence[str], banks: Mapping[str, BankFile], loaded: Mapping[str, QuestionModel]
) -> list[QuestionModel]:
    """The chosen banks' questions, as loaded (with their checks) where the app has them."""
    return [loaded.get(q.id, q) for k in keys for q in banks[k].questions]


def skipped_note(skipped: Sequence[str]) -> str | None:
    if not skipped:
        return None
    return (
        "Not exported: " + "; ".join(skipped[:SKIPPED_SHOWN]) + (" …" if len(skipped) > SKIPPED_SHOWN else "")
    )


def sheet_name(view_id: str, body_type: str) -> str:
    return f"{view_id}__{body_type}-sheet.png"


def session_label(session: LiveSession) -> str:
    if session.created_at is None:
        return session.join_code
    return f"{session.join_code} · {session.title or ''} · {session.created_at:%d %b %H:%M}"


def session_labels(sessions: Sequence[LiveSession]) -> dict[str, str]:
    return {s.id: session_label(s) for s in sessions}
