"""The 3D body view (trainer/explorer/figure3d.py) on the real atlas and its committed meshes."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.explorer.figure3d import (
    LIFT_CM,
    MAX_PAYLOAD_BYTES,
    crop_mesh,
    explorer_figure_3d,
    lift_off_skin,
    load_skin_mesh,
    vertex_normals,
)


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas()


def test_every_region_builds_under_the_payload_budget_with_named_structures(atlas: Atlas) -> None:
    for region_id in atlas.regions:
        view = load_rendered_view(atlas.views_of_region(region_id)[0].id, atlas.default_body_type)
        fig = explorer_figure_3d(view, atlas)
        size = len(fig.to_json().encode())
        assert size < MAX_PAYLOAD_BYTES, (region_id, size)
        (skin,) = [t for t in fig.data if t.type == "mesh3d"]
        assert len(skin.i) > 50, region_id  # a real piece of body, not an empty crop
        nerves = [t for t in fig.data if t.meta == "nerve"]
        drawn = {
            i for i, it in view.items.items() if it.kind == "nerve" and i in atlas.nerves and it.any_visible
        }
        assert len(nerves) == len(drawn), region_id
        assert all(t.hovertext and t.hoverinfo == "text" for t in fig.data if t.type == "scatter3d")


def test_the_starting_pose_is_the_2d_views_camera(atlas: Atlas) -> None:
    view = load_rendered_view("elbow_lateral_right", atlas.default_body_type)
    cam = explorer_figure_3d(view, atlas).layout.scene.camera
    eye = np.array([cam.eye.x, cam.eye.y, cam.eye.z])
    up = np.array([cam.up.x, cam.up.y, cam.up.z])
    assert np.allclose(eye / np.linalg.norm(eye), -np.asarray(view.camera.direction), atol=1e-9)
    assert np.allclose(up, view.camera.up, atol=1e-9)
    assert cam.projection.type == "orthographic"


def test_nerve_courses_float_just_off_the_skin_on_its_outer_side(atlas: Atlas) -> None:
    view = load_rendered_view("knee_anteromedial_right", atlas.default_body_type)
    skin = crop_mesh(load_skin_mesh(view.body_type), view, atlas)
    normals = vertex_normals(skin)
    item = next(it for i, it in view.items.items() if it.kind == "nerve" and i in atlas.nerves)
    lifted = lift_off_skin(item.points_cm, skin, normals)
    moved = np.linalg.norm(lifted - item.points_cm, axis=1)
    assert np.allclose(moved, LIFT_CM) and 0.1 <= LIFT_CM <= 0.2
    # Outward: the lifted point is farther from the body's centre of the crop than the course.
    centre = skin.vertices_cm.mean(axis=0)
    out = np.linalg.norm(lifted - centre, axis=1) - np.linalg.norm(item.points_cm - centre, axis=1)
    assert np.mean(out > 0) > 0.8


def test_the_crop_keeps_only_what_the_view_frames(atlas: Atlas) -> None:
    view = load_rendered_view("knee_anteromedial_right", atlas.default_body_type)
    mesh = load_skin_mesh(view.body_type)
    skin = crop_mesh(mesh, view, atlas)
    assert 0 < len(skin.vertices_cm) < len(mesh.vertices_cm) / 5
    xy, _ = view.camera.project(skin.vertices_cm.astype(np.float64))
    assert (xy >= 0).all() and (xy[:, 0] <= view.width_px).all() and (xy[:, 1] <= view.height_px).all()
    assert skin.triangles.max() < len(skin.vertices_cm)
