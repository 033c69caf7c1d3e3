"""A disk snapshot of the loaded atlas, so a server start does not re-read every YAML file.

Reading and validating the atlas YAML takes seconds; unpickling the validated atlas takes a
tenth of that. The snapshot is keyed by the atlas stamp (folder + newest YAML time, the same
key as the in-memory cache) and by a fingerprint of the atlas code, so an edited atlas or a
new version of the models is never served from an old snapshot. The folder is passed in
(the UI uses the data folder); a snapshot that cannot be read or written is simply skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from trainer.atlas.core import Atlas

_LOG = logging.getLogger(__name__)
_CODE = ("core.py", "models.py", "build.py", "snapshot.py")


def _code_fingerprint() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in _CODE:
        p = here / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def snapshot_path(cache_dir: Path, stamp: tuple[Path, float]) -> Path:
    key = hashlib.sha256(f"{stamp[0]}|{stamp[1]!r}|{_code_fingerprint()}".encode()).hexdigest()[:24]
    return Path(cache_dir) / f"atlas-{key}.pickle"


def read_snapshot(cache_dir: Path, stamp: tuple[Path, float]) -> Atlas | None:
    """The atlas saved for exactly this stamp and code, or None."""
    path = snapshot_path(cache_dir, stamp)
    try:
        with open(path, "rb") as f:
            atlas = pickle.load(f)  # noqa: S301 - our own file in the server's data folder
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return atlas if isinstance(atlas, Atlas) else None


def write_snapshot(cache_dir: Path, stamp: tuple[Path, float], atlas: Atlas) -> Path | None:
    """Save the atlas atomically (a half-written file is never read); old snapshots go."""
    path = snapshot_path(cache_dir, stamp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(atlas, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob("atlas-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        _LOG.warning("atlas snapshot not written: %s", exc)
        return None
    return path
