"""Profiles in a real Chromium: the selection follows create, switch and delete at once, and every
answer is stored under the profile the page shows (checked through the store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser import AppServer, wait_idle
from tests.test_browser_session import answer_current
from trainer.store import Learner, Store, open_store

pytestmark = pytest.mark.browser


def store_of(server: AppServer) -> Store:
    return open_store(data_dir=Path(server.env["TRAINER_DATA_DIR"]))


def learner_named(store: Store, name: str) -> Learner:
    return next(lr for lr in store.list_learners() if lr.display_name == name)


def sidebar_profile(page: Any) -> str:
    """The text the profile picker in the sidebar shows right now."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first
    return str(box.input_value())


def stored_keys(page: Any) -> list[str]:
    raw = page.evaluate("() => localStorage.getItem('trainer:profiles')")
    return [] if raw is None else list(json.loads(raw)["keys"])


def create_profile(page: Any, name: str) -> None:
    held_before = len(stored_keys(page))
    page.get_by_role("button", name="New profile").click()
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Create profile").click()
    # The browser's storage now holds one key more (the server sent it with the page that followed).
    page.wait_for_function(
        "n => { const r = localStorage.getItem('trainer:profiles'); return !!r && JSON.parse(r).keys.length === n; }",
        arg=held_before + 1,
        timeout=20000,
    )
    wait_idle(page)
    page.keyboard.press("Escape")  # close the popover if it is still open
    wait_idle(page)


def start_and_answer_one(page: Any) -> None:
    page.get_by_role("button", name="Start practice").click()
    wait_idle(page)
    page.get_by_text("Question 1 of").wait_for(timeout=20000)
    answer_current(page)


