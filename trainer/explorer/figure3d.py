"""A 3D body view of a region: the calibrated skin mesh, nerve courses, sites and landmarks.

Pure (no Streamlit): the explorer page and Learn call :func:`region_figure_3d`. The mesh is
``atlas/meshes/<body>.npz`` (body cm, the frame the views' cameras and items are in), cropped
to what the 2D view frames; nerve courses are lifted a little off the skin along the surface
normal so they are never hidden inside it; the 2D view's camera is the starting pose. Arrays
go to the browser as plotly's typed arrays (float32, uint16), which keeps a region well under
:data:`MAX_PAYLOAD_BYTES`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.errors import AtlasError, Problem
from trainer.explorer.atlas_labels import LANDMARK_COLOUR, LAYERS, nerve_styles
from trainer.explorer.landmark_text import landmark_hover_lines
from trainer.plotting import go

#: Nerve courses float this far above the skin (cm): 1-2 mm keeps them on the body yet visible.
LIFT_CM = 0.15
#: The crop keeps skin within this margin (cm) around the region's items and landmarks.
CROP_MARGIN_CM = 6.0
#: The payload budget per region (bytes of figure JSON), checked by a test and by ``bench``.
MAX_PAYLOAD_BYTES = 1_500_000
SKIN_COLOUR = "#e9b99b"
_DASH_3D = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


@dataclass(frozen=True)
class SkinMesh:
    vertices_cm: NDArray[np.float32]  # (V, 3)
    triangles: NDArray[np.int32]  # (T, 3)


def mesh_path(body_type: str, root: Path | None = None) -> Path:
    from trainer.settings import atlas_dir

    return Path(root if root is not None else atlas_dir()) / "meshes" / f"{body_type}.npz"


def load_skin_mesh(body_type: str, root: Path | None = None) -> SkinMesh:
    """The body's calibrated skin (cached per file and modification time)."""
    path = mesh_path(body_type, root)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise AtlasError(
            [Problem(f"atlas/meshes/{body_type}.npz", body_type, "mesh", "no skin mesh for this body type")]
        ) from None
    return _load_mesh(str(path), mtime)


@functools.lru_cache(maxsize=8)
def _load_mesh(path: str, mtime: float) -> SkinMesh:
    with np.load(path) as data:
        return SkinMesh(data["vertices_cm"].astype(np.float32), data["triangles"].astype(np.int32))


def _region_points_cm(view: RenderedView, atlas: Atlas) -> NDArray[np.float64]:
    own = set(atlas.region_landmarks(view.region))
    pts = [
        it.points_cm
        for i, it in view.items.items()
        if (it.kind in ("nerve", "site", "avoid") and it.any_visible) or i in own
    ]
    return np.concatenate(pts) if pts else np.asarray([view.camera.center_cm], dtype=np.float64)


def crop_mesh(mesh: SkinMesh, view: RenderedView, atlas: Atlas) -> SkinMesh:
    """The triangles the 2D view frames that lie near the region's own items (not the other
    leg behind the knee): inside the image's prism and the items' box plus a margin."""
    v = mesh.vertices_cm.astype(np.float64)
    xy, _ = view.camera.project(v)
    in_frame = (xy[:, 0] >= 0) & (xy[:, 0] <= view.width_px) & (xy[:, 1] >= 0) & (xy[:, 1] <= view.height_px)
    pts = _region_points_cm(view, atlas)
    lo, hi = pts.min(axis=0) - CROP_MARGIN_CM, pts.max(axis=0) + CROP_MARGIN_CM
    keep = in_frame & np.all((v >= lo) & (v <= hi), axis=1)
    tri = mesh.triangles[keep[mesh.triangles].all(axis=1)]
    used = np.unique(tri)
    remap = np.full(len(v), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return SkinMesh(mesh.vertices_cm[used], remap[tri].astype(np.int32))


def vertex_normals(mesh: SkinMesh) -> NDArray[np.float64]:
    """Area-weighted vertex normals, pointing out of the body (MakeHuman winds triangles
    counter-clockwise seen from outside)."""
    v = mesh.vertices_cm.astype(np.float64)
    a, b, c = (v[mesh.triangles[:, k]] for k in range(3))
    face = np.cross(b - a, c - a)
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, mesh.triangles[:, k], face)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(length > 0, length, 1.0)


