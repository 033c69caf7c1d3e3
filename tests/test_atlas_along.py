"""Skin points given as a fraction of the line between two landmarks (``along``).

A source that gives "0.35 of the posterior border of sternocleidomastoid from the mastoid"
must land at that fraction on every body, however long its neck: the resolution tests build
two bodies of different segment length and measure where the point falls on each. The
validation tests check that a malformed ``along`` names the file, the item and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.atlas_factory import atlas_problems, good_atlas_data, with_site_point, write_atlas
from tests.body_sides import right_sides, sp
from trainer.atlas import check_atlas
from trainer.atlas.describe import offset_words
from trainer.tools.render.resolve import (
    SideGeometry,
    base_point,
    raw_point,
    resolve_points,
)

REGION = "regions/reg_a.yaml"


@pytest.fixture(scope="module")
def bodies() -> dict[str, SideGeometry]:
    """The right side of the average female and the (longer) average male body."""
    return right_sides("female", "male")


def _fraction_on_line(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Where the projection of ``p`` falls on the line a -> b (0 at a, 1 at b)."""
    d = b - a
    return float((p - a) @ d / (d @ d))


@pytest.mark.parametrize(
    ("start", "end", "fraction"),
    [("mastoid_tip", "sternoclavicular_joint", 0.35), ("asis", "patella_base", 0.7)],
)
def test_a_fraction_point_lands_at_the_same_fraction_on_bodies_of_different_length(
    bodies: dict[str, SideGeometry], start: str, end: str, fraction: float
) -> None:
    lengths_cm = {}
    for body, geo in bodies.items():
        a, b = geo.landmarks_cm[start], geo.landmarks_cm[end]
        lengths_cm[body] = float(np.linalg.norm(b - a))
        anchors, snaps = resolve_points(
            geo, [sp({"landmark": start, "along": {"to": end, "fraction": fraction}})]
        )
        # Unsnapped, the point is exactly on the line; snapped, it moves across the line to the skin
        # but stays at the same share of the segment (within 0.5 cm of the fraction's position).
        raw = raw_point(geo, sp({"landmark": start, "along": {"to": end, "fraction": fraction}}))
        assert np.allclose(raw, a + fraction * (b - a))
        assert abs(_fraction_on_line(anchors[0], a, b) - fraction) * lengths_cm[body] < 0.5, body
        assert snaps[0] < 3.0, body
    # The bodies differ in this segment, so the same cm offset would not be the same fraction.
    assert abs(lengths_cm["male"] - lengths_cm["female"]) > 1.0, lengths_cm


def test_offsets_are_added_after_the_fraction_along_the_landmarks_frame(
    bodies: dict[str, SideGeometry],
) -> None:
    geo = bodies["male"]
    along = {"to": "sternoclavicular_joint", "fraction": 0.35}
    base = base_point(geo, sp({"landmark": "mastoid_tip", "along": along}))
    moved = raw_point(
        geo, sp({"landmark": "mastoid_tip", "along": along, "medial_cm": 1.3, "anterior_cm": 0.5})
    )
    frame = geo.frames[geo.landmark_segments["mastoid_tip"]]
    assert np.allclose(moved - base, -1.3 * frame.lateral + 0.5 * frame.anterior)
    # The ends of the line are the landmarks themselves.
    for fraction, lid in ((0.0, "mastoid_tip"), (1.0, "sternoclavicular_joint")):
        end = base_point(geo, sp({"landmark": "mastoid_tip", "along": {**along, "fraction": fraction}}))
        assert np.allclose(end, geo.landmarks_cm[lid])


def test_a_point_without_along_is_unchanged(bodies: dict[str, SideGeometry]) -> None:
    geo = bodies["female"]
    p = sp({"landmark": "mastoid_tip", "distal_cm": 5.9})
    frame = geo.frames[geo.landmark_segments["mastoid_tip"]]
    assert p.along is None
    assert np.allclose(raw_point(geo, p), geo.landmarks_cm["mastoid_tip"] - 5.9 * frame.proximal)


# --- validation: file, item and field named ---------------------------------------------------


