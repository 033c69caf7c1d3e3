"""Atlas explorer: a region's nerves, sites, territories and structures to avoid on the body."""

from __future__ import annotations

import streamlit as st

from trainer.atlas.describe import dose_words, offset_words
from trainer.explorer.figures import LAYER_LABELS, LAYERS
from trainer.explorer.search import search_atlas
from trainer.ui.common import badge, esc, get_atlas, get_view, page_setup
from trainer.ui.data import cached_explorer_figure

page_setup()
st.title("Atlas explorer")
atlas = get_atlas()
if atlas is None:
    st.stop()
if not atlas.regions:
    st.info("The atlas has no regions yet. Add a file under atlas/regions/ and run the render tool.")
    st.stop()

regions = list(atlas.regions)
ss = st.session_state
# ?region=<id> opens a region directly (links from elsewhere, and tests).
wanted = st.query_params.get("region")
if wanted in atlas.regions and ss.get("ex_linked") != wanted:
    ss["ex_linked"] = wanted
    ss["ex_region"] = wanted
ss.setdefault("ex_region", regions[0])
ss.setdefault("ex_side", "right")
ss.setdefault("ex_body", atlas.default_body_type)
ss.setdefault("ex_layers", ["landmarks", "nerves", "sites", "avoid"])
ss.setdefault("ex_nerve", None)


def _jump(region: str | None, nerve: str | None) -> None:
    if region:
        ss["ex_region"] = region
    ss["ex_nerve"] = nerve


query = st.text_input("Search a nerve or a condition", key="ex_query", placeholder="e.g. sural, saphenous, plantar fasciitis")
if query:
    hits = search_atlas(atlas, query)
    if not hits:
        st.caption("No nerve or condition matches that search.")
    for i, h in enumerate(hits[:8]):
        label = f"{h.name} · {h.kind} · {atlas.regions[h.region].name if h.region else 'no region'}"
        st.button(label, key=f"ex_hit_{i}", on_click=_jump, args=(h.region, h.id if h.kind == "nerve" else None),
                  help=h.why, width="stretch")

c1, c2, c3 = st.columns([2, 1, 1])
region_id = c1.selectbox("Region", regions, format_func=lambda r: atlas.regions[r].name, key="ex_region")
side = c2.segmented_control("Side", ["right", "left"], key="ex_side", format_func=str.capitalize) or "right"
body = c3.selectbox("Body type", list(atlas.body_types), key="ex_body", format_func=lambda b: atlas.body_types[b].name)
region = atlas.regions[region_id]
base_views = sorted({v.base_id for v in atlas.views_of_region(region_id)})


def _view_name(base_id: str) -> str:
    """"Anterior view", or "Lateral view (supinated)" when a region has several views."""
    v = next(v for v in atlas.views_of_region(region_id) if v.base_id == base_id)
    rest = base_id.replace(region_id, "").strip("_").replace("_", " ")
    return f"{v.look_from.capitalize()} view" + (f" ({rest})" if rest else "")


base = (st.selectbox("View", base_views, key=f"ex_view_{region_id}", format_func=_view_name)
        if len(base_views) > 1 else base_views[0])
view_id = next((v.id for v in atlas.views_of_region(region_id) if v.base_id == base and v.side in (side, "midline")), None)
layers = st.pills("Layers", LAYERS, selection_mode="multi", key="ex_layers", format_func=lambda k: LAYER_LABELS[k])

if view_id is None:
    st.warning("This region has no view for that side.")
    st.stop()
view = get_view(view_id, body)
if view is None:
    st.stop()

nerves = [n for n in atlas.nerves.values() if n.region == region_id]
if ss.get("ex_nerve") not in {n.id for n in nerves}:
    ss["ex_nerve"] = None
