"""The photo overlay's page model (trainer/authoring/photo_page.py) and kept photos
(trainer/authoring/kept_photos.py): real images and a real folder, no Streamlit."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.atlas_factory import good_atlas_data, point, write_atlas
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.authoring import kept_photos
from trainer.authoring import photo_page as model
from trainer.authoring.photo import MIN_LANDMARKS, fit_landmarks

LANDMARKS = {f"lm_{c}": (100.0 + 40 * i, 120.0 + 25 * (i % 3)) for i, c in enumerate("abcdef")}


def jpeg(size: tuple[int, int], colour: tuple[int, int, int] = (200, 160, 140)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def atlas_and_view(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, RenderedView]:
    data = copy.deepcopy(good_atlas_data())
    data["regions/reg_a.yaml"]["views"].append(
        {"id": "knee_front", "look_from": "anterior", "center": point(), "extent_cm": 20}
    )
    root = write_atlas(tmp_path_factory.mktemp("photo") / "atlas", data)
    return load_atlas(root), load_rendered_view("view_a_right", "female", root)


# -- uploads ---------------------------------------------------------------------------------------


def test_an_upload_is_read_once_and_a_refused_one_says_why() -> None:
    raw = jpeg((3000, 2000))
    first = model.read_upload(raw)
    assert first is not None and first.error is None and first.stem == kept_photos.photo_stem(raw)
    assert Image.open(io.BytesIO(first.jpeg or b"")).size == (2400, 1600)  # the working size
    assert model.read_upload(raw, shown_stem=first.stem) is None  # the page reran: nothing to do
    refused = model.read_upload(b"not an image at all")
    assert refused is not None and refused.jpeg is None and "not a" in (refused.error or "")


def test_the_on_screen_copy_is_small_and_taps_scale_back_to_the_photo() -> None:
    shown = model.shown_copy(jpeg((2400, 1600)))
    assert shown.size_px == (1200, 800) and shown.to_work == 2.0
    assert shown.data_url.startswith("data:image/jpeg;base64,")
    state = model.tapping(LANDMARKS, {})
    taps = state.tapped("lm_a", 10.0, 20.0, shown.to_work)
    assert taps == {"lm_a": (20.0, 40.0)}
    assert model.tapping(LANDMARKS, taps).pins_shown(shown.to_work) == [(10.0, 20.0)]


def test_the_first_knee_view_is_the_default(atlas_and_view: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = atlas_and_view
    assert model.default_view(atlas) == "knee_front_right"


# -- guided tapping --------------------------------------------------------------------------------


def test_landmarks_are_asked_in_order_skipping_those_done_or_skipped() -> None:
    state = model.tapping(LANDMARKS, {})
    assert state.current == "lm_a" and state.step == (1, 6)
    assert not state.can_undo and not state.can_start_over and not state.ready
    taps = state.tapped(state.current, 1.0, 1.0, 1.0)
    state = model.tapping(LANDMARKS, taps, {"lm_b"})
    assert state.current == "lm_c" and state.step == (3, 6) and state.can_undo and state.can_start_over
    assert state.status() == f"1 tapped · {MIN_LANDMARKS} needed · 6+ for a spline"
    for lm in ("lm_c", "lm_d", "lm_e", "lm_f"):
        state = model.tapping(LANDMARKS, state.tapped(lm, 2.0, 2.0, 1.0), {"lm_b"})
    assert state.current is None and state.step is None and state.ready
    assert list(state.tapped_landmarks(LANDMARKS)) == ["lm_a", "lm_c", "lm_d", "lm_e", "lm_f"]


def test_undo_drops_the_last_tap_and_a_late_tap_for_an_unknown_landmark_changes_nothing() -> None:
    taps = {"lm_a": (1.0, 1.0), "lm_b": (2.0, 2.0)}
    state = model.tapping(LANDMARKS, taps)
    assert state.undone() == {"lm_a": (1.0, 1.0)}
    assert state.tapped(None, 5.0, 5.0, 1.0) == taps and state.tapped("lm_zz", 5.0, 5.0, 1.0) == taps
    assert state.tapped("lm_a", 5.0, 5.0, 1.0) == {
        "lm_a": (5.0, 5.0),
        "lm_b": (2.0, 2.0),
    }  # a re-tap moves it


def test_a_change_of_view_keeps_only_the_taps_it_can_use() -> None:
    assert model.taps_for_view({"lm_a": (1.0, 1.0), "lm_q": (2.0, 2.0)}, LANDMARKS) == {"lm_a": (1.0, 1.0)}


# -- fit, handout ----------------------------------------------------------------------------------


def test_the_fit_is_summarised_and_a_mis_tapped_landmark_is_named(
    atlas_and_view: tuple[Atlas, RenderedView],
) -> None:
    atlas, _ = atlas_and_view
    warp = {k: (2 * x + 30, 2 * y + 10) for k, (x, y) in LANDMARKS.items()}
    good = model.fit_summary(atlas, fit_landmarks(LANDMARKS, warp, px_per_cm=10.0))
    assert good == model.FitSummary("thin-plate spline", "0.00 cm", 6, None)
    warp["lm_b"] = (warp["lm_b"][0] + 150, warp["lm_b"][1])  # 7.5 cm off on the photo
    bad = model.fit_summary(atlas, fit_landmarks(LANDMARKS, warp, px_per_cm=10.0))
    assert bad.warning is not None and bad.warning.startswith("Landmark B disagrees with the others by")


def test_the_handout_is_titled_and_named_after_the_view(atlas_and_view: tuple[Atlas, RenderedView]) -> None:
    atlas, view = atlas_and_view
    assert model.handout_title(atlas, view) == "Region A, right side: nerves on the model"
    assert model.handout_name(view) == "view_a_right-handout.png"
    photo = Image.new("RGB", (400, 300), (210, 180, 160))
    px = {k: v for k, v in view.items.items() if v.kind == "landmark"}
    landmarks = {k: (float(v.points_px[0][0]), float(v.points_px[0][1])) for k, v in px.items()}
    landmarks |= {"x1": (20.0, 20.0), "x2": (180.0, 30.0)}
    report = fit_landmarks(landmarks, landmarks, px_per_cm=view.camera.px_per_cm, kind="similarity")
    png, preview = model.handout_files(photo, view, atlas, report, {}, model.DEFAULT_LAYERS)
    assert Image.open(io.BytesIO(png)).format == "PNG" and Image.open(io.BytesIO(preview)).format == "JPEG"
    out = json.loads(model.positions_json(photo, report, {"site_a": (1.0, 2.0)}))
    assert out == {
        "photo_size_px": [400, 300],
        "kind": "similarity",
        "fit_error_cm": 0.0,
        "positions_px": {"site_a": [1.0, 2.0]},
    }


# -- kept photos -----------------------------------------------------------------------------------


def test_a_kept_photo_reopens_with_its_view_and_taps_and_deletes_for_good(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    assert kept_photos.list_kept(folder) == []
    raw = jpeg((64, 48))
    stem = kept_photos.photo_stem(raw)
    path = kept_photos.keep(folder, stem, raw, "knee_front_right", {"lm_a": (1.5, 2.5)})
    assert path == folder / f"{stem}.jpg" and kept_photos.is_kept(folder, stem)
    (folder / "notes.jpg").write_bytes(b"someone else's file")
    assert kept_photos.list_kept(folder) == [kept_photos.KeptPhoto(stem, f"{stem}.jpg")]
    assert kept_photos.reopen(folder, stem) == kept_photos.Reopened(
        raw, "knee_front_right", {"lm_a": (1.5, 2.5)}
    )
    assert kept_photos.delete(folder, stem) and not kept_photos.delete(folder, stem)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.jpg"]  # nothing of the photo is left


def test_damaged_taps_still_reopen_the_photo(tmp_path: Path) -> None:
    raw = jpeg((32, 32))
    stem = kept_photos.photo_stem(raw)
    kept_photos.keep(tmp_path, stem, raw, "v", {"lm_a": (1.0, 1.0)})
    (tmp_path / f"{stem}.json").write_text('{"taps": {"lm_a": "oops"}}')
    assert kept_photos.reopen(tmp_path, stem) == kept_photos.Reopened(raw)


@pytest.mark.parametrize("stem", ["../../etc/passwd", "photo", "notes", "0123456789ABCDEF", ""])
def test_only_a_kept_photos_own_name_is_ever_touched(tmp_path: Path, stem: str) -> None:
    for call in (
        lambda: kept_photos.keep(tmp_path, stem, b"x", "v", {}),
        lambda: kept_photos.delete(tmp_path, stem),
        lambda: kept_photos.reopen(tmp_path, stem),
        lambda: kept_photos.is_kept(tmp_path, stem),
    ):
        with pytest.raises(ValueError, match="not a kept photo"):
            call()
    assert list(tmp_path.iterdir()) == []
