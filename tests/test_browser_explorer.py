"""The atlas explorer in a real headless Chromium against a real Streamlit server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AppServer, screenshot, wait_idle

pytestmark = pytest.mark.browser


def plot_state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            if (!gd || !gd.layout) return null;
            return {src: (gd.layout.images || [])[0]?.source || null,
                    traces: gd.data.map(t => t.meta === 'nerve' ? 'Nerves' : t.name)};
        }"""
    )


def wait_plot(page: Any, predicate: str, timeout_ms: int = 20000) -> dict[str, Any]:
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " if (!gd || !gd.layout || !gd.data) return false; const s = {src: (gd.layout.images||[])[0]?.source||'',"
        " traces: gd.data.map(t => t.meta === 'nerve' ? 'Nerves' : t.name)}; return (" + predicate + "); }",
        timeout=timeout_ms,
    )
    return plot_state(page)


def test_explorer_switches_region_side_and_layers(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    image_requests: list[str] = []
    page.on(
        "response",
        lambda r: image_requests.append(r.url) if "/app/static/" in r.url and r.status == 200 else None,
    )
    page.goto(app_server.url + "/explorer")
    wait_idle(page)
    first = wait_plot(page, "s.src.includes('_right__')")
    assert first["src"].startswith("app/static/") and "_right__" in first["src"]
    assert "Nerves" in first["traces"] and "Sites" in first["traces"]
    page.wait_for_timeout(800)
    shot_right = screenshot(page, "explorer_right")

    page.get_by_role("radio", name="Left", exact=True).click()
    left = wait_plot(page, "s.src.includes('_left__')")
    assert left["src"] == first["src"].replace("_right__", "_left__")
    page.wait_for_timeout(800)
    shot_left = screenshot(page, "explorer_left")
    assert shot_left != shot_right

    # Toggle the nerve layer off: the nerve traces disappear and the picture changes.
    page.get_by_role("button", name="Nerve courses").click()
    no_nerves = wait_plot(page, "!s.traces.includes('Nerves')")
    assert "Sites" in no_nerves["traces"]
    page.wait_for_timeout(500)
    assert screenshot(page, "explorer_left_no_nerves") != shot_left
    page.get_by_role("button", name="Sensory territories").click()
    wait_plot(page, "s.traces.includes('Territory')")

    # Another region: a different image.
    page.locator('[data-testid="stSelectbox"]').first.click()
    options = page.locator('[role="option"]')
    options.nth(1).click()
    other = wait_plot(page, f"s.src !== {left['src']!r}")
    assert other["src"] != left["src"]
    wait_idle(page)
    screenshot(page, "explorer_other_region")
    assert any("/app/static/" in u for u in image_requests), "images must come as static files"
    ctx.close()


def test_explorer_is_usable_at_phone_width(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = ctx.new_page()
    page.goto(app_server.url + "/explorer")
    wait_idle(page)
    wait_plot(page, "s.src.length > 0")
    box = page.locator(".js-plotly-plot").first.bounding_box()
    assert box is not None and box["width"] <= 390 and box["width"] > 300
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 2, f"page scrolls sideways by {overflow}px on a phone"
    screenshot(page, "explorer_phone")
    ctx.close()


PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("viewport", "region"),
    [
        ((1366, 800), "posterior_head_neck"),
        ((390, 844), "posterior_head_neck"),
        ((390, 844), "ankle_anterior_dorsum"),
    ],
)
def test_explorer_image_fills_its_column(
    app_server: AppServer, chromium: Any, viewport: tuple[int, int], region: str
) -> None:
    """The square render spans the chart's width and the legend follows it with no blank band.

    A fixed 620 px chart left a band of about 200 px under the image on a phone. The ankle's
    legend wraps to five rows on a phone, the head's to three.
    """
    phone = viewport[0] < 500
    extra: dict[str, Any] = (
        {"user_agent": PHONE_USER_AGENT, "is_mobile": True, "has_touch": True} if phone else {}
    )
    ctx = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **extra)
    page = ctx.new_page()
    page.goto(f"{app_server.url}/explorer?region={region}")
    wait_idle(page)
    wait_plot(page, "s.src.length > 0")
    page.wait_for_timeout(500)
    chart = page.locator(".js-plotly-plot").first.bounding_box()
    image = page.locator(".js-plotly-plot .imagelayer image").first.bounding_box()
    plot_area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()  # the clip of the image
    legend = page.locator(".js-plotly-plot .legend").first.bounding_box()
    assert chart is not None and image is not None and plot_area is not None and legend is not None
    drawn_w = min(image["x"] + image["width"], chart["x"] + chart["width"]) - max(image["x"], chart["x"])
    assert drawn_w >= 0.85 * chart["width"], (viewport, chart, image)
    drawn_bottom = min(image["y"] + image["height"], plot_area["y"] + plot_area["height"])
    gap_px = legend["y"] - drawn_bottom
    assert gap_px < 40, f"{gap_px:.0f} px blank between the image and its legend at {viewport}"
    ctx.close()


