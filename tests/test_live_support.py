"""Shared helpers for the live-class browser tests (no tests here).

Content is synthetic (tests/atlas_factory.py: a flat 20 cm plane at 10 px/cm), so the tests do
not depend on the atlas being written concurrently. Its images are not under ``static/``, so
each browser context serves ``app/static/*.png`` from the synthetic atlas by request routing.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.browser import wait_idle
from tests.quiz_factory import q, write_bank
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.rules.classroom import LiveSettings
from trainer.store import LiveSession, Store

HOST_KEY = "test-host-key-123"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 1000}


def write_content(tmp: Path) -> dict[str, str]:
    """Synthetic atlas + a two-question live bank; returns the env for ``start_app``."""
    root = write_atlas(tmp / "atlas", good_atlas_data())
    bank = {
        "schema_version": 1,
        "bank": {"id": "live_bank", "title": "Live bank"},
        "questions": [
            q(
                "live_one",
                "locate",
                view="view_a",
                targets=["site_a"],
                prompt="Inject at the piercing point of nerve A",
            ),
            q(
                "live_two",
                "locate",
                view="view_a",
                targets=["site_a"],
                prompt="Again: where does nerve A pierce?",
            ),
        ],
    }
    write_bank(tmp / "quizzes", bank)
    return {
        "TRAINER_ATLAS_DIR": str(root),
        "TRAINER_QUIZ_DIR": str(tmp / "quizzes"),
        "TRAINER_HOST_KEY": HOST_KEY,
        # The repository is edited while tests run; a file watcher would reload pages mid-game.
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }


#: One question of every type a live class plays, in class order (tests/test_browser_live.py).
EVERY_TYPE: list[dict[str, Any]] = [
    q(
        "every_locate",
        "locate",
        view="view_a",
        targets=["site_a"],
        prompt="Inject at the piercing point of nerve A",
    ),
    q(
        "every_multi",
        "multi_site",
        view="view_a",
        targets=["site_a", "nerve_a"],
        prompt="Place a pin on site A and one on nerve A",
    ),
    q("every_trace", "trace", view="view_a", targets=["nerve_a"], prompt="Trace the course of nerve A"),
    q(
        "every_identify",
        "identify",
        view="view_a",
        targets=["nerve_a"],
        prompt="Which nerve is highlighted?",
        choices=[
            {"text": "Nerve A", "correct": True, "item": "nerve_a", "why": "It runs through site A."},
            {"text": "Nerve B"},
            {"text": "Nerve C"},
        ],
    ),
    q(
        "every_terr_tap",
        "territory",
        view="view_a",
        targets=["terr_a"],
        mode="tap",
        prompt="Tap inside the skin territory of nerve A",
    ),
    q(
        "every_terr_name",
        "territory",
        view="view_a",
        targets=["terr_a"],
        mode="name",
        prompt="Which nerve supplies the shaded skin?",
        choices=[
            {"text": "Nerve A", "correct": True, "item": "nerve_a"},
            {"text": "Nerve D"},
            {"text": "Nerve E"},
        ],
    ),
    q(
        "every_clinical",
        "clinical",
        prompt="Which solution does classic PIT inject?",
        choices=[
            {"text": "5% dextrose", "correct": True, "why": "Dextrose 5% in water."},
            {"text": "Saline 0.9%"},
            {"text": "Lidocaine 1%"},
        ],
    ),
    q(
        "every_clinical_multi",
        "clinical",
        multi_answer=True,
        prompt="Which two are contraindications?",
        choices=[
            {"text": "Local infection", "correct": True},
            {"text": "Corn allergy", "correct": True},
            {"text": "Knee pain"},
            {"text": "Age over 50"},
        ],
    ),
]


def write_every_type_content(tmp: Path) -> dict[str, str]:
    """Synthetic atlas + a bank with one question of every live type; returns the env."""
    env = write_content(tmp)
    write_bank(
        tmp / "quizzes",
        {"schema_version": 1, "bank": {"id": "live_bank", "title": "Every type"}, "questions": EVERY_TYPE},
    )
    return env


def content(env: dict[str, str]) -> tuple[Any, dict[str, Any], Path]:
    root = Path(env["TRAINER_ATLAS_DIR"])
    atlas = load_atlas(root)
    return atlas, {x.id: x for x in load_questions(atlas, [Path(env["TRAINER_QUIZ_DIR"])])}, root


def site_px(root: Path, view_id: str = "view_a_right") -> tuple[float, float]:
    x, y = load_rendered_view(view_id, "female", root).items["site_a"].points_px[0]
    return float(x), float(y)


def make_class(store: Store, env: dict[str, str], qids: list[str], time_limit_s: float = 60.0) -> LiveSession:
    atlas, questions, _ = content(env)
    return live.create_class(
        store,
        atlas,
        questions,
        title="Restart class",
        question_ids=qids,
        host_key=HOST_KEY,
        settings=LiveSettings(time_limit_s=time_limit_s, speed_bonus=False),
        side="right",
        body_type="female",
        now=datetime.now(UTC),
        rng=random.Random(),
    )


def new_context(browser: Any, env: dict[str, str], viewport: dict[str, int]) -> Any:
    """A browser context that serves the synthetic images at their static URLs."""
    images = Path(env["TRAINER_ATLAS_DIR"]) / "images"
    phone = viewport["width"] < 500
    # A laptop's browser is a window on a larger screen (so the page is not "full screen").
    screen = None if phone else {"width": viewport["width"] + 640, "height": viewport["height"] + 200}
    ctx = browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone, **({"screen": screen} if screen else {})
    )

    def serve(route: Any) -> None:
        name = route.request.url.rsplit("/", 1)[-1].split("?")[0]
        path = images / name
        if path.exists():
            route.fulfill(status=200, content_type="image/png", body=path.read_bytes())
        else:
            route.continue_()

    ctx.route(re.compile(r".*/app/static/.*\.png.*"), serve)
    return ctx


def capture_frames(page: Any) -> list[bytes]:
    frames: list[bytes] = []

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda p: frames.append(p if isinstance(p, bytes) else p.encode()))

    page.on("websocket", on_ws)
    return frames


def page_text(page: Any) -> str:
    """The DOM including the component shadow roots (where the pinboard's SVG lives)."""
    return str(
        page.evaluate(
            "() => { let s = document.documentElement.outerHTML;"
            " document.querySelectorAll('*').forEach(e => { if (e.shadowRoot) s += e.shadowRoot.innerHTML; }); return s; }"
        )
    )


def host_login(page: Any, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_label("Host key").fill(HOST_KEY)
    page.get_by_role("button", name="Open host controls").click()
    wait_idle(page)


def join_in_browser(page: Any, base: str, code: str, nick: str) -> str:
    """Join through the form; returns the player token from the URL."""
    page.goto(f"{base}/join?code={code}")
    wait_idle(page)
    page.get_by_label("Your nickname").fill(nick)
    page.get_by_role("button", name="Join").click()
    page.get_by_text("You're in").wait_for(timeout=20000)
    page.wait_for_function("() => location.search.includes('token=')")
    return str(page.evaluate("() => new URLSearchParams(location.search).get('token')"))


def wait_for_image(page: Any, timeout_ms: int = 20000) -> None:
    """Wait until the page shows exactly one loaded body view. Between two questions Streamlit
    keeps the previous question's element until the new run has drawn its own (CI once caught the
    last question's pin board beside the next one's picture); a second view that stayed would
    time out here."""
    page.wait_for_function(
        "() => { const all = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot)];"
        " const imgs = all.flatMap(r => [...r.querySelectorAll('img[alt=\"Body view\"]')]);"
        " return imgs.length === 1 && imgs[0].complete && imgs[0].naturalWidth > 0"
        " && imgs[0].getClientRects().length > 0; }",
        timeout=timeout_ms,
    )


def tap(page: Any, x_px: float, y_px: float, width_px: int = 200) -> None:
    """Tap at natural image pixels (move, wait ~120 ms, click: DESIGN.md §5)."""
    ready = "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Submit' && !b.disabled)"
    for attempt in range(3):
        box = page.locator('img[alt="Body view"]').bounding_box()
        scale = box["width"] / width_px
        cx, cy = box["x"] + x_px * scale, box["y"] + y_px * scale
        page.mouse.move(cx, cy)
        page.wait_for_timeout(120)
        page.mouse.click(cx, cy)
        try:
            page.wait_for_function(ready, timeout=6000)
            return
        except Exception:
            # A tap that lands while a poll's rerun replaces the page can be dropped; a learner
            # would tap again (a locate question's pin just moves), so the test does too.
            if attempt == 2:
                from tests.browser import screenshot

                screenshot(page, "live_tap_failed")
                raise


def submit(page: Any) -> None:
    page.get_by_role("button", name="Submit", exact=True).click()
    page.get_by_text("Answer received").wait_for(timeout=20000)
