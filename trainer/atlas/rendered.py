"""Rendered views as the server sees them: camera, depth map and projected items.

A click on the image is *lifted* back onto the skin through the depth map, so distances
are measured on the body in cm rather than on the screen.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from trainer.atlas.build import sidecar_key
from trainer.atlas.camera import Camera
from trainer.errors import AtlasError, Problem

FloatArray = NDArray[np.float64]

# A click this far (in px) outside the body silhouette still snaps to the nearest skin;
# farther than that it counts as "off the body".
OFF_BODY_SNAP_PX = 12.0


@dataclass(frozen=True)
class RenderedItem:
    id: str
    kind: str
    anchors_cm: FloatArray
    points_cm: FloatArray
    points_px: FloatArray
    visible: NDArray[np.bool_]

    @property
    def any_visible(self) -> bool:
        return bool(self.visible.any())


@dataclass(frozen=True)
class RenderedView:
    key: str
    view_id: str
    region: str
    side: str
    body_type: str
    camera: Camera
    frame: dict[str, tuple[float, float, float]]
    axes_px_per_cm: dict[str, tuple[float, float]]
    image_name: str
    image_path: Path
    depth_path: Path
    input_hash: str
    items: dict[str, RenderedItem]
    depth_cm: FloatArray  # (H, W), NaN where there is no skin
    nearest_skin: NDArray[np.int32]  # (2, H, W) row/col of the nearest skin pixel
    nearest_skin_px: FloatArray  # (H, W) distance in px to that pixel

    @property
    def width_px(self) -> int:
        return self.camera.width_px

    @property
    def height_px(self) -> int:
        return self.camera.height_px

    def lift(
        self, x_px: NDArray[np.float64] | list[float], y_px: NDArray[np.float64] | list[float]
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Lift image points onto the skin: ``(points_cm (N, 3), on_body (N,))``.

        Clicks just outside the silhouette take the depth of the nearest skin pixel;
        farther ones are flagged ``on_body=False`` (and scored as misses).
        """
        x = np.asarray(x_px, dtype=np.float64).reshape(-1)
        y = np.asarray(y_px, dtype=np.float64).reshape(-1)
        h, w = self.depth_cm.shape
        # np.minimum/np.maximum rather than np.clip: same result, a fraction of the call overhead
        # (every scored pin comes through here).
        col = np.minimum(np.maximum(np.floor(x).astype(np.int64), 0), w - 1)
        row = np.minimum(np.maximum(np.floor(y).astype(np.int64), 0), h - 1)
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        near_r = self.nearest_skin[0, row, col]
        near_c = self.nearest_skin[1, row, col]
        depth = self.depth_cm[near_r, near_c]
        on_body = inside & (self.nearest_skin_px[row, col] <= OFF_BODY_SNAP_PX) & np.isfinite(depth)
        depth = np.where(np.isfinite(depth), depth, 0.0)
        return self.camera.unproject(x, y, depth), on_body

    def inside_outline_cm(self, points_px: FloatArray, up_to_cm: float) -> FloatArray:
        """How far inside the body's outline each image point ``(N, 2)`` lies, in cm at the view's
        scale, counted up to ``up_to_cm`` (0 off the body). The image's own edge counts as
        outline. Near 0 the skin is seen edge-on, or cut off by the frame: a tap there cannot be
        aimed. Only a window round each point is searched, so it is cheap.
        """
        h, w = self.depth_cm.shape
        reach_px = int(math.ceil(up_to_cm * self.camera.px_per_cm))
        pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        out = np.zeros(len(pts))
        for k, (x, y) in enumerate(pts):
            col, row = int(round(x)), int(round(y))
            if not (0 <= col < w and 0 <= row < h) or not np.isfinite(self.depth_cm[row, col]):
                continue
            r0, c0 = max(row - reach_px, 0), max(col - reach_px, 0)
            window = self.depth_cm[r0 : row + reach_px + 1, c0 : col + reach_px + 1]
            rows, cols = np.nonzero(~np.isfinite(window))
            dist_px = np.hypot(rows + r0 - row, cols + c0 - col).min() if len(rows) else np.inf
            dist_px = min(dist_px, x, w - x, y, h - y)  # the frame's edge
            out[k] = min(float(dist_px) / self.camera.px_per_cm, up_to_cm)
        return out

    def course_inside_share(
        self, points_px: FloatArray, visible: NDArray[np.bool_], min_cm: float, step_px: float = 5.0
    ) -> float:
        """Share of a course's visible length (sampled every ``step_px``) that lies at least
        ``min_cm`` inside the outline (:meth:`inside_outline_cm`): a trace is scored on its
        whole visible course, so most of it must face the camera, not just one point."""
        pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        vis = np.asarray(visible, dtype=bool).reshape(-1)
        samples = [
            np.linspace(a, b, max(2, int(np.linalg.norm(b - a) / step_px) + 1))
            for a, b, va, vb in zip(pts[:-1], pts[1:], vis[:-1], vis[1:], strict=True)
            if va and vb
        ]
        if not samples:
            return 0.0
        inside = self.inside_outline_cm(np.concatenate(samples), min_cm)
        return float(np.mean(inside >= min_cm))


