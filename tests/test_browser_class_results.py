"""A finished class in Chromium, after the fact: the host reopens it from the history (each
question with every answer and its analytics, the CSV, the results link with its QR code), and
the learners open the results link: on the phone they played on it shows their own answers and
the reveals; another player's token shows that player's answers only; a phone that did not play
gets a sentence, and nothing shows before the class is finished."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser import need_browser, screenshot, start_app, wait_idle
from tests.quiz_factory import q, write_bank
from tests.test_live_support import (
    HOST_KEY,
    LAPTOP,
    PHONE,
    content,
    host_login,
    join_in_browser,
    new_context,
    page_text,
    site_px,
    write_content,
)
from trainer.live import results_page
from trainer.live import service as live
from trainer.rules.classroom import LiveSettings
from trainer.store import open_store

pytestmark = pytest.mark.browser


def _bank(tmp: Path) -> None:
    write_bank(
        tmp / "quizzes",
        {
            "schema_version": 1,
            "bank": {"id": "after", "title": "After class"},
            "questions": [
                q(
                    "after_pin",
                    "locate",
                    view="view_a",
                    targets=["site_a"],
                    prompt="Where does nerve A pierce?",
                ),
                q(
                    "after_choice",
                    "clinical",
                    prompt="Which fluid do you dilute in?",
                    choices=[{"text": "5% dextrose", "correct": True}, {"text": "Saline 0.9%"}],
                ),
            ],
        },
    )


def _text(page: Any) -> str:
    return str(page.evaluate("() => document.body.innerText"))


def test_host_reopens_a_class_and_each_learner_sees_only_their_results(tmp_path: Path, chromium: Any) -> None:
    need_browser()
    env = write_content(tmp_path)
    _bank(tmp_path)
    atlas, questions, root = content(env)
    x, y = site_px(root)
    server = start_app(tmp_path, env)
    store = open_store(data_dir=tmp_path / "data")
    try:
        session = live.create_class(
            store,
            atlas,
            questions,
            title="Ankle <i>clinic</i>",
            question_ids=["after_pin", "after_choice"],
            host_key=HOST_KEY,
            settings=LiveSettings(time_limit_s=300, speed_bonus=False),
            side="right",
            body_type="female",
            now=datetime.now(UTC),
        )
        code = session.join_code
        # Ana and Bo join on their phones (each phone keeps its own token of the class).
        ana_ctx, bo_ctx = new_context(chromium, env, PHONE), new_context(chromium, env, PHONE)
        ana, bo = ana_ctx.new_page(), bo_ctx.new_page()
        tokens = {
            "Ana": join_in_browser(ana, server.url, code, "Ana"),
            "Bo": join_in_browser(bo, server.url, code, "Bo"),
        }
        # They answer (through the service, as the phones' Submit does): Ana 2 cm distal and the
        # right option, Bo on the target and the wrong option.
        live.open_next(store, session.id, datetime.now(UTC))
        for name, pin in (("Ana", (x, y + 20)), ("Bo", (x, y))):
            live.submit(store, atlas, questions, session.id, tokens[name], [pin], datetime.now(UTC))
        live.close_now(store, session.id, datetime.now(UTC))
        live.reveal_answer(store, session.id, datetime.now(UTC))
        s = live.open_next(store, session.id, datetime.now(UTC))
        order = live.choice_order(s, 1, 2)
        for name, file_index in (("Ana", 0), ("Bo", 1)):
            live.submit(
                store,
                atlas,
                questions,
                session.id,
                tokens[name],
                [],
                datetime.now(UTC),
                choices=(order.index(file_index),),
                question_index=1,
            )
        live.close_now(store, session.id, datetime.now(UTC))
        live.reveal_answer(store, session.id, datetime.now(UTC))

        # Before the end the results link shows nothing of the answers.
        early = ana_ctx.new_page()
        early.goto(f"{server.url}/results?token={tokens['Ana']}")
        early.get_by_text("The class is not finished yet").wait_for(timeout=20000)
        assert "2.0 cm" not in _text(early) and "Where does nerve A pierce?" not in _text(early)
        early.close()
        live.finish_class(store, session.id, datetime.now(UTC))

        # -- the host reopens the class from the history
        host = new_context(chromium, env, LAPTOP).new_page()
        host_login(host, f"{server.url}/host")
        host.get_by_text("Your classes: resume one or review its results").click()
        host.get_by_role("button", name="Review", exact=True).first.click()
        host.get_by_text("Final results").wait_for(timeout=20000)
        wait_idle(host)
        shared = f"{server.url}/results?code={code}"
        host.get_by_text(shared).wait_for(timeout=20000)
        host.get_by_text("Scan for your results").wait_for(timeout=20000)  # the QR code's caption
        with host.expect_download() as dl:
            host.get_by_role("button", name="Download every answer (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) == 4 and {r["nickname"] for r in rows} == {"Ana", "Bo"}
        host.get_by_text("1. Where does nerve A pierce?").click()
        host.get_by_text("Median distance").wait_for(timeout=20000)
        assert host.get_by_text("1.0 cm").count() >= 1  # the median of 0 and 2 cm
        host.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=20000)
        host.get_by_text("2. Which fluid do you dilute in?").click()
        host.locator(".js-plotly-plot .bars").first.wait_for(timeout=20000)  # the choice bars
        assert host.get_by_text("Correct").count() >= 2
        screenshot(host, "live_host_review")

        # -- Ana scans the shared link on her phone: her own answers and the reveals
        mine = ana_ctx.new_page()
        mine.goto(shared)
        mine.get_by_text("Ana · class").wait_for(timeout=20000)
        mine.get_by_text("Where does nerve A pierce?").wait_for(timeout=20000)
        # The page arrives element by element: read it once the run has finished (CI once read it
        # between the question's title and its result lines).
        mine.get_by_text("Rank 1 of 2").wait_for(timeout=20000)
        wait_idle(mine)
        text = _text(mine)
        assert "2.0 cm from the target" in text and "Rank 1 of 2" in text
        assert "Bo" not in text and "0.0 cm from the target" not in text
        your = mine.locator('[data-testid="stMarkdownContainer"]').filter(has_text="your answer")
        assert [t for t in your.all_inner_texts() if "5% dextrose" in t] and not [
            t for t in your.all_inner_texts() if "Saline" in t
        ]
        # The title the host typed is shown literally, never as HTML.
        assert mine.locator("i", has_text="clinic").count() == 0
        # A learner's page offers no navigation: no sidebar, no button to open one.
        for testid in ("stSidebar", "stExpandSidebarButton"):
            assert not mine.locator(f'[data-testid="{testid}"]').first.is_visible(), testid
        screenshot(mine, "live_phone_results")

        # -- Bo's token (his own link) shows Bo's answers, never Ana's
        theirs = new_context(chromium, env, PHONE).new_page()
        theirs.goto(f"{server.url}/results?token={tokens['Bo']}")
        theirs.get_by_text("Bo · class").wait_for(timeout=20000)
        theirs.get_by_text("Which fluid do you dilute in?").wait_for(timeout=20000)
        theirs.get_by_text("0.0 cm from the target").wait_for(timeout=20000)
        wait_idle(theirs)
        text = page_text(theirs)
        assert "0.0 cm from the target" in text and "2.0 cm from the target" not in text
        assert "Ana" not in text and tokens["Ana"] not in text
        your = theirs.locator('[data-testid="stMarkdownContainer"]').filter(has_text="your answer")
        assert [t for t in your.all_inner_texts() if "Saline" in t]
        theirs.context.close()

        # -- a phone that did not play: a sentence, no results
        stranger = new_context(chromium, env, PHONE).new_page()
        stranger.goto(shared)
        stranger.get_by_text(results_page.NOT_ON_THIS_DEVICE[:40]).wait_for(timeout=20000)
        assert "Where does nerve A pierce?" not in _text(stranger)
        stranger.context.close()

        # -- Ana's class page links to the same results (her personal link); Leave makes the
        # phone forget her, so the shared link no longer finds her there.
        ana.get_by_text("See all your answers and the reveals").wait_for(timeout=20000)
        ana.get_by_role("button", name="Leave").click()
        ana.get_by_label("Your nickname").wait_for(timeout=20000)
        wait_idle(ana)
        mine.goto(shared)
        mine.get_by_text(results_page.NOT_ON_THIS_DEVICE[:40]).wait_for(timeout=20000)
        ana_ctx.close()
        bo_ctx.close()
    finally:
        server.stop()
