"""One view × side × body type: camera, render, projected items, and the files on disk.

The outputs follow docs/atlas-format.md "Rendered views": an RGB PNG under ``images/``,
a 16-bit depth PNG and a JSON sidecar under ``sidecars/``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from trainer.atlas.build import sidecar_key
from trainer.atlas.camera import Camera
from trainer.atlas.core import AtlasItem, Region, View, skin_points
from trainer.errors import AtlasError
from trainer.tools.render.inputs import AtlasInputs
from trainer.tools.render.marks import axis_labels, choose_arrows, draw_mark
from trainer.tools.render.mesh import SkinMesh, body_type_fingerprint, build_skin
from trainer.tools.render.raster import RenderResult, render
from trainer.tools.render.relief import Relief, build_reliefs
from trainer.tools.render.resolve import (
    Frame,
    SideGeometry,
    SkinSnapper,
    build_side,
    densify,
    resolve_points,
)
from trainer.tools.render.viewclip import view_mesh

FloatArray = NDArray[np.float64]

# Bump when the output for the same inputs changes (shading, framing, JSON layout).
RENDERER_VERSION = "2.0.0"
SCHEMA_VERSION = 1
VISIBLE_DEPTH_TOLERANCE_CM = 0.6
DEPTH_SCALE_CM = 0.005


def view_key(view_id: str, body_type: str) -> str:
    """File stem shared by the PNG, depth map and sidecar of a view.

    >>> view_key("knee_anteromedial_right", "female")
    'knee_anteromedial_right__female'
    """
    return sidecar_key(view_id, body_type)  # the name the app looks the files up by


def look_vector(frame: Frame, look_from: str, turn_posterior_deg: float = 0.0) -> FloatArray:
    """Unit vector from the subject toward the camera for a ``look_from`` word, turned round the
    limb's long axis toward the back by ``turn_posterior_deg``.

    >>> f = Frame(np.array([0.0, 1, 0]), np.array([-1.0, 0, 0]), np.array([0.0, 0, 1]))
    >>> look_vector(f, "anteromedial").round(4).tolist()
    [0.7071, 0.0, 0.7071]
    >>> look_vector(f, "anteromedial", 45).round(4).tolist()
    [1.0, 0.0, 0.0]
    """
    p, lat, a = frame.proximal, frame.lateral, frame.anterior
    table = {
        "anterior": a,
        "posterior": -a,
        "lateral": lat,
        "medial": -lat,
        "anteromedial": a - lat,
        "anterolateral": a + lat,
        "posteromedial": -a - lat,
        "posterolateral": -a + lat,
        "superior": p,
        "inferior": -p,
        "anterosuperior": a + p,
        "inferomedial": -p - lat,
    }
    if look_from not in table:
        raise AtlasError(f"unknown look_from {look_from!r}")
    v = table[look_from]
    v = v / np.linalg.norm(v)
    if turn_posterior_deg:
        v = _turned_posterior(frame, v, math.radians(turn_posterior_deg), look_from)
    return v


def _turned_posterior(frame: Frame, v: FloatArray, angle_rad: float, look_from: str) -> FloatArray:
    """``v`` rotated round the proximal axis so that it moves toward the back of the limb."""
    p = frame.proximal / np.linalg.norm(frame.proximal)
    along = float(v @ p) * p
    across = v - along
    r = float(np.linalg.norm(across))
    toward = np.cross(p, across)
    back = float(toward @ -frame.anterior)
    if r < 1e-6 or abs(back) < 1e-6:
        raise AtlasError(f"a view from {look_from!r} cannot be turned toward the back")
    toward = toward / np.linalg.norm(toward) * (1.0 if back > 0 else -1.0)
    across = across / r
    turned: FloatArray = along + r * (math.cos(angle_rad) * across + math.sin(angle_rad) * toward)
    return turned


def view_camera(
    center_cm: FloatArray,
    frame: Frame,
    look_from: str,
    up: str,
    extent_cm: float,
    size_px: int,
    turn_posterior_deg: float = 0.0,
) -> Camera:
    """Orthographic camera on the region's frame; ``up`` falls back to anterior if degenerate."""
    direction = -look_vector(frame, look_from, turn_posterior_deg)
    up_vec = {"proximal": frame.proximal, "distal": -frame.proximal, "anterior": frame.anterior}[up]
    if abs(float(up_vec @ direction)) > 0.95:
        up_vec = frame.anterior if abs(float(frame.anterior @ direction)) < 0.95 else frame.proximal
    return Camera.looking(center_cm, direction, up_vec, size_px, size_px, extent_cm)


