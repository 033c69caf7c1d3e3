"""Practice: answer by tapping the body; scored in cm on the server; reveal after the answer."""

from __future__ import annotations

import random
import time

import streamlit as st

from trainer.explorer.figures import image_url
from trainer.practice.summary import error_chart, summary_rows
from trainer.quiz.choices import OWN_CHOICES, option_texts, practice_orders, revealed_options, to_file_indexes
from trainer.quiz.models import QUESTION_TYPES, ChoiceModel
from trainer.quiz.session import Filters, choose_side, pick_questions, pins_needed
from trainer.safetext import inert_label
from trainer.scoring.reveal import question_shapes, reveal_shapes
from trainer.scoring.score import Answer, Result, extra_pin_policy_text, score, trace_instructions
from trainer.ui.common import esc, get_atlas, get_view, page_setup
from trainer.ui.components.pinboard import pinboard, place_pin, take_click
from trainer.ui.data import get_questions
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import get_store, now_utc, profile_sidebar

page_setup()
st.title("Practice")
atlas = get_atlas()
if atlas is None:
    st.stop()
questions = get_questions(atlas)
learner_id = profile_sidebar()
ss = st.session_state
ss.setdefault("body_type", atlas.default_body_type)
TYPE_LABELS = {
    "locate": "Locate",
    "multi_site": "Multi-site",
    "trace": "Trace",
    "identify": "Identify",
    "territory": "Territory",
    "clinical": "Clinical",
    "case": "Case",
}

if not questions:
    st.info("No questions yet: add a bank under quizzes/ (see docs/quiz-format.md).")
    st.stop()


def _start(ids: list[str], seed: int) -> None:
    rng = random.Random(seed)
    ss["pr"] = {
        "ids": ids,
        "views": {i: choose_side(atlas, questions[i], rng) for i in ids},
        "index": 0,
        "results": [],
        "started": time.time(),
    }
    _reset_question()


def _reset_question() -> None:
    ss["pr_pins"] = []
    ss["pr_result"] = None
    ss["pr_seq"] = ss.get("pr_seq", 0) + 1
    ss["pr_t0"] = time.time()


def _add_pin(pins: list[tuple[float, float]], pt: tuple[float, float], max_pins: int) -> None:
    """A single-pin question moves its pin; multi-pin questions add up to their maximum."""
    if max_pins == 1:
        pins[:] = [pt]
    elif len(pins) < max_pins:
        pins.append(pt)


# ---------------------------------------------------------------- session setup
# A link such as ?questions=id1,id2&side=left starts a session directly (shared links,
# "practise these" buttons on the progress page).
linked = [x for x in st.query_params.get("questions", "").split(",") if x in questions]
if linked and ss.get("pr_linked") != st.query_params.get("questions"):
    ss["pr_linked"] = st.query_params.get("questions")
    _start(linked, int(time.time() * 1000) % (2**31))
    want_side = st.query_params.get("side")
    if want_side in ("right", "left"):
        for qid in linked:
            base = questions[qid].view
            match = next(
                (v.id for v in atlas.views.values() if v.base_id == base and v.side == want_side), None
            )
            if match:
                ss["pr"]["views"][qid] = match
    if st.query_params.get("body") in atlas.body_types:
        ss["body_type"] = st.query_params["body"]

if "pr" not in ss:
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
        types = c2.multiselect(
            "Question types", list(QUESTION_TYPES), format_func=lambda t: TYPE_LABELS[t], key="pr_types"
        )
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
        ids = pick_questions(atlas, list(questions.values()), f, int(n), random.Random(seed))
        if not ids:
            st.warning("No question matches those filters. Remove a filter and try again.")
        else:
            _start(ids, seed)
            st.rerun()
    st.stop()

session = ss["pr"]
ids: list[str] = session["ids"]
idx: int = session["index"]

# ---------------------------------------------------------------- end of session
if idx >= len(ids):
    st.subheader("Session summary")
    results = session["results"]
    mean = sum(r.credit for _, r in results) / max(1, len(results))
    st.metric("Score", f"{mean * 100:.0f}%", help="Mean credit over the session")
    rows = summary_rows(results)
    st.dataframe(
        [
            {
                "Question": r.prompt,
                "Type": TYPE_LABELS.get(r.type, r.type),
                "Score %": r.percent,
                "Distance (cm)": "—" if r.distance_cm is None else f"{r.distance_cm:.1f}",
                "Direction": r.direction,
            }
            for r in rows
        ],
        width="stretch",
        hide_index=True,
    )
    if any(p for _, r in results for p in r.pins):
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

st.progress((idx) / len(ids), text=f"Question {idx + 1} of {len(ids)} · {TYPE_LABELS[q.type]}")
if st.button("End session", key="pr_end"):
    session["index"] = len(ids)
    st.rerun()
if q.vignette:
    st.info(q.vignette)
st.markdown(f"**{esc(q.prompt)}**", unsafe_allow_html=True)
if view is not None:
    side = atlas.views[view.view_id].side
    st.caption(f"{atlas.regions[view.region].name} · {side} side · {atlas.body_types[view.body_type].name}")

result = ss.get("pr_result")
answered = result is not None
placing_step = next((i for i, s in enumerate(q.steps) if s.type in ("locate", "multi_site")), None)
lo, hi = pins_needed(atlas, q, placing_step) if q.type == "case" else pins_needed(atlas, q)
pins: list[tuple[float, float]] = ss.setdefault("pr_pins", [])

