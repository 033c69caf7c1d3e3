"""Generated per-body artifacts that tools read without the MakeHuman assets.

``python -m trainer.tools.render artifacts`` writes, for every body type:

* ``atlas/resolved/<body>.json`` — every landmark, joint centre, segment frame and atlas
  item resolved in 3D on the body's right side (midline items as resolved), in body cm,
  MakeHuman axes (+x the body's left, +y up, +z anterior), A-pose, unposed;
* ``atlas/meshes/<body>.npz`` — the calibrated skin at base resolution: ``vertices_cm``
  (float32, V x 3; row i is base-mesh vertex i moved onto the once-subdivided surface the
  renderer draws, so landmark vertices are rows of it) and ``triangles`` (int32, T x 3).

``body-report`` and the anatomy check read these; a test (skipped without the assets)
checks that they are up to date with the atlas YAML and the assets.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trainer.errors import AtlasError
from trainer.tools.render.inputs import AtlasInputs, load_inputs
from trainer.tools.render.mesh import SkinMesh, body_type_fingerprint, build_skin, default_assets_dir
from trainer.tools.render.resolve import SEGMENTS, SideGeometry, SkinSnapper, build_side
from trainer.tools.render.sidecar import RENDERER_VERSION, resolve_item

SCHEMA_VERSION = 1
POSE = "A-pose, unposed"
SUBDIVISIONS = 1
from trainer.settings import REPO_ROOT  # noqa: E402


def artifact_hash(inputs: AtlasInputs, fingerprint: str) -> str:
    """sha256 over the landmark files, every region file, the body type and the renderer."""
    h = hashlib.sha256()
    parts = [
        RENDERER_VERSION.encode(),
        f"artifacts-v{SCHEMA_VERSION}".encode(),
        inputs.landmarks_raw,
        fingerprint.encode(),
    ]
    parts += [inputs.region_raw[r.id] for r in inputs.regions]
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _r(a: Any, nd: int = 3) -> list[Any]:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        return [round(float(x), nd) for x in arr]
    return [[round(float(x), nd) for x in row] for row in arr]


def resolved_record(inputs: AtlasInputs, body_type: str, skin: SkinMesh, fingerprint: str) -> dict[str, Any]:
    """The ``atlas/resolved/<body>.json`` document for one body (right side)."""
    snapper = SkinSnapper(skin)
    geo: SideGeometry = build_side(skin, "right", inputs.landmarks, snapper)
    items: dict[str, Any] = {}
    for region in inputs.regions:
        for item in inputs.items(region):
            anchors, _, dense = resolve_item(geo, item, region)
            items[item.id] = {
                "kind": item.kind,
                "region": region.id,
                "points_cm": _r(dense),
                "anchors_cm": _r(anchors),
            }
    return {
        "schema_version": SCHEMA_VERSION,
        "body_type": body_type,
        "input_hash": artifact_hash(inputs, fingerprint),
        "side": "right",
        "pose": POSE,
        "joints_cm": {k: _r(v) for k, v in sorted(skin.joints_cm.items())},
        "frames": {seg: {k: _r(v, 6) for k, v in geo.frames[seg].to_dict().items()} for seg in SEGMENTS},
        "landmarks": {
            lid: {"point_cm": _r(p), "segment": geo.landmark_segments[lid]}
            for lid, p in geo.landmarks_cm.items()
        },
        "items": items,
    }


def mesh_arrays(skin: SkinMesh, n_base: int, base_triangles: np.ndarray) -> dict[str, np.ndarray]:
    """Base-resolution skin: the first ``n_base`` rows of the subdivided mesh and the base triangles."""
    return {
        "vertices_cm": skin.vertices_cm[:n_base].astype(np.float32),
        "triangles": base_triangles.astype(np.int32),
    }


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Compressed npz bytes that depend only on the arrays (no timestamps inside)."""
    buf = io.BytesIO()
    # numpy's stub lets **kwds name its allow_pickle flag, so a dict of arrays fails the check.
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def build_artifacts(
    inputs: AtlasInputs, body_type: str, assets_dir: Path
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The resolved document and mesh arrays of one body type."""
    from trainer.tools.render.mesh import load_base

    if body_type not in inputs.body_types:
        raise AtlasError(f"unknown body type {body_type!r}")
    definition = tuple((str(n), float(w)) for n, w in inputs.body_types[body_type])
    skin = build_skin(str(assets_dir), body_type, definition, SUBDIVISIONS)
    base = load_base(str(assets_dir))
    fingerprint = body_type_fingerprint(assets_dir, definition) + f"|subdiv={SUBDIVISIONS}"
    n_base = int(base.body_quads.max()) + 1
    tris = np.concatenate([base.body_quads[:, [0, 1, 2]], base.body_quads[:, [0, 2, 3]]])
    return resolved_record(inputs, body_type, skin, fingerprint), mesh_arrays(skin, n_base, tris)


def resolved_path(atlas_dir: Path, body_type: str) -> Path:
    return Path(atlas_dir) / "resolved" / f"{body_type}.json"


def mesh_path(atlas_dir: Path, body_type: str) -> Path:
    return Path(atlas_dir) / "meshes" / f"{body_type}.npz"


def dump_resolved(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=None, separators=(",", ":"), sort_keys=False) + "\n"


def write_artifacts(
    atlas_dir: Path, body_type: str, doc: dict[str, Any], arrays: dict[str, np.ndarray]
) -> list[Path]:
    rp, mp = resolved_path(atlas_dir, body_type), mesh_path(atlas_dir, body_type)
    rp.parent.mkdir(parents=True, exist_ok=True)
    mp.parent.mkdir(parents=True, exist_ok=True)
    rp.write_text(dump_resolved(doc), encoding="utf-8")
    mp.write_bytes(npz_bytes(arrays))
    return [rp, mp]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.tools.render artifacts", description=__doc__)
    p.add_argument("--assets", type=Path, default=default_assets_dir())
    p.add_argument("--atlas", type=Path, default=REPO_ROOT / "atlas")
    p.add_argument("--body-types", nargs="*", default=None, help="default: every body type")
    args = p.parse_args(argv)
    if not (Path(args.assets) / "base.obj").is_file():
        print(f"error: MakeHuman assets not found at {args.assets}", file=sys.stderr)
        return 2
    try:
        inputs = load_inputs(args.atlas)
        for bt in args.body_types or list(inputs.body_types):
            doc, arrays = build_artifacts(inputs, bt, args.assets)
            paths = write_artifacts(args.atlas, bt, doc, arrays)
            sizes = ", ".join(f"{q.relative_to(args.atlas)} {q.stat().st_size // 1024} KB" for q in paths)
            print(f"{bt}: {len(doc['landmarks'])} landmarks, {len(doc['items'])} items; {sizes}")
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
