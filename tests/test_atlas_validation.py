"""Each kind of bad atlas file gets its own clear ``file: id: field: problem`` message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.atlas_factory import LANDMARK_METHOD, good_atlas_data, point, write_atlas
from trainer.atlas import check_atlas, load_atlas
from trainer.errors import AtlasError


def problems_for(tmp_path: Path, data: dict[str, Any], **kw: Any) -> list[str]:
    write_atlas(tmp_path / "atlas", data, **kw)
    _, problems = check_atlas(tmp_path / "atlas")
    return [str(p) for p in problems]


def test_good_atlas_loads_without_problems(tmp_path: Path) -> None:
    assert problems_for(tmp_path, good_atlas_data()) == []
    atlas = load_atlas(tmp_path / "atlas")
    assert set(atlas.views) == {"view_a_right", "view_a_left"}
    assert atlas.sites["site_a"].at.offsets_cm == (-2.0, 0.0, 0.0)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"] = "schema_version: 1\nregion: {id: reg_a\n"
    probs = problems_for(tmp_path, data, renders=False)
    assert any(p.startswith("atlas/regions/reg_a.yaml: -: -: YAML syntax error (line") for p in probs), probs


def test_unknown_field_names_item_and_field(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["nerves"][0]["colour"] = "blue"
    probs = problems_for(tmp_path, data)
    assert "atlas/regions/reg_a.yaml: nerve_a: colour: unknown field (not in the schema)" in probs


def test_missing_required_field(tmp_path: Path) -> None:
    data = good_atlas_data()
    del data["regions/reg_a.yaml"]["sites"][0]["at"]["ref"]
    probs = problems_for(tmp_path, data)
    assert "atlas/regions/reg_a.yaml: site_a: at.ref: required field is missing" in probs


def test_both_offsets_of_a_pair_are_refused(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["at"] = point(distal_cm=2, proximal_cm=1)
    probs = problems_for(tmp_path, data)
    assert any(p.startswith("atlas/regions/reg_a.yaml: site_a: at: ") and "not both" in p for p in probs), (
        probs
    )


def test_unknown_landmark_is_reported(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["nerves"][0]["course"][1]["landmark"] = "lm_nowhere"
    probs = problems_for(tmp_path, data)
    assert "atlas/regions/reg_a.yaml: nerve_a: course.1.landmark: unknown landmark 'lm_nowhere'" in probs


def test_unknown_nerve_of_a_site(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["nerve"] = "nerve_z"
    assert "atlas/regions/reg_a.yaml: site_a: nerve: unknown nerve 'nerve_z'" in problems_for(tmp_path, data)


def test_duplicate_ids_across_kinds(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["avoid"][0]["id"] = "site_a"
    data["regions/reg_a.yaml"]["sites"][0]["avoid"] = []
    probs = problems_for(tmp_path, data, renders=False)
    assert any(p.startswith("atlas/regions/reg_a.yaml: site_a: id: duplicate id") for p in probs), probs


def test_two_landmarks_with_one_name(tmp_path: Path) -> None:
    data = good_atlas_data()
    landmarks = data["landmarks.yaml"]["landmarks"]
    landmarks[1]["name"] = landmarks[0]["name"]
    probs = problems_for(tmp_path, data, renders=False)
    expected = f"{landmarks[1]['id']}: name: same name as landmark '{landmarks[0]['id']}'"
    assert any(p.endswith(expected) for p in probs), probs


def test_record_citing_nothing(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["nerves"][0]["references"] = []
    assert "atlas/regions/reg_a.yaml: nerve_a: references: cites no reference" in problems_for(tmp_path, data)


def test_unknown_reference_in_a_point(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["at"]["ref"] = "ref_missing"
    assert "atlas/regions/reg_a.yaml: site_a: at.ref: unknown reference 'ref_missing'" in problems_for(
        tmp_path, data
    )


def test_view_missing_its_render(tmp_path: Path) -> None:
    probs = problems_for(tmp_path, good_atlas_data(), renders=False)
    assert any(
        p.startswith("atlas/regions/reg_a.yaml: view_a_right: render: body type 'female': missing")
        for p in probs
    ), probs


def test_points_off_the_skin(tmp_path: Path) -> None:
    probs = problems_for(tmp_path, good_atlas_data(), snap_cm=2.5)
    assert any("site_a: point 0: off the skin: 2.5 cm" in p for p in probs), probs


def test_wrong_schema_version(tmp_path: Path) -> None:
    data = copy.deepcopy(good_atlas_data())
    data["landmarks.yaml"]["schema_version"] = 7
    probs = problems_for(tmp_path, data, renders=False)
    assert any(p.startswith("atlas/landmarks.yaml: -: schema_version:") for p in probs), probs


def test_load_atlas_raises_with_every_problem(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["nerve"] = "nerve_z"
    data["regions/reg_a.yaml"]["nerves"][0]["references"] = []
    write_atlas(tmp_path / "atlas", data, renders=False)
    with pytest.raises(AtlasError) as info:
        load_atlas(tmp_path / "atlas")
    assert len(info.value.problems) == 2


def test_site_inside_a_safety_radius_is_reported(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["avoid"][0]["path"] = [
        point(distal_cm=2, lateral_cm=0.2),
        point(distal_cm=5, lateral_cm=0.2),
    ]
    probs = problems_for(tmp_path, data)
    assert any(
        p.startswith(
            "atlas/regions/reg_a.yaml: site_a: at: lies 0.20 cm from 'vein_a', inside its 0.5 cm safety radius"
        )
        for p in probs
    ), probs


def test_landmarks_and_references_may_be_split_over_files(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["landmarks_extra.yaml"] = {
        "schema_version": 1,
        "landmarks": [
            {
                "id": "lm_c",
                "name": "Landmark C",
                "segment": "leg",
                "vertex": 3,
                "references": ["ref_b"],
                **LANDMARK_METHOD,
            },
            {
                "id": "lm_a",
                "name": "Duplicate",
                "segment": "leg",
                "vertex": 4,
                "references": ["ref_a"],
                **LANDMARK_METHOD,
            },
        ],
    }
    data["references_extra.yaml"] = {
        "schema_version": 1,
        "references": [
            {"id": "ref_b", "kind": "textbook", "citation": "Roe R. Anatomy. 2nd ed.", "findings": ["a fact"]}
        ],
    }
    probs = problems_for(tmp_path, data)
    assert any(
        p.startswith(
            "atlas/landmarks_extra.yaml: lm_a: id: duplicate id (also defined in atlas/landmarks.yaml)"
        )
        for p in probs
    ), probs
    assert not any("ref_b" in p for p in probs), probs


def test_control_characters_and_images_in_atlas_text_are_refused_with_the_field(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["nerves"][0]["description"] = "Runs from above\x0b lm_a."
    data["regions/reg_a.yaml"]["sites"][0]["teaching"] = "Mark it: ![here](http://example.com/x.png)"
    data["references.yaml"]["references"][0]["findings"] = ['<img src="http://example.com/y.png">']
    probs = problems_for(tmp_path, data)
    assert (
        "atlas/regions/reg_a.yaml: nerve_a: description: contains a control character (U+000B); remove it"
        in probs
    )
    assert any(
        p.startswith("atlas/regions/reg_a.yaml: site_a: teaching: contains a markdown image '![here]'")
        for p in probs
    ), probs
    assert any(
        p.startswith("atlas/references.yaml: ref_a: findings.0: contains HTML that loads a resource")
        for p in probs
    ), probs


def test_a_body_with_more_soft_tissue_may_have_its_own_off_skin_limit(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["body_types.yaml"]["body_types"][0]["off_skin_limit_cm"] = 2.5
    assert not any("off the skin" in p for p in problems_for(tmp_path / "a", data, snap_cm=2.0))
    data["body_types.yaml"]["body_types"][0]["off_skin_limit_cm"] = 1.5
    assert any(
        "off the skin: 2.0 cm from the surface on 'female' (limit 1.5 cm)" in p
        for p in problems_for(tmp_path / "b", data, snap_cm=2.0)
    )


def test_turning_a_view_from_the_front_toward_the_back_is_refused(tmp_path: Path) -> None:
    """'Toward the back' has no meaning for a view from straight in front: named, not guessed."""
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["views"][0]["turn_posterior_deg"] = 20
    probs = problems_for(tmp_path, data, renders=False)
    assert any(
        p.startswith("atlas/regions/reg_a.yaml: view_a:") and "cannot be turned toward the back" in p
        for p in probs
    ), probs
    data["regions/reg_a.yaml"]["views"][0]["look_from"] = "anteromedial"
    assert not [p for p in problems_for(tmp_path, data, renders=False) if "turned" in p]
