"""Practice in a real Chromium: tap at a site's projected pixel, then 2 cm away; no answer leaks."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from tests.browser import AppServer, screenshot, wait_idle
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.quiz.bank import load_questions
from trainer.settings import quiz_dir

pytestmark = pytest.mark.browser


def locate_question() -> tuple[str, str, str, float]:
    """A real locate question whose target is a site: (question id, view id, site id, partial-credit cm)."""
    atlas = load_atlas()
    for q in load_questions(atlas, [quiz_dir()]):
        if q.type == "locate" and q.targets[0] in atlas.sites and q.view:
            view_id = q.view if q.view in atlas.views else f"{q.view}_right"
            return q.id, view_id, q.targets[0], (q.tolerance_cm + q.zero_cm) / 2
    pytest.fail("the banks have no locate question with a site target")


def open_question(chromium: Any, url: str) -> tuple[Any, Any, list[bytes]]:
    ctx = chromium.new_context(viewport={"width": 1100, "height": 1300})
    page = ctx.new_page()
    frames: list[bytes] = []

    def on_ws(ws: Any) -> None:
        ws.on(
            "framereceived",
            lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode()),
        )

    page.on("websocket", on_ws)
    page.goto(url)
    wait_idle(page)
    page.locator('img[alt="Body view"]').wait_for(state="visible", timeout=20000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && [...e.shadowRoot.querySelectorAll('img')]"
        ".some(i => i.alt === 'Body view' && i.complete && i.naturalWidth > 0))"
    )
    return ctx, page, frames


def tap_at(page: Any, x_px: float, y_px: float, width_px: int) -> None:
    box = page.locator('img[alt="Body view"]').bounding_box()
    scale = box["width"] / width_px
    cx, cy = box["x"] + x_px * scale, box["y"] + y_px * scale
    page.mouse.move(cx, cy)
    page.wait_for_timeout(120)
    page.mouse.click(cx, cy)
    page.get_by_role("button", name="Submit answer").wait_for(state="visible")
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Submit answer') && !b.disabled)"
    )


def submit_and_read(page: Any) -> str:
    page.get_by_role("button", name="Submit answer").click()
    alert = page.locator('[data-testid="stAlert"]').first
    alert.wait_for(timeout=20000)
    return str(alert.inner_text())


def coordinate_strings(values: np.ndarray) -> list[bytes]:
    out = []
    for x, y in values.reshape(-1, 2):
        out += [f"{x:.1f}".encode(), f"{y:.1f}".encode()]
    return out


def test_locate_full_credit_then_partial_with_direction_and_no_leak(
    app_server: AppServer, chromium: Any
) -> None:
    qid, view_id, site_id, partial_cm = locate_question()
    rv = load_rendered_view(view_id, "female")
    x, y = (float(v) for v in rv.items[site_id].points_px[0])
    side = view_id.rsplit("_", 1)[1]

    ctx, page, frames = open_question(
        chromium, f"{app_server.url}/practice?questions={qid}&side={side}&body=female"
    )
    # Before answering: neither the DOM nor anything the server sent holds the target's position.
    html_before = page.evaluate(
        "() => { let s = document.documentElement.outerHTML;"
        " document.querySelectorAll('*').forEach(e => { if (e.shadowRoot) s += e.shadowRoot.innerHTML; }); return s; }"
    )
    received = b"".join(frames)
    for item_id, item in rv.items.items():
        if item.kind in ("site", "nerve") and item_id == site_id:
            for token in coordinate_strings(item.points_px):
                assert token not in html_before.encode(), (
                    f"target coordinate {token!r} in the DOM before the answer"
                )
            pair = f"{x:.1f},{y:.1f}".encode()
            assert pair not in received
    assert site_id.encode() not in received, "the target id reached the browser before the answer"
    assert b"points_px" not in received and b"anchors_cm" not in received
    overlay_shapes = page.evaluate(
        "() => { let n = 0; document.querySelectorAll('*').forEach(e => { const r = e.shadowRoot || e;"
        " r.querySelectorAll && r.querySelectorAll('.pb-wrap svg polyline, .pb-wrap svg line').forEach(() => n++); }); return n; }"
    )
    assert overlay_shapes == 0
    screenshot(page, "practice_before_answer")

    tap_at(page, x, y, rv.width_px)
    text = submit_and_read(page)
    assert text.startswith("100%") and "Within tolerance" in text, text
    screenshot(page, "practice_full_credit")
    ctx.close()

    # Halfway between the question's tolerance and zero distance, proximally along the view's
    # anatomical axis: partial credit and the word "proximal".
    dx, dy = rv.axes_px_per_cm["proximal"]
    ctx, page, _ = open_question(
        chromium, f"{app_server.url}/practice?questions={qid}&side={side}&body=female"
    )
    tap_at(page, x + partial_cm * dx, y + partial_cm * dy, rv.width_px)
    text = submit_and_read(page)
    pct = int(re.match(r"(\d+)%", text).group(1))  # type: ignore[union-attr]
    assert 0 < pct < 100, text
    assert "proximal" in text, text
    assert re.search(r"\d\.\d cm", text)
    # After the answer the reveal overlay draws the target and the error arrow.
    page.wait_for_function(
        "() => { let n = 0; document.querySelectorAll('*').forEach(e => { const r = e.shadowRoot;"
        " if (r) r.querySelectorAll('.pb-wrap svg line').forEach(() => n++); }); return n > 0; }"
    )
    screenshot(page, "practice_partial_credit")
    ctx.close()