def lift_off_skin(
    points_cm: NDArray[np.float64], mesh: SkinMesh, normals: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Each point moved :data:`LIFT_CM` out along the normal of its nearest skin vertex."""
    if len(mesh.vertices_cm) == 0:
        return points_cm
    v = mesh.vertices_cm.astype(np.float64)
    d2 = ((points_cm[:, None, :] - v[None, :, :]) ** 2).sum(axis=2)
    lifted: NDArray[np.float64] = points_cm + LIFT_CM * normals[d2.argmin(axis=1)]
    return lifted


def _camera(view: RenderedView) -> dict[str, object]:
    """The 2D view's camera as plotly's scene camera: same direction and up, orthographic."""
    d = np.asarray(view.camera.direction, dtype=np.float64)
    u = np.asarray(view.camera.up, dtype=np.float64)
    eye = -1.3 * d
    return {
        "eye": {"x": float(eye[0]), "y": float(eye[1]), "z": float(eye[2])},
        "up": {"x": float(u[0]), "y": float(u[1]), "z": float(u[2])},
        "center": {"x": 0.0, "y": 0.0, "z": 0.0},
        "projection": {"type": "orthographic"},
    }


def _light(view: RenderedView) -> dict[str, float]:
    """A light behind the starting camera and a little above it, so the face the 2D view
    shows is the lit one."""
    p = -np.asarray(view.camera.direction) + 0.3 * np.asarray(view.camera.up)
    p = 9e4 * p / np.linalg.norm(p)  # plotly accepts coordinates within ±1e5
    return {"x": float(p[0]), "y": float(p[1]), "z": float(p[2])}


def region_figure_3d(
    view: RenderedView,
    atlas: Atlas,
    mesh: SkinMesh,
    layers: Iterable[str] = LAYERS,
    highlight: str | None = None,
    height_px: int = 620,
) -> go.Figure:
    """The region in 3D, starting from the 2D view's camera; hover names every structure."""
    layers = set(layers)
    skin = crop_mesh(mesh, view, atlas)
    normals = vertex_normals(skin)
    v = skin.vertices_cm
    fig = go.Figure()
    fig.add_trace(
        go.Mesh3d(
            x=v[:, 0],
            y=v[:, 1],
            z=v[:, 2],
            i=skin.triangles[:, 0].astype(np.uint16 if len(v) < 65536 else np.uint32),
            j=skin.triangles[:, 1].astype(np.uint16 if len(v) < 65536 else np.uint32),
            k=skin.triangles[:, 2].astype(np.uint16 if len(v) < 65536 else np.uint32),
            color=SKIN_COLOUR,
            flatshading=False,
            lighting={"ambient": 0.6, "diffuse": 0.65, "specular": 0.05, "roughness": 0.9},
            lightposition=_light(view),
            name="Skin",
            hoverinfo="skip",
            showlegend=False,
        )
    )
    styles = nerve_styles(atlas, view)
    if "nerves" in layers:
        for item in view.items.values():
            n = atlas.nerves.get(item.id)
            if item.kind != "nerve" or n is None or not item.any_visible:
                continue
            p = lift_off_skin(item.points_cm, skin, normals).astype(np.float32)
            colour, dash = styles[item.id]
            fig.add_trace(
                go.Scatter3d(
                    x=p[:, 0],
                    y=p[:, 1],
                    z=p[:, 2],
                    mode="lines",
                    line={
                        "color": colour,
                        "width": 9 if item.id == highlight else 6,
                        "dash": dash if dash in _DASH_3D else "dash",
                    },
                    name=html.escape(n.name),
                    meta="nerve",
                    hovertext=html.escape(n.name),
                    hoverinfo="text",
                )
            )
    if "sites" in layers:
        ids = [i for i, it in view.items.items() if it.kind == "site" and i in atlas.sites and it.any_visible]
        if ids:
            p = lift_off_skin(
                np.stack([view.items[i].points_cm[0] for i in ids]).astype(np.float64), skin, normals
            ).astype(np.float32)
            fig.add_trace(
                go.Scatter3d(
                    x=p[:, 0].astype(np.float32),
                    y=p[:, 1].astype(np.float32),
                    z=p[:, 2].astype(np.float32),
                    mode="markers",
                    marker={
                        "symbol": "diamond",
                        "size": 6,
                        "color": "#12a150",
                        "line": {"color": "white", "width": 1},
                    },
                    name="Sites",
                    hovertext=[
                        html.escape(f"{atlas.sites[i].name} ({atlas.name_of(atlas.sites[i].nerve)})")
                        for i in ids
                    ],
                    hoverinfo="text",
                )
            )
    if "landmarks" in layers:
        ids = [i for i in atlas.region_landmarks(view.region) if i in view.items and i in atlas.landmarks]
        if ids:
            p = lift_off_skin(
                np.stack([view.items[i].points_cm[0] for i in ids]).astype(np.float64), skin, normals
            ).astype(np.float32)
            fig.add_trace(
                go.Scatter3d(
                    x=p[:, 0].astype(np.float32),
                    y=p[:, 1].astype(np.float32),
                    z=p[:, 2].astype(np.float32),
                    mode="markers",
                    marker={"symbol": "circle-open", "size": 5, "color": LANDMARK_COLOUR},
                    name="Landmarks",
                    hovertext=[
                        "<br>".join(html.escape(x) for x in landmark_hover_lines(atlas.landmarks[i])[:2])
                        for i in ids
                    ],
                    hoverinfo="text",
                )
            )
    hidden = {"visible": False, "showbackground": False}
    fig.update_layout(
        height=height_px,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={
            "xaxis": hidden,
            "yaxis": hidden,
            "zaxis": hidden,
            "aspectmode": "data",
            "camera": _camera(view),
            "dragmode": "orbit",
        },
        showlegend=True,
        legend={
            "yanchor": "top",
            "y": 1.0,
            "x": 0.0,
            "font": {"size": 11},
            "bgcolor": "rgba(255,255,255,0.8)",
        },
        uirevision=f"3d:{view.key}",
        hoverlabel={"bgcolor": "white"},
    )
    return fig


def explorer_figure_3d(
    view: RenderedView, atlas: Atlas, layers: Iterable[str] = LAYERS, highlight: str | None = None
) -> go.Figure:
    """What the explorer page shows in 3D: the view's body mesh, loaded once per body."""
    return region_figure_3d(view, atlas, load_skin_mesh(view.body_type), layers, highlight)
