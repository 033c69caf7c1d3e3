"""Two app processes, one database: the host on server A and the players on server B run one
question to the reveal. On PostgreSQL (as across machines) and on SQLite in WAL mode (several
processes on one machine sharing a data folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app
from tests.test_live_support import (
    LAPTOP,
    PHONE,
    host_login,
    join_in_browser,
    new_context,
    site_px,
    submit,
    tap,
    wait_for_image,
    write_content,
)
from trainer.store import open_store

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_host_on_one_server_players_on_another(
    backend: str, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> None:
    need_browser()
    env = write_content(tmp_path)
    if backend == "postgresql":
        db_url = request.getfixturevalue("pg_database_url")
        env["TRAINER_DATABASE_URL"] = db_url
        store = open_store(url=db_url)
    else:
        env["TRAINER_DATA_DIR"] = str(tmp_path / "shared-data")
        store = open_store(data_dir=tmp_path / "shared-data")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    server_a = start_app(tmp_path / "a", env)
    server_b = start_app(tmp_path / "b", env)
    x, y = site_px(Path(env["TRAINER_ATLAS_DIR"]))
    try:
        hctx = new_context(chromium, env, LAPTOP)
        host = hctx.new_page()
        host_login(host, f"{server_a.url}/host")
        host.get_by_label("Seconds per question").fill("120")
        host.get_by_role("button", name="Create class").click()
        host.get_by_text("Scan to join").wait_for(timeout=20000)
        sid = str(host.evaluate("() => new URLSearchParams(location.search).get('session')"))
        session = store.get_session(sid)

        phones = []
        for nick in ("Ana", "Bo"):
            ctx = new_context(chromium, env, PHONE)
            page = ctx.new_page()
            join_in_browser(page, server_b.url, session.join_code, nick)
            phones.append((ctx, page))
        host.wait_for_function(  # server A's lobby sees server B's joins
            "() => [...document.querySelectorAll('[data-testid=\"stText\"]')].some(e => e.innerText.includes('Bo'))",
            timeout=10000,
        )

        host.get_by_role("button", name="Start the first question").click()
        for _, page in phones:
            wait_for_image(page)  # server B noticed server A's transition by polling the database
        tap(phones[0][1], x, y)
        submit(phones[0][1])
        tap(phones[1][1], x, y + 20)
        submit(phones[1][1])
        host.get_by_text("2 / 2").wait_for(timeout=10000)
        host.get_by_text("2 answers").wait_for(timeout=10000)
        host.get_by_role("button", name="Close now").click()
        host.get_by_role("button", name="Reveal the answer").click()
        host.get_by_text("Mean error").wait_for(timeout=20000)
        for _, page in phones:
            page.get_by_text("Your rank").wait_for(timeout=20000)
        assert phones[0][1].get_by_text("1 of 2", exact=True).count() == 1
        screenshot(phones[1][1], f"live_two_servers_{backend}_phone_reveal")
        assert store.count_answers(sid, 0) == 2
        for ctx, _ in phones:
            ctx.close()
        hctx.close()
    finally:
        server_a.stop()
        server_b.stop()
        store.close()
