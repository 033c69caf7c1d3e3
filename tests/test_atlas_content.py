"""Checks on the real atlas and banks: everything validates, offsets survive snapping (self-consistency), coverage."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from trainer.atlas import check_atlas, load_atlas
from trainer.quiz.bank import check_banks, load_questions
from trainer.quiz.session import question_region
from trainer.settings import atlas_dir, quiz_dir
from trainer.tools.offset_consistency import offset_checks


def test_validate_passes_on_the_whole_atlas_and_every_bank() -> None:
    atlas, problems = check_atlas(atlas_dir())
    assert atlas is not None
    bank_problems, n = check_banks(atlas, [quiz_dir()])
    assert [str(p) for p in problems + bank_problems] == []
    assert n > 0


@pytest.mark.parametrize("body_type", ["female"])
def test_every_offset_survives_snapping_to_the_rendered_body(body_type: str) -> None:
    checks = offset_checks(load_atlas(), body_type)
    # A point carried onto the skin along an axis (onto_skin) has no written depth, and a point
    # written level_of / distance_from has no written long-axis offset, so its straight-line
    # distance is not its offset; test_resolve, test_atlas_level_of and test_atlas_distance_from
    # check that those points keep their written offsets exactly. Every other point is measured.
    unmeasured = [
        (c.item_id, c.index)
        for c in checks
        if c.measured_cm is None
        and c.point.onto_skin is None
        and c.point.level_of is None
        and c.point.distance_from is None
    ]
    assert unmeasured == []
    # The exemptions are in use, not dead code.
    assert any(c.point.onto_skin for c in checks)
    assert any(c.point.level_of and c.point.onto_skin is None for c in checks)
    disagree = [
        f"{c.item_id}[{c.index}]: cited {c.cited_cm:.1f} cm, measured {c.measured_cm:.1f} cm (tolerance {c.point.tolerance_cm:g})"
        for c in checks
        if c.agrees is False
    ]
    assert disagree == []


def test_every_region_has_questions_of_at_least_four_types() -> None:
    atlas = load_atlas()
    types: dict[str, set[str]] = defaultdict(set)
    for q in load_questions(atlas, [quiz_dir()]):
        region = question_region(atlas, q)
        if region:
            types[region].add(q.type)
    thin = {r: sorted(types.get(r, set())) for r in atlas.regions if len(types.get(r, set())) < 4}
    assert thin == {}


# The common fibular nerve runs down *behind* the fibular head and round its neck, so no text may
# teach "behind the fibular head" as a place clear of it (issue 11, item 22a).
_BEHIND_THE_HEAD_IS_SAFE = re.compile(
    r"(stay|keep|inject)[^.\"]{0,30}behind (and above )?the (fibular )?head|fibular nerve lies (only )?in front of (it|this point)",
    re.IGNORECASE,
)


def _texts() -> list[tuple[str, str]]:
    files = sorted(atlas_dir().glob("regions/*.yaml")) + sorted(quiz_dir().glob("*.yaml"))
    return [(p.name, line) for p in files for line in p.read_text(encoding="utf-8").splitlines()]


def test_no_text_calls_the_back_of_the_fibular_head_a_safe_place() -> None:
    offending = [
        f"{name}: {line.strip()[:120]}" for name, line in _texts() if _BEHIND_THE_HEAD_IS_SAFE.search(line)
    ]
    assert offending == []


def test_every_common_fibular_caution_at_the_fibular_head_cites_a_measured_series() -> None:
    atlas = load_atlas()
    measured = {
        "ksrr2020_cfn",
        "kim2019_cfn_lcnc",
        "rausch2019_cfn_3d",
        "ryan2003_cfn",
        "hohenberger2025_cfn",
    }
    records = [s for s in atlas.sites.values() if "common_fibular_nerve_lateral_leg" in s.avoid]
    assert records
    for site in records:
        assert measured & set(site.references), site.id
        for caution in site.cautions:
            if "common fibular" in caution:
                assert re.search(r"\d+(\.\d+)? ?(mm|cm|%)", caution), (site.id, caution)
    cfn = atlas.avoid["common_fibular_nerve_lateral_leg"]
    assert {"ksrr2020_cfn", "kim2019_cfn_lcnc", "rausch2019_cfn_3d"} <= set(cfn.references)
    for ref in ("rausch2019_cfn_3d", "hohenberger2025_cfn"):
        assert atlas.references[ref].findings, ref
