"""A learner's read-only results of a finished class (``/results``): their own answers and the reveals.

Two ways in, both ending at one player token (:mod:`trainer.live.results_page`):

* ``/results?token=…``: the personal link the learner's phone offers at the end of the class;
* ``/results?code=…``: the link (and QR code) the host shares; the page asks this phone for the
  token it kept when it joined that class (:mod:`trainer.ui.components.class_memory`).

Nothing here reads another player's answer; nothing is shown before the class is finished.
Author text is escaped; the nickname is shown with ``st.text``.
"""

from __future__ import annotations

import streamlit as st

from trainer.explorer.figures import image_url
from trainer.live import join_page
from trainer.live import results_page as model
from trainer.ui.common import esc, page_setup, require_atlas
from trainer.ui.components.class_memory import class_memory
from trainer.ui.components.pinboard import pinboard
from trainer.ui.data import get_questions
from trainer.ui.live_common import plain_md
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import get_store

page_setup()
st.markdown(join_page.NO_SIDEBAR_CSS, unsafe_allow_html=True)
ss = st.session_state
st.title("Your class results")

token = st.query_params.get("token", "")
code = model.link_code(st.query_params.get("code", ""))
if not token and code:
    # The shared link: which player did this phone play as? (The answer arrives in a rerun.)
    asked = f"results_token_{code}"
    kept = class_memory("results_memory", model.device_key(code), ask=True)
    if kept is not None:
        ss[asked] = kept
    if asked not in ss:
        st.caption("Looking for your player on this phone…")
        st.stop()
    token = ss[asked]
elif not token and st.query_params.get("code"):
    st.error("This results link has a class code that is not valid. Ask the host for the link again.")
    st.stop()

atlas = require_atlas()
store = get_store()
questions = get_questions(atlas)
page = model.learner_results(store, atlas, questions, token, code)
if page.error:
    st.info(page.error) if page.error == model.NOT_FINISHED else st.warning(page.error)
    st.stop()
assert page.session is not None and page.player is not None
st.markdown(f"### {plain_md(page.session.title)}")
st.text(f"{page.player.nickname} · class {page.session.join_code}")
if page.standing:
    st.metric("Your final result", page.standing)
if not page.questions:
    st.info("No question was shown in this class.")

for r in page.questions:
    st.markdown("---")
    st.markdown(f"**{r.number}. {esc(r.prompt)}**", unsafe_allow_html=True)
    if r.vignette:
        st.caption(esc(r.vignette), unsafe_allow_html=True)
    if r.credit is None:
        st.info("You did not answer this one.")
    else:
        tone = {"success": st.success, "warning": st.warning, "error": st.error}[
            join_page.reveal_tone(r.credit)
        ]
        tone(r.score_line)
    st.markdown(f"**Answer:** {esc(r.right_answer)}", unsafe_allow_html=True)
    if r.feedback:
        st.caption(esc(r.feedback), unsafe_allow_html=True)
    for s in r.safety:
        st.error(plain_md(s), icon="⛔")
    if r.options:
        show_revealed_options(r.options)
    if r.view is not None:
        pinboard(
            key=f"results_pb_{r.number}",
            image_url=image_url(r.view),
            width_px=r.view.width_px,
            height_px=r.view.height_px,
            pins_px=list(r.pins_px),
            active=False,
            shapes=list(r.shapes),
            hint="",
            seq=r.number,
            max_width_px=600,
        )
    if r.explanation:
        st.markdown(f"**Why:** {esc(r.explanation)}", unsafe_allow_html=True)
    if r.references:
        st.caption("Reference: " + esc("; ".join(r.references)), unsafe_allow_html=True)
