"""The host page's view of a finished class (at the end, or reopened from the history): the podium,
the leaderboard, the analytics, each question with every answer, the CSV, the learners' results
link and "Run it again". Drawn from :mod:`trainer.live.class_review`; the host page has already
checked the host key and that the class was made with it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import streamlit as st

from trainer.atlas import Atlas
from trainer.errors import RuleError
from trainer.live import class_review as review
from trainer.live import host_page as model
from trainer.live import service as live
from trainer.live.figures import reveal_figure
from trainer.live.links import results_url
from trainer.live.projector_page import choice_bar_figure
from trainer.quiz.models import QuestionModel
from trainer.store import LiveSession, Store
from trainer.ui.common import esc
from trainer.ui.live_common import plain_md
from trainer.ui.state import now_utc


def show_finished(
    store: Store,
    atlas: Atlas,
    all_questions: Mapping[str, QuestionModel],
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    host_key: str,
    base_url: str,
    on_rerun: Callable[[LiveSession], None],
) -> None:
    """Everything about a finished class, for its host."""
    ss = st.session_state
    data = review.review_class(store, atlas, all_questions, session)
    st.subheader("Final results")
    medals = ["🥇", "🥈", "🥉"]
    for col, row, medal in zip(st.columns(3), data.board[:3], medals, strict=False):
        col.metric(f"{medal} rank {row.rank}", f"{row.points} pts")
        col.text(row.name)
    if data.board:
        st.dataframe(model.board_rows(data.board), hide_index=True, width="stretch", key="host_board")
    else:
        st.info("Nobody joined this class.")

    link = results_url(base_url or "http://<this-computer>:8501", session.join_code)
    st.subheader("Share the results with the class")
    c1, c2 = st.columns([2, 1])
    c1.text(link)
    c1.caption(
        "Each learner who opens this link on the phone they played on sees only their own answers "
        "and the reveals (their phone remembers them); nobody sees anyone else's answers."
    )
    c2.image(live.qr_png(link), caption="Scan for your results", width=200)

    st.download_button(
        "Download every answer (CSV)",
        live.answers_csv(store, session, all_questions),
        file_name=f"class-{session.join_code}.csv",
        mime="text/csv",
        key="host_csv",
    )

    def _rerun() -> None:
        try:
            new = model.rerun_class(store, atlas, questions, session, host_key, now_utc(), random.Random())
        except RuleError as exc:  # a question left the banks since: said plainly
            ss["host_msg"] = str(exc)
        else:
            on_rerun(new)

    st.button("Run it again with a new group", on_click=_rerun, key="host_rerun", type="primary")

    st.subheader("Per-question analytics")
    st.dataframe(
        live.question_analytics(store, atlas, all_questions, session), hide_index=True, width="stretch"
    )
    st.subheader("Questions and answers")
    if not data.questions:
        st.info("No question was shown in this class.")
    for r in data.questions:
        _question(atlas, all_questions, session, r)


def _question(
    atlas: Atlas, questions: Mapping[str, QuestionModel], session: LiveSession, r: review.QuestionReview
) -> None:
    with st.expander(f"{r.number}. {plain_md(r.prompt)}", expanded=False):
        st.markdown(f"**Answer:** {esc(r.right_answer)}", unsafe_allow_html=True)
        numbers = review.headline(r)
        for col, (label, value) in zip(st.columns(len(numbers)), numbers, strict=False):
            col.metric(label, value)
        q = questions.get(r.question_id)
        if r.bars:
            st.plotly_chart(
                choice_bar_figure(r.bars, height_px=60 + 50 * len(r.bars)),
                key=f"host_review_bars_{r.number}",
                width="stretch",
                theme=None,
                config={"displayModeBar": False},
            )
        elif r.pins and q is not None:
            st.caption(review.pin_summary(r))
            view = live.question_view(atlas, session, r.number - 1)
            if view is not None:
                st.plotly_chart(
                    reveal_figure(view, atlas, q, r.stats, height_px=420),
                    key=f"host_review_pins_{r.number}",
                    width="stretch",
                    config={"displayModeBar": False},
                )
        if r.explanation:
            st.markdown(f"**Why:** {esc(r.explanation)}", unsafe_allow_html=True)
        st.dataframe(
            review.answer_rows(r), hide_index=True, width="stretch", key=f"host_review_table_{r.number}"
        )
