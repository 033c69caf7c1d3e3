"""The one reader of the atlas YAML: files into pydantic models, every problem at once.

The app (``load_atlas``), the validator (``check_atlas``, ``anatomy-check``) and the render
tool all read through :func:`read_atlas_files`; :func:`trainer.atlas.assemble.build_atlas`
turns the result into the frozen domain objects. Problems are reported as
``file: item id: field: message`` so an author can fix a file without reading a traceback.
The bytes of every file read are kept (``AtlasFiles.raw``): the render tool hashes them to
tell whether a committed render is stale.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError

from trainer.atlas.models import (
    ConditionsFile,
    LandmarksFile,
    ReferencesFile,
    RegionFile,
    Strict,
)
from trainer.errors import Problem

M = TypeVar("M", bound=BaseModel)


class BodyTypeModel(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    # MakeHuman targets that give the body its shape (sex, weight), then the modifier weights
    # `python -m trainer.tools.render calibrate` fitted to the reference population's means.
    targets: list[tuple[str, float]] = Field(default_factory=list)
    reference: Literal["female", "male"] | None = None
    fitted: list[tuple[str, float]] = Field(default_factory=list)
    # How far a YAML point may lie from this body's skin before `validate` calls it off the
    # skin. A body with much more soft tissue than the average bodies sits further from an
    # offset that is right for them.
    off_skin_limit_cm: float = Field(default=1.5, gt=0, le=5)


class BodyTypesFile(Strict):
    schema_version: int
    body_types: list[BodyTypeModel] = Field(min_length=1)
    default: str


@dataclass
class AtlasFiles:
    """The parsed (shape-checked) atlas files plus the problems found reading them."""

    root: Path
    references: ReferencesFile | None = None
    conditions: ConditionsFile | None = None
    landmarks: LandmarksFile | None = None
    body_types: BodyTypesFile | None = None
    regions: dict[str, RegionFile] = field(default_factory=dict)  # relative path -> region file
    problems: list[Problem] = field(default_factory=list)
    # File label of each merged reference / landmark record, in order.
    labels: dict[str, list[str]] = field(
        default_factory=lambda: {"references": [], "landmarks": [], "conditions": []}
    )
    raw: dict[str, bytes] = field(default_factory=dict)  # file label -> the bytes read
    paths: dict[str, Path] = field(default_factory=dict)  # file label -> path
    # Labels of the files each split part was read from, in merge order.
    sources: dict[str, list[str]] = field(
        default_factory=lambda: {"references": [], "landmarks": [], "conditions": []}
    )

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)


# libyaml's loader is about ten times faster than the pure-Python one (the whole atlas in
# a third of a second instead of three); both build the same safe types.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_bytes(path: Path, label: str, problems: list[Problem]) -> bytes | None:
    """A file's bytes, or a located problem when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(Problem(label, "", "", f"cannot read file: {exc.strerror or exc}"))
        return None


def parse_yaml(raw: bytes, label: str, problems: list[Problem]) -> Any:
    """Parse YAML, turning syntax errors into a located problem instead of a traceback."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(label, "", "", "file is not UTF-8 text"))
        return None
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", exc))
        if "nesting depth" in problem:  # libyaml's limit on nested "[" or "{"
            problems.append(Problem(label, "", "", "YAML nested too deeply to read"))
            return None
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problems.append(Problem(label, "", "", f"YAML syntax error{where}: {problem}"))
        return None
    except RecursionError:  # e.g. thousands of nested "[": PyYAML's composer recurses per level
        problems.append(Problem(label, "", "", "YAML nested too deeply to read"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(label, "", "", "expected a mapping at the top of the file"))
        return None
    return data


def read_yaml(path: Path, label: str, problems: list[Problem]) -> Any:
    """Read and parse one YAML file; problems are located, never raised."""
    raw = read_bytes(path, label, problems)
    return None if raw is None else parse_yaml(raw, label, problems)


def _item_id(data: Any, loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """Find the id of the record an error location points into, and the rest of the path."""
    node = data
    item = ""
    rest_start = 0
    for i, key in enumerate(loc):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            item = node["id"]
            rest_start = i + 1
    if not item:
        # Top-level record keys ("region": {...}) or the file itself.
        return "", loc
    return item, loc[rest_start:]


def validate_model(model: type[M], data: Any, label: str, problems: list[Problem]) -> M | None:
    """Validate ``data`` against ``model``; on failure add one problem per pydantic error."""
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            item, rest = _item_id(data, loc)
            field_path = ".".join(str(p) for p in rest) or "-"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field (not in the schema)"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append(Problem(label, item, field_path, msg))
        return None


#: The parts of the atlas :func:`read_atlas_files` can read.
PARTS = ("body_types", "references", "landmarks", "conditions", "regions")


def read_atlas_files(
    root: Path, parts: Collection[str] = PARTS, region_paths: Sequence[Path] | None = None
) -> AtlasFiles:
    """Read the atlas files under ``root``; never raises for content problems.

    ``parts`` limits what is read (the render tool needs only landmarks, body types and
    regions, and must render while references are still being written); ``region_paths``
    reads those region files instead of ``regions/*.yaml``.
    """
    root = Path(root)
    files = AtlasFiles(root=root)
    if not root.is_dir():
        files.problems.append(Problem(str(root), "", "", "atlas folder not found"))
        return files

    def read(path: Path, label: str) -> Any:
        raw = read_bytes(path, label, files.problems)
        if raw is None:
            return None
        files.raw[label] = raw
        files.paths[label] = path
        return parse_yaml(raw, label, files.problems)

    if "body_types" in parts:
        path = root / "body_types.yaml"
        label = files.rel(path)
        if not path.exists():
            files.problems.append(Problem(label, "", "", "file is missing"))
        else:
            files.body_types = validate_model(BodyTypesFile, read(path, label), label, files.problems)
    # References and landmarks may be split over several files (references_*.yaml,
    # landmarks_*.yaml) so that authors of different regions do not edit the same file.
    for stem, model, attr, key in (
        ("references", ReferencesFile, "references", "references"),
        ("landmarks", LandmarksFile, "landmarks", "landmarks"),
        ("conditions", ConditionsFile, "conditions", "conditions"),
    ):
        if stem not in parts:
            continue
        main = root / f"{stem}.yaml"
        paths = ([main] if main.exists() else []) + sorted(root.glob(f"{stem}_*.yaml"))
        if not main.exists():
            files.problems.append(Problem(files.rel(main), "", "", "file is missing"))
        merged: list[Any] = []
        for path in paths:
            label = files.rel(path)
            files.sources[key].append(label)
            parsed = validate_model(model, read(path, label), label, files.problems)
            if parsed is None:
                continue
            for rec in getattr(parsed, key):
                files.labels[key].append(label)
                merged.append(rec)
        if paths:
            setattr(files, attr, model.model_validate({"schema_version": 1, key: merged}))
    if "regions" in parts:
        region_dir = root / "regions"
        if region_paths is None:
            region_paths = sorted(region_dir.glob("*.yaml")) if region_dir.is_dir() else []
        for path in region_paths:
            label = files.rel(Path(path))
            parsed = validate_model(RegionFile, read(Path(path), label), label, files.problems)
            if parsed is not None:
                files.regions[label] = parsed
        if not files.regions:
            files.problems.append(Problem(files.rel(region_dir), "", "", "no region files found"))
    return files
