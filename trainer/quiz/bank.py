"""Load and check quiz banks against the atlas, reporting ``file: id: field: problem``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from trainer.atlas.core import Atlas
from trainer.atlas.files import read_yaml, validate_model
from trainer.errors import Problem
from trainer.quiz.models import BankFile, QuestionModel

DEFAULT_QUIZ_DIR = Path(__file__).resolve().parents[2] / "quizzes"


def bank_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their ``*.yaml`` files, keeping order stable."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")))
        else:
            out.append(p)
    return out


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DEFAULT_QUIZ_DIR.parent))
    except ValueError:
        return str(path)


def read_banks(paths: Iterable[Path]) -> tuple[dict[str, BankFile], list[Problem]]:
    """Parse bank files (shape only); returns label -> bank and the problems found."""
    problems: list[Problem] = []
    banks: dict[str, BankFile] = {}
    for path in bank_paths(paths):
        label = _label(path)
        if not path.exists():
            problems.append(Problem(label, "", "", "file not found"))
            continue
        bank = validate_model(BankFile, read_yaml(path, label, problems), label, problems)
        if bank is not None:
            banks[label] = bank
    return banks, problems


def resolve_view_id(atlas: Atlas, view: str | None, side: str = "right") -> str | None:
    """Accept a base view id (side added) or a full view id."""
    if view is None:
        return None
    if view in atlas.views:
        return view
    candidate = f"{view}_{side}"
    return candidate if candidate in atlas.views else None


def _check_question(atlas: Atlas, label: str, q: QuestionModel) -> list[Problem]:
    from trainer.quiz.rules import question_problems

    found = [Problem(label, q.id, field, msg) for field, msg in question_problems(atlas, q)]
    if not found:
        found.extend(Problem(label, q.id, "targets", msg) for msg in _visibility_problems(atlas, q))
    return found


def _visibility_problems(atlas: Atlas, q: QuestionModel) -> list[str]:
    """Every target must be visible on every side and body type the question can be shown on."""
    from trainer.atlas.rendered import load_rendered_view
    from trainer.errors import AtlasError

    if not q.view:
        return []
    targets = [*q.targets, *(t for s in q.steps if s.type in ("locate", "multi_site") for t in s.targets)]
    views = [v.id for v in atlas.views.values() if v.id == q.view or v.base_id == q.view]
    out: list[str] = []
    for view_id in views:
        for bt in atlas.body_types:
            try:
                rv = load_rendered_view(view_id, bt, atlas.root)
            except AtlasError:
                continue  # the atlas check reports missing renders
            for t in targets:
                item = rv.items.get(t)
                if item is None or not item.any_visible:
                    out.append(f"'{t}' is not visible in view {view_id} ({bt})")
    return out


def check_banks(atlas: Atlas, paths: Iterable[Path]) -> tuple[list[Problem], int]:
    """Check every bank: shape, ids resolving in the atlas, visibility, explanations, duplicates."""
    banks, problems = read_banks(paths)
    seen: dict[str, str] = {}
    count = 0
    for label, bank in banks.items():
        for q in bank.questions:
            count += 1
            if q.id in seen:
                problems.append(Problem(label, q.id, "id", f"duplicate question id (also in {seen[q.id]})"))
            else:
                seen[q.id] = label
            problems.extend(_check_question(atlas, label, q))
    return problems, count


def load_questions(atlas: Atlas, paths: Iterable[Path] = (DEFAULT_QUIZ_DIR,)) -> list[QuestionModel]:
    """All questions from valid banks (invalid banks are skipped; `validate` reports them)."""
    banks, _ = read_banks(paths)
    out: list[QuestionModel] = []
    for bank in banks.values():
        out.extend(bank.questions)
    return out


def bank_warnings(paths: Iterable[Path]) -> list[Problem]:
    """What ``validate`` prints as warnings (exit code unchanged): see
    :func:`trainer.quiz.rules.question_warnings`. Banks that do not parse give none (their
    problems are reported by :func:`check_banks`)."""
    from trainer.quiz.rules import question_warnings

    banks, _ = read_banks(paths)
    return [Problem(label, q.id, field, msg)
            for label, bank in banks.items() for q in bank.questions for field, msg in question_warnings(q)]
