"""Every region works in Chromium: the explorer shows its image and layers, practice scores a tap."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AppServer, wait_idle
from trainer.atlas import load_atlas
from trainer.quiz.bank import load_questions
from trainer.quiz.session import question_region
from trainer.settings import quiz_dir

pytestmark = pytest.mark.browser

IMAGE_READY = (
    "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && [...e.shadowRoot.querySelectorAll('img')]"
    ".some(i => i.alt === 'Body view' && i.complete && i.naturalWidth > 0))"
)


def test_explorer_shows_every_region(app_server: AppServer, chromium: Any) -> None:
    atlas = load_atlas()
    ctx = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    failures = []
    for region_id in atlas.regions:
        page.goto(f"{app_server.url}/?region={region_id}")
        wait_idle(page, 60000)
        views = {v.base_id for v in atlas.views_of_region(region_id)}
        try:
            page.wait_for_function(
                "(ids) => { const gd = document.querySelector('.js-plotly-plot'); if (!gd || !gd.layout) return false;"
                " const src = (gd.layout.images || [])[0]?.source || ''; return ids.some(i => src.includes(i + '_')); }",
                arg=sorted(views),
                timeout=30000,
            )
            loaded = page.evaluate(
                "async (src) => { const r = await fetch(src); return r.ok && (await r.blob()).size > 1000; }",
                page.evaluate("() => document.querySelector('.js-plotly-plot').layout.images[0].source"),
            )
            if not loaded:
                failures.append(f"{region_id}: image not served")
        except Exception as exc:  # noqa: BLE001 - collect every region's failure
            failures.append(f"{region_id}: {exc}")
    ctx.close()
    assert failures == []


def test_practice_scores_a_tap_in_every_region(app_server: AppServer, chromium: Any) -> None:
    atlas = load_atlas()
    first: dict[str, str] = {}
    for q in load_questions(atlas, [quiz_dir()]):
        region = question_region(atlas, q)
        if q.type == "locate" and region and region not in first:
            first[region] = q.id
    assert set(first) == set(atlas.regions), sorted(set(atlas.regions) - set(first))
    ctx = chromium.new_context(viewport={"width": 1000, "height": 1300})
    page = ctx.new_page()
    failures = []
    for region_id, qid in first.items():
        try:
            page.goto(f"{app_server.url}/practice?questions={qid}")
            wait_idle(page, 60000)
            page.wait_for_function(IMAGE_READY, timeout=30000)
            box = page.locator('img[alt="Body view"]').bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_function(
                "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Submit answer') && !b.disabled)",
                timeout=20000,
            )
            page.get_by_role("button", name="Submit answer").click()
            text = page.locator('[data-testid="stAlert"]').first.inner_text(timeout=20000)
            if "%" not in text:
                failures.append(f"{region_id}/{qid}: no score in {text!r}")
        except Exception as exc:  # noqa: BLE001 - collect every region's failure
            failures.append(f"{region_id}/{qid}: {exc}")
    ctx.close()
    assert failures == []


MARKERS_ON_SCREEN = """() => {
    // Where plotly draws each 3D marker: its model-view-projection (as plotly's own 3D
    // annotations are placed), in page pixels.
    const gd = document.querySelector('.js-plotly-plot');
    const sc = gd._fullLayout.scene._scene, cp = sc.glplot.cameraParams, ds = sc.dataScale;
    const xf = (m, v) => { const o = [0, 0, 0, 0]; for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; };
    const box = gd.getBoundingClientRect(), w = gd._fullLayout.width, h = gd._fullLayout.height;
    const out = [];
    gd._fullData.forEach(t => { if (t.type !== 'scatter3d' || t.mode !== 'markers') return;
      const xs = t.x, ys = t.y, zs = t.z;
      for (let k = 0; k < xs.length; k++) {
        const p = xf(cp.projection, xf(cp.view, xf(cp.model, [xs[k] * ds[0], ys[k] * ds[1], zs[k] * ds[2], 1])));
        out.push([box.left + (1 + p[0] / p[3]) * w / 2, box.top + (1 - p[1] / p[3]) * h / 2]);
      } });
    return out;
}"""


def _hover_name(page: Any, names: set[str]) -> str | None:
    """Hover each 3D marker where plotly draws it until a hover label names a structure."""
    for x, y in page.evaluate(MARKERS_ON_SCREEN):
        for dx, dy in ((0, 0), (2, 0), (0, 2), (-2, 0), (0, -2)):
            page.mouse.move(x + dx - 6, y + dy - 6)
            page.mouse.move(x + dx, y + dy, steps=3)  # plotly's 3D picking answers moves, not jumps
            page.wait_for_timeout(80)
            text = page.evaluate(
                "() => [...document.querySelectorAll('.hovertext')].map(h => h.textContent).join(' ')"
            )
            hit = next((n for n in names if n and n in text), None)
            if hit:
                return hit
    return None


def test_the_3d_body_view_renders_for_every_region(app_server: AppServer, chromium: Any) -> None:
    """WebGL canvas present and hover names a nerve, site or landmark, in every region."""
    import html

    atlas = load_atlas()
    names = {html.escape(n.name) for n in atlas.nerves.values()} | {
        html.escape(lm.name) for lm in atlas.landmarks.values()
    }
    names |= {html.escape(s.name) for s in atlas.sites.values()}
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    failures = []
    for region_id in atlas.regions:
        try:
            page.goto(f"{app_server.url}/explorer?region={region_id}")
            wait_idle(page, 60000)
            page.get_by_role("radio", name="Body (3D)").click()
            page.wait_for_function(
                "() => { const gd = document.querySelector('.js-plotly-plot'); if (!gd || !gd._fullLayout || !gd._fullLayout.scene) return false;"
                " const c = gd.querySelector('canvas'); if (!c) return false;"
                " const gl = c.getContext('webgl') || c.getContext('experimental-webgl'); return !!gl && c.width > 0; }",
                timeout=30000,
            )
            page.wait_for_timeout(400)
            if _hover_name(page, names) is None:
                failures.append(f"{region_id}: no hover name found")
        except Exception as exc:  # noqa: BLE001 - collect every region's failure
            failures.append(f"{region_id}: {exc}")
    from tests.browser import screenshot

    screenshot(page, "explorer_3d_last_region")
    ctx.close()
    assert failures == []
