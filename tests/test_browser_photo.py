"""Photo overlay in a real Chromium: a render warped by a known affine map plays the "photo".

The test taps the view's landmarks where the warp put them, then reads the fitted positions
the page prints and checks every site lands within 0.5 cm of where the warp says it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.browser import AppServer, need_browser, screenshot, start_app, wait_idle
from trainer.atlas import load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.authoring.photo import view_landmarks
from trainer.ui.auth import view_label

pytestmark = pytest.mark.browser

VIEW_ID = "knee_anteromedial_right"
HOST_KEY = "photo-test-key"
# render px -> photo px: a slight rotation, stretch and shift, as a hand-held photo would have.
AFFINE = np.array([[1.06, 0.10, 70.0], [-0.07, 0.97, 45.0]])
PHOTO_SIZE = (1100, 1040)


def warp(points_px: np.ndarray) -> np.ndarray:
    return np.asarray(points_px, dtype=float).reshape(-1, 2) @ AFFINE[:, :2].T + AFFINE[:, 2]


def make_photo(view: RenderedView, path: Path) -> Path:
    """Apply the warp to the render (Pillow wants the inverse: photo px -> render px)."""
    full = np.vstack([AFFINE, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)[:2]
    with Image.open(view.image_path) as im:
        render = im.convert("RGB")
    photo = render.transform(
        PHOTO_SIZE,
        Image.Transform.AFFINE,
        data=tuple(inv.reshape(-1)),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(96, 96, 96),
    )
    photo.save(path, format="JPEG", quality=92)
    return path


@pytest.fixture(scope="module")
def photo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    need_browser()
    server = start_app(tmp_path_factory.mktemp("photo-app"), {"TRAINER_HOST_KEY": HOST_KEY})
    yield server
    server.stop()


def tap(page: Any, x_px: float, y_px: float, natural_width_px: int) -> None:
    box = page.locator('img[alt="Body view"]').bounding_box()
    scale = box["width"] / natural_width_px
    cx, cy = box["x"] + x_px * scale, box["y"] + y_px * scale
    page.mouse.move(cx, cy)
    page.wait_for_timeout(120)
    page.mouse.click(cx, cy)


def choose_view(page: Any, label: str) -> None:
    """Pick the matching view the way an instructor does: open the list, type, choose."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Matching view")
    box.click()
    page.keyboard.type(label)
    page.get_by_role("option", name=label, exact=True).click()
    wait_idle(page)
    assert box.locator("input").input_value() == label


def test_overlay_lands_within_half_a_centimetre_of_the_known_warp(
    photo_server: AppServer, chromium: Any, tmp_path: Path
) -> None:
    atlas = load_atlas()
    body_type = next(iter(atlas.body_types))
    view = load_rendered_view(VIEW_ID, body_type)
    landmarks = view_landmarks(view, atlas)
    assert len(landmarks) >= 6, "the knee view should show enough landmarks for a spline"
    photo_path = make_photo(view, tmp_path / "knee.jpg")

    ctx = chromium.new_context(viewport={"width": 1400, "height": 1400})
    page = ctx.new_page()
    page.goto(f"{photo_server.url}/photo")
    wait_idle(page)
    page.get_by_label("Host key").fill(HOST_KEY)
    page.get_by_role("button", name="Open").click()
    wait_idle(page)
    page.locator('input[type="file"]').set_input_files(str(photo_path))
    page.locator('img[alt="Body view"]').wait_for(state="visible", timeout=30000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && [...e.shadowRoot.querySelectorAll('img')]"
        ".some(i => i.alt === 'Body view' && i.complete && i.naturalWidth > 0))",
        timeout=30000,
    )
    wait_idle(page)
    choose_view(page, view_label(atlas, VIEW_ID))

    order = list(landmarks)
    for i, lm_id in enumerate(order):
        page.get_by_text(f"Landmark {i + 1} of {len(order)}:").wait_for(timeout=30000)
        [[x, y]] = warp(np.array([landmarks[lm_id]]))
        tap(page, x, y, PHOTO_SIZE[0])
        nxt = f"Landmark {i + 2} of {len(order)}:" if i + 1 < len(order) else "All landmarks done"
        page.get_by_text(nxt).first.wait_for(timeout=30000)
    wait_idle(page, timeout_ms=60000)

    code = page.locator('[data-testid="stCode"]').filter(has_text="positions_px").first
    code.wait_for(timeout=60000)
    out = json.loads(code.inner_text())
    assert out["kind"] == "tps" and out["photo_size_px"] == list(PHOTO_SIZE)
    assert out["fit_error_cm"] < 0.5

    photo_px_per_cm = view.camera.px_per_cm * float(np.sqrt(abs(np.linalg.det(AFFINE[:, :2]))))
    sites = [i for i, it in view.items.items() if it.kind == "site" and it.visible[0] and i in atlas.sites]
    assert sites
    for item_id in [*sites, *order]:
        expected = warp(view.items[item_id].points_px[:1])[0]
        got = np.array(out["positions_px"][item_id])
        error_cm = float(np.linalg.norm(got - expected)) / photo_px_per_cm
        assert error_cm <= 0.5, f"{item_id} is {error_cm:.2f} cm from where the warp puts it"

    page.get_by_role("button", name="Download handout (PNG)").wait_for(timeout=30000)
    screenshot(page, "photo_overlay")
    ctx.close()
