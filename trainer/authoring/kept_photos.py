"""Photos an instructor chose to keep, in a folder the caller names (``Settings.photo_dir``).

A photo is kept only with consent ("keep this photo"), as ``<stem>.jpg`` (the working copy)
beside ``<stem>.json`` (its view and taps), where the stem is the first 16 hex digits of the
upload's SHA-256. Only such stems are read, written or deleted, so no name a browser sends can
reach outside the folder or touch another file in it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_STEM = re.compile(r"[0-9a-f]{16}")


def photo_stem(raw: bytes) -> str:
    """The name a photo is kept under: the same upload always gets the same stem.

    >>> photo_stem(b"a photo")
    'd4e24d749a4fe2f1'
    """
    return hashlib.sha256(raw).hexdigest()[:16]


def _paths(folder: Path, stem: str) -> tuple[Path, Path]:
    if not _STEM.fullmatch(stem):
        raise ValueError(f"not a kept photo's name: {stem!r}")
    return folder / f"{stem}.jpg", folder / f"{stem}.json"


@dataclass(frozen=True)
class KeptPhoto:
    stem: str
    file_name: str


def list_kept(folder: Path) -> list[KeptPhoto]:
    """The kept photos in the folder, by name (a missing folder holds none)."""
    if not folder.is_dir():
        return []
    return [KeptPhoto(p.stem, p.name) for p in sorted(folder.glob("*.jpg")) if _STEM.fullmatch(p.stem)]


def is_kept(folder: Path, stem: str) -> bool:
    return _paths(folder, stem)[0].exists()


def keep(
    folder: Path, stem: str, jpeg: bytes, view_id: str, taps_px: Mapping[str, tuple[float, float]]
) -> Path:
    """Keep (or update) the photo with its view and taps; returns the photo's path."""
    photo, meta = _paths(folder, stem)
    folder.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(jpeg)
    meta.write_text(
        json.dumps({"view": view_id, "taps": {k: list(v) for k, v in taps_px.items()}}), encoding="utf-8"
    )
    return photo


def delete(folder: Path, stem: str) -> bool:
    """Delete the kept photo and its taps; False when there was nothing to delete."""
    photo, meta = _paths(folder, stem)
    existed = photo.exists()
    photo.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return existed


@dataclass(frozen=True)
class Reopened:
    jpeg: bytes
    view_id: str | None = None
    taps_px: dict[str, tuple[float, float]] = field(default_factory=dict)


def reopen(folder: Path, stem: str) -> Reopened:
    """The kept photo with the view and taps it was kept with (none if those were lost or damaged)."""
    photo, meta = _paths(folder, stem)
    jpeg = photo.read_bytes()
    try:
        saved = json.loads(meta.read_text(encoding="utf-8"))
        taps = {str(k): (float(v[0]), float(v[1])) for k, v in saved.get("taps", {}).items()}
        view = saved.get("view")
    except (OSError, ValueError, TypeError, AttributeError, IndexError):
        return Reopened(jpeg)
    return Reopened(jpeg, view if isinstance(view, str) else None, taps)
