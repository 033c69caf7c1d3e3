"""Issue 11, security and reliability, through the real pages (AppTest):

* 13: the host-key gate throttles wrong keys, logs them (never the key) and lets the right
  key in after the wait, with the counters in the database (a second browser session waits too);
* 14: a read-only database on join, malformed taps, a deeply nested bank upload and a
  malformed import file end in a plain message, never a traceback, SQL or a token;
* 15: the host sets the player cap, the lobby shows it, joins beyond it (and a browser
  session joining again and again) are refused;
* 16: no file uploader on the author or photo page before the host key;
* 18: the host page warns when it is served over plain HTTP to the network;
* 21: look-alike and invisible nicknames are refused on the join page.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from tests.readonly_db import read_only
from tests.test_live_apptest import KEY, all_text, join_as, make_class, open_page
from trainer.live import service as live
from trainer.rules.classroom import MAX_JOINS_PER_BROWSER_SESSION
from trainer.store import open_store
from trainer.store.schema import auth_throttle


@pytest.fixture()
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A synthetic atlas and bank, a fresh data folder, no host key (as in test_live_apptest)."""
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(atlas_root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    for name in ("TRAINER_DATABASE_URL", "TRAINER_HOST_KEY", "TRAINER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


LEAKS = ("Traceback", "INSERT", "[SQL", "parameters", "sqlite3", "OperationalError", 'File "')


def unescaped(md: str) -> str:
    """Text as the reader sees it: error boxes escape markdown punctuation with backslashes."""
    return re.sub(r"\\(.)", r"\1", md)


def browser_text(at: AppTest) -> str:
    """Everything the page put on screen (as read), including any exception element."""
    parts = [all_text(at), *(str(e.value) for e in at.exception), *(c.value for c in at.code)]
    return unescaped("\n".join(parts))


def login(at: AppTest, key: str, prefix: str = "host") -> str:
    """Type a key into the gate; return the first error shown ('' if none)."""
    at.text_input(key=f"{prefix}_key_input").set_value(key)
    at.button(key=f"{prefix}_login_go").click().run()
    assert not at.exception, at.exception
    return unescaped(at.error[0].value) if at.error else ""


def logged_in(at: AppTest) -> bool:
    return bool(at.session_state["host_ok"]) if "host_ok" in at.session_state else False


# ---------------------------------------------------------------- 13: host key brute force


def test_wrong_host_keys_are_throttled_and_logged_and_the_right_key_works_after_the_wait(
    content: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    caplog.set_level(logging.WARNING, logger="trainer.auth")
    at = open_page("host")
    for i in range(5):
        assert login(at, f"guess-{i}-zebra") == "That is not the host key."
    assert login(at, "guess-5-zebra") == "That is not the host key. Wait 1 s before the next try."
    # A guesser who went on would be at twelve failures by now: 64 s between tries. (Set in the
    # database rather than waited for; a 1 s wait would make the checks below a race.)
    client = auth_throttle.c.scope == "host-key:client:loopback"
    with open_store(data_dir=content / "data") as store:
        with store.engine.begin() as conn:
            conn.execute(
                update(auth_throttle).where(client).values(failures=12, last_failure_at=datetime.now(UTC))
            )
    # Inside the wait even the right key is refused unseen, in this browser session…
    assert "Too many wrong keys. Wait 6" in login(at, KEY)
    assert not logged_in(at)
    # …and in a fresh one (the counters are in the database, not in the session).
    other = open_page("host")
    assert "Too many wrong keys" in login(other, KEY)
    assert not logged_in(other)

    # The wait passes (moved on in the database, as the clock would).
    with open_store(data_dir=content / "data") as store:
        with store.engine.begin() as conn:
            conn.execute(
                update(auth_throttle).values(last_failure_at=datetime.now(UTC) - timedelta(seconds=65))
            )
    assert login(at, KEY) == ""
    assert logged_in(at)
    assert at.text_input(key="host_title").value == "Live class"  # the setup form

    wrong = [r for r in caplog.records if r.getMessage().startswith("Wrong host key")]
    refused = [r for r in caplog.records if "refused unseen" in r.getMessage()]
    assert len(wrong) == 6 and len(refused) == 2
    assert "6 failures" in wrong[-1].getMessage() and "host-key:client:loopback" in wrong[-1].getMessage()
    assert "must wait 6" in refused[0].getMessage()
    assert "zebra" not in caplog.text and KEY not in caplog.text


# ---------------------------------------------------------------- 14: no tracebacks


def test_joining_with_a_read_only_database_says_so_plainly(
    content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, session = make_class(content, ["q_locate"])
    store.close()
    caplog.set_level(logging.ERROR, logger="trainer.ui")
    with read_only(f"sqlite:///{content / 'data' / 'trainer.sqlite3'}"):
        at = join_as(open_page("join"), session.join_code, "Ana")
    shown = browser_text(at)
    assert "You could not join just now" in shown and "nothing was saved" in shown
    for leak in (*LEAKS, "players", session.id):
        assert leak not in shown, leak
    assert "token" not in at.query_params
    # The detail, SQL included, is in the server's log.
    assert "attempt to write a readonly database" in caplog.text and "INSERT INTO players" in caplog.text


@pytest.mark.parametrize(
    "click",
    [
        {"x": "abc", "y": 1},
        {"x": None, "y": None},
        {"x": [1, 2], "y": {"a": 1}},
        {"x": float("nan"), "y": 3},
        {"x": float("inf"), "y": 3},
        {"x": 1e300, "y": 2},
        {"x": True, "y": False},
        {"y": 3},
        "tap",
        [10, 20],
        None,
    ],
)
def test_malformed_tap_values_are_ignored_without_an_error(content: Path, click: object) -> None:
    store, session = make_class(content, ["q_locate"])
    live.open_next(store, session.id, datetime.now(UTC))
    at = join_as(open_page("join"), session.join_code, "Ana")
    assert at.button(key="join_send_0").disabled
    at.session_state["join_pb_0"] = {"click": click}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state[f"join_pins_{session.id}_0"] == []
    assert at.button(key="join_send_0").disabled  # no pin was placed
    # A well-formed tap still works afterwards.
    at.session_state["join_pb_0"] = {"click": {"x": 40.0, "y": 50.0, "seq": 0, "n": 1}}
    at.run()
    assert at.session_state[f"join_pins_{session.id}_0"] == [(40.0, 50.0)]


def test_a_deeply_nested_bank_upload_is_reported_not_crashed_on(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    at = open_page("author")
    login(at, KEY, prefix="author")
    assert logged_in(at)
    at.file_uploader(key="au_upload").upload("deep.yaml", b"[" * 20_000 + b"]" * 20_000, "application/x-yaml")
    at.run()
    assert not at.exception, at.exception
    shown = browser_text(at)
    assert "deep.yaml: -: -: YAML nested too deeply to read" in shown
    for leak in (*LEAKS, "RecursionError"):
        assert leak not in shown, leak


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nests lists or objects too deeply"),
        (
            b'{"format": "nerve-mapping-trainer/learner", "learner": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
            "nests lists or objects too deeply",
        ),
    ],
)
def test_a_malformed_import_file_gets_a_plain_message(
    content: Path, payload: bytes, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="trainer.ui")
    at = open_page("progress")
    at.file_uploader(key="import_file").upload("profile.json", payload, "application/json")
    at.run()
    at.button(key="import_go").click().run()
    assert not at.exception, at.exception
    shown = browser_text(at)
    assert said in shown  # the import's own check names the problem; nothing reaches the page boundary
    for leak in (*LEAKS, "RecursionError"):
        assert leak not in shown, leak


# ---------------------------------------------------------------- 15: fake-player flood


def test_the_host_sets_the_player_cap_and_joins_beyond_it_are_refused(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    at = open_page("host")
    login(at, KEY)
    assert at.number_input(key="host_max_players").value == 300
    at.multiselect(key="host_pick").set_value(["q_locate"])
    at.number_input(key="host_max_players").set_value(2)
    at.button(key="host_create").click().run()
    assert not at.exception, at.exception
    store = open_store(data_dir=content / "data")
    session = store.list_sessions()[0]
    assert session.settings["max_players"] == 2
    assert any(m.value == "0 / 2" for m in at.metric)
    for name in ("Ana", "Bo"):
        live.join(store, session.join_code, name, datetime.now(UTC))
    phone = join_as(open_page("join"), session.join_code, "Cy")
    assert "This class is full (2 players)" in unescaped(phone.error[0].value)
    assert "token" not in phone.query_params
    at.run()
    assert any(m.value == "2 / 2" for m in at.metric)
    assert any("The class is full" in w.value for w in at.warning)


def test_one_browser_session_cannot_join_again_and_again(content: Path) -> None:
    store, session = make_class(content, ["q_locate"])
    at = open_page("join")
    for i in range(MAX_JOINS_PER_BROWSER_SESSION):
        join_as(at, session.join_code, f"Bot {i}")
        assert at.query_params["token"]
        at.button(key="join_leave").click().run()  # what a script does to get the form back
    join_as(at, session.join_code, "Bot again")
    assert "already joined 5 times" in unescaped(at.error[0].value)
    assert len(store.list_players(session.id)) == MAX_JOINS_PER_BROWSER_SESSION


# ---------------------------------------------------------------- 16: uploads


@pytest.mark.parametrize(
    ("page", "uploader", "prefix"), [("author", "au_upload", "author"), ("photo", "ph_upload", "author")]
)
def test_no_file_uploader_before_the_host_key(
    content: Path, monkeypatch: pytest.MonkeyPatch, page: str, uploader: str, prefix: str
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    at = open_page(page)
    assert len(at.file_uploader) == 0
    login(at, KEY, prefix=prefix)
    assert logged_in(at)
    assert at.file_uploader(key=uploader)  # it is there once the key was typed


def test_no_file_uploader_when_no_host_key_is_configured(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINER_HOST_KEY", raising=False)
    for page in ("author", "photo"):
        at = open_page(page)
        assert len(at.file_uploader) == 0 and "no host key is configured" in at.error[0].value


# ---------------------------------------------------------------- 18: plain HTTP


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://192.168.1.20:8501/host", True),
        ("http://venue-laptop.local:8501/host", True),
        ("http://localhost:8501/host", False),
        ("http://127.0.0.1:8501/host", False),
        ("https://192.168.1.20/host", False),
    ],
)
def test_the_host_page_warns_when_served_over_plain_http_to_the_network(
    content: Path, monkeypatch: pytest.MonkeyPatch, url: str, warned: bool
) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", KEY)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=30)
    at.context = {"url": url}
    at.run()
    at.switch_page("trainer/ui/pages/host.py")
    at.run()
    assert not at.exception, at.exception
    before = any("plain HTTP" in w.value for w in at.warning)
    assert before is warned  # shown before the key is typed: that is when it matters most
    login(at, KEY)
    assert any("plain HTTP" in w.value for w in at.warning) is warned


# ---------------------------------------------------------------- 21: nicknames


@pytest.mark.parametrize("nick", ["\u0410lice", "AIice", "Alice\u3164", "\u200bALICE"])
def test_look_alike_nicknames_are_refused_on_the_join_page(content: Path, nick: str) -> None:
    store, session = make_class(content, ["q_locate"])
    live.join(store, session.join_code, "Alice", datetime.now(UTC))
    at = join_as(open_page("join"), session.join_code, nick)
    assert "already taken" in at.error[0].value and "look-alike letters" in at.error[0].value
    assert "token" not in at.query_params


@pytest.mark.parametrize("nick", ["\u3164", "\u3164\u3164\u3164", "\u2800 \u200b"])
def test_invisible_nicknames_are_refused_on_the_join_page(content: Path, nick: str) -> None:
    _, session = make_class(content, ["q_locate"])
    at = join_as(open_page("join"), session.join_code, nick)
    assert "invisible characters do not count" in unescaped(at.error[0].value)
    assert "token" not in at.query_params
