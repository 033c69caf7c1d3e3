"""The photo overlay page's decisions, without Streamlit: reading an upload, the order of the
landmarks to tap, what a tap, an undo or a skip changes, how the fit is reported and what the
handout is called.

Taps are kept in the photo's working pixels (the page shows a smaller copy and converts).
Keeping a photo on the server is :mod:`trainer.authoring.kept_photos`.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from trainer.atlas.core import Atlas
from trainer.atlas.rendered import RenderedView
from trainer.authoring.kept_photos import photo_stem
from trainer.authoring.photo import (
    MIN_LANDMARKS,
    FitReport,
    load_photo,
    photo_handout,
    to_jpeg_bytes,
    to_png_bytes,
)
from trainer.errors import UploadError

#: The on-screen copy of the photo and the handout's preview are at most this big.
DISPLAY_MAX_PX = 1200
PREVIEW_MAX_PX = 1400
WORK_JPEG_QUALITY = 92
#: A landmark the others place further away than this (leave-one-out) is probably mis-tapped.
SUSPECT_LOO_CM = 1.0
SPLINE_FROM = 6
KIND_NAMES = {"tps": "thin-plate spline", "affine": "affine", "similarity": "similarity"}
LAYER_NAMES = {"nerves": "Nerve courses", "sites": "Sites", "avoid": "Structures to avoid"}
DEFAULT_LAYERS = ("avoid", "nerves", "sites")

Taps = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Upload:
    """An uploaded file read: the working copy (JPEG) to tap on, or why it was refused."""

    stem: str
    jpeg: bytes | None
    error: str | None


def read_upload(raw: bytes, shown_stem: str | None = None) -> Upload | None:
    """Check and decode an upload (size, format, bombs, orientation) into its working copy.

    None when it is the photo already shown (``shown_stem``): the page reruns on every tap.
    """
    stem = photo_stem(raw)
    if stem == shown_stem:
        return None
    try:
        work = load_photo(raw)
    except UploadError as exc:
        return Upload(stem, None, str(exc))
    return Upload(stem, to_jpeg_bytes(work, quality=WORK_JPEG_QUALITY), None)


@dataclass(frozen=True)
class Shown:
    """The decoded working photo and its smaller on-screen copy (as a data URL)."""

    photo: Image.Image
    size_px: tuple[int, int]
    data_url: str

    @property
    def to_work(self) -> float:
        """Working pixels per on-screen pixel."""
        return self.photo.width / self.size_px[0]


def shown_copy(jpeg: bytes) -> Shown:
    photo = Image.open(io.BytesIO(jpeg)).convert("RGB")
    small = photo.copy()
    small.thumbnail((DISPLAY_MAX_PX, DISPLAY_MAX_PX))
    url = "data:image/jpeg;base64," + base64.b64encode(to_jpeg_bytes(small, quality=85)).decode("ascii")
    return Shown(photo, small.size, url)


def default_view(atlas: Atlas) -> str:
    """The view the page starts on: the first knee view (the worked example), else the first."""
    views = list(atlas.views)
    return next((v for v in views if v.startswith("knee")), views[0])


def taps_for_view(taps: Mapping[str, tuple[float, float]], landmarks: Mapping[str, object]) -> Taps:
    """After a change of view, the taps on landmarks the new view also shows."""
    return {k: v for k, v in taps.items() if k in landmarks}


@dataclass(frozen=True)
class Tapping:
    """Where the guided tapping stands: the landmarks in order, those tapped and those skipped."""

    order: tuple[str, ...]
    taps: Mapping[str, tuple[float, float]]
    skipped: frozenset[str]

    @property
    def current(self) -> str | None:
        """The landmark to tap next (None: every landmark is tapped or skipped)."""
        return next((lm for lm in self.order if lm not in self.taps and lm not in self.skipped), None)

    @property
    def step(self) -> tuple[int, int] | None:
        """(number of the current landmark, how many there are), counting from 1."""
        current = self.current
        return None if current is None else (self.order.index(current) + 1, len(self.order))

    @property
    def can_undo(self) -> bool:
        return bool(self.taps)

    @property
    def can_start_over(self) -> bool:
        return bool(self.taps or self.skipped)

    @property
    def ready(self) -> bool:
        """Enough taps to fit a map."""
        return len(self.taps) >= MIN_LANDMARKS

    def status(self) -> str:
        return f"{len(self.taps)} tapped · {MIN_LANDMARKS} needed · {SPLINE_FROM}+ for a spline"

    def tapped(self, landmark: str | None, x_px: float, y_px: float, to_work: float) -> Taps:
        """The taps after a tap on the on-screen copy at (x, y), for the landmark the page asked for."""
        if landmark not in self.order:
            return dict(self.taps)
        return {**self.taps, landmark: (x_px * to_work, y_px * to_work)}

    def undone(self) -> Taps:
        """The taps without the last one."""
        return dict(list(self.taps.items())[:-1])

    def pins_shown(self, to_work: float) -> list[tuple[float, float]]:
        """The taps in on-screen pixels."""
        return [(x / to_work, y / to_work) for x, y in self.taps.values()]

    def tapped_landmarks(
        self, landmarks: Mapping[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        """The render pixels of the tapped landmarks, in the atlas's order (what the fit uses)."""
        return {k: landmarks[k] for k in self.order if k in self.taps}


