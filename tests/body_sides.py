"""Helpers for tests that resolve skin points on real bodies (the `along` and `distance_from` forms).

Building a body's skin takes seconds, so callers wrap :func:`right_sides` in a module-scoped fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainer.atlas.assemble import skin_point
from trainer.atlas.core import SkinPoint
from trainer.atlas.models import SkinPointModel
from trainer.tools.render.inputs import load_landmarks
from trainer.tools.render.mesh import BODY_TYPES, build_skin, default_assets_dir
from trainer.tools.render.resolve import SideGeometry, SkinSnapper, build_side

ASSETS = default_assets_dir()
ATLAS = Path(__file__).resolve().parents[1] / "atlas"


def sp(data: dict[str, Any]) -> SkinPoint:
    """A skin point as the atlas reader builds it from YAML."""
    return skin_point(SkinPointModel.model_validate({"ref": "r", **data}))


def right_sides(*body_types: str) -> dict[str, SideGeometry]:
    """The right side of each named body, with the atlas's landmarks; skips without the assets."""
    if not (ASSETS / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")
    landmarks = load_landmarks(ATLAS)
    out = {}
    for body in body_types:
        skin = build_skin(str(ASSETS), body, tuple(BODY_TYPES[body]), 1)
        out[body] = build_side(skin, "right", landmarks, SkinSnapper(skin))
    return out
