"""The package map is a rule, not a habit: which part of the trainer may import which.

    trainer/
      core      errors, settings, clock, safetext, geometry, plotting, atlas/, quiz/, scoring/, rules/, store/
      features  practice/, progress/, live/, authoring/, explorer/, access/   (over the core)
      ui/       Streamlit pages and components                             (over features and core)
      tools/    bench, loadtest, serve, render, reports                     (never imported by the app)
      cli       ``python -m trainer``                                       (dispatches to everything)

The rules below are checked on every module's imports (static: ``ast``), so a workaround such
as ``importlib`` is caught too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import trainer

PACKAGE = Path(trainer.__file__).resolve().parent
ROOT = PACKAGE.parent

CORE = {
    "trainer",
    "errors",
    "settings",
    "clock",
    "safetext",
    "geometry",
    "plotting",
    "atlas",
    "quiz",
    "scoring",
    "rules",
    "store",
}
FEATURES = {"practice", "progress", "live", "authoring", "explorer", "access", "learn"}
#: Feature -> features it may use (everything else stays independent).
FEATURE_DEPENDENCIES: dict[str, set[str]] = {
    "live": {"explorer"},  # the host's heatmap draws on the explorer's base figure
    "practice": {"progress"},  # a practice answer is recorded for the learner's progress
    "learn": {"explorer", "progress", "practice"},
}
UI = {"ui"}
TOOLS = {"tools"}
CLI = {"cli", "__main__"}


def group_of(module: str) -> str:
    """``trainer.live.service`` -> ``live``; ``trainer`` -> ``trainer``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "trainer"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """Every trainer module -> every module it imports (absolute names, relative resolved)."""
    out: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        mod = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out[mod].update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = mod.split(".")
                    if not path.name == "__init__.py":
                        pkg = pkg[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join([*pkg, base] if base else pkg)
                out[mod].add(base)
                out[mod].update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module",
                "__import__",
            ):
                out[mod].add("importlib-call")
    return out


def allowed(src: str, dst: str) -> bool:
    if src == dst:
        return True
    if src in CORE:
        return dst in CORE
    if src in FEATURES:
        return dst in CORE or dst in FEATURE_DEPENDENCIES.get(src, set())
    if src in UI:
        return dst in CORE | FEATURES | UI
    if src in TOOLS:
        return dst in CORE | FEATURES | TOOLS
    if src in CLI:
        return dst not in UI
    return False


def test_every_module_belongs_to_a_known_part() -> None:
    unknown = {group_of(m) for m in imports()} - (CORE | FEATURES | UI | TOOLS | CLI)
    assert unknown == set(), f"add these to the package map: {unknown}"


def test_each_part_imports_only_what_the_map_allows() -> None:
    bad = sorted(
        f"{src} imports {dst}"
        for src, names in imports().items()
        for dst in names
        if dst.startswith("trainer.") and not allowed(group_of(src), group_of(dst))
    )
    assert bad == []


def test_the_package_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, names in imports().items():
        for dst in names:
            if dst == "trainer" or dst.startswith("trainer."):
                a, b = group_of(src), group_of(dst)
                if a != b and b != "trainer":
                    graph[a].add(b)
    seen: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1 and not cycle:
                cycle.extend([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for start in sorted(graph):
        if start not in seen:
            visit(start, [start])
    assert cycle == []


def test_only_the_ui_imports_streamlit_and_tools_only_its_wire_format() -> None:
    bad = []
    for src, names in imports().items():
        part = group_of(src)
        for dst in names:
            if dst == "importlib-call":
                bad.append(f"{src} imports a module by name at run time")
            elif dst == "streamlit" or dst.startswith("streamlit."):
                if part in UI:
                    continue
                if part in TOOLS and dst.startswith("streamlit.proto"):
                    continue
                bad.append(f"{src} imports {dst}")
    assert bad == []


def test_the_app_never_imports_the_tools() -> None:
    app = ast.parse((ROOT / "streamlit_app.py").read_text(encoding="utf-8"))
    names = [n.module for n in ast.walk(app) if isinstance(n, ast.ImportFrom) and n.module]
    assert all(group_of(n) in UI for n in names if n.startswith("trainer."))


def test_public_names_are_exported() -> None:
    for name in trainer.__all__:
        assert hasattr(trainer, name), name
    assert issubclass(trainer.AtlasError, trainer.TrainerError)
    assert issubclass(trainer.StoreError, trainer.TrainerError)
