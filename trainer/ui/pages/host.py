"""Host a live class: setup, lobby, questions with a live heatmap, reveal, leaderboard, results.

All class state is read from the database on every run (the session id is in the URL as
``?session=``), so a reload, a second host tab or a restarted server resumes the class.
Widget keys are stable and listed in docs/live-class.md (the load-test tool drives them).
"""

from __future__ import annotations

import random

import streamlit as st

from trainer.atlas.rendered import RenderedView
from trainer.errors import NotFoundError, RuleError
from trainer.explorer.figures import image_url
from trainer.live import host_page as model
from trainer.live import service as live
from trainer.live.class_review import history_label
from trainer.live.figures import heatmap_figure, reveal_figure
from trainer.quiz.choices import option_texts
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import (
    DEFAULT_MAX_PLAYERS,
    MAX_PLAYERS_LIMIT,
    NICKNAME_MAX_CHARS,
    LiveSettings,
    Phase,
    check_host_key,
    is_last_question,
)
from trainer.safetext import inert_label
from trainer.scoring.reveal import question_shapes, shows_picture
from trainer.scoring.score import count_noun
from trainer.store import LiveSession
from trainer.ui.auth import host_gate
from trainer.ui.common import esc, page_setup, require_atlas
from trainer.ui.components.fullscreen import fullscreen_button, is_fullscreen
from trainer.ui.components.pinboard import pinboard
from trainer.ui.data import get_questions
from trainer.ui.finished_class import show_finished
from trainer.ui.live_common import (
    configured_base_url,
    configured_host_key,
    live_banks,
    live_questions,
    plain_md,
    show_error,
)
from trainer.ui.state import get_store, now_utc

page_setup()
st.title("Host a class")
ss = st.session_state

# ---------------------------------------------------------------- host key
host_key = configured_host_key()
if not host_key:
    st.error("Hosting is switched off: no host key is configured on this server.")
    st.markdown(
        "Set a host key before starting the app, either as an environment variable:\n\n"
        "```\nTRAINER_HOST_KEY='choose-a-long-secret' streamlit run streamlit_app.py\n```\n\n"
        'or in `.streamlit/secrets.toml`:\n\n```\nhost_key = "choose-a-long-secret"\n```\n\n'
        "Learners never need it; only the instructor types it here. See docs/live-class.md."
    )
    st.stop()

host_gate(
    host_key,
    form_key="host_login",
    input_key="host_key_input",
    go_key="host_login_go",
    button="Open host controls",
)

atlas = require_atlas()
store = get_store()
all_questions = get_questions(atlas)
questions = live_questions(atlas, all_questions)


def _act(action: str) -> None:
    """Run a host control; a refused or raced action becomes a readable message."""
    ss["host_msg"] = model.act(store, st.query_params.get("session", ""), action, now_utc())


def _leave() -> None:
    st.query_params.pop("session", None)