def input_hash(inputs: AtlasInputs, region: Region, body_fingerprint: str, extra: str) -> str:
    """sha256 over the landmark files, the region file, the body type and the renderer version
    (over the files' bytes, not the parsed objects: any edit of a file re-renders its views)."""
    h = hashlib.sha256()
    for part in (
        RENDERER_VERSION.encode(),
        inputs.landmarks_raw,
        inputs.region_raw[region.id],
        body_fingerprint.encode(),
        extra.encode(),
    ):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


@dataclass(frozen=True)
class ViewRender:
    """Everything produced for one view × side × body type, before writing."""

    key: str
    rgb: NDArray[np.uint8]
    depth_cm: FloatArray
    depth_u16: NDArray[np.uint16]
    sidecar: dict[str, Any]
    camera: Camera


def encode_depth(depth_cm: FloatArray) -> tuple[NDArray[np.uint16], float, float]:
    """16-bit depth: 0 = no skin, else ``near_cm + (value - 1) * scale_cm``.

    >>> d = np.array([[np.nan, -1.0], [0.0, 2.5]])
    >>> v, near, scale = encode_depth(d)
    >>> v.tolist(), near, scale
    ([[0, 1], [201, 701]], -1.0, 0.005)
    """
    covered = np.isfinite(depth_cm)
    if not covered.any():
        return np.zeros(depth_cm.shape, dtype=np.uint16), 0.0, DEPTH_SCALE_CM
    lo = float(np.min(depth_cm[covered]))
    hi = float(np.max(depth_cm[covered]))
    near = math.floor(lo * 100.0) / 100.0
    scale = DEPTH_SCALE_CM
    while (hi - near) / scale + 1 > 65535:
        scale *= 2.0
    vals = np.zeros(depth_cm.shape, dtype=np.float64)
    vals[covered] = np.round((depth_cm[covered] - near) / scale) + 1.0
    return np.clip(vals, 0, 65535).astype(np.uint16), near, scale


