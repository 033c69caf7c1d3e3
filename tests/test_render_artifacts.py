"""The committed atlas/resolved and atlas/meshes files are the render tool's output for today's
YAML and assets (skipped without the MakeHuman assets); their format is checked always."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trainer.tools.render.mesh import default_assets_dir

ATLAS = Path(__file__).resolve().parents[1] / "atlas"
ASSETS = default_assets_dir()
BODIES = ("female", "male", "female_high_bmi")


@pytest.mark.parametrize("body", BODIES)
def test_resolved_file_has_every_landmark_and_item_on_the_right_side(body: str) -> None:
    from trainer.atlas import load_atlas

    doc = json.loads((ATLAS / "resolved" / f"{body}.json").read_text(encoding="utf-8"))
    assert {
        "schema_version",
        "body_type",
        "input_hash",
        "side",
        "pose",
        "joints_cm",
        "frames",
        "landmarks",
        "items",
    } <= set(doc)
    assert doc["schema_version"] == 1 and doc["body_type"] == body and doc["side"] == "right"
    assert doc["pose"] == "A-pose, unposed"
    atlas = load_atlas(ATLAS)
    assert set(doc["landmarks"]) == set(atlas.landmarks)
    items = set(atlas.nerves) | set(atlas.sites) | set(atlas.avoid) | set(atlas.territories)
    assert set(doc["items"]) == items
    for lid, lm in doc["landmarks"].items():
        assert len(lm["point_cm"]) == 3 and lm["segment"] == atlas.landmarks[lid].segment
        assert lm["point_cm"][0] <= 0.6, lid  # the body's right side (MakeHuman -x) or the midline
    for item in doc["items"].values():
        assert item["kind"] in ("nerve", "site", "avoid", "territory") and len(item["points_cm"]) >= 1
    for seg, f in doc["frames"].items():
        m = np.array([f["proximal"], f["lateral"], f["anterior"]])
        assert np.allclose(m @ m.T, np.eye(3), atol=1e-4), seg


@pytest.mark.parametrize("body", BODIES)
def test_mesh_file_is_small_and_float32(body: str) -> None:
    path = ATLAS / "meshes" / f"{body}.npz"
    assert path.stat().st_size < 600_000
    with np.load(path) as z:
        assert set(z.files) == {"vertices_cm", "triangles"}
        v, t = z["vertices_cm"], z["triangles"]
    assert v.dtype == np.float32 and v.shape[1] == 3 and t.dtype == np.int32 and t.shape[1] == 3
    assert t.min() >= 0 and t.max() < len(v)
    doc = json.loads((ATLAS / "resolved" / f"{body}.json").read_text(encoding="utf-8"))
    # Vertex-pick landmarks are rows of the mesh (base indexing is kept).
    from trainer.atlas import load_atlas

    atlas = load_atlas(ATLAS)
    for lid, lm in atlas.landmarks.items():
        if lm.method == "vertex_pick":
            assert np.allclose(v[lm.vertex], doc["landmarks"][lid]["point_cm"], atol=2e-3), lid


@pytest.mark.slow
@pytest.mark.parametrize("body", BODIES)
def test_committed_artifacts_are_up_to_date(body: str) -> None:
    if not (Path(ASSETS) / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")
    from trainer.tools.render.artifacts import build_artifacts, dump_resolved
    from trainer.tools.render.inputs import load_inputs

    doc, arrays = build_artifacts(load_inputs(ATLAS), body, Path(ASSETS))
    committed = (ATLAS / "resolved" / f"{body}.json").read_text(encoding="utf-8")
    assert committed == dump_resolved(doc), "re-run python -m trainer.tools.render artifacts"
    with np.load(ATLAS / "meshes" / f"{body}.npz") as z:
        assert np.array_equal(z["triangles"], arrays["triangles"])
        assert np.allclose(z["vertices_cm"], arrays["vertices_cm"], atol=1e-4)


@pytest.mark.parametrize("body", BODIES)
def test_committed_sidecars_carry_the_resolved_points(body: str) -> None:
    """A view's sidecar is only re-rendered when its input hash changes, and the hash covers the YAML,
    not the resolver's code: a resolver change (a new point form, say) leaves old points in the
    sidecars that `validate` and the pages read. So every right-side or midline view in the rest pose must carry
    exactly the 3D points of the resolved artifact, which is rebuilt from today's code above."""
    from trainer.tools.render.inputs import load_inputs
    from trainer.tools.render.sidecar import view_pose

    inputs = load_inputs(ATLAS)
    resolved = json.loads((ATLAS / "resolved" / f"{body}.json").read_text(encoding="utf-8"))["items"]
    compared, stale = 0, []
    for view in inputs.views():
        if view.side == "left" or view_pose(view) != (0.0, 0.0):
            continue  # re-posed forearms or the mirrored left side: other coordinates by design
        path = ATLAS / "sidecars" / f"{view.id}__{body}.json"
        for item_id, drawn in json.loads(path.read_text(encoding="utf-8"))["items"].items():
            if item_id not in resolved:
                continue
            a = np.asarray(drawn["anchors_cm"], dtype=float)
            b = np.asarray(resolved[item_id]["anchors_cm"], dtype=float)
            compared += 1
            if a.shape != b.shape or not np.allclose(a, b, atol=1e-3):
                stale.append(f"{view.id}: {item_id}")
    assert compared > 250  # not vacuous: hundreds of items are compared per body
    assert stale == [], "re-render these views with --force: " + ", ".join(stale[:10])