def tapping(
    landmarks: Mapping[str, tuple[float, float]],
    taps: Mapping[str, tuple[float, float]],
    skipped: Sequence[str] | frozenset[str] = frozenset(),
) -> Tapping:
    return Tapping(tuple(landmarks), dict(taps), frozenset(skipped))


@dataclass(frozen=True)
class FitSummary:
    transform: str
    error: str
    landmarks: int
    warning: str | None


def fit_summary(atlas: Atlas, report: FitReport) -> FitSummary:
    """The fit in words, naming the landmark the others disagree with if one stands out."""
    warning = None
    if report.loo_cm:
        worst = max(range(len(report.ids)), key=lambda i: report.loo_cm[i])
        if report.loo_cm[worst] > SUSPECT_LOO_CM:
            warning = (
                f"{atlas.name_of(report.ids[worst])} disagrees with the others by {report.loo_cm[worst]:.1f} cm: "
                "was it tapped in the right place?"
            )
    return FitSummary(
        KIND_NAMES[report.transform.kind], f"{report.quality_cm:.2f} cm", len(report.ids), warning
    )


def handout_title(atlas: Atlas, view: RenderedView) -> str:
    return f"{atlas.regions[view.region].name}, {atlas.views[view.view_id].side} side: nerves on the model"


def handout_name(view: RenderedView) -> str:
    return f"{view.view_id}-handout.png"


def handout_files(
    photo: Image.Image,
    view: RenderedView,
    atlas: Atlas,
    report: FitReport,
    taps: Mapping[str, tuple[float, float]],
    layers: Sequence[str],
) -> tuple[bytes, bytes]:
    """The handout as PNG and a smaller JPEG preview of it."""
    handout = photo_handout(photo, view, atlas, report, taps, handout_title(atlas, view), layers)
    preview = handout.copy()
    preview.thumbnail((PREVIEW_MAX_PX, PREVIEW_MAX_PX))
    return to_png_bytes(handout), to_jpeg_bytes(preview, quality=85)


def positions_json(
    photo: Image.Image, report: FitReport, positions: Mapping[str, tuple[float, float]]
) -> str:
    """The fitted positions for checking: photo size, transform, fit error and where each item lands."""
    return json.dumps(
        {
            "photo_size_px": list(photo.size),
            "kind": report.transform.kind,
            "fit_error_cm": round(report.quality_cm, 3),
            "positions_px": dict(positions),
        }
    )