# ---------------------------------------------------------------- setup (no session chosen)
session_id = st.query_params.get("session")
if not session_id:
    recent = live.sessions_for_key(store, host_key, limit=8)
    if recent:
        with st.expander(f"Your classes: resume one or review its results ({len(recent)})", expanded=False):
            for i, s in enumerate(recent):
                c1, c2 = st.columns([4, 1])
                c1.text(model.resume_line(s))
                if c2.button(history_label(s), key=f"host_resume_{i}"):
                    st.query_params["session"] = s.id
                    st.rerun()
    if not questions:
        st.info("No live questions yet: add a bank under quizzes/ (see docs/quiz-format.md).")
        st.stop()
    banks = live_banks()
    st.subheader("New class")
    with st.form("host_setup"):
        title = st.text_input("Title", value="Live class", max_chars=120, key="host_title")
        c1, c2 = st.columns(2)
        bank_ids = c1.multiselect(
            "Banks",
            model.bank_choices(banks, questions),
            format_func=lambda b: banks[b][0],
            key="host_banks",
        )
        regions = c2.multiselect(
            "Regions", list(atlas.regions), format_func=lambda r: atlas.regions[r].name, key="host_regions"
        )
        types = c1.multiselect("Question types", list(live.LIVE_TYPES), key="host_types")
        n = c2.number_input("Number of questions (from banks/filters)", 1, 50, 5, key="host_n")
        picked = st.multiselect(
            "…or hand-pick questions (in this order)",
            list(questions),
            format_func=lambda qid: f"{questions[qid].prompt[:90]} [{qid}]",
            key="host_pick",
        )
        c3, c4, c5 = st.columns(3)
        time_s = c3.number_input("Seconds per question", 5, 600, 30, step=5, key="host_time_s")
        side = c4.selectbox(
            "Side",
            list(live.SIDES),
            key="host_side",
            format_func=lambda s: {"mixed": "mixed (random per question)"}.get(s, s),
        )
        body = c5.selectbox(
            "Body type",
            list(atlas.body_types),
            format_func=lambda b: atlas.body_types[b].name,
            index=list(atlas.body_types).index(atlas.default_body_type),
            key="host_body",
        )
        max_players = st.number_input(
            "Most players",
            1,
            MAX_PLAYERS_LIMIT,
            DEFAULT_MAX_PLAYERS,
            step=10,
            key="host_max_players",
            help="Joins beyond this are refused, so a script cannot flood the class with fake players.",
        )
        speed = st.toggle(
            "Speed bonus (up to +500 for a fast, accurate answer)", value=True, key="host_speed"
        )
        anon = st.toggle("Anonymous leaderboard (shows Player 1, Player 2, …)", value=False, key="host_anon")
        create = st.form_submit_button("Create class", type="primary", key="host_create")
    if create:
        ids = model.choose_question_ids(
            atlas,
            questions,
            banks,
            picked=picked,
            bank_ids=bank_ids,
            regions=regions,
            types=types,
            count=int(n),
        )
        try:
            session = live.create_class(
                store,
                atlas,
                questions,
                title=title,
                question_ids=ids,
                host_key=host_key,
                settings=LiveSettings(
                    time_limit_s=float(time_s),
                    speed_bonus=speed,
                    anonymous=anon,
                    max_players=int(max_players),
                ),
                side=side,
                body_type=body,
                now=now_utc(),
                rng=random.Random(),
            )
        except RuleError as exc:
            show_error(str(exc))
        else:
            st.query_params["session"] = session.id
            st.rerun()
    st.stop()

# ---------------------------------------------------------------- a class
try:
    session = live.tick(store, session_id, now_utc())
except NotFoundError:
    st.error("No class with that id (it may have been deleted).")
    st.button("Back to setup", on_click=_leave, key="host_leave")
    st.stop()
if not check_host_key(host_key, session.host_key_hash):
    st.error("This class was created with a different host key.")
    st.button("Back to setup", on_click=_leave, key="host_leave")
    st.stop()

msg = ss.pop("host_msg", None)
if msg:
    show_error(msg)
note = ss.pop("host_note", None)
if note:
    st.success(plain_md(note))

# TRAINER_BASE_URL wins (the laptop's LAN address); else the address this browser used.
base_url = configured_base_url() or (live.base_url_from_page_url(st.context.url) if st.context.url else "")
url = live.join_url(base_url or "http://<this-computer>:8501", session.join_code)
phase = session.state
idx = session.current_index
ss["host_snap"] = model.snapshot(session)
# The players, once per run: the players panel draws them, and the poll below compares their
# count with the class's to rerun the page when someone joins or leaves.
roster = {p.id: p.nickname for p in store.list_players(session.id)}
ss["host_roster_n"] = len(roster)

head, side_col = st.columns([3, 1])
head.subheader(plain_md(session.title))
head.caption(model.header_caption(session))
side_col.button("Leave this class", on_click=_leave, key="host_leave")
side_col.page_link(
    "trainer/ui/pages/projector.py",
    label="Open the projector view",
    icon=":material/tv:",
    query_params={"session": session.id},
)
side_col.caption("Ctrl/⌘-click to open it in a new tab for the projector; control the class here.")
FULLSCREEN_KEY = "host_fullscreen"


def _on_fullscreen() -> None:
    """Going full screen (a projector) switches every peek off; leaving it does not switch it on."""
    if is_fullscreen(FULLSCREEN_KEY):
        for k in [k for k in ss if str(k).startswith("host_peek_")]:
            ss[k] = False


with side_col:
    fullscreen = fullscreen_button(FULLSCREEN_KEY, on_change=_on_fullscreen)


@st.fragment(run_every=1)
def _watch() -> None:
    """The tiny poll: one query, no image; a full rerun only when the class moved on."""
    now = now_utc()
    s, answered, players = store.poll_session(session.id)
    if live.effective_phase(s, now) is not s.state:
        live.tick(store, s.id, now)
        st.rerun()
    if model.needs_full_run(ss.get("host_snap"), s) or model.roster_changed(ss.get("host_roster_n"), players):
        st.rerun()
    if s.state is Phase.LOBBY:
        return  # the lobby fragment lists the players
    # Same layout in every phase, so a fragment run never leaves a stale element behind.
    c1, c2 = st.columns(2)
    c1.metric("Answered", f"{answered} / {players}")
    c2.metric("Time left", model.time_left_text(s, now))


