"""Learn: guided lessons on the body, then check yourself.

Layout only; the decisions are in :mod:`trainer.learn.page`. The lesson list needs no atlas
(only the lesson files), so the first page a visitor sees appears before the atlas is loaded.
"""

from __future__ import annotations

import random
import time

import streamlit as st

from trainer.errors import TrainerError
from trainer.learn import page as model
from trainer.learn.lessons import lessons_dir, load_lessons
from trainer.learn.models import LessonFile
from trainer.quiz.choices import OWN_CHOICES, option_texts, practice_orders, revealed_options, to_file_indexes
from trainer.quiz.models import QuestionModel
from trainer.safetext import inert_label
from trainer.settings import location_key, quiz_dir
from trainer.store.lessons import LessonProgress, advance, lesson_progress, save_lesson_step
from trainer.ui.common import esc, get_atlas, get_view, page_setup, recent
from trainer.ui.data import get_questions
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import current_profile, get_store, now_utc

EVIDENCE_PAGE = "trainer/ui/pages/evidence.py"
PRACTICE_PAGE = "trainer/ui/pages/practice.py"

page_setup()
# Inside a lesson the title gives way to the lesson's own, so figure and text fit 1366×800.
st.markdown("<style>.block-container { padding-top: 2.2rem; }</style>", unsafe_allow_html=True)
profile = current_profile()
ss = st.session_state


def _lessons_stamp() -> str:
    folder = lessons_dir(quiz_dir())
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return f"{folder}|" + ",".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in files)


@st.cache_resource(show_spinner=False, max_entries=8)
def _lessons(stamp: str) -> list[LessonFile]:
    return load_lessons(lessons_dir(quiz_dir()))


lessons = _lessons(recent(f"lessons:{location_key()}", _lessons_stamp, 2.0))
by_id = {lf.lesson.id: lf for lf in lessons}


def _progress() -> dict[str, LessonProgress]:
    if profile is None:
        return dict(ss.get("ln_anon_progress", {}))
    try:
        return lesson_progress(get_store(), profile.learner.id, key_hash=profile.key_hash)
    except TrainerError:
        return {}


def _save(lesson_id: str, index: int) -> None:
    lf = by_id[lesson_id]
    total = model.page_count(lf)
    if profile is None:
        kept = dict(ss.get("ln_anon_progress", {}))
        kept[lesson_id] = advance(
            kept.get(lesson_id), lesson_id, step_index=index, steps_total=total, now=now_utc()
        )
        ss["ln_anon_progress"] = kept
        return
    try:
        save_lesson_step(
            get_store(),
            profile.learner.id,
            lesson_id,
            step_index=index,
            steps_total=total,
            now=now_utc(),
            key_hash=profile.key_hash,
        )
    except TrainerError as exc:
        ss["ln_flash"] = str(exc)


def _open(lesson_id: str) -> None:
    ss["ln_lesson"] = lesson_id
    ss["ln_page"] = model.reopen_page(by_id[lesson_id], _progress().get(lesson_id))
    _save(lesson_id, ss["ln_page"])


def _close() -> None:
    ss["ln_lesson"] = None


def _go(delta: int) -> None:
    lesson_id = ss.get("ln_lesson")
    if lesson_id not in by_id:
        return
    ss["ln_page"] = model.clamp_page(ss.get("ln_page", 0) + delta, by_id[lesson_id])
    _save(lesson_id, ss["ln_page"])


# ?lesson=<id> opens a lesson directly (links from other pages), once.
wanted = st.query_params.get("lesson")
if wanted in by_id and ss.get("ln_linked") != wanted:
    ss["ln_linked"] = wanted
    _open(wanted)

if ss.get("ln_flash"):
    st.error(ss.pop("ln_flash"))

if not lessons:
    st.title("Learn")
    st.info(model.NO_LESSONS)
    st.stop()

# ---------------------------------------------------------------- the lesson list
current = ss.get("ln_lesson")
if current not in by_id:
    st.title("Learn")
    st.caption(
        "Short guided lessons on the body: palpate the landmarks, follow the nerve, see where it "
        "pierces the fascia and the injection sites, see what to avoid, then check yourself."
    )
    if profile is None:
        st.caption(model.NO_PROFILE)
    st.page_link(
        EVIDENCE_PAGE, label="Evidence map: what the dextrose trials found", icon=":material/table_chart:"
    )
    progress = _progress()
    for label, entries in model.lesson_groups(lessons, progress):
        st.subheader(label)
        for e in entries:
            with st.container(border=True):
                c1, c2 = st.columns([5, 1], vertical_alignment="center")
                c1.markdown(f"**{esc(e.title)}** · *{esc(e.status)}*", unsafe_allow_html=True)
                c1.caption(esc(e.summary), unsafe_allow_html=True)
                verb = (
                    "Continue"
                    if e.status.startswith("step")
                    else ("Review" if e.status == "done" else "Start")
                )
                c2.button(
                    verb,
                    key=f"ln_open_{e.id}",
                    on_click=_open,
                    args=(e.id,),
                    width="stretch",
                )
    st.stop()

# ---------------------------------------------------------------- one lesson
lesson = by_id[current]
index = model.clamp_page(ss.get("ln_page", 0), lesson)
nav = model.nav(lesson, index)
t1, t2 = st.columns([4, 1], vertical_alignment="center")
t1.subheader(lesson.lesson.title)
t2.button("← All lessons", key="ln_to_list", on_click=_close, width="stretch")
st.progress(nav.progress_fraction, text=nav.progress_text)
b1, b2 = st.columns(2)
b1.button("Back", key="ln_back", on_click=_go, args=(-1,), disabled=not nav.back_enabled, width="stretch")
b2.button(
    nav.next_label,
    key="ln_next",
    on_click=_go,
    args=(1,),
    disabled=not nav.next_enabled,
    width="stretch",
    type="primary",
)

