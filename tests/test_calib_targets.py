"""The procedural calibration targets: local, smooth, fold-free, and read like target files."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.errors import AtlasError
from trainer.tools.render.calib_targets import FIELDS, bone_mask, calibration_target, window
from trainer.tools.render.mesh import (
    CM_PER_MESH_UNIT,
    body_type_fingerprint,
    default_assets_dir,
    load_base,
    morph,
    target_dm,
)

ASSETS = str(default_assets_dir())
FEMALE = (("caucasian-female-young.target", 1.0),)


def _field_cm(name: str, sign: str = "incr") -> np.ndarray:
    base = load_base(ASSETS)
    return (
        calibration_target(ASSETS, f"calibration/{name}-{sign}.target", len(base.vertices_dm))
        * CM_PER_MESH_UNIT
    )


def test_the_window_rises_and_falls_smoothly() -> None:
    x = np.linspace(-1.0, 5.0, 601)
    w = window(x, 0.0, 1.0, 3.0, 4.0)
    assert w.min() == 0.0 and w.max() == 1.0
    assert np.all(np.diff(w[x <= 2.0]) >= 0) and np.all(np.diff(w[x >= 2.0]) <= 0)
    assert np.abs(np.diff(w)).max() < 0.02  # no step anywhere (a quintic ramp over 1 unit)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_decr_is_incr_reversed_and_reads_like_a_target_file(name: str) -> None:
    n = len(load_base(ASSETS).vertices_dm)
    incr = target_dm(ASSETS, f"calibration/{name}-incr.target", n)
    assert incr.shape == (n, 3) and np.abs(incr).max() > 0
    assert np.array_equal(target_dm(ASSETS, f"calibration/{name}-decr.target", n), -incr)


def test_each_field_moves_only_its_own_body_part() -> None:
    base = load_base(ASSETS)
    v = base.vertices_dm * CM_PER_MESH_UNIT
    floor = v[np.unique(base.body_quads), 1].min()
    moved = {name: np.linalg.norm(_field_cm(name), axis=1) > 1e-9 for name in FIELDS}
    # Foot fields: only below mid-shin, and the heel field not in front of the ankle.
    for name in ("heel-breadth", "forefoot-breadth"):
        assert v[moved[name], 1].max() < floor + 12.0, name
    assert v[moved["heel-breadth"], 2].max() < 3.0
    assert v[moved["forefoot-breadth"], 2].min() > 3.0
    # Trunk fields: never the arms or hands (the rig's arm weights), never the head or legs.
    arms = bone_mask(
        ASSETS, len(v), ("upperarm01.R", "upperarm02.R", "lowerarm01.R", "lowerarm02.R", "wrist.R")
    )
    for name in ("waist-breadth", "crest-breadth"):
        assert not np.any(moved[name] & (arms > 0.5)), name
        ys = v[moved[name], 1]
        assert ys.min() > v[4396, 1] - 10.0 and ys.max() < v[4121, 1] + 13.0, name
    # The thigh field leaves the midline (the crotch) and everything above the hips alone.
    thigh = moved["upper-thigh-girth"]
    assert np.abs(v[thigh, 0]).min() > 2.0
    assert v[thigh, 1].max() < v[4396, 1]


@pytest.mark.parametrize("name", sorted(FIELDS))
@pytest.mark.parametrize("weight", [-1.0, 1.0])
def test_a_full_weight_keeps_the_skin_free_of_folds(name: str, weight: float) -> None:
    """At the fit's bounds no skin triangle turns over or collapses and no edge more than
    halves or doubles: the field is a smooth local scaling, not a tear or a fold."""
    base = load_base(ASSETS)
    v0, _ = morph(ASSETS, FEMALE)
    v1, _ = morph(ASSETS, (*FEMALE, (f"calibration/{name}-{'incr' if weight > 0 else 'decr'}.target", 1.0)))
    tris = np.concatenate([base.body_quads[:, [0, 1, 2]], base.body_quads[:, [0, 2, 3]]])

    def normals(v: np.ndarray) -> np.ndarray:
        n = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
        return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)

    changed = np.linalg.norm(v1[tris] - v0[tris], axis=2).max(axis=1) > 1e-9
    assert changed.any()
    cos = np.sum(normals(v0)[changed] * normals(v1)[changed], axis=1)
    assert cos.min() > 0.7, f"{name}: a triangle turns by {np.degrees(np.arccos(cos.min())):.0f} degrees"
    for a, b in ((0, 1), (1, 2), (2, 0)):
        e0 = np.linalg.norm(v0[tris[changed, a]] - v0[tris[changed, b]], axis=1)
        e1 = np.linalg.norm(v1[tris[changed, a]] - v1[tris[changed, b]], axis=1)
        ratio = e1 / np.maximum(e0, 1e-9)
        assert 0.5 < ratio.min() and ratio.max() < 2.0, name


def test_an_unknown_calibration_target_is_a_clear_error() -> None:
    with pytest.raises(AtlasError, match="unknown calibration target 'calibration/nose-length-incr.target'"):
        target_dm(ASSETS, "calibration/nose-length-incr.target", 10)


def test_the_fingerprint_names_calibration_targets_and_tells_them_apart() -> None:
    a = body_type_fingerprint(ASSETS, (*FEMALE, ("calibration/heel-breadth-incr.target", 0.5)))
    b = body_type_fingerprint(ASSETS, (*FEMALE, ("calibration/heel-breadth-decr.target", 0.5)))
    assert "calibration/heel-breadth-incr.target" in a and a != b
