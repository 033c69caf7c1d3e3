"""Only the quiz package knows the question types by name (issue 12).

Everything else asks :mod:`trainer.quiz.kinds` ("does this question place pins?") instead of
comparing ``question.type`` or a case step's type with a string. The scan is static (``ast``)
over every module of ``trainer/`` outside ``trainer/quiz``. The rule is precise rather than a
file list: a comparison (``==``, ``!=``, ``in``, ``not in``) or a ``match`` whose one side is a
type-like expression (an attribute named ``type``, or a name ending in ``type``) and whose
other side holds a string literal naming a question or step type. Other "type" fields (a
Streamlit element type, an overlay shape's type) compare with strings that are not question
types, so they pass.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trainer
from trainer.quiz.models import QUESTION_TYPES, StepModel

PACKAGE = Path(trainer.__file__).resolve().parent
QUIZ = PACKAGE / "quiz"
STEP_TYPES: tuple[str, ...] = StepModel.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
NAMES = frozenset(QUESTION_TYPES) | frozenset(STEP_TYPES)


def _type_like(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "type"
    if isinstance(node, ast.Name):
        return node.id.lower().endswith("type")
    return False


def _type_literals(node: ast.expr) -> list[str]:
    """Question-type names among the string literals of a constant or a literal container."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in NAMES else []
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [x for elt in node.elts for x in _type_literals(elt)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("frozenset", "set")
    ):
        return [x for arg in node.args for x in _type_literals(arg)]
    return []


def violations(source: str, label: str = "<source>") -> list[str]:
    """``label:line: text`` for every comparison of a type with a question-type string."""
    out: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for a, b in zip(operands, operands[1:], strict=False):
                for x, y in ((a, b), (b, a)):
                    if _type_like(x) and _type_literals(y):
                        out.append(f"{label}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Match) and _type_like(node.subject):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    if isinstance(sub, ast.MatchValue) and _type_literals(sub.value):
                        out.append(f"{label}:{case.pattern.lineno}: match {ast.unparse(node.subject)}")
    return sorted(set(out))


def test_the_scanner_finds_each_form_of_comparison() -> None:
    source = (
        'if q.type == "locate": pass\n'
        'if "trace" != step.type: pass\n'
        'if q.type in ("identify", "clinical"): pass\n'
        'if qtype not in {"case"}: pass\n'
        'match q.type:\n    case "multi_site": pass\n    case _: pass\n'
    )
    assert [v.split(":")[1] for v in violations(source)] == ["1", "2", "3", "4", "6"]


def test_the_scanner_leaves_other_type_fields_alone() -> None:
    source = (
        'if etype == "exception": pass\n'
        'if shape["type"] == "polyline": pass\n'
        'if kind == "site": pass\n'
        "if q.type in LIVE_TYPES: pass\n"
        'x = {"locate": 1}\n'
    )
    assert violations(source) == []


def test_no_module_outside_the_quiz_package_compares_a_question_type_with_a_string() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if QUIZ in path.parents:
            continue
        found.extend(violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent))))
    assert not found, "ask trainer.quiz.kinds instead:\n" + "\n".join(found)
