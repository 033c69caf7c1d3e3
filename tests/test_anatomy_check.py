"""anatomy-check computes each quantity kind on known geometry and classifies it honestly.

The synthetic body is a cylinder "limb" (radius 5 cm, axis +y, 40 cm long) with a straight
"nerve" down its front; every expected value below is worked out by hand from that shape.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import check_atlas
from trainer.atlas.validation import CheckModel, Quantity
from trainer.cli import main
from trainer.tools.anatomy_check import (
    Geometry,
    NotComputable,
    Skin,
    evaluate,
    load_geometry,
    markdown_report,
    quantity_of,
    run_checks,
    run_outcomes,
    unverified_contradicted,
)

RADIUS_CM = 5.0
LEG_FRAME = {"proximal": [0.0, 1.0, 0.0], "lateral": [-1.0, 0.0, 0.0], "anterior": [0.0, 0.0, 1.0]}


def cylinder(
    radius_cm: float = RADIUS_CM, height_cm: float = 40.0, around: int = 256, rows: int = 41
) -> Skin:
    """An open cylinder about the y axis, as triangles."""
    angles = np.linspace(0.0, 2 * np.pi, around, endpoint=False)
    ys = np.linspace(0.0, height_cm, rows)
    verts = np.array([[radius_cm * np.sin(a), y, radius_cm * np.cos(a)] for y in ys for a in angles])
    tris = []
    for r in range(rows - 1):
        for i in range(around):
            a, b = r * around + i, r * around + (i + 1) % around
            c, d = a + around, b + around
            tris += [[a, b, c], [b, d, c]]
    return Skin.build(verts, np.array(tris))


def limb(skin: Skin | None = None) -> Geometry:
    """Front of the limb at z = +5; the body's right, so lateral is -x."""
    return Geometry.from_dict(
        {
            "body_type": "female",
            "joints_cm": {"r-knee": [0.0, 40.0, 0.0], "r-ankle": [0.0, 0.0, 0.0]},
            "frames": {"leg": LEG_FRAME},
            "landmarks": {
                "lm_a": {"point_cm": [0.0, 10.0, 5.0], "segment": "leg"},
                "lm_b": {"point_cm": [-3.0, 14.0, 4.0], "segment": "leg"},
                "lm_side": {"point_cm": [-5.0, 10.0, 0.0], "segment": "leg"},
            },
            "items": {
                "nerve_a": {
                    "kind": "nerve",
                    "points_cm": [[0.0, 30.0, 5.0], [0.0, 20.0, 5.0], [0.0, 2.0, 5.0]],
                },
                "site_a": {"kind": "site", "points_cm": [[0.0, 6.0, 5.0]]},
                "vein_a": {"kind": "avoid", "points_cm": [[-4.0, 26.0, 3.0], [-1.0, 24.0, 4.0]]},
            },
        },
        skin,
    )


def q(data: dict[str, Any]) -> Quantity:
    return Quantity.model_validate(data)


LM_A = {"landmark": "lm_a"}


def test_straight_distance_is_the_3d_length() -> None:
    # lm_a (0,10,5) to lm_b (-3,14,4): sqrt(9 + 16 + 1)
    assert quantity_of(q({"distance": [LM_A, {"landmark": "lm_b"}]}), limb()) == pytest.approx(math.sqrt(26))


