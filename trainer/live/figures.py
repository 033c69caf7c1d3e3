"""Plotly figures for the host's screen: the live heatmap and the reveal. Pure: no streamlit.

These figures go to the host's browser only. They carry every pin and, at the reveal, the
target, so the join page must never show them. The image is the view's static URL (see
:func:`trainer.explorer.figures.base_figure`), so a rebuilt figure is a few kB, not a re-sent image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.explorer.figures import base_figure, gapped_xy
from trainer.live.reveal import CLUSTER_RADIUS_CM, RevealStats
from trainer.plotting import go
from trainer.quiz.models import QuestionModel

_DENSITY = [[0.0, "rgba(255,80,0,0)"], [0.3, "rgba(255,120,0,0.35)"], [1.0, "rgba(200,0,0,0.75)"]]


def heatmap_figure(
    view: RenderedView, pins_px: Sequence[tuple[float, float]], height_px: int = 560
) -> go.Figure:
    """Where the class is tapping: a density layer (from 5 pins on) plus every pin as a dot."""
    fig = base_figure(view, height_px)
    fig.update_layout(showlegend=False, dragmode=False)
    if pins_px:
        arr = np.asarray(pins_px, dtype=float)
        if len(arr) >= 5:
            fig.add_trace(
                go.Histogram2dContour(
                    x=arr[:, 0],
                    y=arr[:, 1],
                    colorscale=_DENSITY,
                    showscale=False,
                    ncontours=8,
                    contours={"coloring": "fill", "showlines": False},
                    hoverinfo="skip",
                    name="density",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=arr[:, 0],
                y=arr[:, 1],
                mode="markers",
                name="pins",
                hoverinfo="skip",
                marker={"size": 9, "color": "rgba(214,40,40,0.65)", "line": {"color": "white", "width": 1}},
            )
        )
    return fig


def reveal_figure(
    view: RenderedView, atlas: Atlas, q: QuestionModel, stats: RevealStats, height_px: int = 560
) -> go.Figure:
    """The answer and everyone's pins: green within tolerance, orange partial, red misses."""
    fig = base_figure(view, height_px)
    fig.update_layout(dragmode=False)
    ppc = view.camera.px_per_cm
    nerves = {t for t in q.targets if t in atlas.nerves} | {
        atlas.sites[t].nerve for t in q.targets if t in atlas.sites
    }
    for n in sorted(nerves):
        item = view.items.get(n)
        if item is not None:
            xs, ys = gapped_xy(item.points_px, item.visible)
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    name=atlas.name_of(n),
                    hoverinfo="skip",
                    line={"color": "#1f77ff", "width": 4},
                )
            )
    for t in q.targets:
        item = view.items.get(t)
        if item is None:
            continue
        if item.kind == "site":
            x, y = (float(v) for v in item.points_px[0])
            r = q.tolerance_cm * ppc
            fig.add_shape(
                type="circle",
                x0=x - r,
                y0=y - r,
                x1=x + r,
                y1=y + r,
                line={"color": "#12a150", "width": 2, "dash": "dash"},
            )
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[y],
                    mode="markers",
                    name="target",
                    hoverinfo="skip",
                    marker={
                        "size": 16,
                        "color": "#12a150",
                        "symbol": "diamond",
                        "line": {"color": "white", "width": 2},
                    },
                )
            )
        elif item.kind == "territory":
            pts = item.points_px
            fig.add_trace(
                go.Scatter(
                    x=list(pts[:, 0]) + [pts[0, 0]],
                    y=list(pts[:, 1]) + [pts[0, 1]],
                    mode="lines",
                    fill="toself",
                    fillcolor="rgba(18,161,80,0.18)",
                    line={"color": "#12a150"},
                    name="territory",
                    hoverinfo="skip",
                )
            )
    groups: tuple[tuple[str, str, Callable[[float], bool]], ...] = (
        ("within tolerance", "#12a150", lambda c: c >= 0.999),
        ("partial", "#f08c00", lambda c: 0 < c < 0.999),
        ("miss", "#d62828", lambda c: c <= 0),
    )
    for label, colour, test in groups:
        sel = [p for p in stats.pins if test(p.credit)]
        if sel:
            fig.add_trace(
                go.Scatter(
                    x=[p.x_px for p in sel],
                    y=[p.y_px for p in sel],
                    mode="markers",
                    name=label,
                    hoverinfo="skip",
                    marker={"size": 10, "color": colour, "line": {"color": "white", "width": 1}},
                )
            )
    if stats.cluster is not None and stats.cluster.size >= 2:
        cx, cy = stats.cluster.center_px
        r = CLUSTER_RADIUS_CM * ppc
        fig.add_shape(
            type="circle",
            x0=cx - r,
            y0=cy - r,
            x1=cx + r,
            y1=cy + r,
            line={"color": "#d62828", "width": 2, "dash": "dot"},
        )
    return fig
