"""One scorer (issue 12 item 3): Practice, live classes, the author's try-out and ``bench`` all
score through :func:`trainer.scoring.score.score`, the vectorised one; nothing else measures
pins or computes credit on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import trainer

PACKAGE = Path(trainer.__file__).resolve().parent
#: The scoring internals: only the scoring package (and bench, which times them) may use them.
INTERNALS = {"ViewScorer", "PinFacts", "view_scorer", "credit_for_distance", "match_pins", "pin_results"}
CALLERS = ("practice/page.py", "live/service.py", "authoring/page.py", "tools/bench.py")


def imported_names(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_every_place_that_scores_calls_the_one_score_function() -> None:
    for rel in CALLERS:
        assert ("trainer.scoring.score", "score") in imported_names(PACKAGE / rel), rel


def test_no_module_outside_scoring_measures_pins_itself() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("scoring/") or rel == "tools/bench.py":
            continue
        found += [
            f"{rel}: {name}"
            for module, name in imported_names(path)
            if module.startswith("trainer.scoring") and name in INTERNALS
        ]
    assert not found, found
