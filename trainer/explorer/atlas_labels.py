"""What the labelled atlas writes on the explorer's image: each nerve's colour and dash, and
the names of nerves and landmarks placed by :mod:`trainer.explorer.labels`. Pure: no streamlit."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedItem, RenderedView
from trainer.explorer.labels import (
    LABEL_DISPLAY_PX,
    LABEL_FONT_PX,
    Box,
    LabelRequest,
    PlacedLabel,
    marker_box,
    place_labels,
    short_label,
)
from trainer.plotting import go

LAYERS = ("landmarks", "nerves", "sites", "territories", "avoid")
#: Nerve colours (Okabe-Ito based, told apart by most colour-blind readers), each paired with
#: a dash pattern of a different cycle length so that no two nerves of a view share both and
#: nothing depends on colour alone. Green (sites) and red (avoid) are kept for their layers.
NERVE_COLOURS = ("#E69F00", "#0072B2", "#CC79A7", "#56B4E9", "#D55E00", "#7B3294", "#8C6D1F", "#009E9E")
NERVE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "8px,3px,2px,3px,2px,3px")
LANDMARK_COLOUR = "#333333"
LANDMARK_MARKER_PX = 10
SITE_MARKER_PX = 12


def nerve_styles(atlas: Atlas, view: RenderedView) -> dict[str, tuple[str, str]]:
    """(colour, dash) per nerve drawn in the view; the region's own nerves keep the same style
    in every view and body of the region (the legend and labels stay learnable)."""
    own = [n for n in atlas.nerves if atlas.nerves[n].region == view.region]
    others = sorted(
        i for i, it in view.items.items() if it.kind == "nerve" and i in atlas.nerves and i not in own
    )
    return {
        nid: (NERVE_COLOURS[k % len(NERVE_COLOURS)], NERVE_DASHES[k % len(NERVE_DASHES)])
        for k, nid in enumerate([*own, *others])
    }


def landmark_points(view: RenderedView, atlas: Atlas) -> list[tuple[str, tuple[float, float]]]:
    """The region's visible landmarks (only those it is measured from: a view from below the
    foot also "sees" the pelvis, whose landmarks would only confuse)."""
    out = []
    for lm_id in atlas.region_landmarks(view.region):
        item = view.items.get(lm_id)
        if lm_id in atlas.landmarks and item is not None and item.visible[0]:
            out.append((lm_id, (float(item.points_px[0, 0]), float(item.points_px[0, 1]))))
    return out


def _inside(view: RenderedView, x: float, y: float) -> bool:
    return 0 <= x <= view.width_px and 0 <= y <= view.height_px


def _nerve_anchors(view: RenderedView, item: RenderedItem) -> tuple[tuple[float, float], ...]:
    """Points along the visible course to try a nerve's label at: middle first, then outwards."""
    pts = [(float(x), float(y)) for (x, y), v in zip(item.points_px, item.visible, strict=True) if v]
    pts = [p for p in pts if _inside(view, *p)]
    if not pts:
        return ()
    order = (0.5, 0.35, 0.65, 0.2, 0.8, 0.08, 0.92)
    return tuple(dict.fromkeys(pts[min(len(pts) - 1, int(f * len(pts)))] for f in order))


def atlas_labels(view: RenderedView, atlas: Atlas, layers: Iterable[str] = LAYERS) -> list[PlacedLabel]:
    """The names written on the image: landmarks first (fixed points), then nerves; placed so
    that no label overlaps another label or a landmark/site marker."""
    layers = set(layers)
    size = max(view.width_px, view.height_px)
    obstacles: list[Box] = []
    requests: list[LabelRequest] = []
    if "landmarks" in layers:
        for lm_id, (x, y) in landmark_points(view, atlas):
            obstacles.append(marker_box(x, y, LANDMARK_MARKER_PX + 4, LABEL_DISPLAY_PX, size))
            requests.append(LabelRequest(lm_id, atlas.landmarks[lm_id].name, "landmark", ((x, y),)))
    if "sites" in layers:
        for item in view.items.values():
            if item.kind == "site" and item.id in atlas.sites and item.visible[0]:
                x, y = float(item.points_px[0, 0]), float(item.points_px[0, 1])
                obstacles.append(marker_box(x, y, SITE_MARKER_PX + 2, LABEL_DISPLAY_PX, size))
    if "nerves" in layers:
        for item in view.items.values():
            n = atlas.nerves.get(item.id)
            if item.kind == "nerve" and n is not None and item.any_visible:
                requests.append(
                    LabelRequest(item.id, short_label(n.name), "nerve", _nerve_anchors(view, item))
                )
    return place_labels(requests, view.width_px, view.height_px, obstacles)


def add_labels(fig: go.Figure, labels: Sequence[PlacedLabel], styles: dict[str, tuple[str, str]]) -> None:
    notes = []
    for lab in labels:
        cx, cy = lab.box.centre
        colour = styles.get(lab.key, (LANDMARK_COLOUR, ""))[0] if lab.kind == "nerve" else LANDMARK_COLOUR
        notes.append(
            dict(
                x=lab.anchor_px[0] if lab.leader else cx,
                y=lab.anchor_px[1] if lab.leader else cy,
                ax=cx,
                ay=cy,
                axref="x",
                ayref="y",
                xref="x",
                yref="y",
                showarrow=lab.leader,
                arrowhead=0,
                arrowwidth=1,
                arrowcolor=colour,
                text="<br>".join(html.escape(s) for s in lab.lines),
                font={"size": LABEL_FONT_PX, "color": "#111" if lab.kind == "nerve" else "#333"},
                bgcolor="rgba(255,255,255,0.85)",
                bordercolor=colour,
                borderwidth=1 if lab.kind == "nerve" else 0,
                borderpad=2,
                name=f"label:{lab.kind}:{lab.key}",
            )
        )
    fig.update_layout(annotations=[*fig.layout.annotations, *notes])  # one call: add_annotation is slow
