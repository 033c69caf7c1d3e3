"""Command line: ``python -m trainer validate|stats|bench|serve``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from trainer.atlas import check_atlas
from trainer.errors import TrainerError
from trainer.settings import atlas_dir, quiz_dir


def _validate(args: argparse.Namespace) -> int:
    from trainer.quiz.bank import check_banks

    atlas_dir = Path(args.atlas)
    atlas, problems = check_atlas(atlas_dir, renders=not args.no_renders)
    quiz_paths = [Path(p) for p in args.paths] if args.paths else [Path(args.quizzes)]
    questions = 0
    if atlas is not None and not any(p.file.startswith("atlas") and "schema" in p.message for p in problems):
        bank_problems, questions = check_banks(atlas, quiz_paths)
        problems.extend(bank_problems)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    assert atlas is not None
    print(
        f"ok: {len(atlas.regions)} regions, {len(atlas.views)} views, {len(atlas.nerves)} nerves, "
        f"{len(atlas.sites)} sites, {len(atlas.avoid)} structures to avoid, {len(atlas.references)} references, "
        f"{questions} questions"
    )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from trainer.stats import atlas_stats

    stats = atlas_stats(Path(args.atlas), Path(args.quizzes))
    if args.json:
        print(json.dumps(stats, sort_keys=True))
    else:
        for k, v in stats.items():
            print(f"{k:>22}: {v}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from trainer.bench import run_bench

    print(json.dumps(run_bench(Path(args.atlas)), indent=None if args.json else 2))
    return 0


def _atlas_report(args: argparse.Namespace) -> int:
    from trainer.atlas import load_atlas
    from trainer.report import atlas_report

    text = atlas_report(load_atlas(Path(args.atlas)), args.body_type)
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from trainer.serve import serve

    return serve(args.processes, args.host, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every atlas and quiz file; exit 1 on any problem")
    v.add_argument("paths", nargs="*", help="quiz bank files or folders (default: quizzes/)")
    v.add_argument("--atlas", default=str(atlas_dir()))
    v.add_argument("--quizzes", default=str(quiz_dir()))
    v.add_argument("--no-renders", action="store_true", help="skip checks of rendered views")
    v.set_defaults(func=_validate)

    s = sub.add_parser("stats", help="count atlas and quiz content")
    s.add_argument("--json", action="store_true")
    s.add_argument("--atlas", default=str(atlas_dir()))
    s.add_argument("--quizzes", default=str(quiz_dir()))
    s.set_defaults(func=_stats)

    b = sub.add_parser("bench", help="measure scoring and payload figures; prints JSON")
    b.add_argument("--json", action="store_true")
    b.add_argument("--atlas", default=str(atlas_dir()))
    b.set_defaults(func=_bench)

    r = sub.add_parser("atlas-report", help="Markdown table of cited vs measured landmark offsets")
    r.add_argument("--atlas", default=str(atlas_dir()))
    r.add_argument("--body-type", default=None, help="default: the atlas default body type")
    r.add_argument("--output", default="docs/atlas-report.md", help="file to write, or - for stdout")
    r.set_defaults(func=_atlas_report)

    sv = sub.add_parser("serve", help="run N Streamlit processes behind one sticky port (large live classes)")
    sv.add_argument("--processes", type=int, default=2)
    sv.add_argument("--host", default="0.0.0.0")
    sv.add_argument("--port", type=int, default=8501)
    sv.set_defaults(func=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except TrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
