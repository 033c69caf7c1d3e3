"""Skin-point resolution: frames, mirror map, snapping and densified polylines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.atlas.assemble import skin_point
from trainer.atlas.core import SkinPoint
from trainer.atlas.models import SkinPointModel
from trainer.errors import AtlasError
from trainer.tools.render.inputs import load_landmarks
from trainer.tools.render.mesh import BODY_TYPES, build_skin, default_assets_dir
from trainer.tools.render.resolve import (
    SEGMENTS,
    SideGeometry,
    SkinSnapper,
    build_side,
    closest_point_on_triangles,
    densify,
    raw_point,
    resolve_points,
)

ASSETS = default_assets_dir()
ATLAS = Path(__file__).resolve().parents[1] / "atlas"


def sp(data: dict[str, object]) -> SkinPoint:
    """A skin point as the atlas reader builds it from YAML."""
    return skin_point(SkinPointModel.model_validate(data))


def _need_assets() -> None:
    if not (ASSETS / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")


@pytest.fixture(scope="module")
def female() -> tuple[SideGeometry, SideGeometry]:
    _need_assets()
    skin = build_skin(str(ASSETS), "female", tuple(BODY_TYPES["female"]), 1)
    landmarks = load_landmarks(ATLAS)
    snapper = SkinSnapper(skin)
    return build_side(skin, "right", landmarks, snapper), build_side(skin, "left", landmarks, snapper)


def test_closest_point_matches_brute_force_sampling() -> None:
    rng = np.random.default_rng(7)
    a, b, c = rng.normal(size=(3, 200, 3))
    p = rng.normal(size=(200, 3)) * 2
    q = closest_point_on_triangles(p, a, b, c)
    # Dense barycentric samples of each triangle never beat the exact closest point.
    u, v = np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41))
    keep = (u + v) <= 1
    u, v = u[keep], v[keep]
    samples = a[:, None] + u[None, :, None] * (b - a)[:, None] + v[None, :, None] * (c - a)[:, None]
    brute = np.linalg.norm(samples - p[:, None], axis=2).min(axis=1)
    exact = np.linalg.norm(q - p, axis=1)
    assert np.all(exact <= brute + 1e-9)
    assert np.all(brute - exact < 0.1)


def test_frames_are_orthonormal_and_face_forward(female: tuple[SideGeometry, SideGeometry]) -> None:
    for geo in female:
        for seg in SEGMENTS:
            f = geo.frames[seg]
            m = np.stack([f.proximal, f.lateral, f.anterior])
            assert np.allclose(m @ m.T, np.eye(3), atol=1e-9), seg
            outward = 1.0 if geo.side == "left" else -1.0
            if seg not in ("forearm", "hand"):  # the A-pose pronates the forearm: volar faces the thigh
                assert f.lateral[0] * outward > 0.3, (geo.side, seg)
                assert f.anterior[2] > 0.8, (geo.side, seg)
                assert f.proximal[1] > 0.5, (geo.side, seg)


def test_left_frames_mirror_the_right(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, left = female
    flip = np.array([-1.0, 1.0, 1.0])
    for seg in SEGMENTS:
        for axis in ("proximal", "lateral", "anterior"):
            assert np.allclose(
                getattr(left.frames[seg], axis), flip * getattr(right.frames[seg], axis), atol=1e-6
            )


def test_mirror_map_is_an_involution(female: tuple[SideGeometry, SideGeometry]) -> None:
    skin = female[0].skin
    ids = np.nonzero(skin.mirror >= 0)[0]
    partner = skin.mirror[ids]
    assert (skin.mirror[partner] == ids).mean() > 0.99
    reflected = skin.vertices_cm[partner] * np.array([-1.0, 1.0, 1.0])
    assert np.median(np.linalg.norm(reflected - skin.vertices_cm[ids], axis=1)) < 0.05


def test_offset_distal_lands_that_far_away_after_snapping(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, _ = female
    start = right.landmarks_cm["tibial_tuberosity"]
    points, snap_cm = resolve_points(
        right, [sp({"landmark": "tibial_tuberosity", "distal_cm": 3.0, "ref": "t"})]
    )
    assert snap_cm[0] < 0.5  # the shin is nearly flat here
    assert abs(float(np.linalg.norm(points[0] - start)) - 3.0) < 0.3
    assert (points[0] - start) @ right.frames["leg"].proximal < -2.7


def test_a_point_on_the_skin_snaps_to_itself(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, _ = female
    vertex = right.landmarks_cm["lateral_malleolus"]
    snapped, dist = right.snapper.snap(vertex[None, :])
    assert dist[0] < 1e-6
    assert np.allclose(snapped[0], vertex)


def test_left_points_mirror_right_points(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, left = female
    pt = sp({"landmark": "medial_malleolus", "proximal_cm": 4.0, "posterior_cm": 1.0, "ref": "t"})
    r, _ = resolve_points(right, [pt])
    lft, _ = resolve_points(left, [pt])
    assert np.allclose(lft[0], r[0] * np.array([-1.0, 1.0, 1.0]), atol=0.05)
    assert np.allclose(raw_point(left, pt), raw_point(right, pt) * np.array([-1.0, 1.0, 1.0]), atol=1e-6)


def test_densified_course_keeps_anchors_and_half_cm_spacing(
    female: tuple[SideGeometry, SideGeometry],
) -> None:
    right, _ = female
    anchors, _ = resolve_points(
        right,
        [
            sp({"landmark": "medial_malleolus", "proximal_cm": 10, "ref": "t"}),
            sp({"landmark": "medial_malleolus", "anterior_cm": 2, "ref": "t"}),
            sp({"landmark": "navicular_tuberosity", "ref": "t"}),
        ],
    )
    dense = densify(right.snapper, anchors)
    gaps = np.linalg.norm(np.diff(dense, axis=0), axis=1)
    assert gaps.max() <= 0.5 + 1e-9
    for a in anchors:
        assert np.min(np.linalg.norm(dense - a, axis=1)) < 1e-9
    _, dist = right.snapper.snap(dense)
    assert dist.max() < 1e-6  # every inserted point lies on the skin


def test_closed_polygon_densifies_its_closing_edge(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, _ = female
    corners, _ = resolve_points(
        right,
        [
            sp({"landmark": "tibial_tuberosity", "ref": "t"}),
            sp({"landmark": "tibial_tuberosity", "distal_cm": 4, "ref": "t"}),
            sp({"landmark": "tibial_tuberosity", "distal_cm": 4, "medial_cm": 3, "ref": "t"}),
        ],
    )
    ring = densify(right.snapper, corners, closed=True)
    closed = np.concatenate([ring, ring[:1]])
    assert np.linalg.norm(np.diff(closed, axis=0), axis=1).max() <= 0.5 + 1e-9


def test_onto_skin_keeps_the_in_plane_offsets_and_lands_on_the_back_of_the_neck(
    female: tuple[SideGeometry, SideGeometry],
) -> None:
    right, _ = female
    pt = sp({"landmark": "eop", "distal_cm": 1.63, "lateral_cm": 2.26, "onto_skin": "posterior", "ref": "t"})
    moved = np.asarray(resolve_points(right, [pt])[0][0]) - raw_point(right, pt)
    frame = right.frames[right.landmark_segments["eop"]]
    # Only the depth changes: nothing along the two written axes ...
    assert abs(float(moved @ frame.proximal)) < 1e-6
    assert abs(float(moved @ frame.lateral)) < 1e-6
    # ... and the point is on the skin, on the back of the neck, not the front.
    on_skin = np.asarray(resolve_points(right, [pt])[0][0])
    assert right.snapper.snap(on_skin[None, :])[1][0] < 1e-3
    assert float((on_skin - right.landmarks_cm["eop"]) @ frame.anterior) > -3.0
    assert float((on_skin - right.landmarks_cm["eop"]) @ frame.anterior) < 6.0


def test_onto_skin_picks_the_side_the_skin_faces(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, _ = female
    back = sp({"landmark": "eop", "distal_cm": 5.0, "onto_skin": "posterior", "ref": "t"})
    front = sp({"landmark": "eop", "distal_cm": 5.0, "onto_skin": "anterior", "ref": "t"})
    (b, f), _ = resolve_points(right, [back, front])
    anterior = right.frames[right.landmark_segments["eop"]].anterior
    # The same in-plane point, carried back and forward: the front of the neck is the neck's
    # depth (several cm) in front of its back.
    assert float((f - b) @ anterior) > 4.0


def test_onto_skin_with_nothing_there_is_a_readable_error(female: tuple[SideGeometry, SideGeometry]) -> None:
    right, _ = female
    far = sp({"landmark": "eop", "lateral_cm": 40.0, "onto_skin": "posterior", "ref": "t"})
    with pytest.raises(AtlasError, match="no skin facing that way"):
        resolve_points(right, [far])


def test_onto_skin_refuses_a_depth_offset_on_its_own_axis() -> None:
    with pytest.raises(ValueError, match="onto_skin: posterior finds the depth"):
        SkinPointModel.model_validate(
            {"landmark": "eop", "lateral_cm": 2.0, "anterior_cm": 1.0, "onto_skin": "posterior", "ref": "t"}
        )
    ok = SkinPointModel.model_validate(
        {"landmark": "eop", "distal_cm": 2.0, "anterior_cm": 1.0, "onto_skin": "lateral", "ref": "t"}
    )
    assert ok.onto_skin == "lateral" and skin_point(ok).onto_skin == "lateral"
