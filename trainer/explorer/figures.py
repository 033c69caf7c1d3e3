"""Plotly figures for the explorer and for reveals. Pure: no streamlit.

Images are referenced by static URL (browsers cache them once), never embedded as base64.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.describe import dose_words
from trainer.atlas.rendered import RenderedItem, RenderedView
from trainer.explorer.atlas_labels import (  # LAYERS, the styles and labels live there
    LANDMARK_COLOUR,
    LANDMARK_MARKER_PX,
    LAYERS,
    SITE_MARKER_PX,
    add_labels,
    atlas_labels,
    landmark_points,
    nerve_styles,
)
from trainer.explorer.labels import short_label
from trainer.explorer.landmark_text import landmark_hover_lines
from trainer.geometry import buffer_polyline
from trainer.plotting import go

STATIC_PREFIX = "app/static/"
LAYER_LABELS = {
    "landmarks": "Landmarks",
    "nerves": "Nerve courses",
    "sites": "Injection sites",
    "territories": "Sensory territories",
    "avoid": "Structures to avoid",
}


def image_url(view: RenderedView) -> str:
    """Relative static URL so the app also works under a reverse-proxy base path."""
    return STATIC_PREFIX + view.image_name


def answer_surface_data(
    image: str,
    width_px: int,
    height_px: int,
    pins_px: Sequence[tuple[float, float]],
    active: bool,
    shapes: Sequence[dict[str, Any]] = (),
    hint: str = "",
    seq: int = 0,
    max_width_px: int = 900,
    px_per_cm: float | None = None,
    reserve_px: int = 0,
) -> dict[str, Any]:
    """Everything the answer surface (``trainer.ui.components.pinboard``) sends to the browser.

    Built here, outside the UI, so that ``bench`` measures the very payload a question sends.
    ``shapes`` must hold only what the learner may see now.

    >>> answer_surface_data("app/static/v.png", 400, 300, [(10.123, 20.0)], True)["pins"]
    [[10.12, 20.0]]
    """
    return {
        "image": image,
        "width": width_px,
        "height": height_px,
        "pins": [[round(x, 2), round(y, 2)] for x, y in pins_px],
        "active": active,
        "shapes": list(shapes),
        "hint": hint,
        "seq": seq,
        "max_width_px": max_width_px,
        "px_per_cm": round(px_per_cm, 4) if px_per_cm else None,
        "reserve_px": reserve_px,
    }


def _visible_runs(item: RenderedItem) -> tuple[list[float | None], list[float | None]]:
    return gapped_xy(item.points_px, item.visible)


def gapped_xy(points_px: np.ndarray, visible: np.ndarray) -> tuple[list[float | None], list[float | None]]:
    """x/y lists for a plotly line, with None gaps wherever the course goes out of sight."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for (x, y), vis in zip(points_px, visible, strict=True):
        if vis:
            xs.append(float(x))
            ys.append(float(y))
        elif xs and xs[-1] is not None:
            xs.append(None)
            ys.append(None)
    return xs, ys


def _runs_px(item: RenderedItem) -> list[np.ndarray]:
    """Visible stretches of an item's projected polyline."""
    runs: list[np.ndarray] = []
    cur: list[np.ndarray] = []
    for p, vis in zip(item.points_px, item.visible, strict=True):
        if vis:
            cur.append(p)
        elif cur:
            runs.append(np.asarray(cur))
            cur = []
    if cur:
        runs.append(np.asarray(cur))
    return runs


def base_figure(view: RenderedView, height_px: int | None = 620, keep_width: bool = False) -> go.Figure:
    """An image-sized figure in natural pixels with y pointing down, image as a layout image.

    ``height_px=None`` leaves the height to the caller (plotly's default otherwise).
    ``keep_width``: the plot area keeps the chart's full width (the explorer, whose legend must wrap
    against the width its height was sized for) and spare height shows as range below the image.
    Otherwise the plot area shrinks to the image, so a click beside it is not a pin.
    """
    w, h = view.width_px, view.height_px
    fig = go.Figure()
    fig.add_layout_image(
        source=image_url(view),
        x=0,
        y=0,
        sizex=w,
        sizey=h,
        xref="x",
        yref="y",
        xanchor="left",
        yanchor="top",
        sizing="stretch",
        layer="below",
    )
    constrain = "range" if keep_width else "domain"
    fig.update_xaxes(range=[0, w], visible=False, constrain=constrain, fixedrange=False)
    # Where the chart is taller than the square image, keep the image at the top.
    fig.update_yaxes(
        range=[h, 0], visible=False, scaleanchor="x", scaleratio=1, constrain=constrain, constraintoward="top"
    )
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=height_px,
        showlegend=True,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 0.0,
            "x": 0.0,
            "bgcolor": "rgba(255,255,255,0.75)",
        },
        plot_bgcolor="white",
        dragmode="pan",
        hoverlabel={"bgcolor": "white"},
        uirevision=view.key,
    )
    return fig


