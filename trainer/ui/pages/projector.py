"""The projector view of a live class (``/projector?session=…``): large type, no sidebar, no controls.

The host opens it on the projector's screen and controls the class from the host page in a
second tab or on a phone. Before the reveal this page draws only what the phones see (the
image with the question's own picture, the prompt, the options in the class's order); pins
and the answer arrive with the reveal. Nicknames are shown with ``st.text`` only.
"""

from __future__ import annotations

import streamlit as st

from trainer.errors import NotFoundError
from trainer.explorer.figures import image_url
from trainer.live import projector_page as model
from trainer.live import service as live
from trainer.live.figures import reveal_figure
from trainer.live.links import results_url
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import Phase, check_host_key
from trainer.scoring.reveal import question_shapes
from trainer.ui.auth import host_gate
from trainer.ui.common import esc, page_setup, require_atlas
from trainer.ui.components.pinboard import pinboard
from trainer.ui.data import get_questions
from trainer.ui.live_common import configured_base_url, configured_host_key, plain_md
from trainer.ui.state import get_store, now_utc

PROJECTOR_CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {{
  display: none !important;
}}
.block-container {{ padding-top: 1rem; max-width: 100%; }}
.proj-prompt {{ font-size: {model.PROMPT_PX}px; font-weight: 700; line-height: 1.2; }}
.proj-count {{ font-size: {model.COUNT_PX}px; font-weight: 700; }}
.proj-code {{ font-size: {model.CODE_PX}px; font-weight: 800; letter-spacing: 0.12em; font-family: monospace; }}
.proj-line {{ font-size: 32px; }}
[data-testid="stText"] {{ font-size: 32px; line-height: 1.35; }}
</style>
"""

page_setup()
st.markdown(PROJECTOR_CSS, unsafe_allow_html=True)
ss = st.session_state

host_key = configured_host_key()
if not host_key:
    st.error("Hosting is switched off: no host key is configured on this server.")
    st.stop()
host_gate(
    host_key,
    form_key="proj_login",
    input_key="proj_key_input",
    go_key="proj_login_go",
    button="Open the projector",
)
atlas = require_atlas()
store = get_store()
questions = get_questions(atlas)
session_id = st.query_params.get("session", "")
try:
    session = live.tick(store, session_id, now_utc())
except NotFoundError:
    st.error("No class with that id. Open the projector from the host page (“Open the projector view”).")
    st.stop()
if not check_host_key(host_key, session.host_key_hash):
    st.error("This class was created with a different host key.")
    st.stop()

phase = session.state
idx = session.current_index
ss["proj_snap"] = model.snapshot(session)


def _big(text: str, cls: str) -> None:
    st.markdown(f"<div class='{cls}'>{esc(text)}</div>", unsafe_allow_html=True)


@st.fragment(run_every=1)
def _watch() -> None:
    """One small query a second: the counts, and a full redraw when the class moved on."""
    now = now_utc()
    s, answered, players = store.poll_session(session.id)
    if live.effective_phase(s, now) is not s.state:
        live.tick(store, s.id, now)
        st.rerun()
    if model.snapshot(s) != ss.get("proj_snap"):
        st.rerun()
    if s.state is Phase.LOBBY:
        _big(f"{players} joined", "proj-count")
        names = [p.nickname for p in store.list_players(s.id)][:60]
        if names:
            st.text("   ".join(names))  # plain text: never markdown or HTML
        return
    if s.state in (Phase.OPEN, Phase.CLOSED):
        c = model.counts(s, answered, players, now)
        c1, c2 = st.columns(2)
        with c1:
            _big(c.clock, "proj-count")
        with c2:
            _big(c.answered, "proj-line")


st.markdown(f"### {plain_md(session.title)}")

if phase is Phase.LOBBY:
    base_url = configured_base_url() or (
        live.base_url_from_page_url(st.context.url) if st.context.url else ""
    )
    url = live.join_url(base_url or "http://<this-computer>:8501", session.join_code)
    left, right = st.columns([2, 1])
    with left:
        _big("Join at", "proj-line")
        st.text(url)
        _big(session.join_code, "proj-code")
        _watch()
    right.image(live.qr_png(url), caption="Scan to join", width=360)
    st.stop()

if phase is Phase.FINISHED:
    rows = live.leaderboard(store, session)
    left, right = st.columns([2, 1])
    with left:
        _big("Final results", "proj-prompt")
        for line in model.podium(rows) + model.leaderboard_lines(rows)[3:]:
            st.text(line)  # nicknames: plain text only
    # Each learner scans this on the phone they played on and sees only their own answers.
    base_url = configured_base_url() or (
        live.base_url_from_page_url(st.context.url) if st.context.url else ""
    )
    right.image(
        live.qr_png(results_url(base_url or "http://<this-computer>:8501", session.join_code)),
        caption="Scan for your results",
        width=300,
    )
    st.stop()

q = model.available(session, questions)
st.caption(model.question_heading(session))
if q is None:
    st.warning("This question is not available on this server.")
    _watch()
    st.stop()
view = live.question_view(atlas, session, idx)
_, hi = pins_needed(atlas, q)
order = live.choice_order(session, idx, len(q.choices)) if q.choices and hi == 0 else ()
if q.vignette:
    _big(q.vignette, "proj-line")
_big(q.prompt, "proj-prompt")

if phase in (Phase.OPEN, Phase.CLOSED):
    _watch()
    left, right = st.columns([3, 2]) if view is not None else (st.container(), st.container())
    if view is not None:
        with left:
            pinboard(
                key=f"proj_pb_{idx}",
                image_url=image_url(view),
                width_px=view.width_px,
                height_px=view.height_px,
                pins_px=[],
                active=False,
                shapes=question_shapes(q, view),
                hint="",
                seq=idx,
                max_width_px=model.IMAGE_HEIGHT_PX * view.width_px // max(view.height_px, 1),
            )
    with right:
        for line in model.numbered_options(q, order) if order else []:
            _big(line, "proj-line")
    st.stop()

# ---------------------------------------------------------------- revealed
_watch()
stats = live.reveal_stats(store, atlas, questions, session, idx)
_big(stats.summary, "proj-line")
bars = model.choice_bars(q, order, stats.choice_counts)
if bars:
    st.plotly_chart(
        model.choice_bar_figure(bars),
        key="proj_bars",
        width="stretch",
        theme=None,  # keep the figure's large type (the app theme shrinks axis labels)
        config={"displayModeBar": False},
    )
elif view is not None and model.shows_pins(phase):
    st.plotly_chart(
        reveal_figure(view, atlas, q, stats, height_px=model.IMAGE_HEIGHT_PX),
        key="proj_reveal",
        width="stretch",
        config={"displayModeBar": False},
    )
st.markdown("---")
_big("Leaderboard", "proj-prompt")
for line in model.leaderboard_lines(live.leaderboard(store, session)):
    st.text(line)  # nicknames: plain text only
