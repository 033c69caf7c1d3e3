"""Skin points placed by two distances (``distance_from``).

A source that gives "45.2 mm from the PSIS and 65.3 mm from the midline" fixes the point without a
rise of its own: the long-axis offset is solved on each body so that the point keeps the written
lateral offset and lies the given distance from the second landmark. The resolution tests measure
that distance on two bodies of different build; the validation tests check that a malformed
``distance_from`` names the file, the item and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.atlas_factory import atlas_problems, with_site_point, write_atlas
from tests.body_sides import right_sides, sp
from trainer.atlas import check_atlas
from trainer.atlas.describe import offset_words
from trainer.errors import AtlasError
from trainer.tools.render.resolve import SideGeometry, raw_point, resolve_points

REGION = "regions/reg_a.yaml"
GROOVE = {
    "landmark": "sacral_crest_psis_level",
    "lateral_cm": 6.53,
    "distance_from": {"landmark": "psis", "distance_cm": 4.52, "going": "proximal"},
}


@pytest.fixture(scope="module")
def bodies() -> dict[str, SideGeometry]:
    """The right side of the average female and male bodies (different pelvic widths)."""
    return right_sides("female", "male")


def test_the_point_keeps_its_lateral_offset_and_lies_the_distance_from_the_second_landmark(
    bodies: dict[str, SideGeometry],
) -> None:
    rises_cm = {}
    for body, geo in bodies.items():
        frame = geo.frames[geo.landmark_segments["sacral_crest_psis_level"]]
        mid, psis = geo.landmarks_cm["sacral_crest_psis_level"], geo.landmarks_cm["psis"]
        raw = raw_point(geo, sp(GROOVE))
        assert float((raw - mid) @ frame.lateral) == pytest.approx(6.53, abs=1e-6), body
        assert float((raw - mid) @ frame.anterior) == pytest.approx(0.0, abs=1e-6), body
        assert float(np.linalg.norm(raw - psis)) == pytest.approx(4.52, abs=1e-6), body
        rise = float((raw - mid) @ frame.proximal)
        assert rise > 0, body
        rises_cm[body] = rise
    # Solved per body, not one written number: the PSIS differs, so the rise does.
    assert abs(rises_cm["male"] - rises_cm["female"]) > 0.1, rises_cm


def test_with_onto_skin_the_distance_is_the_one_seen_on_the_surface(bodies: dict[str, SideGeometry]) -> None:
    for body, geo in bodies.items():
        frame = geo.frames[geo.landmark_segments["sacral_crest_psis_level"]]
        anchors, snaps = resolve_points(geo, [sp({**GROOVE, "onto_skin": "posterior"})])
        v = anchors[0] - geo.landmarks_cm["psis"]
        seen = v - float(v @ frame.anterior) * frame.anterior
        assert float(np.linalg.norm(seen)) == pytest.approx(4.52, abs=1e-3), body
        lateral = float((anchors[0] - geo.landmarks_cm["sacral_crest_psis_level"]) @ frame.lateral)
        assert lateral == pytest.approx(6.53, abs=1e-3), body
        assert snaps[0] == 0.0


def test_going_distal_takes_the_root_below(bodies: dict[str, SideGeometry]) -> None:
    geo = bodies["female"]
    frame = geo.frames[geo.landmark_segments["sacral_crest_psis_level"]]
    mid = geo.landmarks_cm["sacral_crest_psis_level"]
    down = raw_point(geo, sp({**GROOVE, "distance_from": {**GROOVE["distance_from"], "going": "distal"}}))
    assert float((down - mid) @ frame.proximal) < 0
    assert float(np.linalg.norm(down - geo.landmarks_cm["psis"])) == pytest.approx(4.52, abs=1e-6)


# The nerve point of the neck: a level along the mastoid-sternoclavicular line and a distance from
# the angle of the mandible; the front-back offset onto the border of the muscle is solved.
NERVE_POINT = {
    "landmark": "mastoid_tip",
    "along": {"to": "sternoclavicular_joint", "fraction": 0.35},
    "distal_cm": 0.97,
    "distance_from": {"landmark": "mandible_angle", "distance_cm": 5.97, "going": "posterior"},
}


def test_going_posterior_solves_the_front_back_offset_and_keeps_the_level(
    bodies: dict[str, SideGeometry],
) -> None:
    backs_cm = {}
    for body, geo in bodies.items():
        frame = geo.frames[geo.landmark_segments["mastoid_tip"]]
        plain = raw_point(geo, sp({k: v for k, v in NERVE_POINT.items() if k != "distance_from"}))
        raw = raw_point(geo, sp(NERVE_POINT))
        moved = raw - plain
        assert float(moved @ frame.proximal) == pytest.approx(0.0, abs=1e-6), body
        assert float(moved @ frame.lateral) == pytest.approx(0.0, abs=1e-6), body
        back = -float(moved @ frame.anterior)
        assert back > 0, body
        assert float(np.linalg.norm(raw - geo.landmarks_cm["mandible_angle"])) == pytest.approx(
            5.97, abs=1e-6
        )
        backs_cm[body] = back
    assert abs(backs_cm["male"] - backs_cm["female"]) > 0.05, backs_cm


def test_going_anterior_takes_the_root_in_front(bodies: dict[str, SideGeometry]) -> None:
    geo = bodies["female"]
    frame = geo.frames[geo.landmark_segments["mastoid_tip"]]
    ahead = {**NERVE_POINT, "distance_from": {**NERVE_POINT["distance_from"], "going": "anterior"}}
    plain = raw_point(geo, sp({k: v for k, v in NERVE_POINT.items() if k != "distance_from"}))
    raw = raw_point(geo, sp(ahead))
    assert float((raw - plain) @ frame.anterior) > 0
    assert float(np.linalg.norm(raw - geo.landmarks_cm["mandible_angle"])) == pytest.approx(5.97, abs=1e-6)


def test_an_unreachable_distance_is_an_error(bodies: dict[str, SideGeometry]) -> None:
    geo = bodies["female"]
    too_short = {**GROOVE, "distance_from": {"landmark": "psis", "distance_cm": 1.0, "going": "proximal"}}
    with pytest.raises(AtlasError, match="1.0 cm from 'psis'"):
        raw_point(geo, sp(too_short))


# --- validation: file, item and field named ---------------------------------------------------


def test_a_valid_distance_point_reaches_the_atlas(tmp_path: Path) -> None:
    reach = {"landmark": "lm_b", "distance_cm": 4.5, "going": "proximal"}
    write_atlas(tmp_path / "atlas", with_site_point(distance_from=reach, lateral_cm=6.5))
    atlas, problems = check_atlas(tmp_path / "atlas", renders=False)
    assert problems == [] and atlas is not None
    at = atlas.sites["site_a"].at
    assert at.distance_from is not None
    assert (at.distance_from.landmark, at.distance_from.distance_cm, at.distance_from.going) == (
        "lm_b",
        4.5,
        "proximal",
    )
    assert at.landmark_ids == ("lm_a", "lm_b")
    assert "lm_b" in atlas.region_landmarks("reg_a")
    assert (
        offset_words(at, atlas)
        == "4.5 cm from the landmark B, proximal to the point 6.5 cm lateral to the landmark A"
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"distance_from": {"landmark": "lm_b", "distance_cm": 0, "going": "proximal"}},
            "at.distance_from.distance_cm",
            "greater than 0",
        ),
        (
            {"distance_from": {"landmark": "lm_b", "distance_cm": 4.5}},
            "at.distance_from.going",
            "required field is missing",
        ),
        (
            {"distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "lateral"}},
            "at.distance_from.going",
            "proximal",
        ),
        (
            {"distance_from": {"landmark": "lm_nowhere", "distance_cm": 4.5, "going": "proximal"}},
            "at.distance_from.landmark",
            "unknown landmark 'lm_nowhere'",
        ),
        (
            {
                "distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "proximal"},
                "proximal_cm": 3.8,
            },
            "at",
            "give no proximal_cm or distal_cm",
        ),
        (
            {
                "distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "posterior"},
                "posterior_cm": 0.8,
            },
            "at",
            "give no anterior_cm or posterior_cm",
        ),
        (
            {
                "distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "anterior"},
                "onto_skin": "posterior",
            },
            "at",
            "onto_skin must be another axis",
        ),
        (
            {
                "distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "proximal"},
                "onto_skin": "distal",
            },
            "at",
            "onto_skin must be another axis",
        ),
        (
            {"distance_from": {"landmark": "lm_a", "distance_cm": 4.5, "going": "proximal"}},
            "at",
            "must name another landmark",
        ),
    ],
)
def test_a_malformed_distance_point_names_file_item_and_field(
    tmp_path: Path, fields: dict[str, Any], field: str, message: str
) -> None:
    probs = atlas_problems(tmp_path, with_site_point(**fields))
    prefix = f"atlas/{REGION}: site_a: {field}: "
    assert any(p.startswith(prefix) and message in p for p in probs), probs
