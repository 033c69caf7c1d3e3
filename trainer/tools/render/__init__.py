"""Offline render tool: MakeHuman skin → PNG, 16-bit depth map and JSON sidecar per view.

Run ``python -m trainer.tools.render``; see docs/atlas-format.md "Rendered views" for the output.
Nothing here is imported by the app at run time.
"""

from trainer.tools.render.mesh import BODY_TYPES, DEFAULT_BODY_TYPES, SkinMesh, build_skin, default_assets_dir
from trainer.tools.render.resolve import Frame, SideGeometry, SkinSnapper, build_side, densify, segment_frame
from trainer.tools.render.sidecar import (
    RENDERER_VERSION,
    ViewRender,
    render_view,
    render_view_by_id,
    write_view,
)

__all__ = [
    "BODY_TYPES",
    "DEFAULT_BODY_TYPES",
    "RENDERER_VERSION",
    "Frame",
    "SideGeometry",
    "SkinMesh",
    "SkinSnapper",
    "ViewRender",
    "build_side",
    "build_skin",
    "default_assets_dir",
    "densify",
    "render_view",
    "render_view_by_id",
    "segment_frame",
    "write_view",
]
