"""Make the README screenshots of the labelled atlas, the 3D view and the phone loupe.

``python scripts/explorer_screenshots.py`` starts the app on a free port with an empty data
folder, drives Debian's Chromium, and writes docs/screenshots/explorer-labelled.png,
explorer-3d.png and pin-loupe-phone.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, start_app, wait_idle  # noqa: E402

OUT = REPO / "docs" / "screenshots"
REGION = "elbow_lateral"
CLICK_FIRST_NERVE = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    const t = gd.data.find(t => t.meta === 'nerve');
    const pts = t.x.map((x, i) => [x, t.y[i]]).filter(p => p[0] !== null);
    const [x, y] = pts[Math.floor(pts.length / 2)];
    const fl = gd._fullLayout, box = gd.getBoundingClientRect();
    return {x: box.left + fl._size.l + fl.xaxis.l2p(x), y: box.top + fl._size.t + fl.yaxis.l2p(y)};
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.test_browser_practice import locate_question
    from trainer.atlas.rendered import load_rendered_view

    OUT.mkdir(parents=True, exist_ok=True)
    server = start_app(Path(tempfile.mkdtemp(prefix="shots-")))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 800})
            page.goto(f"{server.url}/explorer?region={REGION}")
            wait_idle(page, 60000)
            page.wait_for_function(
                "() => { const gd = document.querySelector('.js-plotly-plot');"
                " return gd && gd.data && gd.data.some(t => t.meta === 'nerve'); }",
                timeout=60000,
            )
            page.evaluate(
                "() => { document.querySelector('.js-plotly-plot').scrollIntoView(); window.scrollBy(0, -70); }"
            )
            page.wait_for_timeout(800)
            spot = page.evaluate(CLICK_FIRST_NERVE)
            page.mouse.move(spot["x"], spot["y"])
            page.wait_for_timeout(200)
            page.mouse.click(spot["x"], spot["y"])
            wait_idle(page)
            page.wait_for_timeout(800)
            page.evaluate(
                "() => { document.querySelector('.js-plotly-plot').scrollIntoView(); window.scrollBy(0, -70); }"
            )
            page.mouse.move(5, 5)
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / "explorer-labelled.png"))

            page.get_by_role("radio", name="Body (3D)").click()
            page.wait_for_function("() => !!document.querySelector('.js-plotly-plot canvas')", timeout=60000)
            page.wait_for_timeout(2000)
            page.evaluate(
                "() => { document.querySelector('.js-plotly-plot').scrollIntoView(); window.scrollBy(0, -70); }"
            )
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUT / "explorer-3d.png"))
            page.close()

            qid, view_id, site_id, _ = locate_question()
            rv = load_rendered_view(view_id, "female")
            tx, ty = (float(v) for v in rv.items[site_id].points_px[0])
            ctx = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
            )
            phone = ctx.new_page()
            side = view_id.rsplit("_", 1)[1]
            phone.goto(f"{server.url}/practice?questions={qid}&side={side}&body=female")
            wait_idle(phone, 60000)
            img = phone.locator('img[alt="Body view"]')
            img.wait_for(state="visible", timeout=60000)
            phone.wait_for_timeout(1000)
            box = img.bounding_box()
            s = box["width"] / rv.width_px
            x, y = box["x"] + tx * s, box["y"] + ty * s
            cdp = ctx.new_cdp_session(phone)
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchStart", "touchPoints": [{"x": x + 20, "y": y + 12}]},
            )
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            phone.wait_for_timeout(500)
            phone.screenshot(path=str(OUT / "pin-loupe-phone.png"))
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            ctx.close()
            browser.close()
    finally:
        server.stop()
    print("wrote", *(p.name for p in sorted(OUT.glob("*.png"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