def test_explorer_opens_at_its_own_address(app_server: AppServer, chromium: Any) -> None:
    from trainer.atlas import load_atlas

    atlas = load_atlas()
    region = list(atlas.regions)[1]  # not the first one, which the explorer shows anyway
    ctx = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    page.goto(f"{app_server.url}/explorer?region={region}")
    wait_idle(page)
    views = sorted({v.base_id for v in atlas.views_of_region(region)})
    state = wait_plot(page, " || ".join(f"s.src.includes({v + '_'!r})" for v in views))
    assert any(v + "_" in state["src"] for v in views)
    assert page.get_by_role("heading", name="Atlas explorer").count() == 1
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.startswith(f"{app_server.url}/explorer")
    # The root still opens the explorer (at its own address), keeping a ?region= link working.
    page.goto(f"{app_server.url}/?region={region}")
    wait_idle(page)
    page.wait_for_url(f"{app_server.url}/explorer*", timeout=20000)
    wait_plot(page, " || ".join(f"s.src.includes({v + '_'!r})" for v in views))
    assert page.get_by_text("Page not found").count() == 0
    assert f"region={region}" in page.url
    ctx.close()


def _label_rects(page: Any) -> list[dict[str, float]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot .annotation-text-g rect.bg')]
            .map(r => r.getBoundingClientRect()).filter(b => b.width > 0)
            .map(b => ({x0: b.left, y0: b.top, x1: b.right, y1: b.bottom}))"""
    )


@pytest.mark.parametrize("viewport", [(1366, 800), (390, 844)])
def test_labels_do_not_overlap_on_screen(
    app_server: AppServer, chromium: Any, viewport: tuple[int, int]
) -> None:
    """The names drawn on the image, measured where the browser actually drew them."""
    from trainer.atlas import load_atlas

    atlas = load_atlas()
    ctx = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    for region in list(atlas.regions)[:4]:
        page.goto(f"{app_server.url}/explorer?region={region}")
        wait_idle(page)
        wait_plot(page, "s.src.length > 0")
        page.wait_for_timeout(500)
        rects = _label_rects(page)
        assert len(rects) >= 3, region
        for i, a in enumerate(rects):
            for b in rects[i + 1 :]:
                overlap = a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5
                overlap = overlap and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5
                assert not overlap, (region, a, b)
    screenshot(page, f"explorer_labels_{viewport[0]}")
    ctx.close()


def test_clicking_a_nerve_opens_its_card(app_server: AppServer, chromium: Any) -> None:
    ctx = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = ctx.new_page()
    page.goto(app_server.url + "/explorer")
    wait_idle(page)
    wait_plot(page, "s.traces.includes('Nerves')")
    page.wait_for_timeout(500)
    # The screen position of the middle of the first nerve's course, and its legend name.
    target = page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const t = gd.data.find(t => t.meta === 'nerve');
            const pts = t.x.map((x, i) => [x, t.y[i]]).filter(p => p[0] !== null);
            const [x, y] = pts[Math.floor(pts.length / 2)];
            const fl = gd._fullLayout, box = gd.getBoundingClientRect();
            return {name: t.name, id: t.customdata[0],
                    x: box.left + fl._size.l + fl.xaxis.l2p(x), y: box.top + fl._size.t + fl.yaxis.l2p(y)};
        }"""
    )
    page.mouse.move(target["x"], target["y"])
    page.wait_for_timeout(300)
    page.mouse.click(target["x"], target["y"])
    wait_idle(page)
    from trainer.atlas import load_atlas

    full_name = load_atlas().nerves[target["id"]].name
    page.get_by_role("heading", name=full_name).wait_for(timeout=20000)
    screenshot(page, "explorer_clicked_nerve")
    ctx.close()
