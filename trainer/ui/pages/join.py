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

from trainer.errors import ConflictError, NotFoundError, RuleError, StoreError
from trainer.explorer.figures import image_url
from trainer.live import service as live
from trainer.quiz.choices import option_texts, revealed_options
from trainer.quiz.kinds import is_multi_site, is_trace
from trainer.quiz.session import pins_needed
from trainer.rules.classroom import Phase, check_browser_joins
from trainer.safetext import inert_label
from trainer.scoring.reveal import question_shapes, reveal_shapes, shows_picture
from trainer.scoring.score import Result, trace_instructions
from trainer.ui.boundary import log_failure
from trainer.ui.common import esc, get_atlas, page_setup
from trainer.ui.components.pinboard import pinboard, place_pin, take_click
from trainer.ui.data import get_questions
from trainer.ui.live_common import show_error
from trainer.ui.option_list import show_revealed_options
from trainer.ui.state import get_store, now_utc

# Phones poll the class every few seconds (DESIGN.md §5: 1–3 s). 3 s keeps a 200-phone class
# within two cores; the reveal reaches a phone at most 3 s after the host presses it.
JOIN_POLL_S = 3

page_setup()
ss = st.session_state
# The content does not change during a class: a phone's rerun reuses the folder check for a
# few seconds (an edit to the atlas shows here up to that much later).
CONTENT_RECHECK_S = 5.0
atlas = get_atlas(max_stale_s=CONTENT_RECHECK_S)
if atlas is None:
    st.stop()
store = get_store()
questions = get_questions(atlas, max_stale_s=CONTENT_RECHECK_S)

# ---------------------------------------------------------------- who am I?
token = st.query_params.get("token", "")
player = None
session = None
if token:
    try:
        session, player = live.rejoin(store, token)
    except NotFoundError:
        st.query_params.pop("token", None)
        st.error("That player link is no longer valid. Join again with the code on the projector.")

if player is None or session is None:
    st.title("Join a class")
    with st.form("join_form"):
        code = st.text_input(
            "Class code", value=st.query_params.get("code", ""), key="join_code", placeholder="e.g. K7PM3Q"
        )
        nick = st.text_input("Your nickname", key="join_nick", placeholder="shown on the leaderboard")
        go = st.form_submit_button("Join", type="primary", width="stretch", key="join_go")
    if go:
        try:
            check_browser_joins(ss.get("join_count", 0))
            session, player = live.join(store, code, nick, now_utc())
        except ConflictError:
            st.error(
                "That nickname is already taken in this class (names are compared ignoring case and "
                "look-alike letters). Please choose another."
            )
        except NotFoundError:
            st.error("No class has that code. Check the code on the projector.")
        except RuleError as exc:
            show_error(str(exc))
        except StoreError as exc:  # the database failed: say so plainly, log the detail
            log_failure(exc, "join")
            show_error(f"You could not join just now. {exc}")
        else:
            ss["join_count"] = ss.get("join_count", 0) + 1
            st.query_params["token"] = player.token
            st.query_params.pop("code", None)
            st.rerun()
    st.stop()

assert player is not None and session is not None
now = now_utc()
phase = live.effective_phase(session, now)
idx = session.current_index
snap = (session.id, phase.value, idx)
ss["join_snap"] = snap
ss["join_tap_target"] = None  # set again below when this run shows an active answer surface
st.text(f"{player.nickname} · class {session.join_code}")


def _place_pin(click: dict[str, object], pins_key: str, hi: int) -> None:
    """A one-pin question moves its pin; multi-pin questions add up to their maximum."""
    place_pin(ss.setdefault(pins_key, []), click, hi)  # an arrow-key nudge moves the last pin


@st.fragment(run_every=JOIN_POLL_S)
def _watch() -> None:
    """The tiny poll: one primary-key query; a full rerun only when the class moved on."""
    # A tap whose trigger value arrived with this fragment run (the poll fired just as the
    # learner tapped) would otherwise be dropped: the pinboard is outside the fragment.
    pending = ss.get("join_tap_target")
    if pending is not None:
        click = take_click(pending[0])
        if click is not None:
            _place_pin(click, pending[1], pending[2])
            st.rerun()
    t = now_utc()
    clock = store.session_clock(session.id)
    now_phase = live.effective_phase(clock, t)
    if (clock.id, now_phase.value, clock.current_index) != ss.get("join_snap"):
        st.rerun()
    if now_phase is Phase.OPEN:
        st.caption(f"{live.seconds_left(clock, t):.0f} s left")


_watch()

if phase is Phase.LOBBY:
    st.success("You're in! The class starts when the host opens the first question.")
    st.stop()