def go_to(page: Any, title: str) -> None:
    """Switch page through the sidebar (same browser session, as a learner does)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    wait_idle(page)


def test_a_new_profile_is_selected_at_once_and_gets_the_answers(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1200, "height": 1200})
    page = ctx.new_page()
    page.goto(app_server.url + "/practice")
    wait_idle(page)
    create_profile(page, "Alpha")
    assert sidebar_profile(page) == "Alpha"
    create_profile(page, "Bravo")
    assert sidebar_profile(page) == "Bravo"
    go_to(page, "Progress")  # the choice survives the browser's storage report and a page switch
    assert sidebar_profile(page) == "Bravo"
    go_to(page, "Practice")
    assert sidebar_profile(page) == "Bravo"

    start_and_answer_one(page)
    assert sidebar_profile(page) == "Bravo"
    with store_of(app_server) as store:
        alpha, bravo = learner_named(store, "Alpha"), learner_named(store, "Bravo")
        assert len(store.list_attempts(bravo.id)) == 1
        assert store.list_attempts(alpha.id) == []

    # Deleting Bravo leaves the page "without a profile" at once, in the picker and in what it does.
    go_to(page, "Progress")
    page.get_by_text("Delete this profile").click()
    page.get_by_label("Type the profile name to confirm").fill("Bravo")
    page.get_by_label("Type the profile name to confirm").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Delete profile").click()
    wait_idle(page)
    assert sidebar_profile(page) == "Study without a profile"
    page.locator(
        '[data-testid="stAlertContentInfo"]', has_text="You are studying without a profile"
    ).wait_for(timeout=20000)
    go_to(page, "Practice")
    assert sidebar_profile(page) == "Study without a profile"
    if page.get_by_role("button", name="End session").count():
        page.get_by_role("button", name="End session").click()
        wait_idle(page)
        page.get_by_role("button", name="Practise again").click()
        wait_idle(page)
    start_and_answer_one(page)
    with store_of(app_server) as store:
        assert [lr.display_name for lr in store.list_learners()] == ["Alpha"]
        assert store.list_attempts(learner_named(store, "Alpha").id) == []
        assert store.list_attempts(None) == []  # anonymous answers stay in the tab
    ctx.close()


def picker_options(page: Any) -> list[str]:
    """Open the sidebar's profile picker and read every option it offers."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10000)
    texts = [str(t).strip() for t in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def test_a_profile_is_seen_only_by_its_browser_and_moves_with_a_transfer_code(
    app_server: AppServer, chromium: Any
) -> None:
    name = "Secret Sam"
    ctx_a = chromium.new_context(viewport={"width": 1200, "height": 1200})
    a = ctx_a.new_page()
    a.goto(app_server.url + "/practice")
    wait_idle(a)
    create_profile(a, name)
    assert sidebar_profile(a) == name
    [key_a] = stored_keys(a)

    # Another browser, even with a single profile on the server: no name, no option, no log-in.
    ctx_b = chromium.new_context(viewport={"width": 1200, "height": 1200})
    b = ctx_b.new_page()
    frames: list[bytes] = []
    b.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode())),
    )
    for path in ("/practice", "/progress"):
        b.goto(app_server.url + path)
        wait_idle(b)
        b.wait_for_timeout(800)  # the storage component reports; the page reruns
        wait_idle(b)
        assert sidebar_profile(b) == "Study without a profile"
        assert picker_options(b) == ["Study without a profile"]
        assert name not in b.content()
    assert not any(name.encode() in f for f in frames)  # the name never reached this browser at all
    assert b.get_by_role("button", name="Delete profile").count() == 0

    # A wrong code is refused; the right one, typed on B, gives B the profile with a key of its own.
    go_to(a, "Progress")
    a.get_by_text("Use this profile on another device").click()
    a.get_by_role("button", name="Make a transfer code").click()
    wait_idle(a)
    code = a.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert len(code) == 9 and code[4] == "-"

    def redeem(typed: str) -> None:
        if not b.get_by_role("button", name="Add profile").is_visible():
            b.get_by_role("button", name="Profile from another device").click()
        b.get_by_label("Transfer code").fill(typed)
        b.get_by_role("button", name="Add profile").click()
        wait_idle(b)

    wrong = "2222" if code[5:] != "2222" else "3333"
    redeem(code[:5] + wrong)
    b.get_by_text("wrong, used or expired").first.wait_for(timeout=10000)
    b.keyboard.press("Escape")
    assert sidebar_profile(b) == "Study without a profile"
    redeem(code.lower())
    b.keyboard.press("Escape")
    wait_idle(b)
    assert sidebar_profile(b) == name
    [key_b] = stored_keys(b)
    assert key_b != key_a

    # B keeps it across visits without typing anything; no URL ever carried a key or an id.
    b.goto(app_server.url + "/progress")
    wait_idle(b)
    b.wait_for_timeout(800)
    wait_idle(b)
    assert sidebar_profile(b) == name
    with store_of(app_server) as store:
        sam = learner_named(store, name)
        assert store.count_learner_keys(sam.id) == 2
    for page, key in ((a, key_a), (b, key_b)):
        assert key not in page.url and sam.id not in page.url and "learner" not in page.url
    ctx_a.close()
    ctx_b.close()


def test_a_malformed_import_is_refused_on_the_page_and_stores_nothing(
    app_server: AppServer, chromium: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"format": "nerve-mapping-trainer/learner", "format_version": 1, '
        '"learner": {"id": "zz", "display_name": "Mallory", "created_at": "2025-01-01T00:00:00+00:00"}, '
        '"attempts": [{"id": "a1", "question_id": "q", "credit": NaN, "created_at": "2025-01-01T00:00:00"}], '
        '"review_cards": []}'
    )
    ctx = chromium.new_context(viewport={"width": 1200, "height": 1200})
    page = ctx.new_page()
    page.goto(app_server.url + "/progress")
    wait_idle(page)
    page.get_by_text("Import a profile from an exported file").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    wait_idle(page)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)
    page.locator('[data-testid="stAlert"]', has_text="Import refused: nothing was stored").first.wait_for(
        timeout=10000
    )
    text = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "attempts[0].credit: must be a number from 0 to 1, got NaN" in text
    assert "attempts[0].created_at: has no time zone" in text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert sidebar_profile(page) == "Study without a profile"
    with store_of(app_server) as store:
        assert not any(lr.display_name == "Mallory" for lr in store.list_learners())
    ctx.close()
