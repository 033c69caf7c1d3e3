"""The figure of a lesson step: the region's render with only the step's items emphasised.

Every nerve of the region is drawn thin and grey for orientation; the step's landmarks,
nerves, sites and structures to avoid are drawn in colour with their names, so the eye goes
where the text points. Pure: no streamlit.
"""

from __future__ import annotations

import html

import numpy as np

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.explorer.figures import base_figure, gapped_xy
from trainer.explorer.landmark_text import landmark_hover_lines
from trainer.geometry import buffer_polyline
from trainer.learn.page import Focus
from trainer.plotting import go

FOCUS_NERVE_COLOURS = ("#1f77ff", "#e07a00", "#7b2cbf", "#00897b")
FAINT_NERVE = "rgba(120,120,120,0.45)"


def _hover(lines: list[str]) -> str:
    return "<br>".join(html.escape(x) for x in lines if x) + "<extra></extra>"


def _runs_px(points_px: np.ndarray, visible: np.ndarray) -> list[np.ndarray]:
    """The visible stretches of a projected polyline (a zone never bridges a hidden part)."""
    runs: list[np.ndarray] = []
    start = None
    for i, vis in enumerate([*visible, False]):
        if vis and start is None:
            start = i
        elif not vis and start is not None:
            runs.append(np.asarray(points_px[start:i], dtype=float))
            start = None
    return runs


def lesson_figure(view: RenderedView, atlas: Atlas, focus: Focus, height_px: int = 560) -> go.Figure:
    """The step's figure on ``view`` (see the module docstring)."""
    fig = base_figure(view, height_px)
    ppc = view.camera.px_per_cm
    region_nerves = {n.id for n in atlas.nerves.values() if n.region == view.region}
    for faint in view.items.values():  # context: every nerve of the region, faint
        if faint.id not in region_nerves or faint.id in focus.nerves or not faint.any_visible:
            continue
        xs, ys = gapped_xy(faint.points_px, faint.visible)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": FAINT_NERVE, "width": 1.5},
                showlegend=False,
                hovertemplate=_hover([atlas.nerves[faint.id].name]),
            )
        )
    for avoid_id in focus.avoid:
        zone_item, a = view.items.get(avoid_id), atlas.avoid.get(avoid_id)
        if zone_item is None or a is None or not zone_item.any_visible:
            continue
        for k, run in enumerate(_runs_px(zone_item.points_px, zone_item.visible)):
            zone = buffer_polyline(run, max(a.safety_radius_cm, 0.3) * ppc)
            fig.add_trace(
                go.Scatter(
                    x=list(zone[:, 0]) + [zone[0, 0]],
                    y=list(zone[:, 1]) + [zone[0, 1]],
                    mode="lines",
                    fill="toself",
                    fillcolor="rgba(200,30,45,0.28)",
                    line={"color": "rgba(200,30,45,0.8)", "width": 1.5},
                    name=f"Avoid: {a.name}",
                    showlegend=k == 0,
                    hoveron="fills+points",
                    hovertemplate=_hover([f"AVOID: {a.name}", a.why]),
                )
            )
    for k, nerve_id in enumerate(focus.nerves):
        course, n = view.items.get(nerve_id), atlas.nerves.get(nerve_id)
        if course is None or n is None or not course.any_visible:
            continue
        xs, ys = gapped_xy(course.points_px, course.visible)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={
                    "color": FOCUS_NERVE_COLOURS[k % len(FOCUS_NERVE_COLOURS)],
                    "width": 5,
                    "dash": ("solid", "dash", "dot", "dashdot")[k % 4],
                },
                name=n.name,
                hovertemplate=_hover([n.name, *n.synonyms[:1]]),
            )
        )
    sx, sy, snames, numbers = [], [], [], []
    for number, site_id in enumerate(focus.sites, 1):  # numbered as the step's text lists them
        point, s = view.items.get(site_id), atlas.sites.get(site_id)
        if point is None or s is None or not point.visible[0]:
            continue
        sx.append(float(point.points_px[0, 0]))
        sy.append(float(point.points_px[0, 1]))
        snames.append(f"{number}. {s.name}")
        numbers.append(str(number))
    if sx:
        fig.add_trace(
            go.Scatter(
                x=sx,
                y=sy,
                mode="markers+text",
                text=numbers,
                textposition="middle right",
                textfont={"size": 13, "color": "#0b6b35"},
                marker={
                    "symbol": "diamond",
                    "size": 15,
                    "color": "#12a150",
                    "line": {"color": "white", "width": 2},
                },
                name="Sites",
                hovertext=[html.escape(n) for n in snames],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    lx, ly, labels, hovers = [], [], [], []
    for lm_id in focus.landmarks:
        mark, lm = view.items.get(lm_id), atlas.landmarks.get(lm_id)
        if mark is None or lm is None or not mark.visible[0]:
            continue
        lx.append(float(mark.points_px[0, 0]))
        ly.append(float(mark.points_px[0, 1]))
        labels.append(html.escape(lm.name))
        hovers.append("<br>".join(html.escape(x) for x in landmark_hover_lines(lm)))
    if lx:
        fig.add_trace(
            go.Scatter(
                x=lx,
                y=ly,
                mode="markers+text",
                text=labels,
                textposition="top center",
                textfont={"size": 12, "color": "#111"},
                marker={"symbol": "circle-open", "size": 18, "color": "#d62828", "line": {"width": 3}},
                name="Landmarks",
                hovertext=hovers,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_layout(dragmode=False)
    return fig