atlas = get_atlas()
if atlas is None:
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=64)
def _figure(_view: object, _atlas: object, key: tuple[object, ...]) -> object:
    from trainer.learn.figures import lesson_figure

    return lesson_figure(_view, _atlas, key[2], height_px=440)  # type: ignore[arg-type]


if not model.is_check_page(lesson, index):
    step = lesson.steps[index]
    shown = model.step_page(atlas, step)
    ss.setdefault("ln_side", "right")
    view_id = model.view_for(atlas, lesson, ss["ln_side"])
    with_figure = view_id is not None and not shown.focus.empty
    fig_col, text_col = st.columns([3, 2]) if with_figure else (None, st.container())
    if fig_col is not None and view_id is not None:
        with fig_col:
            st.segmented_control("Side", ["right", "left"], key="ln_side", format_func=str.capitalize)
            view = get_view(view_id, atlas.default_body_type)
            if view is not None:
                fig = _figure(view, atlas, (view.key, id(atlas), shown.focus))
                st.plotly_chart(
                    fig,
                    key=f"ln_fig_{current}_{index}_{view.key}",
                    width="stretch",
                    config={"displaylogo": False, "scrollZoom": False, "displayModeBar": False},
                )
                st.caption("Hover (or tap) a marked point for its name and how to find it.")
    with text_col:
        st.markdown(f"#### {esc(shown.heading)}", unsafe_allow_html=True)
        st.caption(esc(shown.kind_label), unsafe_allow_html=True)
        st.markdown(esc(shown.text), unsafe_allow_html=True)
        for point in shown.points:
            st.markdown(f"- {esc(point)}", unsafe_allow_html=True)
        if shown.landmarks:
            st.markdown("**How to find them**")
            for lm in shown.landmarks:
                st.markdown(f"- **{esc(lm.name)}**: {esc(lm.how_to_find)}", unsafe_allow_html=True)
        if shown.shown:
            st.markdown("**On the figure**")
            for line in shown.shown:
                st.markdown(f"- {esc(line)}", unsafe_allow_html=True)
        if shown.references:
            st.caption("References: " + esc(" · ".join(shown.references)), unsafe_allow_html=True)
    st.stop()

# ---------------------------------------------------------------- check yourself
st.markdown("#### Check yourself")
questions = get_questions(atlas)
asked = model.check_questions(lesson, questions)
results = ss.setdefault("ln_results", {}).setdefault(current, {})
orders = ss.setdefault("ln_orders", {})
if not asked:
    st.info("This lesson has no questions to answer here.")


def _answer(q: QuestionModel, order: tuple[int, ...]) -> None:
    """Score the picked options like Practice and keep the attempt like a practice attempt."""
    key = f"ln_q_{current}_{q.id}"
    if q.multi_answer:
        shown_positions = tuple(i for i in range(len(order)) if ss.get(f"{key}_{i}"))
    else:
        picked = ss.get(key)
        shown_positions = () if picked is None else (int(picked),)
    if not shown_positions:
        return
    result = model.score_check(atlas, q, to_file_indexes(shown_positions, order))
    results[q.id] = result
    if profile is not None:
        from trainer.progress.learning import record_answer

        try:
            record_answer(
                get_store(),
                atlas,
                profile.learner.id,
                q,
                result,
                view_id=None,
                body_type=None,
                duration_ms=None,
                now=now_utc(),
            )
        except TrainerError as exc:
            ss["ln_flash"] = str(exc)
    else:
        from trainer.progress.learning import attempt_fields

        ss.setdefault("anon_attempts", []).append(
            {
                "question_id": q.id,
                "view_id": None,
                "credit": result.credit,
                "duration_ms": None,
                "created_at": now_utc(),
                **attempt_fields(result),
            }
        )


for n, q in enumerate(asked, 1):
    order_key = f"{current}:{q.id}"
    if order_key not in orders:
        orders[order_key] = practice_orders(q, random.Random(time.time_ns()))[OWN_CHOICES]
    order: tuple[int, ...] = orders[order_key]
    with st.container(border=True):
        st.markdown(f"**{n}. {esc(q.prompt)}**", unsafe_allow_html=True)
        done = results.get(q.id)
        if done is not None:
            tone = st.success if done.credit >= 0.999 else (st.warning if done.credit > 0 else st.error)
            tone(f"{done.percent}% — {done.feedback}")
            show_revealed_options(revealed_options(q.choices, order, done.chosen))
            if q.explanation:
                st.markdown(f"**Why:** {esc(q.explanation)}", unsafe_allow_html=True)
            continue
        key = f"ln_q_{current}_{q.id}"
        texts = option_texts(q.choices, order)
        if q.multi_answer:
            st.caption("Select every correct answer.")
            for i, text in enumerate(texts):
                st.checkbox(inert_label(text), key=f"{key}_{i}")
        else:
            st.radio(
                "Your answer",
                list(range(len(texts))),
                format_func=lambda i, texts=texts: inert_label(texts[i]),
                index=None,
                key=key,
                label_visibility="collapsed",
            )
        st.button("Check answer", key=f"ln_submit_{current}_{q.id}", on_click=_answer, args=(q, order))

summary = model.check_summary(results, asked)
if summary:
    st.success(summary)
params = model.practice_params(lesson, questions)
if params:
    st.page_link(
        PRACTICE_PAGE,
        label="Practise on the body: place the sites",
        icon=":material/my_location:",
        query_params=params,
    )
if lesson.lesson.kind == "method":
    st.page_link(EVIDENCE_PAGE, label="Evidence map: what the trials found", icon=":material/table_chart:")
st.button("Back to all lessons", key="ln_done", on_click=_close)