def _join_panel(big: bool) -> None:
    c1, c2 = st.columns([2, 1]) if big else (st.container(), None)
    size = "6rem" if big else "1.6rem"
    c1.markdown(
        f"<div style='font-size:{size};font-weight:700;letter-spacing:0.12em;font-family:monospace'>"
        f"{esc(session.join_code)}</div>",
        unsafe_allow_html=True,
    )
    c1.text(f"Join at {url}")
    if not base_url:
        c1.caption(model.NO_BASE_URL)
    if c2 is not None:
        c2.image(live.qr_png(url), caption="Scan to join", width=240)


def _leaderboard(limit: int | None = 10) -> None:
    rows = live.leaderboard(store, session, limit=limit)
    if rows:
        st.dataframe(
            model.board_rows(rows),
            hide_index=True,
            width="stretch",
            key="host_board",
        )


def _buttons(controls: list[model.Control], columns: bool = True) -> None:
    """The phase's controls side by side (or stacked, beside the picture)."""
    slots = st.columns(max(len(controls), 2)) if columns else [st.container() for _ in controls]
    for slot, c in zip(slots, controls, strict=False):
        slot.button(
            c.label, type="primary" if c.primary else "secondary", on_click=_act, args=(c.action,), key=c.key
        )


def _keep_roster_open() -> None:
    """The host is working in the players panel: draw it open from now on.

    Its open state otherwise lives only in the browser, and a message appearing or going above it
    (a rename's confirmation, a raced control) makes Streamlit draw the panel anew, closed.
    """
    ss["host_roster_open"] = True


def _pick_key() -> str:
    """The player picker's key. A rename gives it a new one: the picker kept showing the old
    name for the same player (Streamlit does not redraw a kept choice's label)."""
    n = int(ss.get("host_roster_renames", 0))
    return "host_player_pick" if n == 0 else f"host_player_pick_{n}"


def _on_player(action: str) -> None:
    """Rename or remove the player picked in the roster (the host's own tab only)."""
    _keep_roster_open()
    pid = ss.get(_pick_key())
    if pid:
        done, text = model.manage_player(store, session.id, pid, action, ss.get("host_player_name", ""))
        ss["host_note" if done else "host_msg"] = text
        if done and action == "rename":
            ss["host_roster_renames"] = int(ss.get("host_roster_renames", 0)) + 1
            ss["host_roster_keep"] = pid  # the new picker starts on the renamed player


def _roster() -> None:
    """Rename or remove a player: an unsuitable name disappears from every screen at once."""
    if not roster:
        return
    ids = list(roster)
    keep = ss.get("host_roster_keep")
    with st.expander(f"Players ({len(roster)}): rename or remove", expanded=bool(ss.get("host_roster_open"))):
        key = _pick_key()
        st.selectbox(
            "Player",
            ids,
            index=ids.index(keep) if key not in ss and keep in ids else 0,
            format_func=lambda pid: inert_label(roster.get(pid, "")),
            key=key,
            on_change=_keep_roster_open,
        )
        st.text_input(
            "New name", key="host_player_name", max_chars=NICKNAME_MAX_CHARS, on_change=_keep_roster_open
        )
        c1, c2 = st.columns(2)
        c1.button("Rename", on_click=_on_player, args=("rename",), key="host_player_rename")
        c2.button("Remove", on_click=_on_player, args=("remove",), key="host_player_remove")


# ---------------------------------------------------------------- lobby
if phase is Phase.LOBBY:
    _join_panel(big=True)
    _watch()

    @st.fragment(run_every=2)
    def _lobby() -> None:
        status = model.lobby_status(
            [p.nickname for p in store.list_players(session.id)], session.live_settings().max_players
        )
        st.metric("Joined", status.joined)
        if status.full_warning:
            st.warning(status.full_warning)
        if status.waiting:
            st.caption("Waiting for learners to join…")
        else:
            st.text(status.names)  # st.text: never HTML or markdown

    _lobby()
    _buttons(model.controls(phase, is_last=False))
    _roster()
    st.stop()

# ---------------------------------------------------------------- finished
if phase is Phase.FINISHED:

    def _open(new: LiveSession) -> None:
        st.query_params["session"] = new.id

    show_finished(store, atlas, all_questions, questions, session, host_key, base_url, _open)
    st.stop()

# ---------------------------------------------------------------- a question
_join_panel(big=False)
qid = session.question_ids[idx]
q = all_questions.get(qid)
if q is None:
    st.error(f"Question {qid} is no longer in the banks. Reveal and move on.")
