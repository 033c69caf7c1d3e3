"""Practice: answer by tapping the body; scored in cm on the server; reveal after the answer."""

from __future__ import annotations

import random
import time

import streamlit as st

from trainer.explorer.figures import image_url
from trainer.practice import page as model
from trainer.practice.hints import shapes as hint_shapes
from trainer.practice.summary import ERROR_CHART_HEADING, error_chart, summary_rows
from trainer.quiz.choices import OWN_CHOICES, option_texts, practice_orders, revealed_options, to_file_indexes
from trainer.quiz.kinds import type_label
from trainer.quiz.models import QUESTION_TYPES, ChoiceModel
from trainer.quiz.session import Filters, pick_questions
from trainer.safetext import inert_label
from trainer.scoring.results import Result
from trainer.scoring.reveal import question_shapes, reveal_shapes
from trainer.ui.common import esc, get_view, page_setup, require_atlas
from trainer.ui.components.pinboard import pinboard, take_click
from trainer.ui.data import get_questions
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import get_store, now_utc, profile_sidebar

page_setup()
# The page title only on the setup and summary screens: during a question its 70 px go to the
# image, so that a case's history, the image and the buttons fit a 390×844 phone.
title_slot = st.empty()
atlas = require_atlas()
questions = get_questions(atlas)
learner_id = profile_sidebar()
ss = st.session_state
ss.setdefault("body_type", atlas.default_body_type)
if not questions:
    title_slot.title("Practice")
    st.info("No questions yet: add a bank under quizzes/ (see docs/quiz-format.md).")
    st.stop()


def _start(ids: list[str], seed: int, side: str | None = None) -> None:
    ss["pr"] = model.new_session(atlas, questions, ids, random.Random(seed), time.time(), side)
    _reset_question()


def _reset_question() -> None:
    ss["pr_draft"] = None
    ss["pr_result"] = None
    ss["pr_seq"] = ss.get("pr_seq", 0) + 1
    ss["pr_t0"] = time.time()


# ---------------------------------------------------------------- session setup
# A link such as ?questions=id1,id2&side=left starts a session directly (shared links,
# "practise these" buttons on the progress page).
linked = model.linked_ids(questions, st.query_params.get("questions", ""))
if linked and ss.get("pr_linked") != st.query_params.get("questions"):
    ss["pr_linked"] = st.query_params.get("questions")
    _start(linked, int(time.time() * 1000) % (2**31), st.query_params.get("side"))
    if st.query_params.get("body") in atlas.body_types:
        ss["body_type"] = st.query_params["body"]

if "pr" not in ss:
    title_slot.title("Practice")
    st.caption("Choose what to practise. Every answer is scored in centimetres on the body.")
    if learner_id is not None:
        from trainer.progress.learning import review_queue

        queue = review_queue(get_store(), learner_id, now_utc(), list(questions))
        if queue.due_question_ids:
            n_due = len(queue.due_question_ids)
            if st.button(f"Review queue: {n_due} due today", type="primary", key="pr_review_queue"):
                _start(list(queue.due_question_ids[:20]), int(time.time() * 1000) % (2**31))
                st.rerun()
        elif queue.next_due is not None:
            st.caption(f"Nothing due for review; next review {queue.next_due:%d %b %H:%M} UTC.")
    with st.form("pr_setup"):
        c1, c2 = st.columns(2)
        regions = c1.multiselect(
            "Regions", list(atlas.regions), format_func=lambda r: atlas.regions[r].name, key="pr_regions"
        )
        conditions = c2.multiselect(
            "Conditions", list(atlas.conditions), format_func=atlas.name_of, key="pr_conditions"
        )
        nerves = c1.multiselect("Nerves", list(atlas.nerves), format_func=atlas.name_of, key="pr_nerves")
        types = c2.multiselect("Question types", list(QUESTION_TYPES), format_func=type_label, key="pr_types")
        diffs = c1.multiselect(
            "Difficulty",
            [1, 2, 3],
            format_func=lambda d: {1: "easy", 2: "medium", 3: "hard"}[d],
            key="pr_diffs",
        )
        n = c2.number_input("Number of questions", min_value=1, max_value=100, value=10, step=1, key="pr_n")
        body = st.selectbox(
            "Body type",
            list(atlas.body_types),
            format_func=lambda b: atlas.body_types[b].name,
            index=list(atlas.body_types).index(ss["body_type"]),
        )
        go = st.form_submit_button("Start practice", type="primary", width="stretch")
    if go:
        ss["body_type"] = body
        f = Filters(tuple(regions), tuple(nerves), tuple(conditions), tuple(types), tuple(diffs))
        seed = int(time.time() * 1000) % (2**31)
        picked = pick_questions(atlas, list(questions.values()), f, int(n), random.Random(seed))
        if not picked:
            st.warning("No question matches those filters. Remove a filter and try again.")
        else:
            _start(picked, seed)
            st.rerun()
    st.stop()