if phase is Phase.FINISHED:
    st.subheader("Class finished")
    try:
        rank, n, points = live.player_standing(store, session, player.id)
        st.metric("Your final rank", f"{rank} of {n}", f"{points} points", delta_color="off")
    except NotFoundError:
        pass
    top = live.leaderboard(store, session, you_player_id=player.id, limit=3)
    for row in top:
        st.text(
            f"{row.rank}. {row.name} — {row.points} pts"
            + ("  (you)" if row.is_you and row.name != "You" else "")
        )
    # Take the class home: the same questions in Practice, on this device, at your own pace.
    again = [qid for qid in session.question_ids if qid in questions]
    if again:
        params = {"questions": ",".join(again)}
        side, body = session.settings.get("side"), session.settings.get("body_type")
        if side in ("right", "left"):
            params["side"] = str(side)
        if isinstance(body, str) and body in atlas.body_types:
            params["body"] = body
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
pins: list[tuple[float, float]] = ss.setdefault(pins_key, [])
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
        tone = st.success if mine.credit >= 0.999 else (st.warning if mine.credit > 0 else st.error)
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
        shapes = question_shapes(q, view) + reveal_shapes(q, shown, view, atlas)
        own = (
            [(float(x), float(y)) for x, y in mine.pins]
            if mine is not None and isinstance(mine.pins, list)
            else []
        )
        pinboard(
            key=pb_key,
            image_url=image_url(view),
            width_px=view.width_px,
            height_px=view.height_px,
            pins_px=own,
            active=False,
            shapes=shapes,
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


def _chosen() -> tuple[int, ...]:
    """The positions ticked on this phone, read from the widgets' state (callbacks see it first);
    the server maps them to the options themselves."""
    if q.multi_answer:
        return tuple(i for i in range(len(order)) if ss.get(f"join_choice_{idx}_{i}"))
    pick = ss.get(f"join_choice_{idx}")
    return () if pick is None else (int(pick),)


def _on_submit() -> None:
    try:
        outcome = live.submit(
            store,
            atlas,
            questions,
            session.id,
            player.token,
            list(ss.get(pins_key, [])),
            now_utc(),
            choices=_chosen() if hi == 0 else (),
            question_index=idx,
        )
    except (RuleError, NotFoundError) as exc:
        ss[err_key] = str(exc)
    except StoreError as exc:  # a callback runs outside the page boundary: handle it here
        log_failure(exc, "join submit")
        ss[err_key] = f"Your answer was not saved. {exc}"
    else:
        ss[sent_key] = outcome.message
        ss.pop(err_key, None)


def _on_undo() -> None:
    cur = ss.get(pins_key, [])
    if cur:
        cur.pop()


def _on_click() -> None:
    click = take_click(pb_key)
    if click is not None:
        _place_pin(click, pins_key, hi)


@st.fragment
def _answer_area() -> None:
    mine = store.get_answer(session.id, idx, player.id)
    if mine is not None:
        sent = ss.get(sent_key, "")
        if sent.startswith("Already"):
            st.info(sent)  # a second tap on Submit: the first answer stands
        st.success("Answer received ✓ Wait for the reveal.")
    elif phase is Phase.CLOSED:
        st.warning("Time is up. Waiting for the reveal…")
    if ss.get(err_key):
        show_error(ss[err_key])
    can_answer = phase is Phase.OPEN and mine is None
    ss["join_tap_target"] = (pb_key, pins_key, hi) if can_answer and hi > 0 else None
    if picture:
        assert view is not None
        own = (
            [(float(x), float(y)) for x, y in mine.pins]
            if mine is not None and isinstance(mine.pins, list)
            else pins
        )
        hint = (
            ("Tap where you would inject." if hi == 1 else f"Tap to add pins ({len(pins)} placed).")
            if can_answer and hi > 0
            else ""
        )
        click = pinboard(
            key=pb_key,
            image_url=image_url(view),
            width_px=view.width_px,
            height_px=view.height_px,
            pins_px=own,
            active=can_answer and hi > 0,
            shapes=question_shapes(q, view),
            hint=hint,
            seq=idx,
            max_width_px=700,
            on_click=_on_click if hi > 0 else None,
            px_per_cm=view.camera.px_per_cm,
        )
        if click is not None and can_answer:  # state injected without the callback (tests)
            _place_pin(click, pins_key, hi)
            st.rerun()

    if order:
        # Only the texts, in display order, reach the phone; the widgets hold display positions.
        texts = option_texts(q.choices, order)
        if q.multi_answer:
            for i, text in enumerate(texts):
                st.checkbox(inert_label(text), key=f"join_choice_{idx}_{i}", disabled=not can_answer)
            if can_answer:
                st.caption("Select every correct answer.")
        else:
            st.radio(
                "Your answer",
                list(range(len(texts))),
                format_func=lambda i: inert_label(texts[i]),
                index=None,
                key=f"join_choice_{idx}",
                disabled=not can_answer,
            )

    if can_answer:
        if is_multi_site(q):
            st.caption(f"Place {lo} pins.")
        elif is_trace(q):
            st.caption(trace_instructions(q) + " Then submit.")
        c1, c2 = st.columns(2)
        if hi > 0:
            c1.button("Undo", disabled=not pins, width="stretch", key=f"join_undo_{idx}", on_click=_on_undo)
        ready = len(pins) >= lo if hi > 0 else bool(_chosen())
        c2.button(
            "Submit",
            type="primary",
            disabled=not ready,
            width="stretch",
            key=f"join_send_{idx}",
            on_click=_on_submit,
        )


_answer_area()
