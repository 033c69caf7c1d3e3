"""Build small synthetic atlases on disk, so each validation rule gets its own fixture."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from trainer.atlas.camera import Camera

# The definition, method and expected error every landmark must state (docs/atlas-format.md).
LANDMARK_METHOD: dict[str, Any] = {
    "definition": "Most prominent point of a test bone",
    "method": {"kind": "vertex_pick", "rule": "picked by eye on a test render"},
    "expected_error_cm": 1.0,
}


def point(landmark: str = "lm_a", **offsets: float) -> dict[str, Any]:
    return {"landmark": landmark, "ref": "ref_a", "value": "test value", **offsets}


def good_atlas_data() -> dict[str, Any]:
    """Minimal valid atlas content, as plain dicts keyed by file name."""
    return {
        "references.yaml": {
            "schema_version": 1,
            "references": [
                {
                    "id": "ref_a",
                    "kind": "paper",
                    "citation": "Doe J. A test paper. J Test. 2020;1:1-2.",
                    "findings": ["nerve 2 cm distal to lm_a"],
                    "verified": True,
                }
            ],
        },
        "conditions.yaml": {
            "schema_version": 1,
            "conditions": [{"id": "cond_a", "name": "Condition A", "references": ["ref_a"]}],
        },
        "landmarks.yaml": {
            "schema_version": 1,
            "landmarks": [
                {
                    "id": "lm_a",
                    "name": "Landmark A",
                    "segment": "leg",
                    "vertex": 1,
                    "references": ["ref_a"],
                    **LANDMARK_METHOD,
                },
                {
                    "id": "lm_b",
                    "name": "Landmark B",
                    "segment": "leg",
                    "vertex": 2,
                    "references": ["ref_a"],
                    **LANDMARK_METHOD,
                },
            ],
        },
        "body_types.yaml": {
            "schema_version": 1,
            "body_types": [{"id": "female", "name": "Average female", "targets": []}],
            "default": "female",
        },
        "regions/reg_a.yaml": {
            "schema_version": 1,
            "region": {"id": "reg_a", "name": "Region A", "segment": "leg", "conditions": ["cond_a"]},
            "views": [{"id": "view_a", "look_from": "anterior", "center": point(), "extent_cm": 20}],
            "nerves": [
                {
                    "id": "nerve_a",
                    "name": "Nerve A",
                    "course": [point(proximal_cm=2), point(distal_cm=4)],
                    "description": "Runs from above lm_a to below it.",
                    "conditions": ["cond_a"],
                    "references": ["ref_a"],
                }
            ],
            "sites": [
                {
                    "id": "site_a",
                    "name": "Site A",
                    "nerve": "nerve_a",
                    "kind": "fascial_piercing",
                    "at": point(distal_cm=2),
                    "tolerance_reason": "test atlas: no published SD",
                    "avoid": ["vein_a"],
                    "references": ["ref_a"],
                }
            ],
            "avoid": [
                {
                    "id": "vein_a",
                    "name": "Vein A",
                    "kind": "vein",
                    "path": [point(lateral_cm=3, proximal_cm=3), point(lateral_cm=3, distal_cm=3)],
                    "safety_radius_cm": 0.5,
                    "references": ["ref_a"],
                }
            ],
            "territories": [
                {
                    "id": "terr_a",
                    "nerve": "nerve_a",
                    "polygon": [point(medial_cm=2), point(lateral_cm=2), point(distal_cm=3)],
                    "references": ["ref_a"],
                }
            ],
        },
    }


def write_atlas(root: Path, data: dict[str, Any], renders: bool = True, snap_cm: float = 0.1) -> Path:
    """Write the YAML files, plus a flat fake render (a 20 cm × 20 cm plane) per view."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    if renders:
        write_flat_renders(root, data, snap_cm=snap_cm)
    return root


def with_site_point(**fields: Any) -> dict[str, Any]:
    """The minimal atlas with its first site's point replaced (to test one point form's rules)."""
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["at"] = point(**fields)
    return data


