"""Authoring questions: form values → a checked QuestionModel, click snapping, bank merge, YAML.

Pure apart from reading and writing bank files in a folder the caller names. Every check
reuses the validator's rules, so the author page and ``python -m trainer validate`` report
the same ``file: id: field: problem`` lines.

>>> suggest_id("Tap the IPBSN crossing!", {"tap_the_ipbsn_crossing"})
'tap_the_ipbsn_crossing_2'
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from trainer.atlas.core import Atlas
from trainer.atlas.files import validate_model
from trainer.atlas.rendered import RenderedView
from trainer.errors import Problem
from trainer.geometry import closest_on_polyline, points_in_polygon
from trainer.quiz.bank import _check_question, bank_paths, check_questions, parse_bank_data, read_banks
from trainer.quiz.choices import fixed_order
from trainer.quiz.kinds import KINDS, is_clinical, is_territory, type_asks_choices
from trainer.quiz.models import BankFile, BankInfo, ChoiceModel, QuestionModel, Tags
from trainer.quiz.views import view_region

AUTHOR_TYPES: tuple[str, ...] = ("locate", "multi_site", "trace", "identify", "territory", "clinical")
# Which atlas items a click may pick for each question type.
#: Atlas item kinds each type may target (from :data:`trainer.quiz.kinds.KINDS`).
TARGET_KINDS: dict[str, tuple[str, ...]] = {
    t: k.target_kinds for t, k in KINDS.items() if not k.answer_mode == "both"
}
SNAP_CM = 3.0
# Sites lie on their nerve, so a click on a site is also ~0 cm from the nerve: a site within
# this distance wins over a nerve that is nearer by less than the same margin.
SITE_PRIORITY_CM = 1.0
MAX_BANK_BYTES = 2 * 1024 * 1024


# ---------------------------------------------------------------------------- snapping


@dataclass(frozen=True)
class Snap:
    item_id: str
    kind: str
    distance_cm: float


def snap_click(
    view: RenderedView,
    x_px: float,
    y_px: float,
    kinds: Sequence[str] = ("site", "nerve"),
    max_cm: float = SNAP_CM,
    allowed: Iterable[str] | None = None,
) -> Snap | None:
    """The atlas item a click means: nearest site or course on the body within ``max_cm``.

    The click is lifted onto the skin through the depth map, so "nearest" is measured in cm
    on the body, as scoring does. Territories count when the click is inside them.
    """
    pts, on_body = view.lift([x_px], [y_px])
    if not on_body[0]:
        return None
    p = pts[0]
    ok = set(allowed) if allowed is not None else None
    best: dict[str, tuple[float, str]] = {}
    for item in view.items.values():
        if item.kind not in kinds or not item.any_visible or (ok is not None and item.id not in ok):
            continue
        if item.kind == "territory":
            if bool(points_in_polygon([[x_px, y_px]], item.points_px)[0]):
                d = 0.0
            else:
                ring = np.vstack([item.points_cm, item.points_cm[:1]])
                d = float(closest_on_polyline(p.reshape(1, 3), ring)[0][0])
        elif len(item.points_cm) == 1:
            d = float(np.linalg.norm(item.points_cm[0] - p))
        else:
            d = float(closest_on_polyline(p.reshape(1, 3), item.points_cm)[0][0])
        if d <= max_cm and (item.kind not in best or d < best[item.kind][0]):
            best[item.kind] = (d, item.id)
    if not best:
        return None
    site = best.get("site")
    if site is not None and site[0] <= SITE_PRIORITY_CM:
        others = [v[0] for k, v in best.items() if k != "site"]
        if not others or site[0] <= min(others) + SITE_PRIORITY_CM:
            return Snap(site[1], "site", site[0])
    kind, (d, item_id) = min(best.items(), key=lambda kv: kv[1][0])
    return Snap(item_id, kind, d)


def target_options(view: RenderedView | None, atlas: Atlas, qtype: str) -> list[str]:
    """Ids a question of this type may target on this view (visible, of an allowed kind)."""
    if view is None:
        return []
    kinds = KINDS[qtype].target_kinds if qtype in KINDS else ()
    tables = {"site": atlas.sites, "nerve": atlas.nerves, "territory": atlas.territories}
    return [
        i
        for i, it in view.items.items()
        if it.kind in kinds and it.any_visible and i in tables.get(it.kind, {})
    ]


# ---------------------------------------------------------------------------- building


def suggest_id(text: str, taken: Iterable[str]) -> str:
    """A valid, unused question id made from free text."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:48].strip("_") or "question"
    if not base[0].isalnum():
        base = "q_" + base
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while f"{base}_{n}" in used:
        n += 1
    return f"{base}_{n}"


