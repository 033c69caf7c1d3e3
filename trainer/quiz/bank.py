"""Load and check quiz banks against the atlas, reporting ``file: id: field: problem``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

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


def parse_bank_data(
    data: Any, label: str, problems: list[Problem]
) -> tuple[BankFile | None, list[QuestionModel]]:
    """Shape-check a parsed bank one question at a time.

    Returns the bank (only when every part of it is valid) and every question that is valid
    on its own, so that a malformed question never hides what is wrong with the others.
    """
    if data is None:
        return None, []
    raw_questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(raw_questions, list):
        bank = validate_model(BankFile, data, label, problems)
        return bank, list(bank.questions) if bank is not None else []
    envelope = validate_model(BankFile, {**data, "questions": []}, label, problems)
    good: list[QuestionModel] = []
    for i, raw in enumerate(raw_questions):
        if raw is None:
            problems.append(
                Problem(label, "", f"questions.{i}", "empty question (a '-' with nothing after it)")
            )
            continue
        found: list[Problem] = []
        question = validate_model(QuestionModel, raw, label, found)
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        for p in found:
            if p.item:
                problems.append(p)
            elif isinstance(raw_id, str) and raw_id:
                problems.append(Problem(p.file, raw_id, p.field, p.message))
            else:  # a question without an id is named by its position in the file
                where = f"questions.{i}" + ("" if p.field == "-" else f".{p.field}")
                problems.append(Problem(p.file, "", where, p.message))
        if question is not None:
            good.append(question)
    if envelope is None or len(good) != len(raw_questions):
        return None, good
    return envelope.model_copy(update={"questions": good}), good


def read_banks(paths: Iterable[Path]) -> tuple[dict[str, BankFile], list[Problem]]:
    """Parse bank files (shape only); returns label -> bank (valid files only) and the problems found."""
    problems: list[Problem] = []
    banks: dict[str, BankFile] = {}
    for label, bank, _ in _read_files(paths, problems):
        if bank is not None:
            banks[label] = bank
    return banks, problems


def _read_files(
    paths: Iterable[Path], problems: list[Problem]
) -> list[tuple[str, BankFile | None, list[QuestionModel]]]:
    out: list[tuple[str, BankFile | None, list[QuestionModel]]] = []
    for path in bank_paths(paths):
        label = _label(path)
        if not path.exists():
            problems.append(Problem(label, "", "", "file not found"))
            continue
        bank, good = parse_bank_data(read_yaml(path, label, problems), label, problems)
        out.append((label, bank, good))
    return out


def resolve_view_id(atlas: Atlas, view: str | None, side: str = "right") -> str | None:
    """Accept a base view id (side added) or a full view id."""
    from trainer.quiz.views import view_id_for

    return view_id_for(atlas, view, side)


def _check_question(atlas: Atlas, label: str, q: QuestionModel) -> list[Problem]:
    """Every rule and visibility problem of one question (the rules never stop at the first)."""
    from trainer.quiz.checks import question_problems

    found = [Problem(label, q.id, field, msg) for field, msg in question_problems(atlas, q)]
    found.extend(Problem(label, q.id, "targets", msg) for msg in _visibility_problems(atlas, q))
    return found


#: A site the learner places by tapping lies at least this far inside the body's outline in its
#: view (at the view's scale), and inside the image's edge. Nearer the outline the skin is seen
#: edge-on: a pixel there spans centimetres of skin, and half of a 1 cm full-credit disc would
#: lie off the body (or, at the image's edge, off the picture).
MIN_INSIDE_OUTLINE_CM = 0.5

#: A course to trace is scored on its whole visible length, so at least this share of it must lie
#: :data:`MIN_INSIDE_OUTLINE_CM` inside the outline (a tap-anywhere nerve needs only one point).
MIN_TRACED_SHARE = 0.5


def _visibility_problems(atlas: Atlas, q: QuestionModel) -> list[str]:
    """Every target must be visible on every side and body type the question can be shown on,
    and every target placed by tapping must face the camera (:data:`MIN_INSIDE_OUTLINE_CM`).

    Targets the atlas does not know are left to the rules ("unknown atlas id"), so one
    mistake is not reported twice.
    """
    from trainer.atlas.rendered import load_rendered_view
    from trainer.errors import AtlasError
    from trainer.quiz.kinds import is_case, is_trace, placing_targets
    from trainer.quiz.views import view_ids_of

    if not q.view:
        return []
    targets = [*q.targets, *placing_targets(q)] if is_case(q) else list(q.targets)
    targets = [t for t in dict.fromkeys(targets) if atlas.item(t) is not None]
    placed = set(placing_targets(q))
    traced = set(q.targets) if is_trace(q) else set()
    views = view_ids_of(atlas, q.view)
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
                elif t in traced and item.kind == "nerve":
                    share = rv.course_inside_share(item.points_px, item.visible, MIN_INSIDE_OUTLINE_CM)
                    if share < MIN_TRACED_SHARE:
                        out.append(
                            f"only {share:.0%} of '{t}' lies {MIN_INSIDE_OUTLINE_CM:g} cm inside the body's "
                            f"outline or the image's edge in view {view_id} ({bt}); a course to trace needs "
                            f"at least {MIN_TRACED_SHARE:.0%} there, where the skin faces the camera: use a "
                            "view that faces it"
                        )
                elif t in placed and item.kind in ("site", "nerve"):
                    # a site's one point; a nerve (tap anywhere on it): its best-placed point
                    inside_cm = float(
                        rv.inside_outline_cm(item.points_px[item.visible], MIN_INSIDE_OUTLINE_CM).max()
                    )
                    if inside_cm < MIN_INSIDE_OUTLINE_CM:
                        out.append(
                            f"'{t}' lies {inside_cm:.2f} cm inside the body's outline or the image's edge "
                            f"in view {view_id} ({bt}); a target placed by tapping must lie at least "
                            f"{MIN_INSIDE_OUTLINE_CM:g} cm inside both, where the skin faces the camera "
                            "and is not cut off: use a view that faces it"
                        )
    return out


def check_questions(
    atlas: Atlas, label: str, bank: BankFile | None, questions: Iterable[QuestionModel], seen: dict[str, str]
) -> list[Problem]:
    """Rules, visibility, bank text and duplicate ids for one file's valid questions.

    ``seen`` maps question ids to the file that used them first; it is updated, so a caller
    checking several files finds duplicates across them.
    """
    from trainer.safetext import field_text_problems

    problems: list[Problem] = []
    if bank is not None:
        problems.extend(Problem(label, bank.bank.id, f, m) for f, m in field_text_problems(bank.bank, "bank"))
    for q in questions:
        if q.id in seen:
            problems.append(Problem(label, q.id, "id", f"duplicate question id (also in {seen[q.id]})"))
        else:
            seen[q.id] = label
        problems.extend(_check_question(atlas, label, q))
    return problems


def check_banks(atlas: Atlas, paths: Iterable[Path]) -> tuple[list[Problem], int]:
    """Check every bank and report every problem at once.

    A question with a shape problem (an unknown field, a bad id) is reported and left out;
    every other question of the same file is still checked against the rules, and each
    question gets all of its rule and visibility problems, not just the first.
    """
    problems: list[Problem] = []
    files = _read_files(paths, problems)
    seen: dict[str, str] = {}
    count = 0
    for label, bank, questions in files:
        count += len(questions)
        problems.extend(check_questions(atlas, label, bank, questions, seen))
    return problems, count


def select_banks(
    specs: Sequence[str], folders: Sequence[Path]
) -> tuple[list[tuple[str, BankFile]], list[Problem]]:
    """Banks named by id, file name or path; every bank in ``folders`` when none is named.

    An unknown name, or a named file that is not a valid bank, is a problem (nothing is
    silently left out of an export).
    """
    problems: list[Problem] = []
    known = {}
    for label, bank, _ in _read_files(
        [f for f in folders if Path(f).is_dir()], problems if not specs else []
    ):
        if bank is not None:
            known[label] = bank
    if not specs:
        return list(known.items()), problems
    by_name: dict[str, str] = {}
    for label, bank in known.items():
        by_name.setdefault(bank.bank.id, label)
        by_name.setdefault(Path(label).stem, label)
    chosen: dict[str, BankFile] = {}
    for spec in specs:
        in_folder = [Path(f) / f"{spec}.yaml" for f in folders if (Path(f) / f"{spec}.yaml").is_file()]
        if spec in by_name:
            chosen.setdefault(by_name[spec], known[by_name[spec]])
        elif Path(spec).exists() or in_folder:
            for label, bank, _ in _read_files(
                [Path(spec)] if Path(spec).exists() else in_folder[:1], problems
            ):
                if bank is not None:
                    chosen.setdefault(label, bank)
        else:
            names = ", ".join(sorted({b.bank.id for b in known.values()})) or "none"
            problems.append(
                Problem(
                    spec, "", "", f"unknown bank: not a file, and no bank has this id (known banks: {names})"
                )
            )
    return list(chosen.items()), problems


def load_questions(atlas: Atlas, paths: Iterable[Path] = (DEFAULT_QUIZ_DIR,)) -> list[QuestionModel]:
    """All questions from valid banks (invalid banks are skipped; `validate` reports them)."""
    banks, _ = read_banks(paths)
    out: list[QuestionModel] = []
    for bank in banks.values():
        out.extend(bank.questions)
    return out


def bank_warnings(paths: Iterable[Path]) -> list[Problem]:
    """What ``validate`` prints as warnings (exit code unchanged): see
    :func:`trainer.quiz.checks.question_warnings`. Banks that do not parse give none (their
    problems are reported by :func:`check_banks`)."""
    from trainer.quiz.checks import question_warnings

    banks, _ = read_banks(paths)
    return [
        Problem(label, q.id, field, msg)
        for label, bank in banks.items()
        for q in bank.questions
        for field, msg in question_warnings(q)
    ]