def _decode_depth(path: Path, near_cm: float, scale_cm: float) -> FloatArray:
    with Image.open(path) as im:
        raw = np.asarray(im, dtype=np.int64)
    depth = near_cm + (raw.astype(np.float64) - 1.0) * scale_cm
    depth[raw == 0] = np.nan
    return depth


def _nearest_skin(depth_cm: FloatArray) -> tuple[NDArray[np.int32], FloatArray]:
    from scipy import ndimage

    background = ~np.isfinite(depth_cm)
    if background.all():
        h, w = depth_cm.shape
        idx = np.indices((h, w), dtype=np.int32)
        return idx, np.full((h, w), np.inf)
    dist, idx = ndimage.distance_transform_edt(background, return_indices=True)
    return idx.astype(np.int32), dist.astype(np.float64)


def load_rendered_view(view_id: str, body_type: str, root: Path | None = None) -> RenderedView:
    """Load one view's sidecar and depth map (cached); raise AtlasError if it is missing."""
    from trainer.settings import atlas_dir

    root = _resolved(str(root if root is not None else atlas_dir()))
    key = sidecar_key(view_id, body_type)
    meta = root / "sidecars" / f"{key}.json"
    try:
        mtime = meta.stat().st_mtime
    except OSError:
        raise AtlasError(
            [
                Problem(
                    f"atlas/sidecars/{key}.json",
                    view_id,
                    "render",
                    "view has not been rendered for this body type",
                )
            ]
        ) from None
    with _LOAD_LOCK:  # single-flight: concurrent sessions share one decode of the depth map
        return _load(str(root), key, mtime)


_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16)
def _resolved(root: str) -> Path:
    """``root`` made absolute, once per process: resolving walks every part of the path with a
    system call, and a live class's phones load their view on every page run (the sidecar's
    modification time below is still read every time)."""
    return Path(root).resolve()


@functools.lru_cache(maxsize=64)
def _load(root_s: str, key: str, mtime: float) -> RenderedView:
    root = Path(root_s)
    meta = root / "sidecars" / f"{key}.json"
    label = f"atlas/sidecars/{key}.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        cam = Camera.from_dict(data["camera"])
        enc = data["depth_encoding"]
        depth_path = root / "sidecars" / data["depth"]
        depth = _decode_depth(depth_path, float(enc["near_cm"]), float(enc["scale_cm"]))
        items = {
            item_id: RenderedItem(
                id=item_id,
                kind=rec["kind"],
                anchors_cm=np.asarray(rec.get("anchors_cm", rec["points_cm"]), dtype=np.float64).reshape(
                    -1, 3
                ),
                points_cm=np.asarray(rec["points_cm"], dtype=np.float64).reshape(-1, 3),
                points_px=np.asarray(rec["points_px"], dtype=np.float64).reshape(-1, 2),
                visible=np.asarray(rec["visible"], dtype=bool).reshape(-1),
            )
            for item_id, rec in data["items"].items()
        }
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise AtlasError([Problem(label, key, "-", f"unreadable sidecar: {exc}")]) from exc
    near_idx, near_px = _nearest_skin(depth)
    return RenderedView(
        key=key,
        view_id=data["view_id"],
        region=data["region"],
        side=data["side"],
        body_type=data["body_type"],
        camera=cam,
        frame={k: tuple(v) for k, v in data["frame"].items()},
        axes_px_per_cm={k: tuple(v) for k, v in data.get("axes_px_per_cm", {}).items()},
        image_name=data["image"],
        image_path=root / "images" / data["image"],
        depth_path=depth_path,
        input_hash=data.get("input_hash", ""),
        items=items,
        depth_cm=depth,
        nearest_skin=near_idx,
        nearest_skin_px=near_px,
    )
