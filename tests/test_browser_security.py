"""Issue 11 security items through a real server and Chromium:

* 14: joining while the database is read-only shows a plain sentence; no traceback, SQL,
  parameters or token reaches the browser (the detail is in the server's log);
* 16: the server applies the upload limit of ``.streamlit/config.toml`` (the uploader says so);
* 18: the host page warns when the browser reached it over plain HTTP by a network name, and
  not on the laptop's own loopback address.

All traffic stays on loopback: the "network name" is mapped to 127.0.0.1 by Chromium's
host resolver rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, need_browser, start_app, wait_idle
from tests.readonly_db import read_only
from tests.test_live_support import HOST_KEY, LAPTOP, PHONE, new_context, page_text, write_content
from trainer.store import open_store

pytestmark = pytest.mark.browser

LEAKS = ("Traceback", "INSERT", "[SQL", "parameters", "sqlite3", "OperationalError", 'File "')


def test_joining_on_a_read_only_database_shows_no_traceback(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    with open_store(data_dir=tmp_path / "data") as store:
        session = store.create_session(
            title="Read-only class", host_key=HOST_KEY, question_ids=["live_one"], now=datetime.now(UTC)
        )
    with read_only(f"sqlite:///{tmp_path / 'data' / 'trainer.sqlite3'}"):
        server = start_app(tmp_path, env)
        try:
            ctx = new_context(chromium, env, PHONE)
            page = ctx.new_page()
            page.goto(f"{server.url}/join?code={session.join_code}")
            wait_idle(page)
            page.get_by_label("Your nickname").fill("Ana")
            page.get_by_role("button", name="Join").click()
            page.get_by_text("You could not join just now").wait_for(timeout=20000)
            wait_idle(page)
            dom = page_text(page)
            shown = page.inner_text("body")
            assert "nothing was saved" in shown
            for leak in (*LEAKS, session.id):
                assert leak not in dom, leak
            assert "token=" not in page.url
            ctx.close()
        finally:
            server.stop()
        log = server.log_path.read_text(errors="replace")
    assert "attempt to write a readonly database" in log and "INSERT INTO players" in log


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    need_browser()
    tmp = tmp_path_factory.mktemp("security")
    env = write_content(tmp)
    server = start_app(tmp, env)
    yield server, env
    server.stop()


def test_the_uploader_applies_the_configured_upload_limit(
    keyed_server: Any, chromium: Any, tmp_path: Path
) -> None:
    server, env = keyed_server
    ctx = new_context(chromium, env, LAPTOP)
    page = ctx.new_page()
    page.goto(f"{server.url}/progress")
    wait_idle(page)
    page.get_by_text("Import a profile from an exported file (JSON)").click()
    uploader = page.locator('[data-testid="stFileUploader"]')
    uploader.wait_for(timeout=20000)
    assert "15MB per file" in uploader.inner_text()
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (15 * 1024 * 1024 + 1))
    uploader.locator('input[type="file"]').set_input_files(str(big))
    page.get_by_text("15.0MB or smaller").wait_for(timeout=20000)
    ctx.close()


def test_the_host_page_warns_over_plain_http_to_a_network_name_only(keyed_server: Any, chromium: Any) -> None:
    server, env = keyed_server
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP venue-laptop.test 127.0.0.1"]
    # A second Chromium from the same Playwright, with the name mapped to loopback.
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        ctx = new_context(browser, env, LAPTOP)
        page = ctx.new_page()
        for url, warned in (
            (f"http://venue-laptop.test:{server.port}/host", True),
            (f"{server.url}/host", False),
        ):
            page.goto(url)
            wait_idle(page)
            page.get_by_label("Host key").wait_for(timeout=20000)
            assert ("served over plain HTTP to the network" in page.inner_text("body")) is warned, url
        # Over the network name, the warning stays after logging in (on the projector).
        page.goto(f"http://venue-laptop.test:{server.port}/host")
        wait_idle(page)
        page.get_by_label("Host key").fill(HOST_KEY)
        page.get_by_role("button", name="Open host controls").click()
        page.get_by_text("New class").wait_for(timeout=20000)
        assert "served over plain HTTP to the network" in page.inner_text("body")
        ctx.close()
    finally:
        browser.close()
