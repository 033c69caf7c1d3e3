"""Join a live class from a phone: code + nickname, wait, tap, submit, see the reveal and rank.

The player token lives in the URL (``?token=``), so a reload or a dropped connection comes
back as the same player. Before the reveal this page sends the browser only the image with what
the question itself shows (``question_shapes``: the highlighted course of an identify question,
the shaded territory of a "name the nerve" question), the prompt, the option texts in the class's
shuffled order and the player's own pins; targets arrive with ``reveal_shapes``, and which option
is right only with the reveal.
Nicknames are shown with ``st.text`` only, never as markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from trainer.errors import NotFoundError
from trainer.explorer.figures import image_url
from trainer.live import join_page as model
from trainer.live import service as live
from trainer.live.class_signal import class_signal
from trainer.live.results_page import device_key, personal_params
from trainer.quiz.choices import option_texts, revealed_options
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import Phase
from trainer.safetext import inert_label
from trainer.scoring.reveal import question_shapes, reveal_shapes, shows_picture
from trainer.scoring.score import Result
from trainer.ui.boundary import log_failure
from trainer.ui.common import esc, page_setup, require_atlas
from trainer.ui.components.class_memory import class_memory
from trainer.ui.components.class_watch import class_watch
from trainer.ui.components.pinboard import pinboard, take_click
from trainer.ui.data import get_questions
from trainer.ui.live_common import show_error
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import get_store, now_utc

# A phone in a class sees only the class: no navigation to the explorer or Practice (a tap there
# would also leave the class page). The player token is kept in the session as well as the URL.
page_setup(extra_css=model.NO_SIDEBAR_CSS)
ss = st.session_state
# The content does not change during a class: a phone's rerun reuses the folder check for a
# few seconds (an edit to the atlas shows here up to that much later).
CONTENT_RECHECK_S = 5.0
atlas = require_atlas(max_stale_s=CONTENT_RECHECK_S)
store = get_store()
questions = get_questions(atlas, max_stale_s=CONTENT_RECHECK_S)

# ---------------------------------------------------------------- who am I?
me = model.rejoin(store, model.token_to_use(st.query_params.get("token", ""), ss.get("join_token", "")))
if me.error:
    st.query_params.pop("token", None)
    ss.pop("join_token", None)
    st.error(me.error)
elif me.player is not None:
    ss["join_token"] = me.player.token
    if st.query_params.get("token") != me.player.token:  # setting it sends a message: only if changed
        st.query_params["token"] = me.player.token  # back in the URL after navigating away
if me.player is None or me.session is None:
    forget = ss.pop("join_forget_code", None)
    if forget:
        class_memory("join_memory", device_key(forget), forget=True)
    st.title("Join a class")
    with st.form("join_form"):
        code = st.text_input(
            "Class code", value=st.query_params.get("code", ""), key="join_code", placeholder="e.g. K7PM3Q"
        )
        nick = st.text_input("Your nickname", key="join_nick", placeholder="shown on the leaderboard")
        go = st.form_submit_button("Join", type="primary", width="stretch", key="join_go")
    if go:
        reply = model.join_class(store, code, nick, ss.get("join_count", 0), now_utc())
        if reply.failure is not None:
            log_failure(reply.failure, "join")
        if reply.player is None:
            if reply.fixed_text:
                st.error(reply.error)
            else:
                show_error(reply.error)
        else:
            ss["join_count"] = ss.get("join_count", 0) + 1
            ss["join_token"] = reply.player.token
            st.query_params["token"] = reply.player.token
            st.query_params.pop("code", None)
            st.rerun()
    st.stop()

player, session = me.player, me.session
now = now_utc()
phase = live.effective_phase(session, now)
idx = session.current_index


def _leave() -> None:
    """Forget this player on this phone (to join another class or under another name)."""
    ss.pop("join_token", None)
    ss.pop("join_memory_kept", None)
    ss["join_forget_code"] = session.join_code
    for k in ("token", "pins"):
        st.query_params.pop(k, None)


# The phone keeps its token of this class, so the host's shared results link finds this player.
# Once per browser session is enough (localStorage keeps it; a reload is a new session).
if ss.get("join_memory_kept") != player.token:
    class_memory("join_memory", device_key(session.join_code), store=player.token)
    ss["join_memory_kept"] = player.token
who, leave = st.columns([3, 1])
who.text(f"{player.nickname} · class {session.join_code}")
leave.button("Leave", key="join_leave", on_click=_leave, help="Join another class or with another name.")


def _place(click: dict[str, object], pins_key: str, hi: int) -> None:
    ss[pins_key] = model.place_pin(
        ss.get(pins_key, []),
        (float(click["x"]), float(click["y"])),  # type: ignore[arg-type]
        hi,
        nudge=bool(click.get("nudge")),  # an arrow-key nudge moves the last pin
    )
    _keep_in_url(pins_key)


def _keep_in_url(pins_key: str) -> None:
    """Placed but unsent pins ride in the URL, so a reload (a new session) puts them back."""
    st.query_params["pins"] = model.pins_param(session.current_index, ss.get(pins_key, []))


# No polling page runs: the browser waits on the class over HTTP and asks for a page run only
# when the question or phase changes; the countdown ticks in the browser (trainer/live/class_signal.py).
signal = class_signal(session, now)
class_watch("join_watch", session.join_code, signal.view, signal)

if phase is Phase.LOBBY:
    st.success(model.LOBBY_TEXT)
    st.stop()

if phase is Phase.FINISHED:
    st.subheader("Class finished")
    try:
        rank, n, points = live.player_standing(store, session, player.id)
        st.metric("Your final rank", f"{rank} of {n}", f"{points} points", delta_color="off")
    except NotFoundError:
        pass
    for row in live.leaderboard(store, session, you_player_id=player.id, limit=3):
        st.text(model.board_line(row))
    # The learner's own read-only results: every question with the reveal, on a link they keep.
    st.page_link(
        "trainer/ui/pages/results.py",
        label="See all your answers and the reveals",
        icon=":material/fact_check:",
        query_params=personal_params(player.token),
    )
    with st.expander("Your answers", expanded=False):
        for r in model.own_results(store, atlas, questions, session, player.id):
            st.markdown(f"**{r.number}. {esc(r.prompt)}**", unsafe_allow_html=True)
            st.text(r.line)
            if r.feedback:
                st.caption(esc(r.feedback), unsafe_allow_html=True)
    # Take the class home: the same questions in Practice, on this device, at your own pace.
    params = model.practise_again_params(session, questions, atlas)
    if params:
        st.page_link(
            "trainer/ui/pages/practice.py",
            label="Practise these questions again",
            icon=":material/replay:",
            query_params=params,
        )
    st.stop()

qid = session.question_ids[idx]
q = questions.get(qid)
st.caption(f"Question {idx + 1} of {len(session.question_ids)}")
if q is None:
    st.warning("This question is not available on this server; wait for the next one.")
    st.stop()
if q.vignette:
    st.info(q.vignette)
st.markdown(f"**{esc(q.prompt)}**", unsafe_allow_html=True)
view = live.question_view(atlas, session, idx)
lo, hi = pins_needed(atlas, q)
pins_key = f"join_pins_{session.id}_{idx}"
if pins_key not in ss:  # a reload: the unsent pins of this question come back from the URL
    ss[pins_key] = model.pins_from_param(st.query_params.get("pins", ""), idx, hi)
pb_key = f"join_pb_{idx}"
# Identify and "name the territory" questions show their highlight on the (inactive) image.
picture = view is not None and (hi > 0 or shows_picture(q))
# Options in the class's shuffled order (the same on every phone and the host's screen).
order = live.choice_order(session, idx, len(q.choices)) if q.choices and hi == 0 else ()

# ---------------------------------------------------------------- reveal
if phase is Phase.REVEALED:
    mine = store.get_answer(session.id, idx, player.id)
    result: Result | None = live.rescore(atlas, questions, session, mine) if mine is not None else None
    if mine is None:
        st.info("You did not answer this one.")
    else:
        assert result is not None
        tone = {"success": st.success, "warning": st.warning, "error": st.error}[
            model.reveal_tone(mine.credit)
        ]
        tone(f"{round(mine.credit * 100)}% · +{mine.points} points")
        if mine.distance_cm is not None:
            st.metric("Your distance", f"{mine.distance_cm:.1f} cm")
        st.write(result.feedback)
        for s in result.safety:
            st.error(s, icon="⛔")
    try:
        rank, n, points = live.player_standing(store, session, player.id)
        st.metric("Your rank", f"{rank} of {n}", f"{points} points in total", delta_color="off")
    except NotFoundError:
        pass
    if order:
        show_revealed_options(revealed_options(q.choices, order, result.chosen if result is not None else ()))
    if picture:
        assert view is not None
        shown = result or Result(question_id=q.id, type=q.type, credit=0.0, feedback="")
        pinboard(
            key=pb_key,
            image_url=image_url(view),
            width_px=view.width_px,
            height_px=view.height_px,
            pins_px=model.own_pins(mine.pins if mine is not None else None, []),
            active=False,
            shapes=question_shapes(q, view) + reveal_shapes(q, shown, view, atlas),
            hint="",
            seq=idx,
            max_width_px=700,
        )
    if q.explanation:
        st.markdown(f"**Why:** {esc(q.explanation)}", unsafe_allow_html=True)
    st.caption("Waiting for the next question…")
    st.stop()

# ---------------------------------------------------------------- open / closed
# The answer surface is a fragment: a tap, Undo and Submit rerun only this part of the page
# (no navigation, atlas check or header), which is what keeps a full room of phones within the
# server's budget. Submitting happens in the button's callback, so one run both stores the
# answer and shows "Answer received".
sent_key = f"join_sent_{session.id}_{idx}"
err_key = f"join_err_{session.id}_{idx}"


question: QuestionModel = q  # narrowed above; the callbacks below close over it


def _chosen() -> tuple[int, ...]:
    """The positions ticked on this phone, read from the widgets' state (callbacks see it first);
    the server maps them to the options themselves."""
    if question.multi_answer:
        return tuple(i for i in range(len(order)) if ss.get(f"join_choice_{idx}_{i}"))
    pick = ss.get(f"join_choice_{idx}")
    return () if pick is None else (int(pick),)


def _on_submit() -> None:
    reply = model.send_answer(
        store,
        atlas,
        questions,
        session.id,
        player.token,
        idx,
        ss.get(pins_key, []),
        _chosen() if hi == 0 else (),
        now_utc(),
    )
    if reply.failure is not None:  # a callback runs outside the page boundary: log it here
        log_failure(reply.failure, "join submit")
    if reply.error:
        ss[err_key] = reply.error
    else:
        ss[sent_key] = reply.message
        ss.pop(err_key, None)
        st.query_params.pop("pins", None)


def _on_undo() -> None:
    ss[pins_key] = model.undo_pin(ss.get(pins_key, []))
    _keep_in_url(pins_key)


@st.fragment
def _answer_area() -> None:
    mine = store.get_answer(session.id, idx, player.id)
    if mine is None and phase is Phase.OPEN and hi > 0:
        click = take_click(pb_key)  # the tap that started this run (read before drawing)
        if click is not None:
            _place(click, pins_key, hi)
    pins: list[tuple[float, float]] = ss[pins_key]
    area = model.answer_area(
        question,
        phase,
        answered=mine is not None,
        sent_message=ss.get(sent_key, ""),
        pins=len(pins),
        chosen=len(_chosen()),
        min_pins=lo,
        max_pins=hi,
    )
    if area.already:
        st.info(area.already)  # a second tap on Submit: the first answer stands
    if area.status == model.RECEIVED:
        st.success(area.status)
    elif area.status:
        st.warning(area.status)
    if ss.get(err_key):
        show_error(ss[err_key])
    if picture:
        assert view is not None
        pinboard(
            key=pb_key,
            image_url=image_url(view),
            width_px=view.width_px,
            height_px=view.height_px,
            pins_px=model.own_pins(mine.pins if mine is not None else None, pins),
            active=area.taps,
            shapes=question_shapes(question, view),
            hint=area.hint,
            seq=idx,
            max_width_px=700,
            px_per_cm=view.camera.px_per_cm,
        )

    if order:
        # Only the texts, in display order, reach the phone; the widgets hold display positions.
        texts = option_texts(question.choices, order)
        if question.multi_answer:
            for i, text in enumerate(texts):
                st.checkbox(inert_label(text), key=f"join_choice_{idx}_{i}", disabled=not area.can_answer)
            if area.multi_answer_hint:
                st.caption("Select every correct answer.")
        else:
            st.radio(
                "Your answer",
                list(range(len(texts))),
                format_func=lambda i: inert_label(texts[i]),
                index=None,
                key=f"join_choice_{idx}",
                disabled=not area.can_answer,
            )

    if area.can_answer:
        if area.instructions:
            st.caption(area.instructions)
        c1, c2 = st.columns(2)
        if hi > 0:
            c1.button(
                "Undo",
                disabled=not area.undo_enabled,
                width="stretch",
                key=f"join_undo_{idx}",
                on_click=_on_undo,
            )
        c2.button(
            "Submit",
            type="primary",
            disabled=not area.submit_enabled,
            width="stretch",
            key=f"join_send_{idx}",
            on_click=_on_submit,
        )


_answer_area()
