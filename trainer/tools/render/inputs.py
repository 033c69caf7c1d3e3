"""The render tool's only view of the atlas YAML: plain dicts, read in one place.

Kept apart so it can be switched to ``trainer.atlas.files`` later; the renderer needs only
landmarks, body types and the regions' views and skin points, and must render even while
other atlas files (references, conditions) are still being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trainer.errors import AtlasError
from trainer.tools.render.mesh import BODY_TYPES, load_body_types_yaml

# (YAML list key in a region file, sidecar item kind, key of the skin points, closed polygon)
ITEM_SPECS: tuple[tuple[str, str, str, bool], ...] = (
    ("nerves", "nerve", "course", False),
    ("sites", "site", "at", False),
    ("avoid", "avoid", "path", False),
    ("territories", "territory", "polygon", True),
)


@dataclass(frozen=True)
class RegionInput:
    """One region file: its parsed dict and raw bytes (for the input hash)."""

    path: Path
    raw: bytes
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["region"]["id"])

    @property
    def segment(self) -> str:
        return str(self.data["region"]["segment"])

    @property
    def views(self) -> list[dict[str, Any]]:
        return list(self.data.get("views") or [])

    def items(self) -> list[tuple[str, str, list[dict[str, Any]], bool]]:
        """``(id, kind, skin points, closed)`` for every nerve, site, avoid and territory."""
        out: list[tuple[str, str, list[dict[str, Any]], bool]] = []
        for list_key, kind, points_key, closed in ITEM_SPECS:
            for rec in self.data.get(list_key) or []:
                pts = rec.get(points_key)
                points = [pts] if isinstance(pts, dict) else list(pts or [])
                out.append((str(rec["id"]), kind, points, closed))
        return out


@dataclass(frozen=True)
class AtlasInputs:
    """Landmarks, body types and regions as the renderer needs them."""

    root: Path
    landmarks: list[dict[str, Any]]
    landmarks_raw: bytes
    body_types: dict[str, list[tuple[str, float]]]
    regions: list[RegionInput]


def _load_yaml(path: Path) -> tuple[bytes, dict[str, Any]]:
    raw = path.read_bytes()
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ~10x faster
        data = yaml.load(raw.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise AtlasError(f"{path}: YAML syntax error: {exc}") from exc
    if not isinstance(data, dict):
        raise AtlasError(f"{path}: expected a mapping at the top of the file")
    return raw, data


def load_landmarks(path: Path) -> tuple[bytes, list[dict[str, Any]]]:
    """Landmark records from ``landmarks.yaml`` (id, segment and vertex are required)."""
    raw, data = _load_yaml(path)
    records = list(data.get("landmarks") or [])
    for rec in records:
        for key in ("id", "segment", "vertex"):
            if key not in rec:
                raise AtlasError(f"{path}: landmark {rec.get('id', '?')}: missing {key}")
    return raw, records


def load_inputs(atlas_dir: Path, region_paths: list[Path] | None = None) -> AtlasInputs:
    """Read landmarks, body types and every ``regions/*.yaml`` (or the given files)."""
    atlas_dir = Path(atlas_dir)
    lm_raw, landmarks = load_landmarks(atlas_dir / "landmarks.yaml")
    for extra in sorted(atlas_dir.glob("landmarks_*.yaml")):  # landmarks split by author/region
        more_raw, more = load_landmarks(extra)
        lm_raw += b"\n" + more_raw
        landmarks += more
    bt_path = atlas_dir / "body_types.yaml"
    body_types = dict(BODY_TYPES)
    if bt_path.is_file():
        body_types.update(load_body_types_yaml(bt_path))
    if region_paths is None:
        region_paths = sorted((atlas_dir / "regions").glob("*.yaml"))
    regions = []
    for p in region_paths:
        raw, data = _load_yaml(p)
        if "region" not in data:
            raise AtlasError(f"{p}: no 'region' mapping")
        regions.append(RegionInput(path=p, raw=raw, data=data))
    return AtlasInputs(
        root=atlas_dir, landmarks=landmarks, landmarks_raw=lm_raw, body_types=body_types, regions=regions
    )