def visibility(camera: Camera, depth_cm: FloatArray, points_cm: FloatArray) -> tuple[FloatArray, list[bool]]:
    """Project points; visible = inside the image and within tolerance of the depth map.

    The depth test looks at the 3x3 pixel neighbourhood so a point on the silhouette,
    whose own pixel may be background, still counts as seen.
    """
    xy, d = camera.project(points_cm)
    h, w = depth_cm.shape
    vis: list[bool] = []
    for (x, y), di in zip(xy, d, strict=True):
        if not (0.0 <= x < w and 0.0 <= y < h):
            vis.append(False)
            continue
        c, r = int(x), int(y)
        patch = depth_cm[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
        diffs = np.abs(patch[np.isfinite(patch)] - di)
        vis.append(bool(diffs.size and float(diffs.min()) <= VISIBLE_DEPTH_TOLERANCE_CM))
    return xy, vis


def _round(a: FloatArray, nd: int) -> list[list[float]]:
    return [[round(float(v), nd) for v in row] for row in np.asarray(a).reshape(len(a), -1)]


def _item_record(
    kind: str,
    anchors: FloatArray,
    snaps: FloatArray,
    points: FloatArray,
    camera: Camera,
    depth_cm: FloatArray,
) -> dict[str, Any]:
    xy, vis = visibility(camera, depth_cm, points)
    return {
        "kind": kind,
        "anchors_cm": _round(anchors, 3),
        "snap_cm": [round(float(s), 3) for s in snaps],
        "points_cm": _round(points, 3),
        "points_px": _round(xy, 2),
        "visible": vis,
    }


def resolve_item(
    geo: SideGeometry, item: AtlasItem, region: Region
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(anchors, snap_cm, points)`` of one item: its skin points snapped, lines densified
    along the skin (a territory's outline closed)."""
    try:
        anchors, snaps = resolve_points(geo, skin_points(item))
    except AtlasError as exc:
        raise AtlasError(f"{Path(region.file).name}: {item.id}: {exc}") from exc
    if item.kind == "site" or len(anchors) < 2:
        return anchors, snaps, anchors
    return anchors, snaps, densify(geo.snapper, anchors, closed=item.kind == "territory")


def resolve_items(
    geo: SideGeometry, inputs: AtlasInputs, region: Region
) -> dict[str, tuple[str, FloatArray, FloatArray, FloatArray]]:
    """``id -> (kind, anchors, snap_cm, points)`` for every landmark and region item."""
    out: dict[str, tuple[str, FloatArray, FloatArray, FloatArray]] = {}
    for lid, pos in geo.landmarks_cm.items():
        p = pos.reshape(1, 3)
        out[lid] = ("landmark", p, np.zeros(1), p)
    for item in inputs.items(region):
        out[item.id] = (item.kind, *resolve_item(geo, item, region))
    return out


def _landmark_reliefs(geo: SideGeometry, camera: Camera) -> list[Relief]:
    """Reliefs for the landmarks of one side whose position falls near the image."""
    skin = geo.skin
    normals = {lid: skin.normals[vi] for lid, vi in geo.landmark_vertices.items()}
    axes = {lid: geo.frames[geo.landmark_segments[lid]].proximal for lid in geo.landmarks_cm}
    positions = dict(geo.landmarks_cm)
    reliefs = build_reliefs(positions, normals, axes)
    crest = [k for k in ("asis", "iliac_crest_tubercle", "psis") if k in positions]
    if len(crest) >= 2:
        # The crest ridge follows the skin between its landmarks, set a little under it.
        path = densify(geo.snapper, np.stack([positions[k] for k in crest]), max_spacing_cm=1.5)
        centroid_x = float(np.mean(path[:, 0]))
        inward = np.array([-np.sign(centroid_x) * 0.2, 0.0, 0.0])
        reliefs = [r for r in reliefs if len(r.path_cm) < 2]
        reliefs.append(
            Relief(
                center_cm=tuple(path[0].tolist()),
                axes=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
                radii_cm=(1.6, 1.6, 1.6),
                height_cm=0.35,
                path_cm=tuple(tuple((p + inward).tolist()) for p in path),
            )
        )
    margin_px = 4.0 * camera.px_per_cm
    kept = []
    for r in reliefs:
        pts = np.asarray(r.path_cm) if len(r.path_cm) >= 2 else np.asarray([r.center_cm])
        xy, _ = camera.project(pts)
        inside = (
            (xy[:, 0] > -margin_px)
            & (xy[:, 0] < camera.width_px + margin_px)
            & (xy[:, 1] > -margin_px)
            & (xy[:, 1] < camera.height_px + margin_px)
        )
        if inside.any():
            kept.append(r)
    return kept


@dataclass
class BodyContext:
    """Per-body-type state shared by all views: mesh, snapper and both sides' geometry."""

    name: str
    skin: SkinMesh
    fingerprint: str
    sides: dict[str, SideGeometry]


def view_pose(view: View, default_supination_deg: float = 0.0) -> tuple[float, float]:
    """``(supination_deg, elbow_extension)`` a view asks for (1.0 = elbows fully extended)."""
    sup = view.supination_deg
    return (
        float(sup if sup is not None else default_supination_deg),
        1.0 if view.elbow_extended else 0.0,
    )


def body_context(
    inputs: AtlasInputs,
    body_type: str,
    assets_dir: Path,
    subdivisions: int = 1,
    supination_deg: float = 0.0,
    elbow_extension: float = 0.0,
) -> BodyContext:
    """Build (or reuse) the mesh of one body type and resolve both sides' landmarks."""
    if body_type not in inputs.body_types:
        raise AtlasError(f"unknown body type {body_type!r}; known: {', '.join(sorted(inputs.body_types))}")
    definition = tuple((str(n), float(w)) for n, w in inputs.body_types[body_type])
    skin = build_skin(
        str(assets_dir), body_type, definition, subdivisions, float(supination_deg), float(elbow_extension)
    )
    snapper = SkinSnapper(skin)
    sides = {s: build_side(skin, s, inputs.landmarks, snapper) for s in ("right", "left")}
    sides["midline"] = sides["right"]
    fingerprint = body_type_fingerprint(assets_dir, definition) + f"|subdiv={subdivisions}"
    if supination_deg:
        fingerprint += f"|supination={float(supination_deg):g}"
    if elbow_extension:
        fingerprint += f"|elbow_extension={float(elbow_extension):g}"
    return BodyContext(name=body_type, skin=skin, fingerprint=fingerprint, sides=sides)


def _extra(view: View, size_px: int, supersample: int) -> str:
    """The render settings that enter the input hash besides the files."""
    return json.dumps({"view": view.base_id, "side": view.side, "size_px": size_px, "ss": supersample})


def render_view(
    inputs: AtlasInputs,
    view: View,
    body: BodyContext,
    size_px: int = 900,
    supersample: int = 2,
) -> ViewRender:
    """Render one view (one side of it) for one body type, in memory."""
    region = inputs.region_of(view)
    side = view.side
    geo = body.sides[side]
    frame = geo.frames[region.segment]
    center, _ = resolve_points(geo, [view.center])
    camera = view_camera(
        center[0], frame, view.look_from, view.up, view.extent_cm, size_px, view.turn_posterior_deg
    )
    skin = body.skin
    reliefs = _landmark_reliefs(body.sides["right"], camera) + _landmark_reliefs(body.sides["left"], camera)
    verts, normals, drawn = view_mesh(skin, region.segment, side, view.look_from, camera, view.extent_cm)
    result = render(
        verts,
        normals,
        drawn,
        camera,
        reliefs=reliefs,
        supersample=supersample,
        mirror_lights=side == "left",
    )
    frame_axes = {
        name: camera.image_vector(getattr(frame, name)) for name in ("proximal", "lateral", "anterior")
    }
    rgb, mark = draw_mark(
        result.rgb, result.depth_cm, choose_arrows(frame_axes, axis_labels(region.segment, side))
    )
    result = RenderResult(rgb=rgb, depth_cm=result.depth_cm)
    depth_u16, near, scale = encode_depth(result.depth_cm)
    vid = view.id
    key = view_key(vid, body.name)
    items = {
        item_id: _item_record(kind, anchors, snaps, pts, camera, result.depth_cm)
        for item_id, (kind, anchors, snaps, pts) in resolve_items(geo, inputs, region).items()
    }
    sidecar: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "view_id": vid,
        "view": view.base_id,
        "region": region.id,
        "side": side,
        "body_type": body.name,
        "image": f"{key}.png",
        "depth": f"{key}.depth.png",
        "camera": camera.to_dict(),
        "depth_encoding": {"near_cm": near, "scale_cm": scale},
        "frame": frame.to_dict(),
        "axes_px_per_cm": {
            name: [round(float(v), 4) for v in camera.image_vector(getattr(frame, name))]
            for name in ("proximal", "lateral", "anterior")
        },
        "input_hash": input_hash(inputs, region, body.fingerprint, _extra(view, size_px, supersample)),
        "renderer_version": RENDERER_VERSION,
        "orientation_mark": mark.to_dict(),
        "items": items,
    }
    return ViewRender(
        key=key, rgb=result.rgb, depth_cm=result.depth_cm, depth_u16=depth_u16, sidecar=sidecar, camera=camera
    )


def write_view(out: ViewRender, atlas_dir: Path) -> list[Path]:
    """Write the PNG, depth PNG and JSON; PNG bytes depend only on the pixels."""
    images = Path(atlas_dir) / "images"
    sidecars = Path(atlas_dir) / "sidecars"
    images.mkdir(parents=True, exist_ok=True)
    sidecars.mkdir(parents=True, exist_ok=True)
    png = images / f"{out.key}.png"
    depth = sidecars / f"{out.key}.depth.png"
    meta = sidecars / f"{out.key}.json"
    Image.fromarray(out.rgb).save(png, format="PNG", optimize=True)
    Image.fromarray(out.depth_u16).save(depth, format="PNG")
    meta.write_text(json.dumps(out.sidecar, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return [png, depth, meta]


def existing_hash(atlas_dir: Path, key: str) -> str | None:
    """The input hash of an already written sidecar, if its three files exist."""
    meta = Path(atlas_dir) / "sidecars" / f"{key}.json"
    if not (meta.is_file() and (Path(atlas_dir) / "images" / f"{key}.png").is_file()):
        return None
    if not (Path(atlas_dir) / "sidecars" / f"{key}.depth.png").is_file():
        return None
    try:
        return str(json.loads(meta.read_text(encoding="utf-8")).get("input_hash"))
    except (OSError, ValueError):
        return None


def planned_hash(inputs: AtlasInputs, view: View, body: BodyContext, size_px: int, supersample: int) -> str:
    """The input hash ``render_view`` would write, without rendering."""
    return input_hash(inputs, inputs.region_of(view), body.fingerprint, _extra(view, size_px, supersample))


def render_view_by_id(
    view_id: str,
    body_type: str = "female",
    *,
    atlas_dir: Path,
    assets_dir: Path,
    size_px: int = 160,
    supersample: int = 1,
    region_paths: list[Path] | None = None,
    subdivisions: int = 1,
) -> ViewRender:
    """Render one view (``<view>_<side>`` or a midline view id) in memory, e.g. for tests."""
    from trainer.tools.render.inputs import load_inputs

    inputs = load_inputs(Path(atlas_dir), region_paths)
    view = inputs.atlas.views.get(view_id)
    if view is None:
        raise AtlasError(f"no view {view_id!r} in {atlas_dir}")
    body = body_context(inputs, body_type, Path(assets_dir), subdivisions, *view_pose(view))
    return render_view(inputs, view, body, size_px, supersample)