session = ss["pr"]
ids: list[str] = session["ids"]
idx: int = session["index"]

# ---------------------------------------------------------------- end of session
if idx >= len(ids):
    title_slot.title("Practice")
    st.subheader("Session summary")
    results = session["results"]
    mean = model.session_score(results)
    st.metric("Score", f"{mean * 100:.0f}%", help="Mean credit over the session")
    rows = summary_rows(results)
    st.dataframe(
        [
            {
                "Question": r.prompt,
                "Type": type_label(r.type),
                "Score %": r.percent,
                "Distance (cm)": "—" if r.distance_cm is None else f"{r.distance_cm:.1f}",
                "Direction": r.direction,
                "Hints": r.hints or "—",
            }
            for r in rows
        ],
        width="stretch",
        hide_index=True,
    )
    if any(p for _, r in results for p in r.pins):
        st.markdown(f"**{ERROR_CHART_HEADING}**")
        st.plotly_chart(error_chart([r for _, r in results]), width="stretch")
    if st.button("Practise again", type="primary"):
        del ss["pr"]
        st.rerun()
    st.stop()

# ---------------------------------------------------------------- one question
qid = ids[idx]
q = questions[qid]
view_id = session["views"].get(qid)
view = get_view(view_id, ss["body_type"]) if view_id else None
if q.view and view is None:
    st.stop()

# The progress and "End session" share one row (a phone's width holds both).
top_row = st.container(horizontal=True, vertical_alignment="center", gap="small")
with top_row:
    st.progress(idx / len(ids), text=model.progress_text(idx, len(ids), q), width="stretch")
    if st.button("End session", key="pr_end", type="tertiary", width="content"):
        session["index"] = len(ids)
        st.rerun()
if q.vignette:
    st.info(q.vignette)
st.markdown(f"**{esc(q.prompt)}**", unsafe_allow_html=True)
if view is not None:
    st.caption(model.view_caption(atlas, view))

result: Result | None = ss.get("pr_result")
answered = result is not None
if ss.get("pr_draft") is None:
    ss["pr_draft"] = model.new_draft(q)
draft: model.Draft = ss["pr_draft"]
pb_key = f"pb_{ss['pr_seq']}"
# A tap arrives as the board's value before this run: add it before the board is drawn.
tap = take_click(pb_key)
if tap is not None and not answered:
    point = (float(tap["x"]), float(tap["y"]))
    if not (tap["nudge"] and model.move_last_pin(q, draft, point)):  # arrow keys move the last pin
        model.add_pin(q, draft, point)

targets_to_place = model.placing_choices(q, draft)
if targets_to_place and not answered:
    labels = dict(targets_to_place)
    chosen_part = st.radio(
        "Your taps place the pins of",
        list(labels),
        format_func=lambda i: labels[i],
        index=list(labels).index(draft.active) if draft.active in labels else 0,
        horizontal=True,
        key=f"pr_part_{ss['pr_seq']}",
    )
    model.select_part(q, draft, int(chosen_part))
caption = model.instructions(q, draft)
if caption and not answered:
    st.caption(caption)

offered = model.offered_hints(q, atlas, draft, answered) if view is not None else []
if offered and not answered:
    # One row that wraps, not columns: columns stack on a phone and push Submit below the fold.
    hint_row = st.container(horizontal=True, gap="small")
    for hint, enabled in offered:
        if hint_row.button(
            hint.button_text,
            key=f"pr_hint_{hint.id}_{ss['pr_seq']}",
            disabled=not enabled,
            width="content",
            help=f"{hint.label}: {hint.cost_text} of this question's credit",
        ):
            model.use_hint(q, atlas, draft, hint.id)
            st.rerun()

surface = model.board(q, view is not None, draft, answered)
if view is not None and surface.shown:
    shapes = question_shapes(q, view) + hint_shapes(draft.hints, q, view, atlas)
    if result is not None:
        shapes = shapes + reveal_shapes(q, result, view, atlas)
    pinboard(
        key=pb_key,
        image_url=image_url(view),
        width_px=view.width_px,
        height_px=view.height_px,
        pins_px=surface.pins,
        active=surface.active,
        shapes=shapes,
        hint=surface.hint,
        seq=ss["pr_seq"],
        px_per_cm=view.camera.px_per_cm,
    )
    if surface.active:
        with st.expander("Keyboard entry (image pixels)"):
            k1, k2, k3 = st.columns([1, 1, 1])
            x_px = k1.number_input(
                "x (px)", 0.0, float(view.width_px), float(view.width_px) / 2, key=f"kx_{ss['pr_seq']}"
            )
            y_px = k2.number_input(
                "y (px)", 0.0, float(view.height_px), float(view.height_px) / 2, key=f"ky_{ss['pr_seq']}"
            )
            if k3.button("Add pin", key=f"kadd_{ss['pr_seq']}"):
                model.add_pin(q, draft, (x_px, y_px))
                st.rerun()
            st.caption(
                f"The image is {view.width_px} × {view.height_px} px; x grows to the right, y downwards."
            )

