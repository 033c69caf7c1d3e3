"""A deterministic numpy z-buffer rasteriser for the orthographic :class:`Camera`.

No GPU: triangles are grouped by the size of their pixel bounding box, and each group is
rasterised as one array operation over (triangle x box-pixel) candidates. The nearest
fragment per pixel wins (ties broken by triangle index, so results are byte-identical run
to run). Shading is a second pass over the covered pixels with per-pixel interpolated
normals, two camera-fixed lights, a hemispheric ambient term and a depth-based cavity
term, with optional subtle bony relief (see :mod:`trainer.tools.render.relief`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from trainer.atlas.camera import Camera
from trainer.tools.render.relief import Relief, apply_relief

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

BACKGROUND_RGB = np.array([243.0, 244.0, 246.0])
# A neutral, light skin tone (sRGB); shading happens in linear light.
SKIN_RGB = np.array([222.0, 184.0, 160.0])
_MAX_FRAGMENTS = 1 << 22  # per vectorised chunk; bounds memory to a few hundred MB
# Light rig, fixed relative to the camera (weights in linear light).
LIGHT: dict[str, float] = {
    "key": 0.95,
    "key_right": -0.45,
    "key_up": 0.55,
    "wrap": 0.15,
    "fill": 0.20,
    "ambient": 0.10,
    "sky": 0.08,
    "spec": 0.05,
    "cavity": 0.40,
}


@dataclass(frozen=True)
class RenderResult:
    """An RGB image and its depth map (cm along ``camera.direction``, NaN = background)."""

    rgb: NDArray[np.uint8]  # (H, W, 3)
    depth_cm: FloatArray  # (H, W)


def _srgb_to_linear(c: FloatArray) -> FloatArray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: FloatArray) -> FloatArray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1.0 / 2.4) - 0.055)


def _round_up_size(n: IntArray) -> IntArray:
    """Round box sizes up to the series 1, 2, 3, 4, 6, 8, 12, 16, 24, ...

    >>> _round_up_size(np.array([1, 3, 5, 7, 13, 40])).tolist()
    [1, 3, 6, 8, 16, 48]
    """
    n = np.maximum(np.asarray(n, dtype=np.int64), 1)
    p = 1 << np.floor(np.log2(n)).astype(np.int64)
    return np.where(n == p, n, np.where(n <= p + p // 2, p + p // 2, 2 * p))


def rasterize(
    xy_px: FloatArray, depth_cm: FloatArray, triangles: IntArray, width_px: int, height_px: int
) -> tuple[FloatArray, IntArray]:
    """Z-buffer: per pixel the nearest depth (inf if empty) and the triangle row (-1).

    A pixel belongs to a triangle when its centre ``(i + 0.5, j + 0.5)`` lies inside it.

    >>> xy = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> z, t = rasterize(xy, np.zeros(3), np.array([[0, 1, 2]]), 4, 4)
    >>> int((t == 0).sum())  # pixel centres on or below the diagonal x + y = 4
    10
    """
    n_pix = width_px * height_px
    zbuf = np.full(n_pix, np.inf)
    tbuf = np.full(n_pix, -1, dtype=np.int64)
    if len(triangles) == 0:
        return zbuf.reshape(height_px, width_px), tbuf.reshape(height_px, width_px)
    tri_xy = xy_px[triangles]  # (T, 3, 2)
    tri_d = depth_cm[triangles]  # (T, 3)
    lo = np.ceil(tri_xy.min(axis=1) - 0.5).astype(np.int64)
    hi = np.floor(tri_xy.max(axis=1) - 0.5).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [width_px - 1, height_px - 1])
    size = hi - lo + 1
    keep = (size[:, 0] > 0) & (size[:, 1] > 0)
    x0, y0 = tri_xy[:, 0, 0], tri_xy[:, 0, 1]
    x1, y1 = tri_xy[:, 1, 0], tri_xy[:, 1, 1]
    x2, y2 = tri_xy[:, 2, 0], tri_xy[:, 2, 1]
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    keep &= np.abs(area) > 1e-12
    ids = np.nonzero(keep)[0]
    # Buckets of box width x height, each rounded up to 2^k or 1.5 * 2^k, so the wasted
    # candidates per triangle stay under ~1.8x while each bucket is one array operation.
    bw = _round_up_size(size[ids, 0])
    bh = _round_up_size(size[ids, 1])
    for sw, sh in sorted(set(zip(bw.tolist(), bh.tolist(), strict=True))):
        members = ids[(bw == sw) & (bh == sh)]
        oy, ox = np.divmod(np.arange(sw * sh, dtype=np.int64), sw)
        per_chunk = max(1, _MAX_FRAGMENTS // (sw * sh))
        for start in range(0, len(members), per_chunk):
            t = members[start : start + per_chunk]
            px = lo[t, 0][:, None] + ox[None, :]
            py = lo[t, 1][:, None] + oy[None, :]
            inside = (px <= hi[t, 0][:, None]) & (py <= hi[t, 1][:, None])
            cx = px + 0.5
            cy = py + 0.5
            inv = 1.0 / area[t][:, None]
            w0 = (
                (x1[t][:, None] - cx) * (y2[t][:, None] - cy) - (x2[t][:, None] - cx) * (y1[t][:, None] - cy)
            ) * inv
            w1 = (
                (x2[t][:, None] - cx) * (y0[t][:, None] - cy) - (x0[t][:, None] - cx) * (y2[t][:, None] - cy)
            ) * inv
            w2 = 1.0 - w0 - w1
            eps = -1e-9
            inside &= (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
            if not inside.any():
                continue
            d = w0 * tri_d[t, 0][:, None] + w1 * tri_d[t, 1][:, None] + w2 * tri_d[t, 2][:, None]
            pix = (py * width_px + px)[inside]
            frag_d = d[inside]
            frag_t = np.broadcast_to(t[:, None], inside.shape)[inside]
            order = np.lexsort((frag_t, frag_d, pix))
            pix, frag_d, frag_t = pix[order], frag_d[order], frag_t[order]
            first = np.ones(len(pix), dtype=bool)
            first[1:] = pix[1:] != pix[:-1]
            pix, frag_d, frag_t = pix[first], frag_d[first], frag_t[first]
            better = frag_d < zbuf[pix]
            zbuf[pix[better]] = frag_d[better]
            tbuf[pix[better]] = frag_t[better]
    return zbuf.reshape(height_px, width_px), tbuf.reshape(height_px, width_px)


def _barycentric(xy_px: FloatArray, tri_xy: FloatArray) -> FloatArray:
    """Barycentric weights (N, 3) of points (N, 2) in triangles (N, 3, 2)."""
    x, y = xy_px[:, 0], xy_px[:, 1]
    x0, y0 = tri_xy[:, 0, 0], tri_xy[:, 0, 1]
    x1, y1 = tri_xy[:, 1, 0], tri_xy[:, 1, 1]
    x2, y2 = tri_xy[:, 2, 0], tri_xy[:, 2, 1]
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    w0 = ((x1 - x) * (y2 - y) - (x2 - x) * (y1 - y)) / area
    w1 = ((x2 - x) * (y0 - y) - (x0 - x) * (y2 - y)) / area
    return np.stack([w0, w1, 1.0 - w0 - w1], axis=1)


def _soft_blur(a: FloatArray, sigma_px: float) -> FloatArray:
    """Near-Gaussian blur as three box passes: O(1) per pixel whatever the radius."""
    size = max(1, int(round(2.0 * sigma_px)))
    for _ in range(3):
        a = ndimage.uniform_filter(a, size=size, mode="nearest")
    return a


def _cavity(depth_cm: FloatArray, covered: NDArray[np.bool_], px_per_cm: float) -> FloatArray:
    """0..1 occlusion from how much deeper a pixel is than its skin neighbourhood."""
    sigma_px = max(1.0, 1.2 * px_per_cm)
    d = np.where(covered, depth_cm, 0.0)
    w = covered.astype(np.float64)
    blur_d = _soft_blur(d, sigma_px)
    blur_w = _soft_blur(w, sigma_px)
    local = np.divide(blur_d, blur_w, out=np.zeros_like(blur_d), where=blur_w > 1e-6)
    deeper_cm = np.where(covered, depth_cm - local, 0.0)
    return np.clip(deeper_cm / 0.8, 0.0, 1.0)


def shade(
    skin_vertices_cm: FloatArray,
    normals: FloatArray,
    triangles: IntArray,
    camera: Camera,
    xy_px: FloatArray,
    zbuf: FloatArray,
    tbuf: IntArray,
    reliefs: Sequence[Relief] = (),
    mirror_lights: bool = False,
) -> FloatArray:
    """Linear-light RGB (H, W, 3) for the covered pixels; background stays at 0.

    ``mirror_lights`` swaps the rig left-right, so a left-side view is lit as the mirror
    image of the right-side view and the two read as one anatomy.
    """
    h, w = tbuf.shape
    covered = tbuf >= 0
    jj, ii = np.nonzero(covered)
    tri = triangles[tbuf[jj, ii]]
    centres = np.stack([ii + 0.5, jj + 0.5], axis=1)
    bary = _barycentric(centres, xy_px[tri])
    n = np.einsum("nk,nkc->nc", bary, normals[tri])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    if reliefs:
        pos_cm = camera.unproject(centres[:, 0], centres[:, 1], zbuf[jj, ii])
        n, outline = apply_relief(pos_cm, n, reliefs)
    else:
        outline = np.zeros(len(n))

    d = np.asarray(camera.direction)
    up = np.asarray(camera.up)
    right = -camera.right if mirror_lights else camera.right
    to_eye = -d
    # Lights are fixed relative to the camera so every view is lit the same way:
    # a key light from upper left, a weaker fill from the right and a faint back rim.
    key = LIGHT["key_right"] * right + LIGHT["key_up"] * up + 0.70 * to_eye
    fill = 0.65 * right + 0.05 * up + 0.75 * to_eye
    key /= np.linalg.norm(key)
    fill /= np.linalg.norm(fill)
    # A smooth mesh has back-facing normals near silhouettes; flip them toward the eye.
    facing = n @ to_eye
    n = np.where(facing[:, None] < 0, n - 2 * facing[:, None] * to_eye, n)
    ndk = n @ key
    ndf = n @ fill
    # Wrapped diffuse softens the terminator the way subsurface scattering does in skin.
    diff_key = np.clip((ndk + LIGHT["wrap"]) / (1.0 + LIGHT["wrap"]), 0.0, 1.0)
    diff_fill = np.clip((ndf + 0.2) / 1.2, 0.0, 1.0)
    hemi = 0.5 + 0.5 * (n @ up)
    ambient = LIGHT["ambient"] + LIGHT["sky"] * hemi
    half = key + to_eye
    half /= np.linalg.norm(half)
    spec = LIGHT["spec"] * np.clip(n @ half, 0.0, 1.0) ** 28
    rim = 0.06 * (1.0 - np.clip(n @ to_eye, 0.0, 1.0)) ** 3

    cav = _cavity(zbuf, covered, camera.px_per_cm)[jj, ii]
    occlusion = 1.0 - LIGHT["cavity"] * cav
    albedo = _srgb_to_linear(SKIN_RGB / 255.0)
    light = (LIGHT["key"] * diff_key + LIGHT["fill"] * diff_fill + ambient) * occlusion
    col = albedo[None, :] * light[:, None] + (spec + rim)[:, None] * np.array([1.0, 0.97, 0.95])
    # Ghosted outlines darken slightly (multiplicative, so they read as a shadow line).
    col *= (1.0 - 0.22 * np.clip(outline, 0.0, 1.0))[:, None]
    out = np.zeros((h, w, 3))
    out[jj, ii] = col
    return out


def render(
    vertices_cm: FloatArray,
    normals: FloatArray,
    triangles: IntArray,
    camera: Camera,
    *,
    reliefs: Sequence[Relief] = (),
    near_clip_cm: float | None = None,
    supersample: int = 2,
    mirror_lights: bool = False,
    far_clip_cm: float | None = None,
) -> RenderResult:
    """Render skin triangles; ``near_clip_cm`` drops triangles nearer than that depth.

    The near clip removes occluders such as the other leg in a medial knee view. With
    ``supersample`` > 1 the image is rendered larger and box-filtered down; the depth map
    keeps, per output pixel, the nearest skin depth among its sub-pixels.
    """
    ss = max(1, int(supersample))
    cam_ss = Camera(
        center_cm=camera.center_cm,
        direction=camera.direction,
        up=camera.up,
        width_px=camera.width_px * ss,
        height_px=camera.height_px * ss,
        px_per_cm=camera.px_per_cm * ss,
    )
    xy, depth = cam_ss.project(vertices_cm)
    tri_v = vertices_cm[triangles]
    face_n = np.cross(tri_v[:, 1] - tri_v[:, 0], tri_v[:, 2] - tri_v[:, 0])
    keep = face_n @ np.asarray(camera.direction) < 0.0  # back-face culling
    if near_clip_cm is not None:
        keep &= depth[triangles].mean(axis=1) >= near_clip_cm
    if far_clip_cm is not None:  # e.g. the leg and pelvis behind the sole in a view from below
        keep &= depth[triangles].mean(axis=1) <= far_clip_cm
    tris = triangles[keep]
    zbuf, tbuf_local = rasterize(xy, depth, tris, cam_ss.width_px, cam_ss.height_px)
    lin = shade(vertices_cm, normals, tris, cam_ss, xy, zbuf, tbuf_local, reliefs, mirror_lights)
    covered = tbuf_local >= 0

    h, w = camera.height_px, camera.width_px
    bg = _srgb_to_linear(BACKGROUND_RGB / 255.0)
    lin = np.where(covered[:, :, None], lin, bg[None, None, :])
    lin = lin.reshape(h, ss, w, ss, 3).mean(axis=(1, 3))
    rgb = np.round(_linear_to_srgb(lin) * 255.0).astype(np.uint8)
    z = np.where(covered, zbuf, np.inf).reshape(h, ss, w, ss).min(axis=(1, 3))
    depth_out = np.where(np.isfinite(z), z, np.nan)
    return RenderResult(rgb=rgb, depth_cm=depth_out)
