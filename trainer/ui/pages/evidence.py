"""Evidence map: what the dextrose injection studies found, filed by what they actually did.

Layout only; the decisions are in :mod:`trainer.learn.evidence`.
"""

from __future__ import annotations

import streamlit as st

from trainer.errors import Problem
from trainer.learn import evidence as model
from trainer.ui.common import esc, get_atlas, page_setup

page_setup()
st.title("Evidence map")
st.page_link("trainer/ui/pages/learn.py", label="Back to Learn", icon=":material/school:")
atlas = get_atlas()
if atlas is None:
    st.stop()
problems: list[Problem] = []
emap = model.read_evidence_map(atlas.root, problems)
if emap is None or not emap.studies:
    st.info(model.NO_EVIDENCE)
    st.stop()

st.caption(
    "Each study of dextrose injected at or near nerves (and the prolotherapy trials taught under "
    "the same names), by condition, technique, design, size and direction of effect. Studies of "
    "different techniques are never pooled: only classic PIT studies count for classic PIT."
)
with st.container(border=True):
    st.markdown("**Lesson: controlled trials whose control arm also improved**")
    st.markdown(esc(model.CONTROL_LESSON), unsafe_allow_html=True)
    with st.expander(
        f"The {len(model.control_arm_lessons(atlas, emap))} studies and how much their control arm improved"
    ):
        for study, change in model.control_arm_lessons(atlas, emap):
            st.markdown(f"- **{esc(study)}**: {esc(change)}", unsafe_allow_html=True)

c1, c2 = st.columns(2)
conditions = c1.multiselect(
    "Condition",
    model.condition_options(emap),
    format_func=lambda c: model.condition_name(atlas, emap, c),
    key="ev_conditions",
)
techniques = c2.multiselect(
    "Technique",
    list(model.TECHNIQUE_LABELS),
    format_func=model.TECHNIQUE_LABELS.__getitem__,
    key="ev_techniques",
)
designs = c1.multiselect(
    "Study design", list(model.DESIGN_LABELS), format_func=model.DESIGN_LABELS.__getitem__, key="ev_designs"
)
only_control = c2.toggle("Only trials whose control arm also improved", key="ev_control")
shown = model.rows(
    atlas, emap, model.Filters(tuple(conditions), tuple(techniques), tuple(designs), only_control)
)
st.caption(model.counts(emap, shown))
if not shown:
    st.info("No study matches these filters. Remove a filter to see more.")
    st.stop()
st.dataframe(
    [
        {
            "Study": r.study,
            "Year": r.year,
            "Condition": r.conditions,
            "Technique": r.technique,
            "Design": r.design,
            "n": r.n,
            "Direction": r.direction,
            "Control arm improved": r.control_improved,
            "Control arm change": r.control_change,
            "Result": r.result,
            "Counts for classic PIT": r.classic_pit,
            "Verified": r.verified,
        }
        for r in shown
    ],
    hide_index=True,
    width="stretch",
    key="ev_table",
)