if q.type == "multi_site" or (
    q.type == "case" and placing_step is not None and q.steps[placing_step].type == "multi_site"
):
    st.caption(f"Place {lo} pins. " + extra_pin_policy_text(q.extra_pins))
elif q.type == "trace":
    st.caption(trace_instructions(q) + " Then submit.")

if view is not None and (hi > 0 or q.type in ("identify", "territory")):
    shapes = question_shapes(q, view)
    if answered:
        targets = q.steps[placing_step].targets if q.type == "case" and placing_step is not None else None
        shapes = shapes + reveal_shapes(q, result, view, atlas, targets=targets)
    hint = (
        ""
        if answered or hi == 0
        else ("Tap where you would inject." if hi == 1 else f"Tap to add pins ({len(pins)} placed).")
    )
    pb_key = f"pb_{ss['pr_seq']}"

    def _on_click(pb_key: str = pb_key, hi: int = hi) -> None:
        click = take_click(pb_key)
        if click is not None and ss.get("pr_result") is None:
            place_pin(ss["pr_pins"], click, hi)

    click = pinboard(
        key=pb_key,
        image_url=image_url(view),
        width_px=view.width_px,
        height_px=view.height_px,
        pins_px=pins,
        active=(not answered and hi > 0),
        shapes=shapes,
        hint=hint,
        seq=ss["pr_seq"],
        on_click=_on_click,
        px_per_cm=view.camera.px_per_cm,
    )
    if click is not None and not answered and hi > 0:
        # Only reached when the callback did not run (e.g. state injected by a test).
        place_pin(pins, click, hi)
        st.rerun()
    if hi > 0 and not answered:
        with st.expander("Keyboard entry (image pixels)"):
            k1, k2, k3 = st.columns([1, 1, 1])
            x_px = k1.number_input(
                "x (px)", 0.0, float(view.width_px), float(view.width_px) / 2, key=f"kx_{ss['pr_seq']}"
            )
            y_px = k2.number_input(
                "y (px)", 0.0, float(view.height_px), float(view.height_px) / 2, key=f"ky_{ss['pr_seq']}"
            )
            if k3.button("Add pin", key=f"kadd_{ss['pr_seq']}"):
                _add_pin(pins, (x_px, y_px), hi)
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


if q.type in ("identify", "clinical") or (q.type == "territory" and q.mode == "name"):
    choice_answers[-1] = _choices_block(
        "Your answer", q.choices, q.multi_answer, OWN_CHOICES, f"ch_{ss['pr_seq']}", result
    )
    if q.multi_answer and not answered:
        st.caption("Select every correct answer.")
elif q.type == "case":
    for i, step in enumerate(q.steps):
        if step.type in ("identify", "clinical"):
            st.markdown(f"Step {i + 1}: {esc(step.prompt)}", unsafe_allow_html=True)
            step_result = result.steps[i] if result is not None and i < len(result.steps) else None
            choice_answers[i] = _choices_block(
                step.prompt, step.choices, step.multi_answer, i, f"ch_{ss['pr_seq']}_{i}", step_result
            )
        else:
            st.markdown(f"Step {i + 1}: {esc(step.prompt)} (on the image)", unsafe_allow_html=True)

# Buttons
if not answered:
    b1, b2, b3 = st.columns(3)
    if hi > 0 and b1.button("Undo last pin", disabled=not pins, width="stretch"):
        pins.pop()
        st.rerun()
    if hi > 1 and b2.button("Clear pins", disabled=not pins, width="stretch"):
        pins.clear()
        st.rerun()
    ready = (len(pins) >= lo) if hi > 0 else True
    if q.type in ("identify", "clinical") or (q.type == "territory" and q.mode == "name"):
        ready = bool(choice_answers.get(-1))
    if b3.button(
        "Submit answer", type="primary", disabled=not ready, width="stretch", key=f"submit_{ss['pr_seq']}"
    ):
        if q.type == "case":
            steps = tuple(
                Answer(pins_px=tuple(pins))
                if i == placing_step
                else Answer(choices=choice_answers.get(i, ()))
                for i in range(len(q.steps))
            )
            answer = Answer(steps=steps)
        else:
            answer = Answer(pins_px=tuple(pins), choices=choice_answers.get(-1, ()))
        res = score(q, answer, view, atlas)
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
            from trainer.progress.learning import attempt_fields

            ss.setdefault("anon_attempts", []).append(
                {
                    "question_id": q.id,
                    "view_id": view.view_id if view else None,
                    "credit": res.credit,
                    "duration_ms": duration_ms,
                    "created_at": now_utc(),
                    **attempt_fields(res),
                }
            )
        st.rerun()
else:
    assert result is not None
    tone = st.success if result.credit >= 0.999 else (st.warning if result.credit > 0 else st.error)
    tone(f"{result.percent}% — {result.feedback}")
    for s in result.safety:
        st.error(s, icon="⛔")
    for pr in result.pins:
        if pr.nearest_name and pr.nearest_cm is not None and pr.on_body:
            st.caption(f"Nearest structure to your pin: {pr.nearest_name} ({pr.nearest_cm:.1f} cm).")
            break
    if result.teaching:
        st.markdown(f"**Why:** {esc(result.teaching)}", unsafe_allow_html=True)
    refs = [atlas.references[r].citation for r in result.references if r in atlas.references]
    if refs:
        st.caption("Reference: " + " · ".join(refs))
    if st.button(
        "Next question" if idx + 1 < len(ids) else "See summary", type="primary", key=f"next_{ss['pr_seq']}"
    ):
        session["index"] = idx + 1
        _reset_question()
        st.rerun()