def default_choices(atlas: Atlas, target: str, n: int = 4) -> list[ChoiceModel]:
    """Name-the-nerve choices: the right nerve and nerves of the same region, in a shuffled order.

    Authors tend to keep the order they are given, and a bank whose right answer is always
    first teaches learners to tap the first option; so the right nerve's position comes from
    :func:`~trainer.quiz.choices.fixed_order` (stable for a nerve, spread across nerves).
    """
    nerve_id = target
    if target in atlas.territories:
        nerve_id = atlas.territories[target].nerve
    elif target in atlas.sites:
        nerve_id = atlas.sites[target].nerve
    nerve = atlas.nerves.get(nerve_id)
    if nerve is None:
        return []
    others = [x for x in atlas.nerves.values() if x.region == nerve.region and x.id != nerve.id]
    others += [x for x in atlas.nerves.values() if x.region != nerve.region and x.id != nerve.id]
    options = [ChoiceModel(text=nerve.name, correct=True, item=nerve.id)]
    options += [ChoiceModel(text=x.name, item=x.id) for x in others[: n - 1]]
    return [options[i] for i in fixed_order(f"author:{target}", len(options))]


# ------------------------------------------------------------------- picking targets


@dataclass(frozen=True)
class TargetChange:
    """What one click on the author's image did to the target list, said in words."""

    targets: tuple[str, ...]
    message: str


def targets_words(targets: Sequence[str], name_of: Callable[[str], str]) -> str:
    """The target list as the caption shows it.

    >>> targets_words(["a", "b"], str.upper)
    'Targets (2): A, B.'
    >>> targets_words([], str.upper)
    'No targets yet.'
    """
    if not targets:
        return "No targets yet."
    return f"Targets ({len(targets)}): {', '.join(name_of(t) for t in targets)}."


def apply_click(
    current: Sequence[str], snap: Snap | None, single: bool, name_of: Callable[[str], str]
) -> TargetChange:
    """Add, replace or remove the clicked target, and say which (never a silent removal).

    A question with one target replaces it; a multi-site question adds a new target and
    removes one clicked again.

    >>> apply_click(["a"], Snap("a", "site", 0.2), single=False, name_of=str.upper).message
    'Removed A: it was a target and you clicked it again. No targets yet.'
    """
    cur = list(current)
    if snap is None:
        return TargetChange(
            tuple(cur),
            f"Nothing to snap to within {SNAP_CM:g} cm of that click; "
            f"the targets are unchanged. {targets_words(cur, name_of)}",
        )
    name, away = name_of(snap.item_id), f"{snap.distance_cm:.1f} cm from the click"
    if single:
        if cur == [snap.item_id]:
            return TargetChange(tuple(cur), f"{name} is already the target ({away}).")
        replaced = f", replacing {', '.join(name_of(t) for t in cur)}" if cur else ""
        return TargetChange((snap.item_id,), f"Target set to {name} ({away}){replaced}.")
    if snap.item_id in cur:
        cur.remove(snap.item_id)
        return TargetChange(
            tuple(cur),
            f"Removed {name}: it was a target and you clicked it again. {targets_words(cur, name_of)}",
        )
    cur.append(snap.item_id)
    return TargetChange(tuple(cur), f"Added {name} ({away}). {targets_words(cur, name_of)}")


def _derived_tags(atlas: Atlas, view: str | None, targets: Sequence[str]) -> Tags:
    region = view_region(atlas, view)
    nerves: list[str] = []
    for t in targets:
        n = (
            t
            if t in atlas.nerves
            else atlas.sites[t].nerve
            if t in atlas.sites
            else (atlas.territories[t].nerve if t in atlas.territories else None)
        )
        if n and n not in nerves:
            nerves.append(n)
    conds: list[str] = []
    for t in targets:
        for c in atlas.sites[t].conditions if t in atlas.sites else ():
            if c not in conds:
                conds.append(c)
    return Tags(region=region, nerves=nerves, conditions=conds)


