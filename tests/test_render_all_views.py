"""Every committed view is the renderer's output for today's inputs, and renders deterministically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.tools.render.inputs import load_inputs
from trainer.tools.render.mesh import default_assets_dir
from trainer.tools.render.sidecar import (
    BodyContext,
    body_context,
    existing_hash,
    planned_hash,
    render_view,
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
        bodies: dict[tuple[float, float], BodyContext] = {}
        for view in inputs.views():
            pose = view_pose(view)
            if pose not in bodies:
                bodies[pose] = body_context(inputs, body_type, Path(ASSETS), 1, *pose)
            key = view_key(view.id, body_type)
            want = planned_hash(inputs, view, bodies[pose], COMMITTED_SIZE_PX, COMMITTED_SUPERSAMPLE)
            if existing_hash(ATLAS, key) != want:
                stale.append(key)
    assert stale == [], f"re-run python -m trainer.tools.render: {stale}"


def test_every_view_renders_identically_twice() -> None:
    _need_assets()
    inputs = load_inputs(ATLAS)
    bodies: dict[tuple[float, float], BodyContext] = {}
    first_sides = {v.base_id: v for v in reversed(inputs.views())}  # each view's first side
    for view in first_sides.values():
        pose = view_pose(view)
        if pose not in bodies:
            bodies[pose] = body_context(inputs, "female", Path(ASSETS), 1, *pose)
        a = render_view(inputs, view, bodies[pose], 64, 1)
        b = render_view(inputs, view, bodies[pose], 64, 1)
        assert np.array_equal(a.rgb, b.rgb), view.id
        assert a.sidecar["items"] == b.sidecar["items"], view.id