fig = cached_explorer_figure(view, atlas, list(layers or []), ss.get("ex_nerve"))
event = st.plotly_chart(
    fig, key=f"ex_chart_{view.key}", on_select="rerun", selection_mode="points", width="stretch",
    config={"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
)
picked = [p.get("customdata") for p in (event.selection.points if event else []) if p.get("customdata")]
if picked and picked[-1] in atlas.nerves:
    ss["ex_nerve"] = picked[-1]
elif picked and picked[-1] in atlas.sites:
    ss["ex_nerve"] = atlas.sites[picked[-1]].nerve
st.caption(f"{region.name}: {esc(region.summary)} · 1 cm = {view.camera.px_per_cm:.0f} px · drag to pan, scroll or pinch to zoom.")

if not nerves:
    st.info("No nerves are drawn in this region yet.")
    st.stop()
nerve_ids = [n.id for n in nerves]
choice = st.selectbox(
    "Nerve card", [None, *nerve_ids], index=(nerve_ids.index(ss["ex_nerve"]) + 1) if ss.get("ex_nerve") else 0,
    format_func=lambda n: "Choose a nerve (or click one on the image)" if n is None else atlas.nerves[n].name,
)
if choice is None:
    st.stop()
if choice != ss.get("ex_nerve"):
    ss["ex_nerve"] = choice
    st.rerun()

n = atlas.nerves[choice]
with st.container(border=True):
    st.markdown(f"### {esc(n.name)} {badge(n.verified)}", unsafe_allow_html=True)
    if n.synonyms:
        st.caption("Also called: " + ", ".join(n.synonyms))
    parent = atlas.name_of(n.parent) if n.parent else (n.parent_name or "—")
    st.markdown(f"**Parent:** {esc(parent)} · **Roots:** {esc(', '.join(n.roots) or '—')}", unsafe_allow_html=True)
    st.markdown(f"**Course.** {esc(n.description)}", unsafe_allow_html=True)
    with st.expander("Course points from the landmarks"):
        for i, p in enumerate(n.course, 1):
            src = atlas.references.get(p.ref)
            st.markdown(f"{i}. {esc(offset_words(p, atlas))} — *{esc(p.value or 'no value recorded')}* [{esc(src.id if src else p.ref)}]", unsafe_allow_html=True)
    sites = atlas.sites_of_nerve(n.id)
    st.markdown("**PIT sites**" if sites else "**PIT sites:** none recorded for this nerve.")
    for s in sites:
        st.markdown(
            f"- **{esc(s.name)}** {badge(s.verified)} — {esc(offset_words(s.at, atlas))}; {esc(s.depth)} · "
            f"*{esc(s.technique.replace('_', ' '))}*",
            unsafe_allow_html=True,
        )
        if s.dose is not None:
            st.markdown(f"  - **Dose:** {esc(dose_words(s))}. *{esc(s.dose.value)}*", unsafe_allow_html=True)
        if s.teaching:
            st.caption(s.teaching)
        for c in s.cautions:
            st.markdown(f"  - ⚠️ {esc(c)}", unsafe_allow_html=True)
    conds = sorted({c for c in n.conditions} | {c for s in sites for c in s.conditions})
    if conds:
        st.markdown("**Conditions:** " + esc(", ".join(atlas.name_of(c) for c in conds)), unsafe_allow_html=True)
    avoid_ids = sorted({a for s in sites for a in s.avoid})
    if avoid_ids:
        st.markdown("**Structures to avoid nearby**")
        for a_id in avoid_ids:
            a = atlas.avoid[a_id]
            st.markdown(f"- ⛔ {esc(a.name)} (keep {a.safety_radius_cm:.1f} cm away): {esc(a.why)}", unsafe_allow_html=True)
    ref_ids = list(dict.fromkeys([*n.references, *(p.ref for p in n.course), *(r for s in sites for r in s.references),
                                  *(r for s in sites if s.dose for r in s.dose.refs)]))
    st.markdown("**References**")
    for r_id in ref_ids:
        ref = atlas.references.get(r_id)
        if ref is not None:
            link = f" doi:{esc(ref.doi)}" if ref.doi else ""
            st.markdown(f"- {esc(ref.citation)}{link} {badge(ref.verified)}", unsafe_allow_html=True)
