"""Command line: ``python -m trainer validate|export|stats|bench|body-report|offset-consistency|anatomy-check|serve|profiles|loadtest|rerun-cost``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from trainer.atlas import check_atlas
from trainer.atlas.core import Atlas
from trainer.errors import Problem, TrainerError
from trainer.settings import atlas_dir, quiz_dir


def _validate(args: argparse.Namespace) -> int:
    from trainer.quiz.bank import check_banks

    atlas_dir = Path(args.atlas)
    atlas, problems = check_atlas(atlas_dir, renders=not args.no_renders)
    quiz_paths = [Path(p) for p in args.paths] if args.paths else [Path(args.quizzes)]
    questions = lessons = 0
    if atlas is not None and not any(p.file.startswith("atlas") and "schema" in p.message for p in problems):
        bank_problems, questions = check_banks(atlas, quiz_paths)
        problems.extend(bank_problems)
        lesson_problems, lessons = _check_lessons(atlas, quiz_paths)
        problems.extend(lesson_problems)
    for p in problems:
        print(p)
    from trainer.quiz.bank import bank_warnings

    for w in bank_warnings(quiz_paths):
        print(f"warning: {w}")
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    assert atlas is not None
    print(
        f"ok: {len(atlas.regions)} regions, {len(atlas.views)} views, {len(atlas.nerves)} nerves, "
        f"{len(atlas.sites)} sites, {len(atlas.avoid)} structures to avoid, {len(atlas.references)} references, "
        f"{questions} questions, {lessons} lessons"
    )
    return 0


def _check_lessons(atlas: Atlas, quiz_paths: list[Path]) -> tuple[list[Problem], int]:
    """Lessons under each validated bank folder's ``lessons/`` against the atlas and every bank
    question they name, and the evidence map (both are Learn content). Validating other banks
    (an instructor's folder, a test atlas) checks their lessons, not the shipped ones."""
    from trainer.learn.evidence import check_evidence_map
    from trainer.learn.lessons import check_lessons, lessons_dir
    from trainer.quiz.bank import load_questions

    questions = {q.id: q for q in load_questions(atlas, quiz_paths)}
    problems: list[Problem] = []
    n = 0
    for folder in quiz_paths:
        if folder.is_dir() and lessons_dir(folder).is_dir():
            folder_problems, folder_lessons = check_lessons(atlas, lessons_dir(folder), questions)
            problems.extend(folder_problems)
            n += folder_lessons
    return [*check_evidence_map(atlas), *problems], n


def _export(args: argparse.Namespace) -> int:
    """Write banks as Moodle XML, an Anki deck or CSV; refuse unknown or invalid banks."""
    from trainer.atlas import load_atlas
    from trainer.authoring.exports import anki_package, moodle_xml, questions_csv, view_loader
    from trainer.quiz.bank import select_banks
    from trainer.settings import author_dir

    folders = [Path(args.quizzes), *([Path(args.authored)] if args.authored else [author_dir()])]
    banks, problems = select_banks(args.banks, folders)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"error: nothing written; {len(problems)} problem(s) with the banks asked for", file=sys.stderr)
        return 1
    atlas = load_atlas(Path(args.atlas))
    if args.body_type is not None and args.body_type not in atlas.body_types:
        print(
            f"error: unknown body type '{args.body_type}' (known: {', '.join(atlas.body_types)})",
            file=sys.stderr,
        )
        return 1
    questions = [q for _, bank in banks for q in bank.questions]
    view_for = view_loader(atlas, args.side, args.body_type)
    if args.format == "moodle":
        result = moodle_xml(questions, atlas, view_for)
    elif args.format == "anki":
        result = anki_package(questions, atlas, view_for)
    else:
        result = questions_csv([(bank.bank.id, bank.questions) for _, bank in banks])
    for line in result.skipped:
        print(f"not exported: {line}", file=sys.stderr)
    if result.count == 0:
        print("error: no question could be exported; nothing written", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.data)
    print(
        f"wrote {out}: {result.count} question(s) from {len(banks)} bank(s)"
        + (f", {len(result.skipped)} not exported" if result.skipped else "")
    )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from trainer.tools.stats import atlas_stats

    stats = atlas_stats(Path(args.atlas), Path(args.quizzes))
    if args.json:
        print(json.dumps(stats, sort_keys=True))
    else:
        for k, v in stats.items():
            print(f"{k:>22}: {v}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from trainer.tools.bench import run_bench

    print(json.dumps(run_bench(Path(args.atlas)), indent=None if args.json else 2))
    return 0


def _offset_consistency(args: argparse.Namespace) -> int:
    from trainer.atlas import load_atlas
    from trainer.tools.offset_consistency import offset_consistency_report

    text = offset_consistency_report(load_atlas(Path(args.atlas)), args.body_type)
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def _anatomy_check(args: argparse.Namespace) -> int:
    from trainer.atlas import load_atlas
    from trainer.atlas.validation import check_validation, read_validation
    from trainer.errors import AtlasError
    from trainer.tools.anatomy_check import (
        load_geometry,
        markdown_report,
        report_json,
        run_outcomes,
        short_citations,
    )

    root = Path(args.atlas)
    atlas = load_atlas(root)
    vset, problems = read_validation(root)
    problems += check_validation(atlas, vset)
    if problems:
        raise AtlasError(problems)
    bodies = [args.body] if args.body else list(atlas.body_types)
    unknown = [b for b in bodies if b not in atlas.body_types]
    if unknown:
        raise AtlasError(f"unknown body type {unknown[0]!r}; expected one of {', '.join(atlas.body_types)}")
    outcomes = run_outcomes(vset.checks, {b: load_geometry(root, b) for b in bodies})
    unverified = {
        i
        for table in (atlas.nerves, atlas.sites, atlas.avoid, atlas.territories)
        for i, item in table.items()
        if not item.verified
    }
    report = report_json(outcomes, len(vset.checks), vset.checks, unverified)
    if args.output != "-" and not args.body:
        text = markdown_report(vset.checks, outcomes, short_citations(atlas.references.values()), unverified)
        Path(args.output).write_text(text, encoding="utf-8")
    if args.json:
        print(json.dumps(report))
    else:
        for body, r in report["bodies"].items():
            print(
                f"{body}: {r['within']} of {r['checks']} within, {len(r['outside'])} outside, "
                f"{len(r['not_computable'])} not computable, "
                f"{len(r['unverified_contradicted'])} unverified items contradicted"
            )
        if args.output != "-" and not args.body:
            print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _body_report(args: argparse.Namespace) -> int:
    # Developer tooling: reads the committed artifacts, never the MakeHuman assets.
    from trainer.tools.render.body_report import body_report, load_anthropometry, report_markdown

    report = body_report(Path(args.atlas), args.body_types or None)
    anthro = load_anthropometry(Path(args.atlas) / "anthropometry.yaml")
    if args.json:
        print(json.dumps(report))
    else:
        text = report_markdown(report, anthro)
        if args.output == "-":
            print(text)
        else:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
            print(f"wrote {args.output}")
    # Exit 1 when a dimension is outside target and not documented in known_outside.
    names = {d.id: d.name for d in anthro.dimensions}
    known = {(k.body, names[k.dimension]) for k in anthro.known_outside}
    undocumented = [
        (body, d["name"])
        for body, r in report["bodies"].items()
        for d in r["dimensions"]
        if not d["within"] and (body, d["name"]) not in known
    ]
    return 1 if undocumented else 0


def _serve(args: argparse.Namespace) -> int:
    from trainer.tools.serve import serve

    return serve(args.processes, args.host, args.port)


def _loadtest(args: argparse.Namespace) -> int:  # issue 4 item 7 (load tool)
    from trainer.tools.loadtest import LoadConfig, format_report, run_loadtest

    report = run_loadtest(
        LoadConfig(
            players=args.players,
            urls=tuple(args.urls),
            questions=args.questions,
            time_limit_s=args.time_limit,
            timeout_s=args.timeout,
            database_url=args.database_url,
            atlas_dir=Path(args.atlas) if args.atlas else None,
            quiz_dir=Path(args.quizzes) if args.quizzes else None,
            think_s=(float(args.think[0]), float(args.think[1])),
            ramp_s=args.ramp,
            seed=args.seed,
        )
    )
    print(json.dumps(report) if args.json else format_report(report))
    return 0 if report["lost"] == 0 and report["answers_sent"] > 0 else 1


def _rerun_cost(args: argparse.Namespace) -> int:
    from trainer.tools.rerun_cost import run_rerun_cost

    report = run_rerun_cost(
        args.url,
        args.runs,
        database_url=args.database_url,
        atlas=Path(args.atlas) if args.atlas else None,
        quizzes=Path(args.quizzes) if args.quizzes else None,
    )
    if args.json:
        print(json.dumps(report))
    else:
        for kind in ("whole_page", "poll_fragment", "answer_fragment"):
            r = report[kind]
            print(
                f"{kind}: {r['server_cpu_ms_per_run']} ms server CPU, {r['wall_ms_per_run']} ms wall per run"
            )
    return 0


def _profiles(args: argparse.Namespace) -> int:
    """The operator's view of profiles: list them, or hand one to a browser with a transfer code.

    Profiles are held by browsers (see trainer/rules/profiles.py); one made before that, or whose every
    browser forgot it, is held by none. Whoever can run this on the server can give it to a
    browser: the code is typed in the sidebar under "Profile from another device".
    """
    from datetime import UTC, datetime

    from trainer.store import open_store

    with open_store(args.database_url) as store:
        if args.action == "list":
            for lr in store.list_learners():
                held = store.count_learner_keys(lr.id)
                print(
                    f"{lr.id}  {lr.created_at:%Y-%m-%d}  held by {held} browser{'' if held == 1 else 's'}  "
                    f"{lr.display_name}"
                )
            return 0
        if not args.learner_id:
            print(
                "error: name the profile: python -m trainer profiles code <id from 'profiles list'>",
                file=sys.stderr,
            )
            return 2
        learner = store.get_learner(args.learner_id)
        code, expires = store.create_transfer_code(learner.id, now=datetime.now(UTC))
    print(f"Transfer code for {learner.display_name}: {code.text}")
    print(
        f"Type it in the browser (sidebar → Profile from another device) before {expires:%H:%M} UTC; it works once."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every atlas and quiz file; exit 1 on any problem")
    v.add_argument("paths", nargs="*", help="quiz bank files or folders (default: quizzes/)")
    v.add_argument("--atlas", default=str(atlas_dir()))
    v.add_argument("--quizzes", default=str(quiz_dir()))
    v.add_argument("--no-renders", action="store_true", help="skip checks of rendered views")
    v.set_defaults(func=_validate)

    e = sub.add_parser("export", help="write banks as Moodle XML, an Anki deck (.apkg) or CSV")
    e.add_argument("format", choices=("moodle", "anki", "csv"))
    e.add_argument(
        "banks",
        nargs="*",
        metavar="BANK",
        help="bank ids or bank files (default: every shipped and authored bank)",
    )
    e.add_argument("--out", required=True, help="file to write")
    e.add_argument(
        "--side", choices=("right", "left"), default="right", help="side of the body to show (default right)"
    )
    e.add_argument("--body-type", default=None, help="body type of the images (default: the atlas default)")
    e.add_argument("--atlas", default=str(atlas_dir()))
    e.add_argument("--quizzes", default=str(quiz_dir()))
    e.add_argument(
        "--authored", default=None, help="author banks folder (default: TRAINER_AUTHOR_DIR or data/banks)"
    )
    e.set_defaults(func=_export)

    s = sub.add_parser("stats", help="count atlas and quiz content")
    s.add_argument("--json", action="store_true")
    s.add_argument("--atlas", default=str(atlas_dir()))
    s.add_argument("--quizzes", default=str(quiz_dir()))
    s.set_defaults(func=_stats)

    b = sub.add_parser("bench", help="measure scoring and payload figures; prints JSON")
    b.add_argument("--json", action="store_true")
    b.add_argument("--atlas", default=str(atlas_dir()))
    b.set_defaults(func=_bench)

    r = sub.add_parser(
        "offset-consistency",
        help="self-consistency of YAML offsets on the rendered mesh (not validation against anatomy)",
    )
    r.add_argument("--atlas", default=str(atlas_dir()))
    r.add_argument("--body-type", default=None, help="default: the atlas default body type")
    r.add_argument("--output", default="docs/offset-consistency.md", help="file to write, or - for stdout")
    r.set_defaults(func=_offset_consistency)

    br = sub.add_parser(
        "body-report", help="each body's dimensions against anthropometry (ANSUR II and others)"
    )
    br.add_argument("--atlas", default=str(atlas_dir()))
    br.add_argument("--json", action="store_true", help="print one JSON object")
    br.add_argument("--body-types", nargs="*", default=None, help="default: every body type")
    br.add_argument("--output", default="-", help="Markdown file to write (default: stdout)")
    br.set_defaults(func=_body_report)

    ac = sub.add_parser(
        "anatomy-check", help="measure the atlas against the independent validation set (atlas/validation)"
    )
    ac.add_argument("--atlas", default=str(atlas_dir()))
    ac.add_argument("--body", default=None, help="one body type (default: every body type)")
    ac.add_argument("--json", action="store_true", help="print the JSON report")
    ac.add_argument(
        "--output",
        default="docs/anatomy-check.md",
        help="Markdown report to write when every body is checked, or - for none",
    )
    ac.set_defaults(func=_anatomy_check)

    sv = sub.add_parser("serve", help="run N Streamlit processes behind one sticky port (large live classes)")
    sv.add_argument("--processes", type=int, default=2)
    sv.add_argument("--host", default="0.0.0.0")
    sv.add_argument("--port", type=int, default=8501)
    sv.set_defaults(func=_serve)

    pr = sub.add_parser(
        "profiles", help="list learner profiles, or make a transfer code to open one in a browser"
    )
    pr.add_argument("action", choices=("list", "code"))
    pr.add_argument("learner_id", nargs="?", help="for 'code': the profile id shown by 'list'")
    pr.add_argument(
        "--database-url",
        default=None,
        help="default: $TRAINER_DATABASE_URL or the SQLite file of $TRAINER_DATA_DIR",
    )
    pr.set_defaults(func=_profiles)

    # --- loadtest (issue 4 item 7; owner: load tool, see trainer/tools/loadtest.py) ---------------
    lt = sub.add_parser(
        "loadtest", help="simulate a live class of N phones against running servers (loopback only)"
    )
    lt.add_argument("--players", type=int, required=True, help="simulated phones (at most 1000)")
    lt.add_argument(
        "--url",
        action="append",
        required=True,
        dest="urls",
        help="app URL on this machine, e.g. http://127.0.0.1:8501; repeat to spread players",
    )
    lt.add_argument("--questions", type=int, default=3, help="locate questions to play (default 3)")
    lt.add_argument("--time-limit", type=float, default=60.0, help="seconds per question (default 60)")
    lt.add_argument("--timeout", type=float, default=None, help="wall-clock limit of the whole run, s")
    lt.add_argument(
        "--database-url",
        default=None,
        help="the servers' database (default: $TRAINER_DATABASE_URL or the SQLite file of $TRAINER_DATA_DIR)",
    )
    lt.add_argument("--atlas", default=None, help="atlas folder (default: as the app)")
    lt.add_argument("--quizzes", default=None, help="quiz bank folder (default: as the app)")
    lt.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 4.0),
        metavar=("MIN", "MAX"),
        help="seconds a phone waits before tapping (default 1 4)",
    )
    lt.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="seconds over which phones join (default 0.4 × players, at most 120)",
    )
    lt.add_argument("--seed", type=int, default=None)
    lt.add_argument("--json", action="store_true", help="print one JSON object")
    lt.set_defaults(func=_loadtest)
    rc = sub.add_parser(
        "rerun-cost", help="server CPU of one join-page run: whole page, poll and answer fragments"
    )
    rc.add_argument("--url", required=True, help="app URL on this machine, e.g. http://127.0.0.1:8501")
    rc.add_argument("--runs", type=int, default=300, help="runs of each kind (default 300)")
    rc.add_argument("--database-url", default=None, help="the server's database (default: as loadtest)")
    rc.add_argument("--atlas", default=None, help="atlas folder (default: as the app)")
    rc.add_argument("--quizzes", default=None, help="quiz bank folder (default: as the app)")
    rc.add_argument("--json", action="store_true", help="print one JSON object")
    rc.set_defaults(func=_rerun_cost)
    # --- end loadtest ---------------------------------------------------------------------------
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "export" and not any(x.startswith("-") for x in extra):
        # argparse ends a "*" positional at the first option: `export moodle --out F knee` leaves "knee".
        args.banks = [*args.banks, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except TrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
