"""Progress: mastery, accuracy over time, direction bias on the body, review queue, your data.

Layout only; the decisions are in :mod:`trainer.progress.page`.
"""

from __future__ import annotations

import streamlit as st

from trainer.explorer.figures import bias_figure
from trainer.progress import page as model
from trainer.progress.stats import PERCENT_FORMAT
from trainer.rules.profiles import new_key
from trainer.ui.common import esc, get_view, page_setup, require_atlas
from trainer.ui.data import get_questions
from trainer.ui.state import current_profile, drop_profile, flash, get_store, hold_profile, now_utc

page_setup()
st.title("Progress")
atlas = require_atlas()
questions = get_questions(atlas)
profile = current_profile()
store = get_store()
ss = st.session_state

shown = model.progress_view(
    store,
    atlas,
    questions,
    None if profile is None else profile.learner.id,
    ss.get("anon_attempts", []),
    now_utc(),
)
if shown.anonymous:
    st.info(model.NO_PROFILE)

if shown.empty:
    st.markdown("No answers yet. Start a session on the **Practice** page; your progress appears here.")
    st.page_link("trainer/ui/pages/practice.py", label="Go to practice", icon="🎯")
else:
    for column, metric in zip(st.columns(len(shown.metrics)), shown.metrics, strict=True):
        column.metric(metric.label, metric.value)
    if shown.review is not None:
        st.link_button(shown.review.label, shown.review.url, type="primary")
    elif shown.review_note:
        st.caption(shown.review_note)

    # Mastery by region and nerve
    score_column = st.column_config.ProgressColumn(format=PERCENT_FORMAT, min_value=0, max_value=100)
    tab_r, tab_n = st.tabs(["By region", "By nerve"])
    with tab_r:
        st.dataframe(
            list(shown.by_region),
            column_config={"Mean score": score_column},
            hide_index=True,
            width="stretch",
        )
    with tab_n:
        st.dataframe(
            list(shown.by_nerve),
            column_config={
                "Mean score": score_column,
                "Recall now": st.column_config.ProgressColumn(
                    format=PERCENT_FORMAT,
                    min_value=0,
                    max_value=100,
                    help="FSRS retrievability of this nerve's cards",
                ),
            },
            hide_index=True,
            width="stretch",
        )

    st.plotly_chart(model.accuracy_figure(shown.days), width="stretch")

    # Direction bias, in words and as arrows on the body
    st.subheader("Direction bias")
    if not shown.biases:
        st.caption(model.NO_BIAS_YET)
    for b in shown.biases:
        st.markdown(f"- {esc(b.sentence)}", unsafe_allow_html=True)
        rv = get_view(b.view_id, atlas.default_body_type) if b.view_id else None
        if rv is not None:
            st.plotly_chart(
                bias_figure(rv, b.mean_cm), width="stretch", key=f"bias_{b.key}", config={"staticPlot": True}
            )

    # Weakest items
    st.subheader("Weakest items")
    for item in shown.weakest:
        cols = st.columns([3, 1])
        cols[0].markdown(f"**{esc(item.name)}** — {esc(item.detail)}", unsafe_allow_html=True)
        if item.practise is not None:
            cols[1].link_button(item.practise.label, item.practise.url, width="stretch")


def _say(notice: model.Notice) -> None:
    flash(notice.kind, notice.text)


def _on_transfer_code() -> None:
    assert profile is not None
    ss["transfer_shown"] = model.make_transfer_code(store, profile.learner.id, profile.key_hash, now_utc())


def _on_rename() -> None:
    assert profile is not None
    _say(model.rename(store, profile.learner.id, profile.key_hash, ss.get("rename_to", "")))


def _on_delete() -> None:
    assert profile is not None
    deleted, notice = model.delete(store, profile.learner, profile.key_hash)
    if deleted:
        drop_profile(profile.key)
        ss["del_confirm"] = ""
    _say(notice)


def _on_import() -> None:
    up = ss.get("import_file")
    if up is None:
        return
    key = new_key()
    outcome = model.import_profile(store, up.getvalue(), key, now_utc())
    if outcome.learner is None:
        ss["import_error"] = outcome.problems
        return
    ss.pop("import_error", None)
    hold_profile(key, outcome.learner.id)
    if outcome.notice is not None:
        _say(outcome.notice)


if profile is not None:
    learner = profile.learner
    st.subheader("Your data")
    files = model.downloads(store, learner, profile.key_hash)
    d1, d2 = st.columns(2)
    d1.download_button(
        "Export history (CSV)", files.csv, file_name=files.csv_name, mime="text/csv", width="stretch"
    )
    d2.download_button(
        "Export everything (JSON)",
        files.json,
        file_name=files.json_name,
        mime="application/json",
        width="stretch",
    )
    with st.expander("Use this profile on another device"):
        st.markdown(
            "Make a one-time code and type it on the other device (sidebar → *Profile from another "
            "device*). The code works once, for 15 minutes. This browser keeps the profile too."
        )
        st.button("Make a transfer code", key="transfer_go", on_click=_on_transfer_code)
        code = model.transfer_to_show(ss.get("transfer_shown"), learner.id, now_utc())
        if code is not None:
            st.code(code.code, language=None)
            st.caption(f"Valid until {code.expires_at:%H:%M} UTC, for one use.")
    with st.expander("Rename this profile"):
        st.text_input("New name", max_chars=40, key="rename_to", value=learner.display_name)
        st.button("Rename", key="rename_go", on_click=_on_rename)
    with st.expander("Delete this profile"):
        st.warning(
            "This deletes the profile on every device, with every answer and every review card. "
            "It cannot be undone."
        )
        typed = st.text_input("Type the profile name to confirm", key="del_confirm")
        st.button(
            "Delete profile",
            type="primary",
            disabled=not model.can_delete(typed, learner),
            key="del_go",
            on_click=_on_delete,
        )

with st.expander("Import a profile from an exported file (JSON)"):
    st.caption(
        "For a profile exported on another server. The imported profile is kept in this browser. "
        "To move a profile between devices on this server, use a transfer code instead."
    )
    st.file_uploader(
        "Exported JSON file", type=["json"], key="import_file", on_change=lambda: ss.pop("import_error", None)
    )
    st.button("Import", key="import_go", on_click=_on_import, disabled=ss.get("import_file") is None)
    if ss.get("import_error"):
        st.error("Import refused: nothing was stored. What is wrong with the file:")
        st.code(ss["import_error"], language=None, wrap_lines=True)  # plain text: the file's own words
