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
from trainer.figures import bias_figure
from trainer.learning import attempts_csv, nerve_retrievability, review_queue
from trainer.progress import (
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
from trainer.scoring import count_noun, direction_vocabulary
from trainer.ui.common import esc, get_atlas, get_view, page_setup
from trainer.ui.data import get_questions
from trainer.ui.state import get_store, now_utc, profile_sidebar

MAX_IMPORT_BYTES = 5_000_000

page_setup()
st.title("Progress")
atlas = get_atlas()
if atlas is None:
    st.stop()
questions = get_questions(atlas)
learner_id = profile_sidebar()
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

# Data: export, import, delete
if learner_id is not None:
    st.subheader("Your data")
    learner = store.get_learner(learner_id)
    export = store.export_learner(learner_id)
    d1, d2 = st.columns(2)
    d1.download_button("Export history (CSV)", attempts_csv(store.list_attempts(learner_id)),
                       file_name=f"nerve-trainer-{learner.display_name}.csv", mime="text/csv", width="stretch")
    d2.download_button("Export everything (JSON)", json.dumps(export, default=str, indent=1),
                       file_name=f"nerve-trainer-{learner.display_name}.json", mime="application/json", width="stretch")
    with st.expander("Delete this profile"):
        st.warning("This deletes the profile, every answer and every review card. It cannot be undone.")
        typed = st.text_input("Type the profile name to confirm", key="del_confirm")
        if st.button("Delete profile", type="primary", disabled=typed != learner.display_name, key="del_go"):
            counts = store.delete_learner(learner_id)
            ss["learner_id"] = "__anonymous__"
            ss.pop("profile_select", None)
            st.success(f"Deleted: {counts['attempts']} answers and {counts['review_cards']} review cards.")
            st.rerun()

with st.expander("Import a profile from another machine (JSON)"):
    up = st.file_uploader("Exported JSON file", type=["json"], key="import_file")
    if up is not None:
        raw = up.getvalue()
        try:
            if len(raw) > MAX_IMPORT_BYTES:
                raise TrainerError(f"That file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_IMPORT_BYTES / 1e6:.0f} MB.")
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise TrainerError(f"That file is not a trainer export (not valid JSON: {exc}).") from None
            if not isinstance(data, dict):
                raise TrainerError("That file is not a trainer export (expected a JSON object).")
            if st.button("Import", key="import_go"):
                imported = store.import_learner(data)
                st.success(f"Imported {imported.display_name}.")
        except (TrainerError, KeyError, TypeError, ValueError) as exc:
            st.error(f"Import failed: {exc}")