def build_question(
    atlas: Atlas,
    *,
    qid: str,
    qtype: str,
    prompt: str,
    view: str | None,
    targets: Sequence[str] = (),
    tolerance_cm: float = 1.0,
    zero_cm: float = 3.0,
    explanation: str = "",
    references: Sequence[str] = (),
    choices: Sequence[Mapping[str, Any] | ChoiceModel] = (),
    multi_answer: bool = False,
    mode: str | None = None,
    difficulty: int = 2,
    technique: str = "classic_pit",
    label: str = "author",
    check_visibility: bool = True,
) -> tuple[QuestionModel | None, list[Problem]]:
    """Turn the author form into a question, with every problem found (not just the first).

    Tags (region, nerves, conditions) are derived from the view and targets, so authored
    questions show up under the same practice filters as the shipped banks.
    """
    in_words = is_clinical(qtype)  # asked in words: no view, no targets
    data: dict[str, Any] = {
        "id": qid.strip(),
        "type": qtype,
        "prompt": prompt.strip(),
        "view": (view or None) if not in_words else None,
        "targets": list(targets) if not in_words else [],
        "tolerance_cm": float(tolerance_cm),
        "zero_cm": float(zero_cm),
        "explanation": explanation.strip(),
        "references": list(references),
        "difficulty": int(difficulty),
        "technique": technique,
        "tags": _derived_tags(
            atlas, view if not in_words else None, targets if not in_words else []
        ).model_dump(),
    }
    if is_territory(qtype):
        data["mode"] = mode or "name"
    if type_asks_choices(qtype, data.get("mode")):
        data["choices"] = [
            c.model_dump(exclude_none=True) if isinstance(c, ChoiceModel) else dict(c) for c in choices
        ]
    if in_words:
        data["multi_answer"] = bool(multi_answer)
    problems: list[Problem] = []
    q = validate_model(QuestionModel, data, label, problems)
    if q is None:
        # Pydantic locations have no id yet when the id itself is the problem; and its
        # cross-field check only runs once every field is valid, so repeat it here.
        out = [Problem(p.file, p.item or data["id"], p.field, p.message) for p in problems]
        if data["zero_cm"] <= data["tolerance_cm"] and not any("zero_cm" in p.message for p in out):
            out.append(Problem(label, data["id"], "zero_cm", "zero_cm must be larger than tolerance_cm"))
        return None, out
    if check_visibility:
        problems.extend(_check_question(atlas, label, q))
    else:
        from trainer.quiz.checks import question_problems

        problems.extend(Problem(label, q.id, f, m) for f, m in question_problems(atlas, q))
    return (q if not problems else None), problems


# ------------------------------------------------------------------------------- banks


def new_bank(bank_id: str, title: str, description: str = "") -> BankFile:
    return BankFile(
        schema_version=1, bank=BankInfo(id=bank_id, title=title, description=description), questions=[]
    )


def bank_to_yaml(bank: BankFile) -> str:
    """YAML an author can read and edit: defaults left out, keys in schema order."""
    data = bank.model_dump(mode="json", exclude_defaults=True)
    data = {"schema_version": 1, **{k: v for k, v in data.items() if k != "schema_version"}}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _yaml_data(text: str | bytes, label: str, problems: list[Problem]) -> Any:
    """Parsed YAML of an upload, or None with the reason added to ``problems``."""
    if isinstance(text, bytes):
        if len(text) > MAX_BANK_BYTES:
            problems.append(
                Problem(label, "", "", f"file is larger than {MAX_BANK_BYTES // 1024 // 1024} MB")
            )
            return None
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(label, "", "", "file is not UTF-8 text"))
            return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problems.append(Problem(label, "", "", f"YAML syntax error{where}: {getattr(exc, 'problem', exc)}"))
        return None
    except RecursionError:  # e.g. thousands of nested "[": PyYAML's composer recurses per level
        problems.append(Problem(label, "", "", "YAML nested too deeply to read (is this a quiz bank?)"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(label, "", "", "expected a mapping at the top of the file"))
        return None
    return data


def parse_bank(text: str | bytes, label: str) -> tuple[BankFile | None, list[Problem]]:
    """Parse bank YAML from an upload with the validator's messages (shape only, every question)."""
    problems: list[Problem] = []
    bank, _ = parse_bank_data(_yaml_data(text, label, problems), label, problems)
    return bank, problems


def check_upload(atlas: Atlas, text: str | bytes, label: str) -> tuple[BankFile | None, list[Problem]]:
    """Every problem of an uploaded bank at once, exactly as ``python -m trainer validate`` finds them.

    Shape problems of one question do not hide rule problems of the others. The bank is
    returned only when there is nothing to fix (nothing is merged otherwise).
    """
    problems: list[Problem] = []
    bank, good = parse_bank_data(_yaml_data(text, label, problems), label, problems)
    problems.extend(check_questions(atlas, label, bank, good, {}))
    return (bank if not problems else None), problems


def check_bank(atlas: Atlas, bank: BankFile, label: str) -> list[Problem]:
    """Every problem the CLI validator would report for this bank on its own."""
    return check_questions(atlas, label, bank, bank.questions, {})


@dataclass(frozen=True)
class MergeReport:
    """What a merge did: nothing already in the bank or elsewhere is ever overwritten."""

    bank: BankFile
    added: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)  # incoming id -> new id
    conflicts: tuple[str, ...] = ()  # ids left out because they are taken
    unchanged: tuple[str, ...] = ()  # identical question already present: nothing to do

    def lines(self) -> list[str]:
        out = []
        if self.added:
            out.append(f"Added {len(self.added)} question(s): {', '.join(self.added)}.")
        for old, new in self.renamed.items():
            out.append(f"'{old}' was taken and was added as '{new}'.")
        if self.conflicts:
            out.append(f"Not added, id already used: {', '.join(self.conflicts)}.")
        if self.unchanged:
            out.append(f"Already present and identical: {', '.join(self.unchanged)}.")
        return out


