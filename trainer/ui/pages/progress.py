"""Progress: mastery, accuracy over time, direction bias on the body, review queue, your data."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC
from types import SimpleNamespace
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from trainer.errors import TrainerError
from trainer.explorer.figures import bias_figure
from trainer.progress.learning import attempts_csv, nerve_retrievability, review_queue
from trainer.progress.stats import (
    MIN_BIAS_CM,
    PERCENT_FORMAT,
    accuracy_over_time,
    direction_bias,
    mastery,
    minutes_practised,
    percent,
    streak_days,
    weakest,
)
from trainer.quiz.session import question_nerves, question_region
from trainer.rules.profiles import key_hash, new_key
from trainer.scoring.score import count_noun, direction_vocabulary
from trainer.store.learner_file import read_file
from trainer.ui.common import esc, get_atlas, get_view, page_setup
from trainer.ui.data import get_questions
from trainer.ui.state import current_profile, drop_profile, flash, get_store, hold_profile, now_utc, plain

page_setup()
st.title("Progress")
atlas = get_atlas()
if atlas is None:
    st.stop()
questions = get_questions(atlas)
profile = current_profile()
learner_id = None if profile is None else profile.learner.id
store = get_store()
ss = st.session_state
now = now_utc()

if learner_id is None:
    attempts: list[Any] = [SimpleNamespace(**a) for a in ss.get("anon_attempts", [])]
    st.info("You are studying without a profile: this page shows this tab's answers only. "
            "Create a profile in the sidebar to keep your progress and get a review queue.")
else:
    attempts = store.list_attempts(learner_id)

if not attempts:
    st.markdown("No answers yet. Start a session on the **Practice** page; your progress appears here.")
    st.page_link("trainer/ui/pages/practice.py", label="Go to practice", icon="🎯")
else:
    today = now.astimezone(UTC).date()
    queue = review_queue(store, learner_id, now, list(questions)) if learner_id else None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Answers", len(attempts))
    c2.metric("Mean score", f"{sum(a.credit for a in attempts) / len(attempts) * 100:.0f}%")
    c3.metric("Streak", f"{streak_days(attempts, today)} d")
    minutes = minutes_practised(attempts)
    c4.metric("Practised", "< 1 min" if minutes < 1 else f"{minutes:.0f} min")
    if queue is not None:
        if queue.due_question_ids:
            st.link_button(f"Review queue: {len(queue.due_question_ids)} due today",
                           "practice?questions=" + ",".join(queue.due_question_ids[:20]), type="primary")
        else:
            st.caption("Nothing is due for review right now.")

    # Mastery by region and nerve
    region_of_q = {qid: [r] for qid, q in questions.items() if (r := question_region(atlas, q))}
    nerves_of_q = {qid: sorted(question_nerves(atlas, q)) for qid, q in questions.items()}
    ret = nerve_retrievability(store, learner_id, now) if learner_id else {}
    tab_r, tab_n = st.tabs(["By region", "By nerve"])
    with tab_r:
        rows = mastery(attempts, region_of_q)
        st.dataframe(
            [{"Region": atlas.regions[m.key].name if m.key in atlas.regions else m.key, "Answers": m.attempts,
              "Mean score": percent(m.mean_credit)} for m in rows],
            column_config={"Mean score": st.column_config.ProgressColumn(format=PERCENT_FORMAT, min_value=0, max_value=100)},
            hide_index=True, width="stretch",
        )
    with tab_n:
        rows_n = mastery(attempts, nerves_of_q, ret)
        st.dataframe(
            [{"Nerve": atlas.name_of(m.key), "Answers": m.attempts, "Mean score": percent(m.mean_credit),
              "Recall now": percent(m.retrievability)} for m in rows_n],
            column_config={
                "Mean score": st.column_config.ProgressColumn(format=PERCENT_FORMAT, min_value=0, max_value=100),
                "Recall now": st.column_config.ProgressColumn(format=PERCENT_FORMAT, min_value=0, max_value=100,
                                                              help="FSRS retrievability of this nerve's cards"),
            },
            hide_index=True, width="stretch",
        )

    # Accuracy over time
    days = accuracy_over_time(attempts)
    fig = go.Figure()
    day_labels = [d.day.isoformat() for d in days]
    fig.add_trace(go.Scatter(x=day_labels, y=[d.mean_credit * 100 for d in days], name="mean score %",
                             mode="lines+markers"))
    fig.add_trace(go.Scatter(x=day_labels, y=[d.mean_distance_cm for d in days], name="mean distance (cm)",
                             mode="lines+markers", yaxis="y2"))
    fig.update_xaxes(type="category")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Accuracy over time",
                      yaxis={"title": "score %", "range": [0, 105]},
                      yaxis2={"title": "cm", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                      legend={"orientation": "h"})
    st.plotly_chart(fig, width="stretch")

    # Direction bias, in words and as arrows on the body
    st.subheader("Direction bias")
    region_of_view = {v.id: v.region for v in atlas.views.values()}
    vocabulary_of_view = {v.id: direction_vocabulary(atlas, v.id) for v in atlas.views.values()}
    biases = direction_bias(attempts, region_of_view, vocabulary_of_view)
    if not biases:
        st.caption("Answer at least three pin questions in a region to see whether your errors lean one way.")
    for b in biases:
        region = atlas.regions[b.region]
        st.markdown(f"- {esc(b.sentence(region.name))}", unsafe_allow_html=True)
        if b.magnitude_cm >= MIN_BIAS_CM:
            view_id = next((v.id for v in atlas.views_of_region(b.region)
                            if v.side in ("right", "midline") and vocabulary_of_view[v.id] == b.vocabulary), None)
            rv = get_view(view_id, atlas.default_body_type) if view_id else None
            if rv is not None:
                st.plotly_chart(bias_figure(rv, b.mean_cm), width="stretch", key=f"bias_{b.region}_{b.vocabulary}",
                                config={"staticPlot": True})

    # Weakest items
    st.subheader("Weakest items")
    weak = weakest(mastery(attempts, nerves_of_q, ret), 5)
    by_nerve: dict[str, list[str]] = defaultdict(list)
    for qid, ns in nerves_of_q.items():
        for n in ns:
            by_nerve[n].append(qid)
    for m in weak:
        cols = st.columns([3, 1])
        recall = f", recall {m.retrievability * 100:.0f}%" if m.retrievability is not None else ""
        cols[0].markdown(f"**{esc(atlas.name_of(m.key))}** — mean score {m.mean_credit * 100:.0f}% over "
                         f"{count_noun(m.attempts, 'answer')}{recall}",
                         unsafe_allow_html=True)
        qids = by_nerve.get(m.key, [])[:10]
        if qids:
            cols[1].link_button("Practise these", "practice?questions=" + ",".join(qids), width="stretch")

# Data: export, move, rename, delete, import. Every call passes this browser's key hash, and the
# store checks it inside the transaction: a page can only act on a profile this browser holds.


def _on_transfer_code() -> None:
    assert profile is not None
    code, expires = store.create_transfer_code(profile.learner.id, now=now_utc(), key_hash=profile.key_hash)
    ss["transfer_shown"] = (profile.learner.id, code.text, expires)


def _on_rename() -> None:
    assert profile is not None
    try:
        renamed = store.rename_learner(profile.learner.id, ss.get("rename_to", ""), key_hash=profile.key_hash)
    except TrainerError as exc:
        flash("error", plain(str(exc)))
    else:
        flash("success", f"Renamed to {plain(renamed.display_name)}.")


def _on_delete() -> None:
    assert profile is not None
    try:
        counts = store.delete_learner(profile.learner.id, key_hash=profile.key_hash)
    except TrainerError as exc:
        flash("error", plain(str(exc)))
        return
    drop_profile(profile.key)
    ss["del_confirm"] = ""
    flash("success", f"Deleted {plain(profile.learner.display_name)}: {count_noun(counts['attempts'], 'answer')} and "
                     f"{count_noun(counts['review_cards'], 'review card')}. You are studying without a profile.")


def _on_import() -> None:
    up = ss.get("import_file")
    if up is None:
        return
    key = new_key()
    try:
        checked = read_file(up.getvalue(), now_utc())
        imported = store.import_learner(checked, now=now_utc(), key_hash=key_hash(key))
    except TrainerError as exc:
        ss["import_error"] = str(exc)
        return
    ss.pop("import_error", None)
    hold_profile(key, imported.id)
    flash("success", f"Imported {plain(imported.display_name)} ({count_noun(len(checked.attempts), 'answer')}); it is selected "
                     "and kept in this browser.")


if profile is not None:
    learner = profile.learner
    st.subheader("Your data")
    export = store.export_learner(learner.id, key_hash=profile.key_hash)
    d1, d2 = st.columns(2)
    d1.download_button("Export history (CSV)", attempts_csv(store.list_attempts(learner.id)),
                       file_name=f"nerve-trainer-{learner.display_name}.csv", mime="text/csv", width="stretch")
    d2.download_button("Export everything (JSON)", json.dumps(export, default=str, indent=1),
                       file_name=f"nerve-trainer-{learner.display_name}.json", mime="application/json", width="stretch")
    with st.expander("Use this profile on another device"):
        st.markdown("Make a one-time code and type it on the other device (sidebar → *Profile from another "
                    "device*). The code works once, for 15 minutes. This browser keeps the profile too.")
        st.button("Make a transfer code", key="transfer_go", on_click=_on_transfer_code)
        shown = ss.get("transfer_shown")
        if shown and shown[0] == learner.id and shown[2] > now_utc():
            st.code(shown[1], language=None)
            st.caption(f"Valid until {shown[2]:%H:%M} UTC, for one use.")
    with st.expander("Rename this profile"):
        st.text_input("New name", max_chars=40, key="rename_to", value=learner.display_name)
        st.button("Rename", key="rename_go", on_click=_on_rename)
    with st.expander("Delete this profile"):
        st.warning("This deletes the profile on every device, with every answer and every review card. "
                   "It cannot be undone.")
        typed = st.text_input("Type the profile name to confirm", key="del_confirm")
        st.button("Delete profile", type="primary", disabled=typed != learner.display_name, key="del_go",
                  on_click=_on_delete)

with st.expander("Import a profile from an exported file (JSON)"):
    st.caption("For a profile exported on another server. The imported profile is kept in this browser. "
               "To move a profile between devices on this server, use a transfer code instead.")
    st.file_uploader("Exported JSON file", type=["json"], key="import_file",
                     on_change=lambda: ss.pop("import_error", None))
    st.button("Import", key="import_go", on_click=_on_import, disabled=ss.get("import_file") is None)
    if ss.get("import_error"):
        st.error("Import refused: nothing was stored. What is wrong with the file:")
        st.code(ss["import_error"], language=None, wrap_lines=True)  # plain text: the file's own words
