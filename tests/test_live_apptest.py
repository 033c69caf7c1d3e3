"""Host and join pages through AppTest: the host key gate, a class from setup to the end, and
hostile nicknames that must be refused clearly or shown literally, never as HTML/markdown."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.rules.classroom import LiveSettings
from trainer.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
KEY = "correct-horse-battery"


@pytest.fixture()
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(atlas_root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAINER_HOST_KEY", raising=False)
    monkeypatch.delenv("TRAINER_BASE_URL", raising=False)
    return tmp_path


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page(f"trainer/ui/pages/{page}.py")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def all_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "text", "caption", "error", "warning", "info", "success", "title", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def watch_data(at: AppTest) -> dict[str, Any]:
    """What the join page hands its class watcher (the countdown is drawn from it in the browser)."""
    for e in at.get("bidi_component"):
        if e.proto.component_name == "trainer_class_watch":
            data = json.loads(e.proto.json)
            return dict(data[0])
    raise AssertionError("the join page has no class watcher")


def make_class(tmp: Path, qids: list[str], **settings: Any) -> tuple[Any, Any]:
    atlas = load_atlas(tmp / "atlas")
    questions = {q.id: q for q in load_questions(atlas, [tmp / "quizzes"])}
    store = open_store(data_dir=tmp / "data")
    session = live.create_class(
        store,
        atlas,
        questions,
        title="Knee class",
        question_ids=qids,
        host_key=KEY,
        settings=LiveSettings(**{"time_limit_s": 60.0, **settings}),
        side="right",
        body_type="female",
        now=datetime.now(UTC),
        rng=random.Random(3),
    )
    return store, session


# ---------------------------------------------------------------- host


def test_host_without_a_configured_key_explains_how_to_set_it(content: Path) -> None:
    at = open_page("host")
    assert "no host key is configured" in at.error[0].value
    assert "TRAINER_HOST_KEY" in all_text(at)
    assert not at.text_input  # no way in at all


def test_host_refuses_a_wrong_key(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    at = open_page("host")
    at.text_input(key="host_key_input").set_value("guess")
    at.button(key="host_login_go").click().run()
    assert "not the host key" in at.error[0].value
    assert not at.session_state["host_ok"] if "host_ok" in at.session_state else True


def test_host_runs_a_class_from_setup_to_the_csv(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    monkeypatch.setenv("TRAINER_BASE_URL", "http://192.168.1.20:8501")
    at = open_page("host")
    at.text_input(key="host_key_input").set_value(KEY)
    at.button(key="host_login_go").click().run()
    at.multiselect(key="host_pick").set_value(["q_locate", "q_identify"])
    at.number_input(key="host_time_s").set_value(20)
    at.toggle(key="host_anon").set_value(True)
    at.button(key="host_create").click().run()
    assert not at.exception, at.exception
    sid = (
        at.query_params["session"][0]
        if isinstance(at.query_params["session"], list)
        else at.query_params["session"]
    )
    store = open_store(data_dir=content / "data")
    session = store.get_session(sid)
    assert session.settings["anonymous"] is True and session.settings["view_ids"] == [
        "view_a_right",
        "view_a_right",
    ]
    text = all_text(at)
    assert session.join_code in text and "http://192.168.1.20:8501/join?code=" + session.join_code in text
    assert at.get("image"), "the QR code image is shown"

    # A player joins (service), the host starts; the heatmap appears once a pin is in.
    _, player = live.join(store, session.join_code, "Ana", datetime.now(UTC))
    at.run()
    assert "Ana" in [t.value for t in at.text][-1]
    at.button(key="host_start").click().run()
    assert not at.exception, at.exception
    assert store.get_session(sid).state.value == "open"
    atlas = load_atlas(content / "atlas")
    questions = {q.id: q for q in load_questions(atlas, [content / "quizzes"])}
    x, y = load_rendered_view("view_a_right", "female", content / "atlas").items["site_a"].points_px[0]
    live.submit(store, atlas, questions, sid, player.token, [(x, y + 20)], datetime.now(UTC))
    at.run()
    assert any(m.value == "1 / 1" for m in at.metric)
    # The pins stay hidden (not even built) until the host peeks on their own screen...
    assert "host_hm_key" not in at.session_state and not at.get("plotly_chart")
    assert "the pins stay hidden until the reveal" in all_text(at)
    at.toggle(key=f"host_peek_{sid}_0").set_value(True).run()
    assert at.session_state["host_hm_key"] == (sid, 0, 1) and len(at.get("plotly_chart")) == 1
    # ...and the peek shows nothing while the page is full screen (a projector).
    at.session_state["host_fullscreen"] = {"fullscreen": True}
    at.run()
    assert not at.get("plotly_chart") and at.toggle(key=f"host_peek_{sid}_0").disabled
    at.session_state["host_fullscreen"] = {"fullscreen": False}

    at.button(key="host_close").click().run()
    at.button(key="host_reveal").click().run()
    assert not at.exception, at.exception
    assert "Most of you went 2.0 cm too distal." in all_text(at)
    board = at.dataframe[0].value
    assert list(board["Name"]) == ["Player 1"]  # anonymous mode
    at.button(key="host_next").click().run()
    at.button(key="host_close").click().run()
    at.button(key="host_reveal").click().run()
    at.button(key="host_finish").click().run()
    assert not at.exception, at.exception
    assert "Final results" in all_text(at)
    assert at.get("download_button")


def test_host_resumes_a_class_from_the_url(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    store, session = make_class(content, ["q_locate"])
    live.open_next(store, session.id, datetime.now(UTC))
    at = open_page("host", session=session.id)
    at.text_input(key="host_key_input").set_value(KEY)
    at.button(key="host_login_go").click().run()
    assert not at.exception, at.exception
    assert at.button(key="host_close")
    at.query_params.pop("session")
    at.run()
    assert at.button(key="host_resume_0")


def test_host_cannot_control_a_class_made_with_another_key(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, session = make_class(content, ["q_locate"])
    monkeypatch.setenv("TRAINER_HOST_KEY", "a-different-key")
    at = open_page("host", session=session.id)
    at.text_input(key="host_key_input").set_value("a-different-key")
    at.button(key="host_login_go").click().run()
    assert "different host key" in at.error[0].value


def test_host_pauses_adds_time_removes_a_player_and_ends_early(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    store, session = make_class(content, ["q_locate", "q_identify"])
    ana = live.join(store, session.join_code, "Ana", datetime.now(UTC))[1]
    live.join(store, session.join_code, "Bo", datetime.now(UTC))
    live.open_next(store, session.id, datetime.now(UTC))
    at = open_page("host", session=session.id)
    at.text_input(key="host_key_input").set_value(KEY)
    at.button(key="host_login_go").click().run()
    at.button(key="host_pause").click().run()
    assert not at.exception, at.exception
    assert live.is_paused(store.get_session(session.id))
    assert any("(paused)" in str(m.value) for m in at.metric)
    phone = open_page("join", token=ana.token)
    clock = watch_data(phone)["clock"]  # the browser draws "Paused by the host · N s left" from it
    assert clock["paused"] and clock["left_s"] > 0 and clock["view"].endswith(":open:0")
    at.button(key="host_resume").click().run()
    before = store.get_session(session.id).question_closes_at
    at.button(key="host_add_time").click().run()
    after = store.get_session(session.id).question_closes_at
    assert before is not None and after is not None and (after - before).total_seconds() == 30
    at.selectbox(key="host_player_pick").set_value(ana.id)
    at.button(key="host_player_remove").click().run()
    assert not at.exception, at.exception
    assert [p.nickname for p in store.list_players(session.id)] == ["Bo"]
    assert "Removed" in at.success[0].value
    phone.run()
    assert "no longer valid" in phone.error[0].value
    at.button(key="host_skip").click().run()
    assert store.get_session(session.id).current_index == 1
    at.button(key="host_end").click().run()
    assert not at.exception, at.exception
    assert "Final results" in all_text(at)


# ---------------------------------------------------------------- join


def join_as(at: AppTest, code: str, nick: str) -> AppTest:
    at.text_input(key="join_code").set_value(code)
    at.text_input(key="join_nick").set_value(nick)
    at.button(key="join_go").click().run()
    assert not at.exception, at.exception
    return at


def assert_literal_only(at: AppTest, nick: str) -> None:
    """The nickname appears only in st.text elements, character for character."""
    assert any(nick in t.value for t in at.text), [t.value for t in at.text]
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader"):
        for e in at.get(kind):
            assert nick not in str(e.value), f"{kind} renders the nickname: {e.value!r}"


@pytest.mark.parametrize(
    "nick",
    [
        "<script>x</script>",
        "[x](javascript:alert(1))",
        "**b** _i_ $x$ :red[r]",
        "Ana 👩‍⚕️🦴",
        "<img src=x onerror=y>",
    ],
)
def test_hostile_nicknames_are_shown_literally(content: Path, nick: str) -> None:
    _, session = make_class(content, ["q_locate"])
    at = join_as(open_page("join"), session.join_code, nick)
    token = at.query_params["token"]
    assert token
    assert_literal_only(at, nick)
    # The host's lobby list shows it literally too.
    assert open_store(data_dir=content / "data").list_players(session.id)[0].nickname == nick


def test_a_10kb_nickname_is_refused_with_a_clear_message(content: Path) -> None:
    _, session = make_class(content, ["q_locate"])
    at = join_as(open_page("join"), session.join_code, "A" * 10_000)
    assert "far too long" in at.error[0].value and "24" in at.error[0].value
    assert "token" not in at.query_params


def test_a_duplicate_nickname_ignoring_case_is_refused(content: Path) -> None:
    store, session = make_class(content, ["q_locate"])
    live.join(store, session.join_code, "Ana", datetime.now(UTC))
    at = join_as(open_page("join"), session.join_code, "  aNA ")
    assert "already taken" in at.error[0].value and "ignoring case" in at.error[0].value
    at = join_as(open_page("join"), session.join_code, "<b>" * 3)
    assert not at.error


def test_a_hostile_join_code_is_refused_without_rendering_it(content: Path) -> None:
    make_class(content, ["q_locate"])
    at = join_as(open_page("join"), "[a](b)", "Ana")
    assert at.error and "\\[" in at.error[0].value  # escaped for markdown, shown as typed


def test_join_answer_reload_and_reveal(content: Path) -> None:
    store, session = make_class(content, ["q_locate"])
    at = join_as(open_page("join", code=session.join_code), session.join_code, "Ana")
    token = at.query_params["token"]
    assert "You're in" in at.success[0].value
    live.open_next(store, session.id, datetime.now(UTC))
    at.run()
    view = load_rendered_view("view_a_right", "female", content / "atlas")
    x, y = view.items["site_a"].points_px[0]
    at.session_state["join_pb_0"] = {
        "click": {"x": float(x), "y": float(y) + 20.0, "pointer": "touch", "seq": 0, "n": 1}
    }
    at.run()
    assert at.session_state[f"join_pins_{session.id}_0"] == [(float(x), float(y) + 20.0)]
    at.button(key="join_send_0").click().run()
    assert not at.exception, at.exception
    assert "Answer received" in at.success[0].value
    # A reload (a new browser session) with the token is the same player, still answered.
    again = open_page("join", token=token)
    assert "Answer received" in again.success[0].value
    assert not again.button(key="join_send_0") if "join_send_0" in [b.key for b in again.button] else True
    live.close_now(store, session.id, datetime.now(UTC))
    live.reveal_answer(store, session.id, datetime.now(UTC))
    again.run()
    text = all_text(again)
    assert "+" in again.warning[0].value and "points" in again.warning[0].value
    assert any(m.label == "Your rank" and m.value == "1 of 1" for m in again.metric)
    assert any(m.label == "Your distance" and m.value == "2.0 cm" for m in again.metric)
    assert "distal" in text


def test_an_invalid_token_shows_the_join_form(content: Path) -> None:
    at = open_page("join", token="nope")
    assert "no longer valid" in at.error[0].value
    assert at.text_input(key="join_nick")


def test_a_second_submit_from_another_tab_keeps_the_first_answer_and_says_so(content: Path) -> None:
    """The same player in two tabs (or a double tap racing a slow network) submits twice."""
    store, session = make_class(content, ["q_locate"])
    first = join_as(open_page("join", code=session.join_code), session.join_code, "Ana")
    token = first.query_params["token"]
    live.open_next(store, session.id, datetime.now(UTC))
    first.run()
    second = open_page("join", token=token)
    view = load_rendered_view("view_a_right", "female", content / "atlas")
    x, y = (float(v) for v in view.items["site_a"].points_px[0])
    for at, dy in ((first, 0.0), (second, 30.0)):
        at.session_state["join_pb_0"] = {"click": {"x": x, "y": y + dy, "pointer": "touch", "seq": 0, "n": 1}}
        at.run()
        assert at.button(key="join_send_0") and not at.button(key="join_send_0").disabled
    first.button(key="join_send_0").click().run()
    second.button(key="join_send_0").click().run()
    assert not second.exception, second.exception
    assert any("Already received: your first answer counts" in i.value for i in second.info)
    assert "Answer received" in second.success[0].value
    stored = store.list_answers(session.id, 0)
    assert len(stored) == 1 and stored[0].pins == [[x, y]]  # the first tab's pin, once


def test_the_phone_keeps_its_player_and_its_unsent_pins(content: Path) -> None:
    store, session = make_class(content, ["q_locate"])
    at = join_as(open_page("join", code=session.join_code), session.join_code, "Ana")
    token = at.query_params["token"]
    live.open_next(store, session.id, datetime.now(UTC))
    at.run()
    at.session_state["join_pb_0"] = {"click": {"x": 40.0, "y": 50.0, "pointer": "touch", "seq": 0, "n": 1}}
    at.run()
    assert at.query_params["pins"] == "0:40,50"
    # Navigating away drops the URL's token; the session still knows the player.
    at.query_params.pop("token")
    at.run()
    assert at.query_params["token"] == token and "Ana · class" in all_text(at)
    # A reload is a new session: the token and the unsent pin come back from the URL.
    again = open_page("join", token=token, pins="0:40,50")
    assert again.session_state[f"join_pins_{session.id}_0"] == [(40.0, 50.0)]
    assert not again.button(key="join_send_0").disabled
    stale = open_page("join", token=token, pins="3:1,1")  # pins of another question are ignored
    assert stale.session_state[f"join_pins_{session.id}_0"] == []
    again.button(key="join_send_0").click().run()
    assert "pins" not in again.query_params and store.list_answers(session.id, 0)


def test_a_finished_class_reruns_and_the_phone_shows_its_own_answers(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    store, session = make_class(content, ["q_clinical"])
    ana = live.join(store, session.join_code, "Ana", datetime.now(UTC))[1]
    for step in (live.open_next, live.close_now, live.reveal_answer, live.finish_class):
        step(store, session.id, datetime.now(UTC))
    phone = open_page("join", token=ana.token)
    assert "Not answered" in all_text(phone) and "Class finished" in all_text(phone)
    at = open_page("host", session=session.id)
    at.text_input(key="host_key_input").set_value(KEY)
    at.button(key="host_login_go").click().run()
    at.button(key="host_rerun").click().run()
    assert not at.exception, at.exception
    new_id = at.query_params["session"]
    assert new_id != session.id and store.get_session(new_id).question_ids == ("q_clinical",)
    assert at.button(key="host_start")  # the new class waits in its lobby
