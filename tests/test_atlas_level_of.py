"""Skin points placed at the level of a second landmark (``level_of``).

A source that says "at the level of the patellar apex, 7.7 mm behind the adductor tubercle" gives no
drop from the tubercle: the drop is the body's. The resolution tests check on two bodies of
different build that the point keeps its written offsets, lies level with the second landmark and
so drops by a different amount on each; the validation tests check that a malformed ``level_of``
names the file, the item and the field.
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
KNEE = {"landmark": "adductor_tubercle", "level_of": "patella_apex", "posterior_cm": 0.77}


@pytest.fixture(scope="module")
def bodies() -> dict[str, SideGeometry]:
    """The right side of the average female and male bodies (different thigh lengths)."""
    return right_sides("female", "male")


def test_the_point_is_level_with_the_second_landmark_and_keeps_its_other_offsets(
    bodies: dict[str, SideGeometry],
) -> None:
    drops_cm = {}
    for body, geo in bodies.items():
        frame = geo.frames[geo.landmark_segments["adductor_tubercle"]]
        leg = geo.frames[geo.landmark_segments["patella_apex"]]
        assert geo.landmark_segments["patella_apex"] != geo.landmark_segments["adductor_tubercle"]
        tubercle, apex = geo.landmarks_cm["adductor_tubercle"], geo.landmarks_cm["patella_apex"]
        raw = raw_point(geo, sp(KNEE))
        # Level along the apex's own segment's long axis (the leg's), not the thigh's.
        assert float((raw - apex) @ leg.proximal) == pytest.approx(0.0, abs=1e-6), body
        assert abs(float((raw - apex) @ frame.proximal)) > 0.1, body
        assert float((raw - tubercle) @ frame.anterior) == pytest.approx(-0.77, abs=1e-6), body
        assert float((raw - tubercle) @ frame.lateral) == pytest.approx(0.0, abs=1e-6), body
        drop = -float((raw - tubercle) @ frame.proximal)
        assert drop > 0, body  # the apex lies below the tubercle
        drops_cm[body] = drop
    # Taken from each body, not one written number: the knees differ, so the drops do.
    assert abs(drops_cm["male"] - drops_cm["female"]) > 0.05, drops_cm


def test_with_onto_skin_the_level_is_kept(bodies: dict[str, SideGeometry]) -> None:
    """Carried medially onto the skin, the point stays level within a millimetre: it moves along the
    thigh's medial axis, a few degrees off square to the leg's long axis, so not exactly."""
    for body, geo in bodies.items():
        leg = geo.frames[geo.landmark_segments["patella_apex"]]
        raw = raw_point(geo, sp(KNEE))
        anchors, _ = resolve_points(geo, [sp({**KNEE, "onto_skin": "medial"})])
        assert float(np.linalg.norm(anchors[0] - raw)) > 0.1, body  # it really was carried
        level = float((anchors[0] - geo.landmarks_cm["patella_apex"]) @ leg.proximal)
        assert level == pytest.approx(0.0, abs=0.1), body


def test_along_and_level_of_combine(bodies: dict[str, SideGeometry]) -> None:
    geo = bodies["female"]
    frame = geo.frames[geo.landmark_segments["adductor_tubercle"]]
    point = {**KNEE, "along": {"to": "medial_femoral_epicondyle", "fraction": 0.5}}
    raw = raw_point(geo, sp(point))
    tubercle = geo.landmarks_cm["adductor_tubercle"]
    mid = tubercle + 0.5 * (geo.landmarks_cm["medial_femoral_epicondyle"] - tubercle)
    leg = geo.frames[geo.landmark_segments["patella_apex"]]
    assert float((raw - geo.landmarks_cm["patella_apex"]) @ leg.proximal) == pytest.approx(0.0, abs=1e-6)
    assert float((raw - mid) @ frame.lateral) == pytest.approx(0.0, abs=1e-6)
    assert float((raw - mid) @ frame.anterior) == pytest.approx(-0.77, abs=1e-6)


def test_without_level_of_the_written_drop_is_used(bodies: dict[str, SideGeometry]) -> None:
    """The form only replaces the long-axis offset: a written drop still means what it says."""
    geo = bodies["female"]
    frame = geo.frames[geo.landmark_segments["adductor_tubercle"]]
    written = {k: v for k, v in KNEE.items() if k != "level_of"} | {"distal_cm": 4.0}
    raw = raw_point(geo, sp(written))
    assert float((raw - geo.landmarks_cm["adductor_tubercle"]) @ frame.proximal) == pytest.approx(-4.0)
    levelled = raw_point(geo, sp(KNEE))
    assert float(np.linalg.norm(levelled - raw)) > 0.05


def test_level_of_across_segments_far_out_of_line_is_refused(bodies: dict[str, SideGeometry]) -> None:
    """In the A-pose the forearm's long axis lies some 55 degrees from the trunk's: a wrist point
    "level with the ASIS" has no one meaning, and the move along the forearm would be magnified."""
    geo = bodies["female"]
    forearm = geo.frames[geo.landmark_segments["radial_styloid"]]
    trunk = geo.frames[geo.landmark_segments["asis"]]
    assert float(np.asarray(forearm.proximal) @ np.asarray(trunk.proximal)) < 0.8  # the premise
    with pytest.raises(AtlasError, match="level_of 'asis'"):
        raw_point(geo, sp({"landmark": "radial_styloid", "level_of": "asis"}))


# --- validation: file, item and field named ---------------------------------------------------


def test_a_valid_level_point_reaches_the_atlas(tmp_path: Path) -> None:
    write_atlas(tmp_path / "atlas", with_site_point(level_of="lm_b", lateral_cm=6.5))
    atlas, problems = check_atlas(tmp_path / "atlas", renders=False)
    assert problems == [] and atlas is not None
    at = atlas.sites["site_a"].at
    assert at.level_of == "lm_b"
    assert at.landmark_ids == ("lm_a", "lm_b")
    assert "lm_b" in atlas.region_landmarks("reg_a")
    assert offset_words(at, atlas) == "at the level of the landmark B, 6.5 cm lateral to the landmark A"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"level_of": "lm_nowhere"}, "at.level_of", "unknown landmark 'lm_nowhere'"),
        ({"level_of": "lm_b", "distal_cm": 4.0}, "at", "give no proximal_cm or distal_cm"),
        ({"level_of": "lm_b", "onto_skin": "proximal"}, "at", "onto_skin must be another axis"),
        (
            {
                "level_of": "lm_b",
                "distance_from": {"landmark": "lm_b", "distance_cm": 4.5, "going": "distal"},
                "lateral_cm": 2.0,
            },
            "at",
            "give one",
        ),
        ({"level_of": "lm_a"}, "at", "must name another landmark"),
    ],
)
def test_a_malformed_level_point_names_file_item_and_field(
    tmp_path: Path, fields: dict[str, Any], field: str, message: str
) -> None:
    probs = atlas_problems(tmp_path, with_site_point(**fields))
    prefix = f"atlas/{REGION}: site_a: {field}: "
    assert any(p.startswith(prefix) and message in p for p in probs), probs