# Choices (identify, territory-name, clinical, and the choice steps of a case), shown in a fresh
# shuffled order per attempt; the widgets hold display positions, mapped back to the options
# themselves (file indexes) before scoring, so the score never depends on where an option sat.
choice_answers: dict[int, tuple[int, ...]] = {}
if ss.get("pr_orders_for") != (ss["pr_seq"], qid):
    ss["pr_orders"] = practice_orders(q, random.Random())
    ss["pr_orders_for"] = (ss["pr_seq"], qid)
orders: dict[int, tuple[int, ...]] = ss["pr_orders"]


def _choice_widget(label: str, options: list[str], multi: bool, key: str) -> tuple[int, ...]:
    """Display positions picked (only the texts, in display order, reach the browser)."""
    if multi:
        picked = [
            i
            for i, text in enumerate(options)
            if st.checkbox(inert_label(text), key=f"{key}_{i}", disabled=answered)
        ]
        return tuple(picked)
    choice = st.radio(
        label,
        list(range(len(options))),
        format_func=lambda i: inert_label(options[i]),
        index=None,
        key=key,
        disabled=answered,
    )
    return () if choice is None else (int(choice),)


def _choices_block(
    label: str, choices: list[ChoiceModel], multi: bool, order_key: int, key: str, shown: Result | None
) -> tuple[int, ...]:
    """The options to pick from, or, once answered, the reveal in the same order."""
    order = orders[order_key]
    if shown is not None:
        show_revealed_options(revealed_options(choices, order, shown.chosen))
        return shown.chosen
    return to_file_indexes(_choice_widget(label, option_texts(choices, order), multi, key), order)


if model.asks_own_choices(q):
    choice_answers[OWN_CHOICES] = _choices_block(
        "Your answer", q.choices, q.multi_answer, OWN_CHOICES, f"ch_{ss['pr_seq']}", result
    )
    if q.multi_answer and not answered:
        st.caption("Select every correct answer.")
for line in model.part_lines(q, draft):
    st.markdown(esc(line.text), unsafe_allow_html=True)
    if not line.places_pins:
        step = q.steps[line.index]
        step_result = (
            result.steps[line.index] if result is not None and line.index < len(result.steps) else None
        )
        choice_answers[line.index] = _choices_block(
            step.prompt,
            step.choices,
            step.multi_answer,
            line.index,
            f"ch_{ss['pr_seq']}_{line.index}",
            step_result,
        )

# Buttons
if not answered:
    b1, b2, b3 = st.columns(3)
    if surface.max_pins > 0 and b1.button("Undo last pin", disabled=not surface.can_undo, width="stretch"):
        model.undo_pin(draft)
        st.rerun()
    if surface.max_pins > 1 and b2.button("Clear pins", disabled=not surface.can_clear, width="stretch"):
        model.clear_pins(draft)
        st.rerun()
    ready = model.can_submit(q, draft, choice_answers)
    if b3.button(
        "Submit answer", type="primary", disabled=not ready, width="stretch", key=f"submit_{ss['pr_seq']}"
    ):
        res = model.submit(q, draft, choice_answers, view, atlas)
        ss["pr_result"] = res
        session["results"].append((q.prompt, res))
        duration_ms = int((time.time() - ss.get("pr_t0", time.time())) * 1000)
        if learner_id is not None:
            from trainer.progress.learning import record_answer

            record_answer(
                get_store(),
                atlas,
                learner_id,
                q,
                res,
                view_id=view.view_id if view else None,
                body_type=ss["body_type"] if view else None,
                duration_ms=duration_ms,
                now=now_utc(),
            )
        else:
            ss.setdefault("anon_attempts", []).append(
                model.anonymous_attempt(q, view, res, duration_ms, now_utc())
            )
        st.rerun()
else:
    assert result is not None
    show = {"success": st.success, "warning": st.warning, "error": st.error}[model.tone(result)]
    show(model.headline(result))
    for s in result.safety:
        st.error(s, icon="⛔")
    near = model.nearest_note(result)
    if near:
        st.caption(near)
    if result.teaching:
        st.markdown(f"**Why:** {esc(result.teaching)}", unsafe_allow_html=True)
    refs = model.references_note(atlas, result)
    if refs:
        st.caption(refs)
    if st.button(model.next_label(idx, len(ids)), type="primary", key=f"next_{ss['pr_seq']}"):
        session["index"] = idx + 1
        _reset_question()
        st.rerun()
