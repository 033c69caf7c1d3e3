"""Ratchet on the anatomy check (issue 14): the share of independent published measurements
(atlas/validation) that each body reproduces within the published spread must not fall.

The committed figures are those ``python -m trainer anatomy-check --json`` gave on the last
re-derivation (the history, with check counts, is in the comment above COMMITTED_WITHIN_FRACTION).
Raise a figure whenever the atlas improves; never lower one to make a change pass (fix the atlas,
or argue the check out of atlas/validation in review, e.g. when its study becomes an item's
placement source). The one kind of lowering on record is new independent checks growing the
denominator, said in that comment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "atlas"

# body type -> the lowest acceptable within fraction (within / checks that apply to the body).
# None = not yet set; see the module docstring. 155/169, 149/169 and 154/169, rounded down, in
# session 11 (docs/research/rederive_h11_*.md): three new checks written before their results were
# known, all within (the medial plantar nerve at the knot of Henry, the saphenous nerve from the
# tibial tuberosity, the accessory nerve's exit below the mastoid), and on the male body the
# accessory-nerve length in the posterior triangle came within (0.07 cm) when its exit point's
# depth number of ours became onto_skin. Before: 152/166, 145/166 and 151/166, rounded down, at the
# end of session 8: the supraclavicular trunk's emergence re-derived from an ultrasound series
# (h9-neck; the Havet check came within) and seven new independent checks written before their
# results were known (h9-newchecks, docs/research/newchecks_h9.md: six within, one outside on every
# body, the textbook lateral plantar course against Chung 2011). Before: 145/159, 138/159 and 144/159, rounded down, in
# session 8 (docs/research/rederive_h9_*.md): the superior cluneal groove re-derived from both of
# Iwanaga's distances (its midline check retired as the placement, replaced by the same quantity from
# Loubser and Lu), then both series' PSIS distances added as the groove's counterpart checks, so it is
# not tested only on the quantity that passes; Lu's is outside on every body (a source conflict about
# the same tunnel). The female and male floors fell by that one new outside check. Before: 143/156, 136/156 and 141/156, rounded down, after
# the session-7 slices (docs/research/rederive_h7_*.md): the LFCN ligament point from the largest series
# (Zhu 2012, 240 nerves), the small saphenous vein ending at its measured origin (Gaye 2019), the LACN
# crossing placed from Qawasmi 2024 (its check retired as the placement, 155 -> 154, with Wongkerdsook kept
# as same-source checks, +2 sex-specific of which one applies per body) and one new sural ultrasound check
# (Kim 2014). Before: 138/155, 132/155 and 137/155, rounded down, after the
# h7-ankle slice (docs/research/rederive_h7_ankle.md) added four independent checks from one new series
# (Nimana 2023, skin distances from the malleoli at the malleolar plane) before their results were known:
# two are within on every body (deep peroneal and tibial nerves) and two are outside on every body (the
# medial dorsal cutaneous nerve, whose ankle point is the too-anterior ankle_anterior_midpoint landmark,
# and the saphenous anterior branch, drawn 0.7 cm from the malleolus against 2.4 cm). No check that was
# within before left the band: the fraction fell because the denominator grew. Before: 136/151, 130/151 and 135/151, rounded down, after the
# session-6 slices (docs/research/rederive_s6_neck.md, rederive_h6_foot.md, rederive_s6_knee.md,
# rederive_h6_upper.md): six new checks (five arm series and one groin series; one of them, the
# LACN quarter of the elbow line, is outside on every body), one check made computable by a new
# landmark (navicular_dorsal_prominence; outside), one compute corrected (the MACN posterior branch
# measured along the skin line of the ulna, not the chord under it), and re-derived items: the neck's
# nerve point and accessory exit as fractions of the neck (Durazzo 2009, Ellis 2022), the sural
# Achilles crossing pooled from two insertion-based series, the hallux digital branch as Park's own
# fraction, the saphenous canal exit from Tubbs 2007, Lister's tubercle re-picked from a measured series.
# Before: 127/145, 120/145 and 127/145, rounded down, after
# the session-5 slices (docs/research/rederive_s5_*.md): 118/115/118 of 141 before; four checks were
# added (three new independent series in the head and back, one restored 32-foot series that is
# outside), the rest came from re-derived items (femoral artery, infrapatellar branch exit, ulnar
# nerve at the epicondyle, medial calcaneal origin). The male figure was 121 for one commit and went
# back to 120 when the spinal accessory exit returned from Ellis's ratio to cm: as a ratio it met the
# transverse cervical injection site on the male neck (docs/research/rederive_s5_ratio.md).
# (male raised from 111 in Phase 3c: the femoral epicondyles became rules at the knee centre).
# Lowered once, by one check on the female and male bodies, when the bodies were calibrated to
# ANSUR II (issue 13): the narrower calibrated female pelvis puts the ASIS 0.03 cm short of
# Uzel's ASIS-pubic tubercle range, and the re-fitted male neck moves two accessory-nerve
# checks out while one cluneal check comes in (docs/research/rederive.md). Before that:
# 119/112/118 (Phase 3b: limbs, and head with the gonion and mastoid tip re-picked).
# Lowered on the female bodies (0.917 -> 0.916, 0.911 -> 0.910) by h12-headarm (issue 14): the retired
# Katcherian check (docs/research/retired_checks.md) was within on both female bodies, so 155/169 became
# 154/168 and 154/169 became 153/168; no remaining check changed its result.
# Raised after the session-12 merges to 158/171, 153/171 and 157/171 (0.923 / 0.894 / 0.918): four new
# checks added before their results were known (two knee, two sural; all within), and two checks
# retired because their series became the placement of the part they contradicted (the lateral plantar
# crossing, outside on every body, and the MACN posterior branch, outside on the male): part of the
# rise is those two outside checks leaving the denominator, not the atlas improving.
# Then to 163/176, 158/176 and 162/176 (0.926 / 0.897 / 0.920) when five neck checks were added before
# their results were known (two trapezius-entry heights, three emergence levels below the meatal line;
# all within on every body).
# Lowered on the female body (0.926 -> 0.925) by the session-12 review: the Dangintawat union-height
# check (band -0.5 to 33.1 cm, so it could not fail) was withdrawn, taking one "within" off every body:
# 162/175, 157/175 and 161/175.
# Session 13: 163/176, 158/176 and 162/176 (female back to 0.926): one check added before its result
# was known (Becser's greater occipital crossing of the intermastoid line; within on every body). No
# atlas change this session moved a check's status.
# Session 13 round 2 (h13b-gsv): 163/178, 158/178 and 162/178 (0.915 / 0.887 / 0.910). Two checks of the great
# saphenous vein's measured obliquity above the ankle (MRI, 352 limbs: 32.4 degrees to the tibial axis) were added
# on the two drawn copies of the textbook vein line. Unlike the others, their result was foreseen (the drawn line
# runs at 2-4 degrees, rederive_h13_saphankle.md); both are outside on every body. No check that was within before
# left the band: the fraction fell because the denominator grew (docs/research/rederive_h13b_gsv.md).
# Session 15 (h15-gsv): 163/176, 158/176 and 162/176 again (0.926 / 0.897 / 0.920). The MRI series became the
# placement of both vein lines up to 40 mm above the plafond, so its two checks were retired (outside on every body,
# by less than 0.02): the whole rise is those two outside checks leaving the denominator; no remaining check changed
# its status (docs/research/rederive_h15_gsv.md, docs/research/retired_checks.md).
COMMITTED_WITHIN_FRACTION: dict[str, float] | None = {
    "female": 0.926,
    "male": 0.897,
    "female_high_bmi": 0.920,
}

# Not computable checks are counted against a body (they are in the denominator), so a ratchet on the
# within fraction also stops a landmark or item from silently disappearing. A second, looser guard:
# the number of checks that cannot be computed on any body must not grow past this figure (None = unset).
COMMITTED_MAX_NOT_COMPUTABLE: int | None = 1  # was 2; navicular_dorsal_prominence added (session 6)


def _report() -> dict:
    from trainer.atlas import load_atlas
    from trainer.atlas.validation import read_validation
    from trainer.tools.anatomy_check import load_geometry, run_checks

    atlas = load_atlas(ROOT)
    vset, problems = read_validation(ROOT)
    assert not problems, problems
    geometries = {b: load_geometry(ROOT, b) for b in atlas.body_types}
    return run_checks(vset.checks, geometries)


def _resolved_present() -> bool:
    return (ROOT / "resolved").is_dir() and any((ROOT / "resolved").glob("*.json"))


@pytest.mark.skipif(
    not _resolved_present(), reason="atlas/resolved/*.json not committed yet (issue 13 body calibration)"
)
def test_within_fraction_does_not_fall() -> None:
    from trainer.tools.anatomy_check import within_fraction

    if COMMITTED_WITHIN_FRACTION is None:
        pytest.skip(
            "committed within fractions not set yet: run `python -m trainer anatomy-check --json` "
            "on the calibrated bodies and commit the figures in COMMITTED_WITHIN_FRACTION"
        )
    report = _report()
    for body, floor in COMMITTED_WITHIN_FRACTION.items():
        assert body in report["bodies"], f"{body}: no longer checked"
        got = within_fraction(report["bodies"][body])
        assert got >= floor - 1e-9, (
            f"{body}: {got:.3f} of the independent measurements within the published spread, "
            f"below the committed {floor:.3f}; outside: "
            + ", ".join(o["id"] for o in report["bodies"][body]["outside"])
        )


@pytest.mark.skipif(
    not _resolved_present(), reason="atlas/resolved/*.json not committed yet (issue 13 body calibration)"
)
def test_not_computable_does_not_grow() -> None:
    if COMMITTED_MAX_NOT_COMPUTABLE is None:
        pytest.skip("committed not-computable ceiling not set yet (see COMMITTED_MAX_NOT_COMPUTABLE)")
    report = _report()
    worst = max(len(r["not_computable"]) for r in report["bodies"].values())
    assert worst <= COMMITTED_MAX_NOT_COMPUTABLE, (
        f"{worst} checks not computable, above the committed {COMMITTED_MAX_NOT_COMPUTABLE}"
    )


def test_ratchet_arithmetic_on_a_synthetic_report() -> None:
    """The ratchet's comparison on a hand-made report (runs now, without resolved geometry)."""
    from trainer.tools.anatomy_check import within_fraction

    body = {"checks": 8, "within": 6, "outside": [], "not_computable": [{"id": "x", "reason": "missing"}]}
    assert within_fraction(body) == pytest.approx(0.75)
    assert within_fraction({"checks": 0, "within": 0}) == 0.0