#: The horizontal legend's geometry as Chromium draws it (11 px font), measured on the explorer:
#: an entry is about 42 px of symbol and padding plus 4.6 px per character; rows are 29 px apart.
LEGEND_ENTRY_PAD_PX = 42.0
LEGEND_CHAR_PX = 4.6
LEGEND_ROW_PX = 29.0


def legend_names(fig: go.Figure) -> list[str]:
    """The entries the legend shows, in order (a trace with ``showlegend`` unset shows)."""
    return [str(t.name) for t in fig.data if t.showlegend is not False and t.name]


def legend_height_px(names: Sequence[str], width_px: float) -> float:
    """How tall the wrapped horizontal legend is at a chart width, entries filled left to right."""
    if not names:
        return 0.0
    rows, used_px = 1, 0.0
    for name in names:
        entry_px = LEGEND_ENTRY_PAD_PX + LEGEND_CHAR_PX * len(name)
        if used_px and used_px + entry_px > width_px:
            rows, used_px = rows + 1, 0.0
        used_px += entry_px
    return rows * LEGEND_ROW_PX + 6.0


MIN_ARROW_SCREEN_PX = 60.0  # shorter arrows vanish under their own head on a 360 px figure


def bias_figure(view: RenderedView, mean_cm: dict[str, float], height_px: int = 360) -> go.Figure:
    """The Progress page's direction-bias arrow: from the image centre, along the mean error.

    The sentence with the words is printed beside the figure, so the arrow carries no label
    that could cover it. An error that would draw shorter than ``MIN_ARROW_SCREEN_PX`` on
    screen (under about 1 cm on most views) is drawn longer, and a note above the image
    says by how much.
    """
    fig = base_figure(view, height_px=height_px)
    cx, cy = view.width_px / 2, view.height_px / 2
    error_cm = sum(
        (v * np.asarray(view.frame[k], dtype=np.float64) for k, v in mean_cm.items() if k in view.frame),
        np.zeros(3),
    )
    vx, vy = (float(c) for c in view.camera.image_vector(error_cm))  # the view's anatomical axes, projected
    length_px = float(np.hypot(vx, vy))
    screen_per_px = height_px / view.height_px  # the image fills the figure's height
    min_px = MIN_ARROW_SCREEN_PX / screen_per_px
    scale = min_px / length_px if 0 < length_px < min_px else 1.0
    fig.add_annotation(
        x=cx + scale * vx,
        y=cy + scale * vy,
        ax=cx,
        ay=cy,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        text="",
        showarrow=True,
        arrowhead=3,
        arrowsize=1.5,
        arrowwidth=4,
        arrowcolor="#d62828",
    )
    fig.add_trace(
        go.Scatter(
            x=[cx],
            y=[cy],
            mode="markers",
            marker={"size": 8, "color": "#d62828"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    if scale > 1.0:
        fig.add_annotation(
            x=0.0,
            y=1.0,
            xref="paper",
            yref="paper",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            text=f"arrow drawn {scale:.1f}× its true length"
            if scale < 10
            else f"arrow drawn {scale:.0f}× its true length",
            font={"color": "#d62828", "size": 13},
        )
        fig.update_layout(margin={"t": 24})
    fig.update_layout(showlegend=False, dragmode=False)
    return fig


def _hover(*lines: str) -> str:
    return "<br>".join(html.escape(x) for x in lines if x)


def explorer_figure(
    view: RenderedView,
    atlas: Atlas,
    layers: Iterable[str] = LAYERS,
    highlight: str | None = None,
    height_px: int | None = 620,
) -> go.Figure:
    """The explorer view: every requested layer drawn over the render, with hover details."""
    layers = set(layers)
    fig = base_figure(view, height_px, keep_width=True)
    ppc = view.camera.px_per_cm
    region_items = [i for i in view.items.values()]
    if "territories" in layers:
        for item in region_items:
            if item.kind != "territory" or not item.any_visible:
                continue
            t = atlas.territories.get(item.id)
            if t is None:
                continue
            pts = item.points_px
            fig.add_trace(
                go.Scatter(
                    x=list(pts[:, 0]) + [pts[0, 0]],
                    y=list(pts[:, 1]) + [pts[0, 1]],
                    mode="lines",
                    fill="toself",
                    fillcolor="rgba(90,140,255,0.16)",
                    line={"color": "rgba(90,140,255,0.6)", "width": 1, "dash": "dot"},
                    name="Territory",
                    legendgroup="territories",
                    showlegend=False,
                    hoveron="fills",
                    hovertemplate=_hover(f"Sensory territory: {atlas.name_of(t.nerve)}") + "<extra></extra>",
                )
            )
    if "avoid" in layers:
        shown = False
        for item in region_items:
            if item.kind != "avoid" or not item.any_visible:
                continue
            a = atlas.avoid.get(item.id)
            if a is None:
                continue
            hover = (
                _hover(
                    f"AVOID: {a.name}", f"{a.structure_kind}, keep {a.safety_radius_cm:.1f} cm away", a.why
                )
                + "<extra></extra>"
            )
            for run in _runs_px(item):
                zone = buffer_polyline(run, a.safety_radius_cm * ppc)
                fig.add_trace(
                    go.Scatter(
                        x=list(zone[:, 0]) + [zone[0, 0]],
                        y=list(zone[:, 1]) + [zone[0, 1]],
                        mode="lines",
                        fill="toself",
                        fillcolor="rgba(200,30,45,0.22)",
                        line={"color": "rgba(200,30,45,0.55)", "width": 1},
                        name="Avoid",
                        legendgroup="avoid",
                        showlegend=not shown,
                        hoveron="fills+points",
                        hovertemplate=hover,
                    )
                )
                shown = True
    styles = nerve_styles(atlas, view)
    if "nerves" in layers:
        for item in region_items:
            n = atlas.nerves.get(item.id)
            if item.kind != "nerve" or n is None or not item.any_visible:
                continue
            xs, ys = _visible_runs(item)
            colour, dash = styles[item.id]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    # Invisible markers on the course make a click on the line select it.
                    mode="lines+markers",
                    line={"color": colour, "width": 6.0 if item.id == highlight else 3.0, "dash": dash},
                    marker={"size": 12, "color": colour, "opacity": 0},
                    selected={"marker": {"opacity": 0}},
                    unselected={"marker": {"opacity": 0}},
                    name=html.escape(short_label(n.name)),
                    legendgroup=f"nerve:{item.id}",
                    legendrank=100,
                    meta="nerve",
                    customdata=[item.id] * len(xs),
                    hovertemplate=_hover(
                        n.name, ", ".join(n.synonyms), f"Roots: {', '.join(n.roots)}" if n.roots else ""
                    )
                    + "<extra></extra>",
                )
            )
    if "sites" in layers:
        xs, ys, texts, ids = [], [], [], []
        for item in region_items:
            s = atlas.sites.get(item.id)
            if item.kind != "site" or s is None or not item.visible[0]:
                continue
            xs.append(float(item.points_px[0, 0]))
            ys.append(float(item.points_px[0, 1]))
            texts.append(
                _hover(
                    s.name,
                    f"Nerve: {atlas.name_of(s.nerve)}",
                    f"{s.site_kind.replace('_', ' ')}, {s.depth}",
                    dose_words(s) if s.dose else "",
                    ("Unverified" if not s.verified else ""),
                )
            )
            ids.append(s.id)
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name="Sites",
                    legendgroup="sites",
                    legendrank=200,
                    customdata=ids,
                    unselected={"marker": {"opacity": 1}},
                    marker={
                        "symbol": "diamond",
                        "size": SITE_MARKER_PX,
                        "color": "#12a150",
                        "line": {"color": "white", "width": 1.5},
                    },
                    hovertext=texts,
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    if "landmarks" in layers:
        xs, ys, texts = [], [], []
        for lm_id, (x, y) in landmark_points(view, atlas):
            xs.append(x)
            ys.append(y)
            texts.append(_hover(*landmark_hover_lines(atlas.landmarks[lm_id])))
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name="Landmarks",
                    legendrank=300,
                    marker={
                        "symbol": "circle-open",
                        "size": LANDMARK_MARKER_PX,
                        "color": LANDMARK_COLOUR,
                        "line": {"width": 2},
                    },
                    unselected={"marker": {"opacity": 1}},
                    hovertext=texts,
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    add_labels(fig, atlas_labels(view, atlas, layers), styles)
    # The legend (each nerve's colour and dash) sits under the image, never over it.
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0.0, "font": {"size": 11}},
        clickmode="event+select",
    )
    return fig


def pins_overlay(
    fig: go.Figure, pins_px: Sequence[tuple[float, float]], name: str = "Your pins", colour: str = "#7b2cbf"
) -> go.Figure:
    if pins_px:
        arr = np.asarray(pins_px, dtype=float)
        fig.add_trace(
            go.Scatter(
                x=arr[:, 0],
                y=arr[:, 1],
                mode="markers",
                name=name,
                marker={"size": 11, "color": colour, "line": {"color": "white", "width": 1.5}},
            )
        )
    return fig
