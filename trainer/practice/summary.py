"""End-of-session summaries and their chart. Pure: no streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trainer.plotting import go
from trainer.practice.hints import used_text
from trainer.scoring.score import Result


@dataclass(frozen=True)
class Row:
    question_id: str
    prompt: str
    type: str
    percent: int
    distance_cm: float | None
    direction: str
    hints: str = ""  # hints used and their cost, '' when none


def summary_rows(results: Sequence[tuple[str, Result]]) -> list[Row]:
    rows = []
    for prompt, r in results:
        pins = [
            p
            for p in (*r.pins, *(p for s in r.steps for p in s.pins))
            if p.target_id is not None and p.on_body
        ]
        dist = float(np.mean([p.distance_cm for p in pins])) if pins else None
        direction = pins[0].direction_text if len(pins) == 1 else ("several pins" if pins else "—")
        rows.append(Row(r.question_id, prompt, r.type, r.percent, dist, direction, used_text(r.hints)))
    return rows


ERROR_CHART_HEADING = "Where your pins landed relative to the target"


def error_chart(results: Sequence[Result], tolerance_cm: float = 1.0) -> go.Figure:
    """Each pin's error as an arrow end in (lateral, proximal) cm around the target at 0,0."""
    xs, ys, texts = [], [], []
    for r in results:
        for p in (*r.pins, *(p for s in r.steps for p in s.pins)):
            if p.target_id is None or not p.on_body or not p.direction:
                continue
            xs.append(p.direction.get("lateral", 0.0))
            ys.append(p.direction.get("proximal", 0.0))
            texts.append(f"{r.question_id}: {p.distance_cm:.1f} cm, {p.direction_text}")
    fig = go.Figure()
    t = np.linspace(0, 2 * np.pi, 80)
    fig.add_trace(
        go.Scatter(
            x=tolerance_cm * np.cos(t),
            y=tolerance_cm * np.sin(t),
            mode="lines",
            name=f"tolerance ({tolerance_cm:g} cm)",
            line={"color": "#12a150", "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            name="your pins",
            text=texts,
            hovertemplate="%{text}<extra></extra>",
            marker={"size": 10, "color": "#7b2cbf", "line": {"color": "white", "width": 1}},
        )
    )
    lim = max([3.0, *(abs(v) + 0.5 for v in xs + ys)])
    fig.update_xaxes(range=[-lim, lim], title="← medial · lateral → (cm)", zeroline=True)
    fig.update_yaxes(range=[-lim, lim], title="← distal · proximal → (cm)", zeroline=True, scaleanchor="x")
    fig.update_layout(
        height=380,
        # no figure title: on a phone it sat under plotly's toolbar; the page writes the heading
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        # Below the x-axis title, not on it: plotly's default place for a horizontal legend
        # (just under the plot) is where the axis title is drawn, and on a phone they overlapped.
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0},
    )
    return fig