def merge_questions(
    bank: BankFile,
    incoming: Sequence[QuestionModel],
    taken_elsewhere: Mapping[str, str] | Iterable[str] = (),
    rename_suffix: str | None = None,
) -> MergeReport:
    """Add questions to a bank without clobbering: taken ids are reported, or renamed with a suffix.

    ``taken_elsewhere`` holds ids used by other banks (ids are unique across all banks).
    """
    own = {q.id: q for q in bank.questions}
    taken = set(own) | set(taken_elsewhere)
    out = list(bank.questions)
    added: list[str] = []
    renamed: dict[str, str] = {}
    conflicts: list[str] = []
    unchanged: list[str] = []
    for q in incoming:
        if q.id in own and own[q.id] == q:
            unchanged.append(q.id)
            continue
        if q.id not in taken:
            out.append(q)
            taken.add(q.id)
            added.append(q.id)
            continue
        if rename_suffix:
            suffix = re.sub(r"[^a-z0-9_]+", "_", rename_suffix.lower())
            new_id = suggest_id(f"{q.id}_{suffix}".strip("_"), taken)
            out.append(q.model_copy(update={"id": new_id}))
            taken.add(new_id)
            renamed[q.id] = new_id
        else:
            conflicts.append(q.id)
    merged = bank.model_copy(update={"questions": out})
    return MergeReport(merged, tuple(added), renamed, tuple(conflicts), tuple(unchanged))


def bank_path(folder: Path, bank_id: str) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", bank_id):
        raise ValueError(
            f"invalid bank id {bank_id!r}: use lower-case letters, digits and _ (e.g. my_questions)"
        )
    return Path(folder) / f"{bank_id}.yaml"


def write_bank(folder: Path, bank: BankFile) -> Path:
    """Write ``<folder>/<bank id>.yaml`` atomically (a crash never leaves half a bank)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = bank_path(folder, bank.bank.id)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{bank.bank.id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(bank_to_yaml(bank))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_bank_folder(folder: Path) -> dict[str, BankFile]:
    """Bank id -> bank for every readable bank file in the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    banks, _ = read_banks([folder])
    return {b.bank.id: b for b in banks.values()}


def question_ids(folders: Iterable[Path], *, except_file: Path | None = None) -> dict[str, str]:
    """Every question id already used in these folders' banks -> the bank file that holds it.

    ``except_file`` leaves one bank file out (the bank being written: its own ids are no clash).
    """
    skip = None if except_file is None else Path(except_file).resolve()
    files = [p for p in bank_paths(Path(f) for f in folders if Path(f).is_dir()) if p.resolve() != skip]
    banks, _ = read_banks(files)
    out: dict[str, str] = {}
    for label, bank in banks.items():
        for q in bank.questions:
            out.setdefault(q.id, label)
    return out


def save_question(
    folder: Path, bank: BankFile, question: QuestionModel, taken_elsewhere: Mapping[str, str]
) -> Path:
    """Append one question to a bank file; refuse (ValueError) an id used anywhere else."""
    if question.id in taken_elsewhere:
        raise ValueError(f"question id '{question.id}' is already used in {taken_elsewhere[question.id]}")
    report = merge_questions(bank, [question], taken_elsewhere)
    if report.conflicts:
        raise ValueError(f"question id '{question.id}' is already used in bank '{bank.bank.id}'")
    return write_bank(folder, report.bank)
