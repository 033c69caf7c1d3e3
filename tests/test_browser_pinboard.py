"""Precise pins in a real Chromium: the loupe on a touch phone, arrow-key nudging, fitting the screen."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.browser import AppServer, screenshot, wait_idle
from tests.test_browser_practice import locate_question
from trainer.atlas.rendered import load_rendered_view

pytestmark = pytest.mark.browser

SERVER_PINS = """() => { const out = [];
  document.querySelectorAll('*').forEach(e => { const r = e.shadowRoot;
    if (r) r.querySelectorAll('.pb-wrap svg circle.pb-pin:not(.pb-pending)').forEach(c =>
      out.push([parseFloat(c.getAttribute('cx')), parseFloat(c.getAttribute('cy'))])); });
  return out; }"""


def open_practice(chromium: Any, url: str, **ctx_args: Any) -> tuple[Any, Any]:
    ctx = chromium.new_context(**ctx_args)
    page = ctx.new_page()
    page.goto(url)
    wait_idle(page)
    page.locator('img[alt="Body view"]').wait_for(state="visible", timeout=20000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && [...e.shadowRoot.querySelectorAll('img')]"
        ".some(i => i.alt === 'Body view' && i.complete && i.naturalWidth > 0))"
    )
    return ctx, page


def server_pins(page: Any) -> list[list[float]]:
    return list(page.evaluate(SERVER_PINS))


def wait_server_pin(page: Any, x: float, y: float, tol_px: float) -> list[float]:
    """Wait until the pin drawn from the server's data (not the pending one) is at (x, y)."""
    page.wait_for_function(
        "([x, y, t]) => { const out = []; document.querySelectorAll('*').forEach(e => { const r = e.shadowRoot;"
        " if (r) r.querySelectorAll('.pb-wrap svg circle.pb-pin:not(.pb-pending)').forEach(c =>"
        " out.push([parseFloat(c.getAttribute('cx')), parseFloat(c.getAttribute('cy'))])); });"
        " return out.length === 1 && Math.hypot(out[0][0] - x, out[0][1] - y) <= t; }",
        arg=[x, y, tol_px],
        timeout=20000,
    )
    (pin,) = server_pins(page)
    return pin


def screen_of(page: Any, x_px: float, y_px: float, width_px: int) -> tuple[float, float]:
    box = page.locator('img[alt="Body view"]').bounding_box()
    scale = box["width"] / width_px
    return box["x"] + x_px * scale, box["y"] + y_px * scale


def test_a_phone_places_a_pin_within_0_3_cm_with_the_loupe(app_server: AppServer, chromium: Any) -> None:
    qid, view_id, site_id, _ = locate_question()
    rv = load_rendered_view(view_id, "female")
    tx, ty = (float(v) for v in rv.items[site_id].points_px[0])
    ppc = rv.camera.px_per_cm
    side = view_id.rsplit("_", 1)[1]
    ctx, page = open_practice(
        chromium,
        f"{app_server.url}/practice?questions={qid}&side={side}&body=female",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    cdp = ctx.new_cdp_session(page)
    # The finger lands 1 cm off the target, then slides onto it watching the loupe.
    sx, sy = screen_of(page, tx + ppc, ty + ppc * 0.5, rv.width_px)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": sx, "y": sy}]})
    loupe = page.locator(".pb-loupe")
    loupe.wait_for(state="visible", timeout=5000)
    ex, ey = screen_of(page, tx, ty, rv.width_px)
    for k in range(1, 11):
        px, py = sx + (ex - sx) * k / 10, sy + (ey - sy) * k / 10
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]})
    page.wait_for_timeout(200)
    # The loupe sits above the finger (not under it) and its crosshair is on the target.
    lbox = loupe.bounding_box()
    assert lbox is not None and lbox["y"] + lbox["height"] <= ey - 10, (lbox, ey)
    lx, ly = (float(loupe.get_attribute(a) or "nan") for a in ("data-x", "data-y"))
    assert math.hypot(lx - tx, ly - ty) / ppc < 0.3
    screenshot(page, "pin_loupe_phone")
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert loupe.is_hidden()
    pin = wait_server_pin(page, tx, ty, 0.3 * ppc)
    assert math.hypot(pin[0] - tx, pin[1] - ty) / ppc < 0.3
    ctx.close()


def test_arrow_keys_move_the_last_pin_by_0_1_cm_per_press(app_server: AppServer, chromium: Any) -> None:
    qid, view_id, site_id, _ = locate_question()
    rv = load_rendered_view(view_id, "female")
    tx, ty = (float(v) for v in rv.items[site_id].points_px[0])
    ppc = rv.camera.px_per_cm
    side = view_id.rsplit("_", 1)[1]
    ctx, page = open_practice(
        chromium,
        f"{app_server.url}/practice?questions={qid}&side={side}&body=female",
        viewport={"width": 1366, "height": 800},
    )
    cx, cy = screen_of(page, tx, ty, rv.width_px)
    page.mouse.click(cx, cy)
    x0, y0 = wait_server_pin(page, tx, ty, 0.2 * ppc)
    for n in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        x, y = wait_server_pin(page, x0 + n * 0.1 * ppc, y0, 0.01 * ppc)
        assert abs((x - x0) / ppc - n * 0.1) < 0.01 and abs(y - y0) < 0.01 * ppc
    page.keyboard.press("ArrowUp")
    x, y = wait_server_pin(page, x0 + 0.3 * ppc, y0 - 0.1 * ppc, 0.01 * ppc)
    assert abs((y0 - y) / ppc - 0.1) < 0.01
    hint = page.evaluate(
        "() => { let t = ''; document.querySelectorAll('*').forEach(e => { const r = e.shadowRoot;"
        " if (r) r.querySelectorAll('.pb-hint').forEach(h => t += h.textContent); }); return t; }"
    )
    assert "0.3 cm right" in hint and "0.1 cm up" in hint, hint
    ctx.close()


@pytest.mark.parametrize("viewport", [(1366, 800), (390, 844)])
def test_question_image_and_submit_fit_the_screen(
    app_server: AppServer, chromium: Any, viewport: tuple[int, int]
) -> None:
    qid, view_id, site_id, _ = locate_question()
    rv = load_rendered_view(view_id, "female")
    tx, ty = (float(v) for v in rv.items[site_id].points_px[0])
    side = view_id.rsplit("_", 1)[1]
    ctx, page = open_practice(
        chromium,
        f"{app_server.url}/practice?questions={qid}&side={side}&body=female",
        viewport={"width": viewport[0], "height": viewport[1]},
    )
    page.mouse.click(*screen_of(page, tx, ty, rv.width_px))
    submit = page.get_by_role("button", name="Submit answer")
    submit.wait_for(state="visible")
    wait_idle(page)
    screenshot(page, f"practice_fits_{viewport[0]}")
    assert page.evaluate("() => window.scrollY") == 0
    img = page.locator('img[alt="Body view"]').bounding_box()
    button = submit.bounding_box()
    assert img["y"] >= 0 and img["y"] + img["height"] <= viewport[1], img
    assert img["width"] <= viewport[0]
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 2
    if viewport[0] > 640:
        # On a phone the practice page's hint buttons stack above the image, so its buttons
        # start below the fold there (the image itself and the question fit).
        assert button["y"] + button["height"] <= viewport[1], button
    ctx.close()
