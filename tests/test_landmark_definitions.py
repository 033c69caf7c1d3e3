"""Every landmark says which bony point it is, how it is found on the body and how far off it
may be; rule landmarks re-make their own vertex picks (assets needed for that one)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import check_atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.explorer.figures import explorer_figure, landmark_hover_lines
from trainer.tools.render.mesh import default_assets_dir

ASSETS = default_assets_dir()
ATLAS = Path(__file__).resolve().parents[1] / "atlas"
REQUIRED = (
    "sternal_angle",
    "acromial_angle",
    "fcr_tendon_wrist_crease",
    "first_dorsal_compartment",
    "tibialis_anterior_tendon_ankle",
    "fibular_head_apex",
    "lateral_malleolus_tip",
    "medial_malleolus_tip",
    "acromion",
    "lateral_malleolus",
    "medial_malleolus",
    "fibular_head",
    "adductor_tubercle",
    "lister_tubercle",
    "tragus",
    "eam_anterosuperior",
    "radiale",
    "trochanterion",
    "tragion",
)


def test_every_landmark_has_a_definition_a_method_and_an_expected_error() -> None:
    atlas = load_atlas()
    for lid in REQUIRED:
        assert lid in atlas.landmarks, lid
    for lm in atlas.landmarks.values():
        assert len(lm.definition) >= 10, lm.id
        assert lm.method in ("joint_offset", "relief", "vertex_pick"), lm.id
        assert len(lm.method_rule) >= 10, lm.id
        assert 0 < lm.expected_error_cm <= 5, lm.id


def test_tips_and_prominences_are_separate_landmarks() -> None:
    atlas = load_atlas()
    for bone in ("lateral_malleolus", "medial_malleolus"):
        assert "prominent" in atlas.landmarks[bone].definition
        assert "tip" in atlas.landmarks[f"{bone}_tip"].definition


def _problems(tmp_path: Path, method: dict[str, object]) -> list[str]:
    data = copy.deepcopy(good_atlas_data())
    data["landmarks.yaml"]["landmarks"][0]["method"] = method
    root = write_atlas(tmp_path, data)
    _, problems = check_atlas(root)
    return [str(p) for p in problems]


def test_a_vertex_pick_with_a_joint_is_refused(tmp_path: Path) -> None:
    probs = _problems(
        tmp_path, {"kind": "vertex_pick", "rule": "picked by eye on a test render", "joint": "knee"}
    )
    assert any("lm_a: method" in p and "a vertex_pick has only a rule" in p for p in probs), probs


def test_a_relief_without_a_direction_is_refused(tmp_path: Path) -> None:
    probs = _problems(
        tmp_path, {"kind": "relief", "rule": "most prominent point nearby", "joint": "knee", "within_cm": 2}
    )
    assert any("lm_a: method" in p and "needs toward and within_cm" in p for p in probs), probs


def test_a_seed_landmark_must_exist(tmp_path: Path) -> None:
    probs = _problems(
        tmp_path, {"kind": "joint_offset", "rule": "offset from another landmark", "landmark": "no_such"}
    )
    assert any("lm_a: method.landmark: unknown or circular seed landmark 'no_such'" in p for p in probs), (
        probs
    )


def test_explorer_hover_shows_definition_method_and_error() -> None:
    atlas = load_atlas()
    lines = landmark_hover_lines(atlas.landmarks["lateral_malleolus_tip"])
    text = " ".join(lines)
    assert "Definition:" in text and "expected error about 1 cm" in text and "joint centre" in text
    assert max(len(x) for x in lines) <= 90
    view = load_rendered_view("ankle_anterior_dorsum_right", "female", ATLAS)
    fig = explorer_figure(view, atlas, layers=("landmarks",))
    hover = [t for tr in fig.data if tr.name == "Landmarks" for t in tr.hovertext]
    assert hover and all("Definition:" in h and "expected error" in h for h in hover)


@pytest.mark.slow
def test_rule_landmarks_reproduce_their_stored_vertex() -> None:
    if not (Path(ASSETS) / "base.obj").is_file():
        pytest.skip(f"MakeHuman assets not found at {ASSETS}")
    from trainer.tools.render.picks import repick

    changed = [
        (r["id"], r["old"], r["new"])
        for r in repick(ATLAS, Path(ASSETS), ("female", "male", "female_high_bmi"))
        if r["old"] != r["new"]
    ]
    assert changed == [], "re-run python -m trainer.tools.render pick --write"