def atlas_problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    """Write ``data`` as an atlas without renders and return its validation problems as text."""
    from trainer.atlas import check_atlas

    write_atlas(tmp_path / "atlas", data, renders=False)
    _, problems = check_atlas(tmp_path / "atlas")
    return [str(p) for p in problems]


FLAT_FRAME = {"proximal": [0.0, 1.0, 0.0], "lateral": [-1.0, 0.0, 0.0], "anterior": [0.0, 0.0, 1.0]}


def flat_point(p: dict[str, Any], side: str) -> list[float]:
    """Where a skin point lands on the flat test body: landmark at the origin, plane z=0."""
    prox = p.get("proximal_cm", -p.get("distal_cm", 0.0))
    lat = p.get("lateral_cm", -p.get("medial_cm", 0.0))
    sign = -1.0 if side == "right" else 1.0
    return [sign * lat, prox, 0.0]


def write_flat_renders(root: Path, data: dict[str, Any], snap_cm: float = 0.1, size_px: int = 200) -> None:
    """A render of a flat skin plane facing the camera: simple, exact geometry for tests."""
    (root / "images").mkdir(exist_ok=True)
    (root / "sidecars").mkdir(exist_ok=True)
    for name, content in data.items():
        if not name.startswith("regions/") or not isinstance(content, dict):
            continue
        for view in content.get("views", []):
            for side in view.get("sides", ["right", "left"]):
                vid = f"{view['id']}_{side}"
                cam = Camera.looking((0, 0, 0), (0, 0, -1), (0, 1, 0), size_px, size_px, view["extent_cm"])
                for bt in data["body_types.yaml"]["body_types"]:
                    key = f"{vid}__{bt['id']}"
                    Image.new("RGB", (size_px, size_px), (230, 200, 180)).save(root / "images" / f"{key}.png")
                    depth = np.ones((size_px, size_px), dtype=np.uint16) * 1001  # depth 0 cm
                    Image.fromarray(depth).save(root / "sidecars" / f"{key}.depth.png")
                    items: dict[str, Any] = {}
                    frame = copy.deepcopy(FLAT_FRAME)
                    if side == "left":
                        frame["lateral"] = [1.0, 0.0, 0.0]

                    def add(
                        item_id: str,
                        kind: str,
                        pts: list[dict[str, Any]],
                        side: str = side,
                        cam: Camera = cam,
                        items: dict[str, Any] = items,
                    ) -> None:
                        anchors = [flat_point(p, side) for p in pts]
                        xy, _ = cam.project(anchors)
                        items[item_id] = {
                            "kind": kind,
                            "anchors_cm": anchors,
                            "snap_cm": [snap_cm] * len(anchors),
                            "points_cm": anchors,
                            "points_px": xy.tolist(),
                            "visible": [True] * len(anchors),
                        }

                    for n in content.get("nerves", []):
                        add(n["id"], "nerve", n["course"])
                    for s in content.get("sites", []):
                        add(s["id"], "site", [s["at"]])
                    for a in content.get("avoid", []):
                        add(a["id"], "avoid", a["path"])
                    for t in content.get("territories", []):
                        add(t["id"], "territory", t["polygon"])
                    for lm in data["landmarks.yaml"]["landmarks"]:
                        add(lm["id"], "landmark", [{"landmark": lm["id"]}])
                    meta = {
                        "schema_version": 1,
                        "view_id": vid,
                        "view": view["id"],
                        "region": content["region"]["id"],
                        "side": side,
                        "body_type": bt["id"],
                        "image": f"{key}.png",
                        "depth": f"{key}.depth.png",
                        "camera": cam.to_dict(),
                        "depth_encoding": {"near_cm": -5.0, "scale_cm": 0.005},
                        "frame": frame,
                        "axes_px_per_cm": {},
                        "input_hash": "test",
                        "items": items,
                    }
                    (root / "sidecars" / f"{key}.json").write_text(json.dumps(meta))
