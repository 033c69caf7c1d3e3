"""The atlas snapshot that makes a server start fast (trainer/atlas/snapshot.py)."""

from __future__ import annotations

from pathlib import Path

from trainer.atlas import atlas_stamp, load_atlas
from trainer.atlas.snapshot import read_snapshot, snapshot_path, write_snapshot


def test_a_snapshot_round_trips_only_for_its_own_stamp(tmp_path: Path) -> None:
    stamp = atlas_stamp()
    atlas = load_atlas(stamp=stamp)
    assert read_snapshot(tmp_path, stamp) is None
    path = write_snapshot(tmp_path, stamp, atlas)
    assert path is not None and path.exists()
    back = read_snapshot(tmp_path, stamp)
    assert back is not None and back is not atlas
    assert list(back.nerves) == list(atlas.nerves) and list(back.views) == list(atlas.views)
    assert back.nerves[next(iter(atlas.nerves))] == atlas.nerves[next(iter(atlas.nerves))]
    # An edited atlas (newer stamp) is never served from the old snapshot, and replaces it.
    newer = (stamp[0], stamp[1] + 1.0)
    assert read_snapshot(tmp_path, newer) is None
    write_snapshot(tmp_path, newer, atlas)
    assert not path.exists() and len(list(tmp_path.glob("atlas-*.pickle"))) == 1


def test_a_damaged_or_unwritable_snapshot_is_skipped(tmp_path: Path) -> None:
    stamp = atlas_stamp()
    snapshot_path(tmp_path, stamp).write_bytes(b"not a pickle")
    assert read_snapshot(tmp_path, stamp) is None
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert write_snapshot(blocked / "sub", stamp, load_atlas(stamp=stamp)) is None
