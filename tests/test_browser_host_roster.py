"""The host's players panel stays open while the host works in it (Chromium).

A message the host page shows once (a rename's "Renamed to ...", a refused or raced control)
used to be drawn above everything else only on the run that had it. Its arrival and its going
shifted the page, Streamlit drew the panel as a new element, and the open panel snapped shut:
after a rename the host had to open it again, and in one CI run the panel most likely closed this
way between the host picking a player and pressing Remove. Any interaction in the panel now keeps it
drawn open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import AppServer, need_browser, start_app, wait_idle
from tests.test_live_support import (
    LAPTOP,
    PHONE,
    host_login,
    join_in_browser,
    make_class,
    new_context,
    write_content,
)
from trainer.store import LiveSession, open_store

pytestmark = pytest.mark.browser


@pytest.fixture
def lobby(tmp_path: Path) -> Iterator[tuple[AppServer, dict[str, str], LiveSession]]:
    """A running app and a class in its lobby, nobody joined yet."""
    need_browser()
    env = write_content(tmp_path)
    server = start_app(tmp_path, env)
    try:
        yield server, env, make_class(open_store(data_dir=tmp_path / "data"), env, ["live_one", "live_two"])
    finally:
        server.stop()


def open_host(chromium: Any, server: AppServer, env: dict[str, str], session: LiveSession) -> Any:
    host = new_context(chromium, env, LAPTOP).new_page()
    host_login(host, f"{server.url}/host?session={session.id}")
    return host


def join(chromium: Any, server: AppServer, env: dict[str, str], session: LiveSession, nickname: str) -> None:
    join_in_browser(new_context(chromium, env, PHONE).new_page(), server.url, session.join_code, nickname)


def pick_player(host: Any, nickname: str) -> None:
    box = host.locator('[data-testid="stSelectbox"]').filter(has_text="Player")
    box.locator("input").click()
    host.keyboard.type(nickname)
    host.keyboard.press("Enter")
    wait_idle(host)


def test_the_players_panel_stays_open_through_a_rename_and_the_next_pick(lobby: Any, chromium: Any) -> None:
    server, env, session = lobby
    for name in ("Cy", "Dee"):
        join(chromium, server, env, session, name)
    host = open_host(chromium, server, env, session)
    host.get_by_text("Players (2): rename or remove").click()
    wait_idle(host)
    remove = host.get_by_role("button", name="Remove", exact=True)
    remove.wait_for(timeout=10000)

    pick_player(host, "Cy")
    host.get_by_label("New name").fill("Cyd")
    host.get_by_role("button", name="Rename", exact=True).click()
    wait_idle(host)
    host.get_by_text("Renamed to Cyd.").wait_for(timeout=10000)
    assert remove.is_visible(), "the players panel closed when the rename's message appeared"
    picker = host.locator('[data-testid="stSelectbox"]').filter(has_text="Player").locator("input")
    assert picker.input_value() == "Cyd", "the picker still shows the old name after the rename"

    pick_player(host, "Dee")  # the next run no longer has the message
    assert not host.get_by_text("Renamed to Cyd.").is_visible()
    assert remove.is_visible(), "the players panel closed when the rename's message went away"


def test_the_players_panel_appears_in_the_lobby_when_the_first_player_joins(
    lobby: Any, chromium: Any
) -> None:
    """The host opens the lobby before anyone has joined; the panel must come without a click."""
    server, env, session = lobby
    host = open_host(chromium, server, env, session)
    host.get_by_text(session.join_code).first.wait_for(timeout=10000)
    assert host.get_by_text("rename or remove").count() == 0  # nobody to rename yet
    join(chromium, server, env, session, "Cy")
    host.get_by_text("Players (1): rename or remove").wait_for(timeout=15000)
