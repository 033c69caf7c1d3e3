"""Read atlas YAML files into pydantic models, collecting every problem at once.

Problems are reported as ``file: item id: field: message`` so an author can fix a
file without reading a traceback.
"""

from __future__ import annotations

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

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)


def read_yaml(path: Path, label: str, problems: list[Problem]) -> Any:
    """Parse YAML, turning syntax errors into a located problem instead of a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(label, "", "", f"cannot read file: {exc.strerror or exc}"))
        return None
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
        problems.append(Problem(label, "", "", "YAML nested too deeply to read"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(label, "", "", "expected a mapping at the top of the file"))
        return None
    return data


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


def read_atlas_files(root: Path) -> AtlasFiles:
    """Read every atlas file under ``root``; never raises for content problems."""
    root = Path(root)
    files = AtlasFiles(root=root)
    if not root.is_dir():
        files.problems.append(Problem(str(root), "", "", "atlas folder not found"))
        return files
    singles: list[tuple[str, type[BaseModel], str]] = [
        ("body_types.yaml", BodyTypesFile, "body_types"),
    ]
    for name, model, attr in singles:
        path = root / name
        label = files.rel(path)
        if not path.exists():
            files.problems.append(Problem(label, "", "", "file is missing"))
            continue
        setattr(
            files, attr, validate_model(model, read_yaml(path, label, files.problems), label, files.problems)
        )
    # References and landmarks may be split over several files (references_*.yaml,
    # landmarks_*.yaml) so that authors of different regions do not edit the same file.
    for stem, model, attr, key in (
        ("references", ReferencesFile, "references", "references"),
        ("landmarks", LandmarksFile, "landmarks", "landmarks"),
        ("conditions", ConditionsFile, "conditions", "conditions"),
    ):
        main = root / f"{stem}.yaml"
        paths = ([main] if main.exists() else []) + sorted(root.glob(f"{stem}_*.yaml"))
        if not main.exists():
            files.problems.append(Problem(files.rel(main), "", "", "file is missing"))
        merged: list[Any] = []
        for path in paths:
            label = files.rel(path)
            parsed = validate_model(model, read_yaml(path, label, files.problems), label, files.problems)
            if parsed is None:
                continue
            for rec in getattr(parsed, key):
                files.labels[key].append(label)
                merged.append(rec)
        if paths:
            setattr(files, attr, model.model_validate({"schema_version": 1, key: merged}))
    region_dir = root / "regions"
    for path in sorted(region_dir.glob("*.yaml")) if region_dir.is_dir() else []:
        label = files.rel(path)
        parsed = validate_model(RegionFile, read_yaml(path, label, files.problems), label, files.problems)
        if parsed is not None:
            files.regions[label] = parsed
    if not files.regions:
        files.problems.append(Problem(files.rel(region_dir), "", "", "no region files found"))
    return files
