"""The core stays pure: only trainer/ui imports streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import trainer

PACKAGE = Path(trainer.__file__).resolve().parent


def streamlit_importers() -> list[str]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "ui":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                found.append(str(rel))
    return found


def test_core_modules_do_not_import_streamlit() -> None:
    assert streamlit_importers() == []


def test_public_names_are_exported() -> None:
    for name in trainer.__all__:
        assert hasattr(trainer, name), name
    assert issubclass(trainer.AtlasError, trainer.TrainerError)
    assert issubclass(trainer.StoreError, trainer.TrainerError)