def test_component_is_signed_along_the_named_axis() -> None:
    geo = limb()
    up = q({"component": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.proximal"}})
    down = q({"component": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.distal"}})
    lateral = q({"component": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.lateral"}})
    back = q({"component": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.posterior"}})
    assert quantity_of(up, geo) == pytest.approx(4.0)
    assert quantity_of(down, geo) == pytest.approx(-4.0)
    assert quantity_of(lateral, geo) == pytest.approx(3.0)  # lateral is -x on the right side
    assert quantity_of(back, geo) == pytest.approx(1.0)


def test_foot_axes_use_the_leg_frame() -> None:
    geo = limb()
    foot = q({"component": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "foot.proximal"}})
    assert quantity_of(foot, geo) == pytest.approx(4.0)


def test_perpendicular_drops_the_component_along_the_axis() -> None:
    across = q({"perpendicular": {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.proximal"}})
    assert quantity_of(across, limb()) == pytest.approx(math.sqrt(10))


def test_perpendicular_can_drop_a_second_direction_to_measure_within_a_plane() -> None:
    # lm_a (0,10,5) -> lm_b (-3,14,4): across the leg axis sqrt(9 + 1); dropping depth leaves 3
    across = {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.proximal"}
    assert quantity_of(q({"perpendicular": across}), limb()) == pytest.approx(math.sqrt(10))
    assert quantity_of(q({"perpendicular": {**across, "drop": "leg.anterior"}}), limb()) == pytest.approx(3.0)
    # a drop that is not square to the axis is first made square to it: lm_a -> lm_b's own line
    oblique = {**across, "drop": {"from": LM_A, "to": {"landmark": "lm_side"}}}  # (-5,0,-5) after squaring
    d = np.array([-3.0, 0.0, -1.0])
    m = np.array([-1.0, 0.0, -1.0]) / math.sqrt(2)
    assert quantity_of(q({"perpendicular": oblique}), limb()) == pytest.approx(
        float(np.linalg.norm(d - (d @ m) * m))
    )


def test_component_with_drop_is_measured_within_a_plane() -> None:
    # lm_a (0,10,5) -> lm_b (-3,14,4) along the line lm_a -> lm_side (-5,0,-5 from lm_a): in 3D
    # (15 + 5) / sqrt(50); with depth (z) dropped the axis becomes (-1,0,0) and the vector (-3,4,0): 3
    along = {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": {"from": LM_A, "to": {"landmark": "lm_side"}}}
    assert quantity_of(q({"component": along}), limb()) == pytest.approx(20 / math.sqrt(50))
    assert quantity_of(q({"component": {**along, "drop": "leg.anterior"}}), limb()) == pytest.approx(3.0)
    # an axis parallel to the dropped direction has no length left in the plane
    square = {"from": LM_A, "to": {"landmark": "lm_b"}, "axis": "leg.anterior", "drop": "leg.anterior"}
    with pytest.raises(NotComputable, match="drop"):
        quantity_of(q({"component": square}), limb())


def test_two_point_axis_and_ratio_give_a_fraction_along_a_line() -> None:
    # site_a (0,6,5) projected on the line lm_a -> the nerve's first point (0,30,5): -4 of 20
    line = {"from": LM_A, "to": {"course": {"item": "nerve_a", "end": "first"}}}
    frac = q(
        {
            "ratio": [
                {"component": {"from": LM_A, "to": {"site": "site_a"}, "axis": line}},
                {"distance": [LM_A, {"course": {"item": "nerve_a", "end": "first"}}]},
            ]
        }
    )
    assert quantity_of(frac, limb()) == pytest.approx(-0.2)


def test_course_crossing_a_plane_offset_from_a_landmark() -> None:
    # the plane 8 cm proximal to lm_a is y = 18; the nerve runs down x = 0, z = 5
    p = {"course": {"item": "nerve_a", "crossing": {"point": LM_A, "axis": "leg.proximal", "offset_cm": 8}}}
    assert quantity_of(
        q({"component": {"from": LM_A, "to": p, "axis": "leg.proximal"}}), limb()
    ) == pytest.approx(8.0)
    assert quantity_of(q({"distance": [LM_A, p]}), limb()) == pytest.approx(8.0)


def test_course_point_nearest_a_landmark_and_nearest_a_line() -> None:
    geo = limb()
    near = {"course": {"item": "nerve_a", "nearest_to": {"landmark": "lm_b"}}}
    # nearest point of the x=0,z=5 line to (-3,14,4) is (0,14,5): distance sqrt(9+1)
    assert quantity_of(q({"distance": [{"landmark": "lm_b"}, near]}), geo) == pytest.approx(math.sqrt(10))
    # the segment lm_side (-5,10,0) -> lm_b (-3,14,4) comes closest to the nerve at lm_b's end
    to_line = {
        "course": {"item": "nerve_a", "nearest_to_line": [{"landmark": "lm_side"}, {"landmark": "lm_b"}]}
    }
    assert quantity_of(
        q({"component": {"from": LM_A, "to": to_line, "axis": "leg.proximal"}}), geo
    ) == pytest.approx(4.0)


def test_course_point_nearest_a_line_drawn_on_the_skin() -> None:
    # A chord from angle -60 deg (y=10) to +60 deg (y=30) round the radius-5 cylinder runs 2.5 cm
    # under the skin at its middle. A nerve on the skin at angle +50 deg, (3.83, y, 3.21), meets
    # the line drawn on the skin above the chord where the chord's angle is 50 deg:
    # x = 2.5 tan 50 = 2.98 -> t = (2.98 + 4.33) / 8.66 = 0.844 -> y = 26.9. The straight chord
    # instead comes nearest where its x equals 3.83: t = 0.942 -> y = 28.8, nearer its end.
    base = limb(cylinder())
    s50, c50 = 5 * math.sin(math.radians(50)), 5 * math.cos(math.radians(50))
    s60, c60 = 5 * math.sin(math.radians(60)), 5 * math.cos(math.radians(60))
    geo = Geometry(
        base.body_type,
        base.joints_cm,
        base.frames,
        {**base.landmarks_cm, "lm_p": np.array([-s60, 10.0, c60]), "lm_q": np.array([s60, 30.0, c60])},
        {**base.items, "nerve_side": ("nerve", np.array([[s50, 0.0, c50], [s50, 40.0, c50]]))},
        base.skin,
    )
    line = [{"landmark": "lm_p"}, {"landmark": "lm_q"}]
    on_skin = {"course": {"item": "nerve_side", "nearest_to_skin_line": line}}
    chord = {"course": {"item": "nerve_side", "nearest_to_line": line}}
    level = {"component": {"from": LM_A, "to": on_skin, "axis": "leg.proximal"}}
    assert quantity_of(q(level), geo) == pytest.approx(16.88, abs=0.2)
    level_chord = {"component": {"from": LM_A, "to": chord, "axis": "leg.proximal"}}
    assert quantity_of(q(level_chord), geo) == pytest.approx(18.85, abs=0.05)


def test_a_line_on_the_skin_needs_a_skin_mesh() -> None:
    p = {"course": {"item": "nerve_a", "nearest_to_skin_line": [LM_A, {"landmark": "lm_b"}]}}
    with pytest.raises(NotComputable):
        quantity_of(q({"distance": [LM_A, p]}), limb())


def test_course_point_nearest_another_item() -> None:
    # the vein ends at (-1,24,4), 1.41 cm from the nerve point (0,24,5)
    p = {"course": {"item": "nerve_a", "nearest_to_item": "vein_a"}}
    assert quantity_of(
        q({"component": {"from": LM_A, "to": p, "axis": "leg.proximal"}}), limb()
    ) == pytest.approx(14.0)


def test_course_point_farthest_along_an_axis_reaches_a_territory_edge() -> None:
    geo = limb()
    outline = np.array([[0.0, 12.0, 5.0], [-3.0, 8.0, 4.0], [0.0, 3.5, 5.0], [3.0, 9.0, 4.0]])
    geo = Geometry(
        geo.body_type,
        geo.joints_cm,
        geo.frames,
        geo.landmarks_cm,
        {**geo.items, "terr_a": ("territory", outline)},
        geo.skin,
    )
    # the outline's lowest vertex (y = 3.5) lies 6.5 cm distal to lm_a (y = 10)
    edge = {"course": {"item": "terr_a", "farthest": "leg.distal"}}
    assert quantity_of(
        q({"component": {"from": LM_A, "to": edge, "axis": "leg.distal"}}), geo
    ) == pytest.approx(6.5)
    # along a two-point axis: lm_a -> lm_side points to -x, where the outline reaches x = -3
    side = {"course": {"item": "terr_a", "farthest": {"from": LM_A, "to": {"landmark": "lm_side"}}}}
    assert quantity_of(
        q({"component": {"from": LM_A, "to": side, "axis": "leg.lateral"}}), geo
    ) == pytest.approx(3.0)


def test_between_gives_the_midpoint() -> None:
    mid = {"between": {"from": LM_A, "to": {"landmark": "lm_b"}}}
    assert quantity_of(q({"distance": [LM_A, mid]}), limb()) == pytest.approx(math.sqrt(26) / 2)


def test_distance_along_the_skin_follows_the_curve() -> None:
    # a quarter turn round a 5 cm cylinder at the same height: arc 5 * pi / 2, chord 5 * sqrt(2)
    geo = limb(cylinder())
    arc = q({"skin_distance": [LM_A, {"landmark": "lm_side"}]})
    chord = q({"distance": [LM_A, {"landmark": "lm_side"}]})
    assert quantity_of(arc, geo) == pytest.approx(5 * math.pi / 2, abs=0.02)
    assert quantity_of(chord, geo) == pytest.approx(5 * math.sqrt(2))


def check(**over: Any) -> CheckModel:
    data: dict[str, Any] = {
        "id": "chk_a",
        "region": "reg_a",
        "ref": "ref_b",
        "read": "abstract",
        "measured": "site below lm_a along the leg",
        "method": "cadaver",
        "n": 20,
        "source_value": "4.0 +/- 0.5 cm",
        "expected": {"mean": 4.0, "sd": 0.5},
        "unit": "cm",
        "compute": {"component": {"from": LM_A, "to": {"site": "site_a"}, "axis": "leg.distal"}},
        "independence": "site_a was placed from ref_a",
    }
    data.update(over)
    return CheckModel.model_validate(data)


def test_classification_within_outside_and_by_how_much() -> None:
    geo = limb()  # site_a is 4.0 cm distal to lm_a
    assert evaluate(check(), geo).status == "within"
    tight = evaluate(check(expected={"mean": 3.0, "sd": 0.25}), geo)  # 2.5-3.5
    assert (tight.status, tight.beyond) == ("outside", pytest.approx(0.5))
    low = evaluate(check(expected={"min": 4.5, "max": 6.0}), geo)  # range only
    assert (low.status, low.beyond) == ("outside", pytest.approx(-0.5))


def test_missing_landmark_is_not_computable_and_says_what_the_source_needs() -> None:
    c = check(
        compute={"distance": [{"landmark": "fibular_head_apex"}, {"site": "site_a"}]},
        needs=["fibular_head_apex"],
    )
    out = evaluate(c, limb())
    assert out.status == "not_computable"
    assert "fibular_head_apex" in (out.reason or "") and "lacks" in (out.reason or "")


def test_course_that_never_reaches_the_plane_is_not_computable() -> None:
    p = {"course": {"item": "nerve_a", "crossing": {"point": LM_A, "axis": "leg.proximal", "offset_cm": 25}}}
    out = evaluate(check(compute={"distance": [LM_A, p]}), limb())
    assert out.status == "not_computable" and "does not reach" in (out.reason or "")


def test_json_report_shape() -> None:
    checks = [
        check(),
        check(id="chk_b", expected={"mean": 1.0, "sd": 0.1}),
        check(id="chk_c", compute={"distance": [{"landmark": "nowhere"}, LM_A]}, needs=["nowhere"]),
    ]
    report = run_checks(checks, {"female": limb()})
    assert report == {
        "bodies": {
            "female": {
                "checks": 3,
                "within": 1,
                "outside": [{"id": "chk_b", "measured": 4.0, "expected": [0.8, 1.2], "beyond": 2.8}],
                "not_computable": [
                    {"id": "chk_c", "reason": report["bodies"]["female"]["not_computable"][0]["reason"]}
                ],
                "unverified_contradicted": [],
            }
        },
        "checks_total": 3,
    }
    assert json.loads(json.dumps(report)) == report


def test_sex_specific_checks_apply_only_to_their_bodies() -> None:
    male_only = check(bodies=["male"])
    report = run_checks([male_only, check(id="chk_b")], {"female": limb()})
    assert report["bodies"]["female"]["checks"] == 1


def test_unverified_items_that_an_outside_check_measures_are_listed() -> None:
    checks = [check(), check(id="chk_b", expected={"mean": 1.0, "sd": 0.1})]  # chk_b falls outside
    outs = run_outcomes(checks, {"female": limb()})["female"]
    assert unverified_contradicted(checks, outs, {"site_a"}) == [{"item": "site_a", "checks": ["chk_b"]}]
    assert unverified_contradicted(checks, outs, {"nerve_a"}) == []  # no check measures it
    assert unverified_contradicted(checks[:1], outs[:1], {"site_a"}) == []  # measured, but within
    text = markdown_report(checks, {"female": outs}, {}, {"site_a"})
    assert "1 item marked `verified: false`" in text and "| `site_a` | `chk_b` (female) |" in text


def test_markdown_lists_every_check_with_its_result() -> None:
    checks = [check(), check(id="chk_b", expected={"mean": 1.0, "sd": 0.1})]
    text = markdown_report(checks, run_outcomes(checks, {"female": limb()}), {"ref_b": "Doe 2020"})
    assert "| female | 2 | 1 | 1 | 0 | 50% |" in text
    assert "`chk_b`" in text and "**4.0** outside (+2.80)" in text


# --- the files: validation problems and the CLI -------------------------------------------------


def validation_atlas(tmp_path: Path, checks: list[dict[str, Any]]) -> Path:
    data = good_atlas_data()
    data["references_validation.yaml"] = {
        "schema_version": 1,
        "references": [
            {
                "id": "ref_b",
                "kind": "paper",
                "citation": "Roe R. Another study. J Test. 2021;2:3-4.",
                "findings": ["site 4.0 +/- 0.5 cm below lm_a"],
                "verified": True,
            }
        ],
    }
    data["validation/leg.yaml"] = {"schema_version": 1, "checks": checks}
    return write_atlas(tmp_path / "atlas", data, renders=False)


def good_check(**over: Any) -> dict[str, Any]:
    c = check().model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    c.update(over)
    return c


def test_good_validation_file_has_no_problems(tmp_path: Path) -> None:
    _, problems = check_atlas(validation_atlas(tmp_path, [good_check()]), renders=False)
    assert [str(p) for p in problems] == []


def test_bad_validation_entries_are_reported_by_file_id_and_field(tmp_path: Path) -> None:
    bad = [
        good_check(id="chk_extra", colour="blue"),
        good_check(id="chk_spread", expected={"mean": 4.0}),
        good_check(id="chk_lm", compute={"distance": [{"landmark": "lm_z"}, LM_A]}),
        good_check(id="chk_same", ref="ref_a"),
        good_check(id="chk_axis", compute={"component": {"from": LM_A, "to": LM_A, "axis": "leg.up"}}),
    ]
    _, problems = check_atlas(validation_atlas(tmp_path, bad), renders=False)
    msgs = [str(p) for p in problems]
    f = "atlas/validation/leg.yaml"
    assert f"{f}: chk_extra: colour: unknown field (not in the schema)" in msgs, msgs
    assert any(m.startswith(f"{f}: chk_spread: expected: ") and "spread" in m for m in msgs), msgs
    assert any(m.startswith(f"{f}: chk_axis: compute.component.axis") for m in msgs), msgs


def test_unknown_landmarks_and_non_independent_sources_are_refused(tmp_path: Path) -> None:
    bad = [
        good_check(id="chk_lm", compute={"distance": [{"landmark": "lm_z"}, LM_A]}),
        good_check(id="chk_same", ref="ref_a"),
        good_check(id="chk_other_quantity", ref="ref_a", same_source=True),
    ]
    _, problems = check_atlas(validation_atlas(tmp_path, bad), renders=False)
    msgs = [str(p) for p in problems]
    f = "atlas/validation/leg.yaml"
    assert any(m.startswith(f"{f}: chk_lm: compute: unknown landmark 'lm_z'") for m in msgs), msgs
    assert any(m.startswith(f"{f}: chk_same: ref: 'site_a' was placed from 'ref_a'") for m in msgs), msgs
    assert not any("chk_other_quantity" in m for m in msgs), msgs


def test_territory_outlines_can_be_measured_and_keep_their_independence_rule(tmp_path: Path) -> None:
    edge = {"course": {"item": "terr_a", "farthest": "leg.distal"}}
    checks = [
        good_check(id="chk_terr", compute={"component": {"from": LM_A, "to": edge, "axis": "leg.distal"}}),
        good_check(id="chk_terr_same", ref="ref_a", compute={"distance": [LM_A, edge]}),
        good_check(
            id="chk_terr_unknown",
            compute={"distance": [LM_A, {"course": {"item": "terr_z", "end": "first"}}]},
        ),
    ]
    _, problems = check_atlas(validation_atlas(tmp_path, checks), renders=False)
    msgs = [str(p) for p in problems]
    f = "atlas/validation/leg.yaml"
    assert not any("chk_terr:" in m for m in msgs), msgs
    assert any(m.startswith(f"{f}: chk_terr_same: ref: 'terr_a' was placed from 'ref_a'") for m in msgs), msgs
    assert any(
        m.startswith(
            f"{f}: chk_terr_unknown: compute: unknown nerve, structure to avoid or territory 'terr_z'"
        )
        for m in msgs
    ), msgs


def write_resolved(atlas_dir: Path) -> None:
    geo = limb()
    data = {
        "schema_version": 1,
        "body_type": "female",
        "input_hash": "test",
        "side": "right",
        "pose": "rest",
        "joints_cm": {k: v.tolist() for k, v in geo.joints_cm.items()},
        "frames": {"leg": LEG_FRAME},
        "landmarks": {k: {"point_cm": v.tolist(), "segment": "leg"} for k, v in geo.landmarks_cm.items()},
        "items": {k: {"kind": kind, "points_cm": pts.tolist()} for k, (kind, pts) in geo.items.items()},
    }
    (atlas_dir / "resolved").mkdir(exist_ok=True)
    (atlas_dir / "resolved" / "female.json").write_text(json.dumps(data))


def test_cli_prints_the_json_report_and_writes_the_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = validation_atlas(
        tmp_path, [good_check(), good_check(id="chk_b", expected={"mean": 1.0, "sd": 0.1})]
    )
    write_resolved(root)
    out_md = tmp_path / "anatomy-check.md"
    assert main(["anatomy-check", "--atlas", str(root), "--json", "--output", str(out_md)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["checks_total"] == 2
    assert report["bodies"]["female"]["within"] == 1
    assert [o["id"] for o in report["bodies"]["female"]["outside"]] == ["chk_b"]
    assert "`chk_b`" in out_md.read_text()


def test_cli_names_a_missing_resolved_geometry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = validation_atlas(tmp_path, [good_check()])
    assert main(["anatomy-check", "--atlas", str(root), "--output", "-"]) == 2
    assert "resolved geometry missing" in capsys.readouterr().err


def test_load_geometry_reads_the_skin_mesh(tmp_path: Path) -> None:
    root = validation_atlas(tmp_path, [good_check()])
    write_resolved(root)
    skin = cylinder(around=64, rows=5)
    (root / "meshes").mkdir()
    np.savez(
        root / "meshes" / "female.npz",
        vertices_cm=skin.vertices_cm.astype(np.float32),
        triangles=skin.triangles.astype(np.int32),
    )
    geo = load_geometry(root, "female")
    assert geo.skin is not None and len(geo.skin.triangles) == 64 * 4 * 2
