"""The offline renderer: rasteriser, determinism, left/right mirroring and the sidecar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from trainer.atlas.camera import Camera
from trainer.tools.render.inputs import AtlasInputs, load_inputs
from trainer.tools.render.mesh import default_assets_dir
from trainer.tools.render.raster import rasterize, render
from trainer.tools.render.sidecar import (
    BodyContext,
    ViewRender,
    body_context,
    encode_depth,
    render_view,
    write_view,
)

ASSETS = default_assets_dir()
ATLAS = Path(__file__).resolve().parents[1] / "atlas"
SIZE_PX = 120

REGION_YAML = """\
schema_version: 1
region: {id: test_knee, name: Test knee, segment: leg}
views:
  - id: test_knee_anteromedial
    look_from: anteromedial
    center: {landmark: patella_apex, distal_cm: 2, ref: t}
    extent_cm: 28
  - id: test_knee_medial
    look_from: medial
    center: {landmark: medial_joint_line, ref: t}
    extent_cm: 24
nerves:
  - id: test_nerve
    name: Test nerve
    course:
      - {landmark: medial_joint_line, proximal_cm: 4, ref: t}
      - {landmark: patella_apex, distal_cm: 3, medial_cm: 1, ref: t}
      - {landmark: tibial_tuberosity, lateral_cm: 2, ref: t}
    description: "A made-up course for tests."
sites:
  - id: test_site
    name: Test site
    nerve: test_nerve
    kind: injection
    at: {landmark: patella_apex, distal_cm: 3, medial_cm: 1, ref: t}
avoid:
  - id: test_vein
    name: Test vein
    kind: vein
    path:
      - {landmark: medial_joint_line, posterior_cm: 1, proximal_cm: 6, ref: t}
      - {landmark: medial_joint_line, posterior_cm: 1, distal_cm: 6, ref: t}
    safety_radius_cm: 0.5
territories:
  - id: test_territory
    nerve: test_nerve
    polygon:
      - {landmark: patella_apex, distal_cm: 1, ref: t}
      - {landmark: patella_apex, distal_cm: 6, ref: t}
      - {landmark: patella_apex, distal_cm: 6, medial_cm: 4, ref: t}
