"""Photo overlay: transform fits in cm, and upload guards (bomb, wrong type, size, EXIF rotation)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from trainer.authoring.photo import (
    FitError,
    compose_handout,
    fit_affine,
    fit_landmarks,
    fit_similarity,
    fit_tps,
    fit_transform,
    landmark_guide,
    load_photo,
)
from trainer.errors import UploadError

# Eight landmark-like points spread over a 900 px render.
SRC_PX = np.array(
    [[400, 260], [430, 400], [475, 355], [430, 530], [605, 440], [675, 280], [676, 320], [300, 600]], float
)
AFFINE = np.array([[1.3, 0.2, 55.0], [-0.15, 1.1, -20.0]])


def affine_warp(p: np.ndarray) -> np.ndarray:
    return p @ AFFINE[:, :2].T + AFFINE[:, 2]


def bendy_warp(p: np.ndarray) -> np.ndarray:
    """Affine plus a smooth bend (like a limb photographed at a slant)."""
    q = affine_warp(p)
    return q + np.stack([12 * np.sin(p[:, 1] / 150.0), 8 * np.cos(p[:, 0] / 170.0)], axis=1)


def as_dict(points: np.ndarray) -> dict[str, tuple[float, float]]:
    return {f"lm{i}": (float(x), float(y)) for i, (x, y) in enumerate(points)}


# ------------------------------------------------------------------ transform fits


@pytest.mark.parametrize("kind", ["similarity", "affine", "tps"])
def test_exact_landmarks_come_back_with_zero_residual(kind: str) -> None:
    dst = SRC_PX * 1.7 + [30.0, -12.0]  # a pure similarity, so every kind can fit it exactly
    report = fit_landmarks(as_dict(SRC_PX), as_dict(dst), px_per_cm=32.0, kind=kind)  # type: ignore[arg-type]
    assert report.residual_rms_cm == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(report.transform.apply(SRC_PX), dst, atol=1e-6)
    assert report.photo_px_per_cm == pytest.approx(1.7 * 32.0)


def test_a_known_affine_warp_is_recovered_everywhere_not_only_at_the_landmarks() -> None:
    t = fit_affine(SRC_PX[:5], affine_warp(SRC_PX[:5]))
    grid = np.stack(np.meshgrid(np.linspace(0, 900, 7), np.linspace(0, 900, 7)), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(t.apply(grid), affine_warp(grid), atol=1e-6)
    np.testing.assert_allclose(t.affine, AFFINE, atol=1e-9)


def test_a_spline_recovers_an_affine_warp_and_follows_a_bend_better_than_affine() -> None:
    tps = fit_tps(SRC_PX, affine_warp(SRC_PX))
    inner = np.array([[450.0, 330.0], [520.0, 420.0], [600.0, 360.0]])
    np.testing.assert_allclose(tps.apply(inner), affine_warp(inner), atol=1e-6)

    bent = bendy_warp(SRC_PX)
    tps = fit_tps(SRC_PX, bent)
    aff = fit_affine(SRC_PX, bent)
    np.testing.assert_allclose(tps.apply(SRC_PX), bent, atol=1e-6)  # interpolates the landmarks
    err_tps = np.linalg.norm(tps.apply(inner) - bendy_warp(inner), axis=1).max()
    err_aff = np.linalg.norm(aff.apply(inner) - bendy_warp(inner), axis=1).max()
    assert err_tps < err_aff


def test_auto_fit_uses_affine_from_four_and_a_spline_from_six_landmarks() -> None:
    assert fit_transform(SRC_PX[:4], affine_warp(SRC_PX[:4])).kind == "affine"
    assert fit_transform(SRC_PX[:5], affine_warp(SRC_PX[:5])).kind == "affine"
    assert fit_transform(SRC_PX[:6], affine_warp(SRC_PX[:6])).kind == "tps"


def test_leave_one_out_error_is_reported_in_cm() -> None:
    rng = np.random.default_rng(7)
    noisy = affine_warp(SRC_PX) + rng.normal(0, 3.0, SRC_PX.shape)
    rep = fit_landmarks(as_dict(SRC_PX), as_dict(noisy), px_per_cm=30.0)
    assert rep.transform.kind == "tps"
    assert rep.residual_rms_cm == pytest.approx(0.0, abs=1e-6)  # a spline hides the noise at the landmarks...
    assert rep.loo_rms_cm is not None and 0.02 < rep.loo_rms_cm < 1.0  # ...leaving one out does not
    assert len(rep.loo_cm) == len(SRC_PX)
    assert rep.quality_cm == rep.loo_rms_cm


@pytest.mark.parametrize(
    ("kind", "n", "words"),
    [
        ("auto", 3, "at least 4 landmarks"),
        ("affine", 2, "at least 3"),
        ("tps", 5, "at least 6"),
        ("similarity", 1, "at least 2"),
    ],
)
def test_too_few_landmarks_give_a_clear_error(kind: str, n: int, words: str) -> None:
    with pytest.raises(FitError, match=words):
        fit_transform(SRC_PX[:n], affine_warp(SRC_PX[:n]), kind)  # type: ignore[arg-type]


def test_landmarks_on_one_line_are_refused() -> None:
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with pytest.raises(FitError, match="one line"):
        fit_affine(line, line * 2)


def test_similarity_ignores_shear() -> None:
    t = fit_similarity(SRC_PX, SRC_PX * 2.0)
    assert t.scale == pytest.approx(2.0)


# ----------------------------------------------------------------------- uploads


def png_bytes(size: tuple[int, int], colour: tuple[int, int, int] = (200, 150, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a gigantic 1-bit image (never decoded by the guard)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_with_a_readable_message() -> None:
    with pytest.raises(UploadError, match="decompression bomb"):
        load_photo(bomb_png(60000, 60000))


def test_an_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(UploadError, match=r"limit is 40 MP"):
        load_photo(bomb_png(8000, 6000))


def test_a_text_file_named_jpg_is_refused_by_content() -> None:
    with pytest.raises(UploadError, match="not a JPEG"):
        load_photo(b"this is not a photo, whatever its name (knee.jpg) says\n" * 20)


def test_a_gif_is_refused_even_though_pillow_can_read_it() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, format="GIF")
    with pytest.raises(UploadError, match="not a JPEG"):
        load_photo(buf.getvalue())


def test_an_oversized_file_is_refused() -> None:
    data = png_bytes((64, 64))
    with pytest.raises(UploadError, match="limit is"):
        load_photo(data, max_bytes=len(data) - 1)


def test_an_empty_or_truncated_file_is_refused() -> None:
    with pytest.raises(UploadError, match="empty"):
        load_photo(b"")
    data = png_bytes((300, 300))
    with pytest.raises(UploadError):
        load_photo(data[: len(data) // 2])


def test_a_rotated_exif_photo_comes_out_upright() -> None:
    # Sensor data 200 wide × 100 high, red on the left; EXIF orientation 6 = "rotate 90° CW to view".
    im = Image.new("RGB", (200, 100), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 40, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif, quality=95)
    out = load_photo(buf.getvalue())
    assert out.size == (100, 200)  # portrait, as the camera was held
    r, g, b = out.getpixel((50, 10))  # the red strip is now along the top
    assert r > 200 and b < 60


def test_large_photos_are_scaled_to_the_working_size() -> None:
    out = load_photo(png_bytes((3000, 1500)), work_max_side_px=1200)
    assert out.size == (1200, 600)


def test_guide_crop_and_handout_have_the_expected_sizes() -> None:
    render = Image.new("RGB", (900, 900), (220, 190, 170))
    guide = landmark_guide(
        render, (10.0, 10.0), px_per_cm=30.0, out_px=200
    )  # near a corner: padded, not shifted
    assert guide.size == (200, 200)
    sheet = compose_handout(
        Image.new("RGB", (800, 600)), "Title", [], px_per_cm=20.0, notes=["n"], key=[("A", "Nerve A")]
    )
    assert sheet.size[0] == 800 and sheet.size[1] > 600