else:
    if q.vignette:
        st.info(q.vignette)
    st.markdown(f"### {esc(q.prompt)}", unsafe_allow_html=True)
view = live.question_view(atlas, session, idx)
_, hi = pins_needed(atlas, q) if q is not None else (0, 0)
# Options in the class's shuffled order: the same order the phones show.
order = live.choice_order(session, idx, len(q.choices)) if q is not None and q.choices and hi == 0 else ()
# Identify / "name the territory": the question's own picture (highlighted course or shaded
# territory), the same one the phones show; nothing else is drawn on it before the reveal.
picture = view is not None and q is not None and shows_picture(q)


def _picture(extra: list[dict[str, object]] | None = None) -> None:
    assert view is not None and q is not None
    pinboard(
        key=f"host_pb_{idx}",
        image_url=image_url(view),
        width_px=view.width_px,
        height_px=view.height_px,
        pins_px=[],
        active=False,
        shapes=question_shapes(q, view) + (extra or []),
        hint="",
        seq=idx,
        max_width_px=700,
    )


if phase in (Phase.OPEN, Phase.CLOSED):
    # Controls and counts beside the picture, so a projector shows both without scrolling.
    left, right = st.columns([3, 2])
    peek_key = f"host_peek_{session.id}_{idx}"
    with right:
        _watch()
        _buttons(model.controls(phase, is_last=False), columns=False)
        _buttons(
            model.clock_controls(phase, live.is_paused(session), is_last_question(session.rules_state())),
            columns=False,
        )
        _roster()
        if model.peek_offered(view is not None, hi):
            st.toggle(
                "Peek at the class's pins (your screen only)",
                key=peek_key,
                disabled=fullscreen,
                help="Off by default and whenever this page is full screen, so a projector never "
                "shows where the class is tapping before the reveal.",
            )
            if fullscreen:
                st.caption("Pins are hidden while this page is full screen.")
    with left:
        if picture:
            _picture()
        elif view is not None and hi > 0:
            shown: RenderedView = view

            @st.fragment(run_every=2)
            def _heatmap() -> None:
                """Host only, and only when peeking: rebuilt when the answer count changed."""
                n = store.count_answers(session.id, idx)
                if not model.show_live_pins(bool(ss.get(peek_key)), is_fullscreen(FULLSCREEN_KEY)):
                    st.caption(f"{count_noun(n, 'answer')} · the pins stay hidden until the reveal")
                    pinboard(
                        key=f"host_pb_{idx}",
                        image_url=image_url(shown),
                        width_px=shown.width_px,
                        height_px=shown.height_px,
                        pins_px=[],
                        active=False,
                        seq=idx,
                        max_width_px=700,
                    )
                    return
                cache_key = (session.id, idx, n)
                if ss.get("host_hm_key") != cache_key:
                    ss["host_hm_fig"] = heatmap_figure(
                        shown, live.heatmap_pins(store, session.id, idx), height_px=480
                    )
                    ss["host_hm_key"] = cache_key
                st.caption(f"Live heatmap · {count_noun(n, 'answer')} · visible to you only")
                st.plotly_chart(
                    ss["host_hm_fig"],
                    key="host_heatmap",
                    width="stretch",
                    config={"displayModeBar": False, "scrollZoom": False},
                )

            _heatmap()
        if q is not None and order:
            st.markdown(
                "\n".join(f"{i + 1}. {esc(text)}" for i, text in enumerate(option_texts(q.choices, order))),
                unsafe_allow_html=True,
            )
            if q.multi_answer:
                st.caption("Several options may be right.")
    st.stop()

_watch()
# ---------------------------------------------------------------- revealed
stats = live.reveal_stats(store, atlas, all_questions, session, idx)
metrics = model.reveal_metrics(stats)
for col, (label, value) in zip(st.columns(max(len(metrics), 1)), metrics, strict=False):
    col.metric(label, value)
if stats.cluster is not None:
    st.warning(stats.cluster.sentence)
table = model.choice_rows(q, order, stats) if q is not None else []
if table:
    # A plain table (not a canvas grid): readable from the back of the room, in the phones' order.
    st.table(table, hide_index=True)
if picture:
    _picture()
elif view is not None and q is not None:
    st.plotly_chart(
        reveal_figure(view, atlas, q, stats),
        key="host_reveal_fig",
        width="stretch",
        config={"displayModeBar": False},
    )
if q is not None and q.explanation:
    st.markdown(f"**Why:** {esc(q.explanation)}", unsafe_allow_html=True)
st.subheader("Leaderboard")
_leaderboard()
_buttons(model.controls(phase, is_last=is_last_question(session.rules_state())))
_roster()
