"""Atlas explorer: a region's nerves, sites, territories and structures to avoid on the body.

Layout only; the decisions are in :mod:`trainer.explorer.page`.
"""

from __future__ import annotations

import streamlit as st

from trainer.explorer import page as model
from trainer.explorer.atlas_labels import LAYERS
from trainer.explorer.figures import LAYER_LABELS
from trainer.quiz.views import base_views, view_name
from trainer.ui.common import badge, esc, get_view, page_setup, require_atlas
from trainer.ui.data import cached_explorer_figure, cached_explorer_figure_3d


def show_card(card: model.NerveCard) -> None:
    """The nerve card; every text comes from the atlas and is escaped."""
    with st.container(border=True):
        st.markdown(f"### {esc(card.name)} {badge(card.verified)}", unsafe_allow_html=True)
        if card.synonyms:
            st.caption("Also called: " + esc(", ".join(card.synonyms)))
        st.markdown(f"**Parent:** {esc(card.parent)} · **Roots:** {esc(card.roots)}", unsafe_allow_html=True)
        st.markdown(f"**Course.** {esc(card.course)}", unsafe_allow_html=True)
        with st.expander("Course points from the landmarks"):
            for i, p in enumerate(card.course_points, 1):
                st.markdown(f"{i}. {esc(p.where)} — *{esc(p.value)}* [{esc(p.ref)}]", unsafe_allow_html=True)
        st.markdown("**PIT sites**" if card.sites else "**PIT sites:** none recorded for this nerve.")
        for s in card.sites:
            st.markdown(
                f"- **{esc(s.name)}** {badge(s.verified)} — {esc(s.facts)} · *{esc(s.technique)}*",
                unsafe_allow_html=True,
            )
            if s.dose:
                st.markdown(f"  - **Dose:** {esc(s.dose)}. *{esc(s.dose_source)}*", unsafe_allow_html=True)
            if s.teaching:
                st.caption(esc(s.teaching))
            for caution in s.cautions:
                st.markdown(f"  - ⚠️ {esc(caution)}", unsafe_allow_html=True)
        if card.conditions:
            st.markdown("**Conditions:** " + esc(", ".join(card.conditions)), unsafe_allow_html=True)
        if card.avoid:
            st.markdown("**Structures to avoid nearby**")
            for a in card.avoid:
                st.markdown(f"- ⛔ {esc(a.name)} ({esc(a.keep_away)}): {esc(a.why)}", unsafe_allow_html=True)
        st.markdown("**References**")
        for ref in card.references:
            link = f" doi:{esc(ref.doi)}" if ref.doi else ""
            st.markdown(f"- {esc(ref.citation)}{link} {badge(ref.verified)}", unsafe_allow_html=True)


page_setup()
st.title("Atlas explorer")
atlas = require_atlas()
if not atlas.regions:
    st.info("The atlas has no regions yet. Add a file under atlas/regions/ and run the render tool.")
    st.stop()

regions = list(atlas.regions)
ss = st.session_state
# ?region=<id> opens a region directly (links from elsewhere; the root page keeps it too).
linked = model.linked_region(atlas, st.query_params.get("region"), ss.get("ex_linked"))
if linked is not None:
    ss["ex_linked"] = ss["ex_region"] = linked
ss.setdefault("ex_region", regions[0])
ss.setdefault("ex_side", "right")
ss.setdefault("ex_body", atlas.default_body_type)
ss.setdefault("ex_layers", list(model.DEFAULT_LAYERS))
ss.setdefault("ex_nerve", None)


def _jump(region: str | None, nerve: str | None) -> None:
    if region:
        ss["ex_region"] = region
    ss["ex_nerve"] = nerve


query = st.text_input(
    "Search a nerve or a condition", key="ex_query", placeholder="e.g. sural, saphenous, plantar fasciitis"
)
if query:
    hits = model.search_buttons(atlas, query)
    if not hits:
        st.caption(model.NO_HITS)
    for i, h in enumerate(hits):
        st.button(
            h.label, key=f"ex_hit_{i}", on_click=_jump, args=(h.region, h.nerve), help=h.why, width="stretch"
        )

