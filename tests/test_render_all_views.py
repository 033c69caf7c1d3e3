"""Every committed view is the renderer's output for today's inputs, and renders deterministically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.tools.render.inputs import load_inputs
from trainer.tools.render.mesh import default_assets_dir
from trainer.tools.render.sidecar import (
    body_context,
    existing_hash,
    planned_hash,
    render_view,
    side_view_id,
    sides_of,
    view_key,
    view_pose,
)

ATLAS = Path(__file__).resolve().parents[1] / "atlas"
ASSETS = default_assets_dir()
COMMITTED_SIZE_PX, COMMITTED_SUPERSAMPLE = 900, 2

pytestmark = pytest.mark.slow


def _need_assets() -> None:
    if not (Path(ASSETS) / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")


def test_every_committed_render_matches_the_current_inputs() -> None:
    _need_assets()
    inputs = load_inputs(ATLAS)
    stale = []
    for body_type in inputs.body_types:
        if not any(ATLAS.glob(f"images/*__{body_type}.png")):
            continue  # a fallback body type the atlas does not render
        bodies: dict[tuple[float, float], object] = {}
        for region in inputs.regions:
            for view in region.views:
                pose = view_pose(view)
                if pose not in bodies:
                    bodies[pose] = body_context(inputs, body_type, Path(ASSETS), 1, *pose)
                body = bodies[pose]
                for side in sides_of(view):
                    key = view_key(side_view_id(view, side), body_type)
                    want = planned_hash(
                        inputs, region, view, side, body, COMMITTED_SIZE_PX, COMMITTED_SUPERSAMPLE
                    )  # type: ignore[arg-type]
                    if existing_hash(ATLAS, key) != want:
                        stale.append(key)
    assert stale == [], f"re-run python -m trainer.tools.render: {stale}"


def test_every_view_renders_identically_twice() -> None:
    _need_assets()
    inputs = load_inputs(ATLAS)
    bodies: dict[tuple[float, float], object] = {}
    for region in inputs.regions:
        for view in region.views:
            pose = view_pose(view)
            if pose not in bodies:
                bodies[pose] = body_context(inputs, "female", Path(ASSETS), 1, *pose)
            side = sides_of(view)[0]
            a = render_view(inputs, region, view, side, bodies[pose], 64, 1)  # type: ignore[arg-type]
            b = render_view(inputs, region, view, side, bodies[pose], 64, 1)  # type: ignore[arg-type]
            assert np.array_equal(a.rgb, b.rgb), side_view_id(view, side)
            assert a.sidecar["items"] == b.sidecar["items"], side_view_id(view, side)
