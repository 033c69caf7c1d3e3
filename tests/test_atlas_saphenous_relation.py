"""The drawn saphenous nerve must stay behind the drawn great saphenous vein above the ankle.

The saphenous PIT sites teach "just behind the visible vein" (Mercer 2011: the nerve runs
posterior to the vein in the leg). Until issue 14 h14-gsv the vein was a textbook line of its
own and the nerve a separate offset of ours; re-drawing one without the other would put the
nerve in front of the vein on the map while every caution says behind. This test reads the
committed resolved geometry of every body, so it fails the moment one line moves alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.tools.anatomy_geometry import Geometry, load_geometry, plane_crossing

ATLAS_DIR = Path(__file__).resolve().parents[1] / "atlas"
BODY_TYPES = ("female", "male", "female_high_bmi")
# (nerve, vein) pairs drawn together in one region view.
PAIRS = (
    ("saphenous_ankle", "great_saphenous_vein_ankle"),
    ("saphenous_anterior_ankle", "great_saphenous_vein_anterior_ankle"),
)
# Heights above the ankle joint line (1.3 cm above the medial malleolar tip, the relation the
# malleolar landmarks are built on), from the lowest level a series measures the vein at (1 cm)
# up to the division (7 cm).
HEIGHTS_CM = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
JOINT_LINE_ABOVE_TIP_CM = 1.3


@pytest.fixture(scope="module", params=BODY_TYPES)
def geometry(request: pytest.FixtureRequest) -> Geometry:
    return load_geometry(ATLAS_DIR, request.param)


@pytest.mark.parametrize(("nerve_id", "vein_id"), PAIRS)
def test_nerve_lies_behind_the_vein_above_the_ankle(geometry: Geometry, nerve_id: str, vein_id: str) -> None:
    proximal = np.asarray(geometry.frames["leg"]["proximal"], dtype=float)
    anterior = np.asarray(geometry.frames["leg"]["anterior"], dtype=float)
    joint_line_cm = float(geometry.landmarks_cm["medial_malleolus_tip"] @ proximal) + JOINT_LINE_ABOVE_TIP_CM
    nerve = geometry.items[nerve_id][1]
    vein = geometry.items[vein_id][1]
    for height_cm in HEIGHTS_CM:
        level_cm = joint_line_cm + height_cm
        at_nerve = plane_crossing(nerve, proximal * level_cm, proximal)
        at_vein = plane_crossing(vein, proximal * level_cm, proximal)
        assert at_nerve is not None and at_vein is not None, (
            f"{geometry.body_type}: {nerve_id} or {vein_id} is not drawn {height_cm:g} cm above the joint line"
        )
        behind_cm = float((at_vein - at_nerve) @ anterior)
        assert behind_cm > 0.0, (
            f"{geometry.body_type}: {nerve_id} lies {-behind_cm:.2f} cm in front of {vein_id} "
            f"{height_cm:g} cm above the ankle joint line; the site cautions teach it behind the vein"
        )
