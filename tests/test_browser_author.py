"""Author page in a real Chromium: every click on the image says what it did to the targets.

Issue 11, item 7: clicking a target a second time used to remove it silently while the
caption said "Snapped to…", and a saved question's target stayed selected for the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.browser import AppServer, need_browser, screenshot, start_app, wait_idle
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.authoring.questions import snap_click

pytestmark = pytest.mark.browser

HOST_KEY = "author-test-key"


@pytest.fixture(scope="module")
def author_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    need_browser()
    server = start_app(tmp_path_factory.mktemp("author-app"), {"TRAINER_HOST_KEY": HOST_KEY})
    yield server
    server.stop()


def click_image(page: Any, x_px: float, y_px: float, width_px: int) -> None:
    # The image is drawn again by each run (a type change replaces the editor): wait until one is
    # on the page before measuring it (CI once measured between two runs and got no box).
    image = page.locator('img[alt="Body view"]').first
    image.wait_for(state="visible", timeout=20000)
    box = image.bounding_box()
    assert box is not None, "the body view is not on the page"
    scale = box["width"] / width_px
    cx, cy = box["x"] + x_px * scale, box["y"] + y_px * scale
    page.mouse.move(cx, cy)
    page.wait_for_timeout(120)
    page.mouse.click(cx, cy)


def test_adding_and_removing_targets_by_click_is_said_and_listed(
    author_server: AppServer, chromium: Any
) -> None:
    atlas = load_atlas()
    view_id, body = next(iter(atlas.views)), next(iter(atlas.body_types))  # the page's defaults
    view = load_rendered_view(view_id, body, atlas.root)
    sites = {i: it for i, it in view.items.items() if it.kind == "site" and it.any_visible}

    def isolation_cm(i: str) -> float:
        return min(
            float(np.linalg.norm(sites[i].points_cm[0] - sites[j].points_cm[0])) for j in sites if j != i
        )

    def snaps_to_itself(i: str) -> bool:  # a click on the site's pixel means that site
        snap = snap_click(view, float(sites[i].points_px[0][0]), float(sites[i].points_px[0][1]))
        return snap is not None and snap.item_id == i

    first, second = sorted(filter(snaps_to_itself, sites), key=isolation_cm, reverse=True)[:2]
    name1, name2 = atlas.name_of(first), atlas.name_of(second)

    ctx = chromium.new_context(viewport={"width": 1400, "height": 1300})
    page = ctx.new_page()
    page.goto(f"{author_server.url}/author")
    wait_idle(page)
    page.get_by_label("Host key").fill(HOST_KEY)
    page.get_by_role("button", name="Open").click()
    # The editor is drawn by the run that "Open" starts: wait for its Type box, then for that run
    # to end, so the dropdown is not opened on a page that is still being replaced.
    type_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Type").first
    type_box.wait_for(timeout=20000)
    wait_idle(page)
    type_box.click()
    page.get_by_role("option", name="Multi-site (several pins)").click()
    wait_idle(page)

    def click_site(site: str, expect: str) -> None:
        x, y = sites[site].points_px[0]
        click_image(page, float(x), float(y), view.width_px)
        page.get_by_text(expect, exact=False).first.wait_for(timeout=20000)
        wait_idle(page)

    def listed() -> str:
        return str(page.locator('[data-testid="stMultiSelect"]').first.inner_text())

    click_site(first, f"Added {name1}")
    assert "Targets (1)" in page.inner_text("body") and name1 in listed()
    click_site(second, f"Added {name2}")
    assert f"Targets (2): {name1}, {name2}." in page.inner_text("body")
    assert name1 in listed() and name2 in listed()

    click_site(first, f"Removed {name1}: it was a target and you clicked it again.")
    body_text = page.inner_text("body")
    assert f"Targets (1): {name2}." in body_text and "Snapped to" not in body_text
    assert name1 not in listed() and name2 in listed()
    screenshot(page, "author_target_removed")
    ctx.close()