"""


def test_rasterize_fills_a_square_with_interpolated_depth() -> None:
    xy = np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 9.0], [1.0, 9.0]])
    depth = np.array([0.0, 8.0, 8.0, 0.0])  # depth grows with x
    z, t = rasterize(xy, depth, np.array([[0, 1, 2], [0, 2, 3]]), 10, 10)
    covered = t >= 0
    assert covered.sum() == 64  # pixel centres 1.5 .. 8.5
    assert np.allclose(z[5, 1:9], np.arange(1, 9) - 0.5)


def test_render_of_a_facing_quad_has_depth_and_background() -> None:
    v = np.array([[-1.0, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]])
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    cam = Camera.looking((0, 0, 0), (0, 0, -1), (0, 1, 0), 40, 40, 4.0)
    out = render(v, normals, tris, cam, supersample=2)
    assert out.rgb.shape == (40, 40, 3) and out.rgb.dtype == np.uint8
    assert np.isnan(out.depth_cm[0, 0]) and np.allclose(out.depth_cm[20, 20], 0.0)
    assert np.isfinite(out.depth_cm).sum() == 400  # the 2 x 2 cm quad at 10 px/cm
    back = Camera.looking((0, 0, 0), (0, 0, 1), (0, 1, 0), 40, 40, 4.0)
    assert np.isnan(render(v, normals, tris, back).depth_cm).all()  # back faces are culled


def test_depth_encoding_round_trips_within_the_scale() -> None:
    rng = np.random.default_rng(3)
    d = rng.uniform(-12, 9, size=(30, 30))
    d[:5] = np.nan
    vals, near, scale = encode_depth(d)
    back = near + (vals.astype(np.float64) - 1) * scale
    back[vals == 0] = np.nan
    assert np.array_equal(np.isnan(back), np.isnan(d))
    assert np.nanmax(np.abs(back - d)) <= scale / 2 + 1e-9


def _need_assets() -> None:
    if not (ASSETS / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[AtlasInputs, BodyContext]:
    _need_assets()
    root = tmp_path_factory.mktemp("atlas")
    (root / "regions").mkdir()
    (root / "landmarks.yaml").write_bytes((ATLAS / "landmarks.yaml").read_bytes())
    (root / "regions" / "test_knee.yaml").write_text(REGION_YAML, encoding="utf-8")
    inputs = load_inputs(root)
    return inputs, body_context(inputs, "female", ASSETS)


def _render(setup: tuple[AtlasInputs, BodyContext], view_index: int, side: str) -> ViewRender:
    inputs, body = setup
    base_id = ("test_knee_anteromedial", "test_knee_medial")[view_index]
    return render_view(inputs, inputs.atlas.views[f"{base_id}_{side}"], body, SIZE_PX, 1)


def test_same_inputs_render_identical_images_and_sidecars(setup: tuple[AtlasInputs, BodyContext]) -> None:
    a = _render(setup, 0, "right")
    b = _render(setup, 0, "right")
    assert np.array_equal(a.rgb, b.rgb)
    assert np.array_equal(a.depth_u16, b.depth_u16)
    assert json.dumps(a.sidecar) == json.dumps(b.sidecar)
    png_a, png_b = io.BytesIO(), io.BytesIO()
    Image.fromarray(a.rgb).save(png_a, format="PNG")
    Image.fromarray(b.rgb).save(png_b, format="PNG")
    assert png_a.getvalue() == png_b.getvalue()


def test_left_view_is_the_mirror_of_the_right(setup: tuple[AtlasInputs, BodyContext]) -> None:
    right = _render(setup, 0, "right")
    left = _render(setup, 0, "left")
    for lid in ("patella_apex", "tibial_tuberosity", "medial_joint_line"):
        (xr, yr), (xl, yl) = (
            right.sidecar["items"][lid]["points_px"][0],
            left.sidecar["items"][lid]["points_px"][0],
        )
        assert abs(xl - (SIZE_PX - xr)) < 1.0 and abs(yl - yr) < 1.0, lid
    flipped = right.rgb[:, ::-1].astype(np.int64)
    # The orientation marks are words and arrows, not anatomy: leave both mark boxes out.
    keep = np.ones(right.rgb.shape[:2], dtype=bool)
    x0, y0, x1, y1 = left.sidecar["orientation_mark"]["box_px"]
    keep[y0:y1, x0:x1] = False
    x0, y0, x1, y1 = right.sidecar["orientation_mark"]["box_px"]
    keep[y0:y1, SIZE_PX - x1 : SIZE_PX - x0] = False
    assert np.abs(left.rgb.astype(np.int64) - flipped)[keep].mean() < 3.0
    cover_r = np.isfinite(right.depth_cm[:, ::-1])
    cover_l = np.isfinite(left.depth_cm)
    assert (cover_r != cover_l).mean() < 0.01


def test_sidecar_lists_every_landmark_and_item_with_visibility(
    setup: tuple[AtlasInputs, BodyContext],
) -> None:
    inputs, _ = setup
    out = _render(setup, 0, "right")
    sc = out.sidecar
    for key in (
        "schema_version",
        "view_id",
        "view",
        "region",
        "side",
        "body_type",
        "image",
        "depth",
        "camera",
        "depth_encoding",
        "frame",
        "axes_px_per_cm",
        "input_hash",
        "items",
    ):
        assert key in sc, key
    assert (
        sc["view_id"] == "test_knee_anteromedial_right"
        and sc["image"] == "test_knee_anteromedial_right__female.png"
    )
    ids = {lm.id for lm in inputs.landmarks}
    assert ids | {"test_nerve", "test_site", "test_vein", "test_territory"} == set(sc["items"])
    nerve = sc["items"]["test_nerve"]
    assert nerve["kind"] == "nerve" and len(nerve["anchors_cm"]) == 3 and len(nerve["snap_cm"]) == 3
    assert len(nerve["points_cm"]) == len(nerve["points_px"]) == len(nerve["visible"]) > 3
    assert sc["items"]["patella_apex"]["visible"] == [True]
    assert sc["items"]["fibular_head"]["visible"] == [False]  # behind the knee from anteromedial
    assert sc["items"]["test_site"]["kind"] == "site" and len(sc["items"]["test_site"]["points_cm"]) == 1
    # The image's up is proximal; seen from anteromedial, the right knee's lateral side is on the left.
    assert sc["axes_px_per_cm"]["proximal"][1] < 0
    assert sc["axes_px_per_cm"]["lateral"][0] < 0


def test_depth_map_lifts_pixels_back_onto_the_snapped_points(
    setup: tuple[AtlasInputs, BodyContext], tmp_path: Path
) -> None:
    out = _render(setup, 1, "right")
    write_view(out, tmp_path)
    meta = json.loads((tmp_path / "sidecars" / f"{out.key}.json").read_text(encoding="utf-8"))
    with Image.open(tmp_path / "sidecars" / meta["depth"]) as im:
        raw = np.asarray(im, dtype=np.int64)
    enc = meta["depth_encoding"]
    depth = enc["near_cm"] + (raw - 1.0) * enc["scale_cm"]
    cam = Camera.from_dict(meta["camera"])
    item = meta["items"]["medial_joint_line"]
    assert item["visible"] == [True]
    x, y = item["points_px"][0]
    lifted = cam.unproject([x], [y], [depth[int(y), int(x)]])[0]
    assert np.linalg.norm(lifted - np.asarray(item["points_cm"][0])) < 0.6


def test_supination_turns_the_wrist_but_not_the_elbow() -> None:
    _need_assets()
    from trainer.tools.render.inputs import load_landmarks
    from trainer.tools.render.mesh import BODY_TYPES, build_skin

    vertex = {lm.id: lm.vertex for lm in load_landmarks(ATLAS)}
    definition = tuple(BODY_TYPES["female"])
    a_pose = build_skin(str(ASSETS), "female", definition, 0)
    turned = build_skin(str(ASSETS), "female", definition, 0, 90.0)
    moved = np.linalg.norm(turned.vertices_cm - a_pose.vertices_cm, axis=1)
    assert moved[vertex["lateral_epicondyle_humerus"]] < 0.3
    assert moved[vertex["radial_styloid"]] > 1.5
    # The thumb side turns outward (the body's right is -x) and the left arm mirrors it.
    radial = vertex["radial_styloid"]
    assert turned.vertices_cm[radial, 0] < a_pose.vertices_cm[radial, 0]
    left = int(a_pose.mirror[radial])
    assert np.allclose(
        turned.vertices_cm[left], turned.vertices_cm[radial] * np.array([-1.0, 1.0, 1.0]), atol=1e-6
    )