# One row of controls, so the figure starts high enough to be seen on a 1366x800 screen.
c1, c4, c2, c3 = st.columns([3, 2, 1.4, 1.8])
region_id = c1.selectbox("Region", regions, format_func=lambda r: atlas.regions[r].name, key="ex_region")
side = c2.segmented_control("Side", ["right", "left"], key="ex_side", format_func=str.capitalize) or "right"
body = c3.selectbox(
    "Body type", list(atlas.body_types), key="ex_body", format_func=lambda b: atlas.body_types[b].name
)
region_views = base_views(atlas, region_id)
base = (
    c4.selectbox(
        "View",
        region_views,
        key=f"ex_view_{region_id}",
        format_func=lambda b: view_name(atlas, region_id, b),
    )
    if len(region_views) > 1
    else region_views[0]
)
if len(region_views) == 1:
    c4.text_input("View", view_name(atlas, region_id, base), disabled=True, key=f"ex_view_one_{region_id}")
view_id = model.view_for(atlas, region_id, base, side)
DIMENSIONS = {"2d": "Image (2D)", "3d": "Body (3D)"}
ss.setdefault("ex_dim", "2d")
layers = st.pills(
    "Layers", LAYERS, selection_mode="multi", key="ex_layers", format_func=lambda k: LAYER_LABELS[k]
)

if view_id is None:
    st.warning("This region has no view for that side.")
    st.stop()
view = get_view(view_id, body)
if view is None:
    st.stop()

ss["ex_nerve"] = model.kept_nerve(atlas, region_id, ss.get("ex_nerve"))
chart_key = f"ex_chart_{view.key}"


def _on_pick(chart_key: str = chart_key) -> None:
    """A click on a nerve (or a site) opens that nerve's card; runs once per new selection."""
    state = ss.get(chart_key)
    get_state = getattr(state, "get", None)
    selection = get_state("selection") if callable(get_state) else None
    get_selection = getattr(selection, "get", None)
    points = get_selection("points", []) if callable(get_selection) else []
    clicked = model.picked_nerve(atlas, [p.get("customdata") for p in points if hasattr(p, "get")])
    if clicked is not None:
        ss["ex_nerve"] = clicked


def _on_card_pick() -> None:
    ss["ex_nerve"] = ss.get("ex_card")


nerve_ids = model.region_nerves(atlas, region_id)
fig_col, card_col = st.columns([3, 2])
with fig_col:
    dim = st.segmented_control(
        "Show",
        list(DIMENSIONS),
        key="ex_dim",
        format_func=DIMENSIONS.__getitem__,
        label_visibility="collapsed",
    )
    if dim == "3d":
        # Starts from the 2D view's camera; drag to rotate, scroll or pinch to zoom.
        st.plotly_chart(
            cached_explorer_figure_3d(view, atlas, list(layers or []), ss.get("ex_nerve")),
            key=f"ex_3d_{view.key}",
            width="stretch",
            config={"displaylogo": False, "scrollZoom": True},
        )
        st.caption("Drag to turn the body, scroll or pinch to zoom, hover for names.")
    else:
        phone = model.is_phone(st.context.headers.get("User-Agent", ""))
        fig = cached_explorer_figure(view, atlas, list(layers or []), ss.get("ex_nerve"), phone)
        st.plotly_chart(
            fig,
            key=chart_key,
            on_select=_on_pick,
            selection_mode="points",
            width="stretch",
            config={
                "displaylogo": False,
                "scrollZoom": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d"],
            },
        )
        st.caption(esc(model.scale_caption(atlas, region_id, view.camera.px_per_cm)))

with card_col:
    if not nerve_ids:
        st.info("No nerves are drawn in this region yet.")
        st.stop()
    ss["ex_card"] = ss.get("ex_nerve")  # set before the widget exists: a click on the image picks it
    choice = st.selectbox(
        "Nerve card",
        [None, *nerve_ids],
        key="ex_card",
        on_change=_on_card_pick,
        format_func=lambda n: (
            "Choose a nerve (or click one on the image)" if n is None else atlas.nerves[n].name
        ),
    )
    if choice is None:
        st.caption("Click a nerve's course or an injection site on the image to open its card here.")
    else:
        show_card(model.nerve_card(atlas, choice))
