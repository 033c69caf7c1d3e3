"""Checks on the real atlas and banks: everything validates, offsets survive snapping (self-consistency), coverage."""

from __future__ import annotations

from collections import defaultdict

import pytest

from trainer.atlas import check_atlas, load_atlas
from trainer.offset_consistency import offset_checks
from trainer.quiz.bank import check_banks, load_questions
from trainer.quiz.session import question_region
from trainer.settings import atlas_dir, quiz_dir


def test_validate_passes_on_the_whole_atlas_and_every_bank() -> None:
    atlas, problems = check_atlas(atlas_dir())
    assert atlas is not None
    bank_problems, n = check_banks(atlas, [quiz_dir()])
    assert [str(p) for p in problems + bank_problems] == []
    assert n > 0


@pytest.mark.parametrize("body_type", ["female"])
def test_every_offset_survives_snapping_to_the_rendered_body(body_type: str) -> None:
    checks = offset_checks(load_atlas(), body_type)
    unmeasured = [(c.item_id, c.index) for c in checks if c.measured_cm is None]
    assert unmeasured == []
    disagree = [
        f"{c.item_id}[{c.index}]: cited {c.cited_cm:.1f} cm, measured {c.measured_cm:.1f} cm (tolerance {c.point.tolerance_cm:g})"
        for c in checks if c.agrees is False
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
