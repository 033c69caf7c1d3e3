"""What the render tool reads of the atlas: the app's own reader, limited to what it draws.

Landmarks, body types and regions are read by :func:`trainer.atlas.files.read_atlas_files`
and built into the same frozen objects the app uses (:func:`trainer.atlas.assemble.build_atlas`),
so a file the app refuses is refused here with the same ``file: id: field: message``. The
references and conditions are not read: a view can be rendered while they are still being
written. The input hash is taken over the files' *bytes* (landmark files, the region file),
so a render is stale exactly when a file it was drawn from changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from trainer.atlas.assemble import build_atlas
from trainer.atlas.core import Atlas, AtlasItem, Landmark, Region, View
from trainer.atlas.files import read_atlas_files
from trainer.errors import AtlasError
from trainer.tools.render.mesh import BODY_TYPES

BodyDefinition = tuple[tuple[str, float], ...]

#: The parts of the atlas the renderer draws from.
RENDER_PARTS = ("landmarks", "body_types", "regions")


@dataclass(frozen=True, kw_only=True)
class AtlasInputs:
    """The atlas as the renderer needs it, plus the bytes its input hash is taken over."""

    atlas: Atlas
    landmarks_raw: bytes  # every landmark file, landmarks.yaml first, joined by newlines
    region_raw: Mapping[str, bytes]  # region id -> its file's bytes
    body_types: Mapping[str, BodyDefinition]  # body type -> MakeHuman targets and weights
    landmark_files: Mapping[str, Path]  # landmark id -> the file it is defined in

    @property
    def root(self) -> Path:
        return self.atlas.root

    @property
    def landmarks(self) -> list[Landmark]:
        return list(self.atlas.landmarks.values())

    @property
    def regions(self) -> list[Region]:
        return list(self.atlas.regions.values())

    def views(self, region: Region | None = None) -> list[View]:
        """Every per-side view (of one region), in file order."""
        return [v for v in self.atlas.views.values() if region is None or v.region == region.id]

    def region_of(self, view: View) -> Region:
        return self.atlas.regions[view.region]

    def items(self, region: Region) -> list[AtlasItem]:
        """The region's nerves, sites, structures to avoid and territories, in that order."""
        return self.atlas.region_items(region.id)


def load_inputs(atlas_dir: Path, region_paths: Sequence[Path] | None = None) -> AtlasInputs:
    """Read landmarks, body types and every ``regions/*.yaml`` (or the given files).

    Raises :class:`AtlasError` listing every problem in those files. Without
    ``body_types.yaml`` the built-in body types are used (a test atlas needs none).
    """
    atlas_dir = Path(atlas_dir)
    parts = RENDER_PARTS if (atlas_dir / "body_types.yaml").is_file() else ("landmarks", "regions")
    files = read_atlas_files(atlas_dir, parts, region_paths)
    if files.problems:
        raise AtlasError(files.problems)
    atlas = build_atlas(files)
    definitions: dict[str, BodyDefinition] = {k: tuple(v) for k, v in BODY_TYPES.items()}
    definitions.update((b.id, b.definition) for b in atlas.body_types.values())
    landmarks_raw = b"\n".join(files.raw[label] for label in files.sources["landmarks"])
    landmark_files = {
        rec.id: files.paths[label]
        for rec, label in zip(
            files.landmarks.landmarks if files.landmarks else [], files.labels["landmarks"], strict=True
        )
    }
    return AtlasInputs(
        atlas=atlas,
        landmarks_raw=landmarks_raw,
        region_raw={r.id: files.raw[r.file] for r in atlas.regions.values()},
        body_types=definitions,
        landmark_files=landmark_files,
    )


def load_landmarks(atlas_dir: Path) -> list[Landmark]:
    """Every landmark of the atlas, as the app builds them."""
    files = read_atlas_files(Path(atlas_dir), ("landmarks",))
    if files.problems:
        raise AtlasError(files.problems)
    return list(build_atlas(files).landmarks.values())