def test_a_valid_fraction_point_reaches_the_atlas(tmp_path: Path) -> None:
    write_atlas(tmp_path / "atlas", with_site_point(along={"to": "lm_b", "fraction": 0.25}, medial_cm=1.0))
    atlas, problems = check_atlas(tmp_path / "atlas", renders=False)
    assert problems == [] and atlas is not None
    at = atlas.sites["site_a"].at
    assert at.along is not None and (at.along.to, at.along.fraction) == ("lm_b", 0.25)
    assert at.offsets_cm == (0.0, -1.0, 0.0)
    assert at.landmark_ids == ("lm_a", "lm_b")
    assert "lm_b" in atlas.region_landmarks("reg_a")
    assert (
        offset_words(at, atlas)
        == "1.0 cm medial to the point 0.25 of the way from the landmark A to the landmark B"
    )


def test_a_distance_point_lies_that_far_along_the_line_on_bodies_of_different_length(
    bodies: dict[str, SideGeometry],
) -> None:
    """Kim's crossing: 15.92 mm from the inferior pole along the line to the tibial tuberosity."""
    shares = {}
    for body, geo in bodies.items():
        a, b = geo.landmarks_cm["patella_apex"], geo.landmarks_cm["tibial_tuberosity"]
        raw = raw_point(
            geo, sp({"landmark": "patella_apex", "along": {"to": "tibial_tuberosity", "distance_cm": 1.592}})
        )
        assert float(np.linalg.norm(raw - a)) == pytest.approx(1.592, abs=1e-6), body
        assert _fraction_on_line(raw, a, b) * float(np.linalg.norm(b - a)) == pytest.approx(1.592, abs=1e-6)
        # On the line, not straight down the leg: the tendon line runs obliquely on these bodies.
        frame = geo.frames[geo.landmark_segments["patella_apex"]]
        assert abs(float((raw - a) @ frame.lateral)) > 0.1, body
        shares[body] = _fraction_on_line(raw, a, b)
    # A fixed distance is a different share of tendons of different length.
    assert abs(shares["male"] - shares["female"]) > 0.005, shares


def test_a_valid_distance_point_reaches_the_atlas(tmp_path: Path) -> None:
    write_atlas(
        tmp_path / "atlas", with_site_point(along={"to": "lm_b", "distance_cm": 1.59}, lateral_cm=1.64)
    )
    atlas, problems = check_atlas(tmp_path / "atlas", renders=False)
    assert problems == [] and atlas is not None
    at = atlas.sites["site_a"].at
    assert at.along is not None and (at.along.to, at.along.fraction, at.along.distance_cm) == (
        "lm_b",
        None,
        1.59,
    )
    assert (
        offset_words(at, atlas)
        == "1.6 cm lateral to the point 1.59 cm along the line from the landmark A to the landmark B"
    )


@pytest.mark.parametrize(
    ("along", "field", "message"),
    [
        ({"to": "lm_b", "fraction": 1.5}, "at.along.fraction", "less than or equal to 1"),
        ({"to": "lm_b", "fraction": -0.1}, "at.along.fraction", "greater than or equal to 0"),
        ({"to": "lm_b"}, "at.along", "give along.fraction or along.distance_cm"),
        ({"to": "lm_b", "fraction": 0.3, "distance_cm": 1.6}, "at.along", "(one of them)"),
        ({"to": "lm_b", "distance_cm": 0}, "at.along.distance_cm", "greater than 0"),
        ({"fraction": 0.3}, "at.along.to", "required field is missing"),
        (
            {"to": "lm_b", "fraction": 0.3, "from": "lm_a"},
            "at.along.from",
            "unknown field (not in the schema)",
        ),
        ({"to": "lm_nowhere", "fraction": 0.3}, "at.along.to", "unknown landmark 'lm_nowhere'"),
        ({"to": "lm_a", "fraction": 0.3}, "at.along.to", "the line must end at another landmark"),
    ],
)
def test_a_malformed_fraction_point_names_file_item_and_field(
    tmp_path: Path, along: dict[str, Any], field: str, message: str
) -> None:
    probs = atlas_problems(tmp_path, with_site_point(along=along))
    prefix = f"atlas/{REGION}: site_a: {field}: "
    assert any(p.startswith(prefix) and message in p for p in probs), probs


def test_a_malformed_fraction_in_a_nerve_course_names_the_point(tmp_path: Path) -> None:
    data = good_atlas_data()
    data[REGION]["nerves"][0]["course"][1]["along"] = {"to": "lm_b", "fraction": 2}
    probs = atlas_problems(tmp_path, data)
    assert any(p.startswith(f"atlas/{REGION}: nerve_a: course.1.along.fraction: ") for p in probs), probs
