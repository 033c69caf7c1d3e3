"""Tolerance from the published spread (issue 14): a site's full-credit tolerance is max(1.0 cm,
the published SD of its position) with the SD's source, or the site says why there is none; locate
questions on such sites inherit it unless they say why not."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import check_atlas, load_atlas
from trainer.atlas.tolerance import tolerance_from_sd, zero_from_sd
from trainer.quiz.bank import check_banks

REGION = "regions/reg_a.yaml"


def site(data: dict[str, Any]) -> dict[str, Any]:
    return data[REGION]["sites"][0]


def atlas_problems(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    write_atlas(tmp_path / "atlas", data)
    _, problems = check_atlas(tmp_path / "atlas")
    return [str(p) for p in problems]


def with_spread(sd_cm: float, tolerance_cm: float) -> dict[str, Any]:
    data = good_atlas_data()
    s = site(data)
    s.pop("tolerance_reason", None)
    s["spread"] = {"sd_cm": sd_cm, "ref": "ref_a", "value": f"SD {sd_cm} cm (test)"}
    s["at"]["tolerance_cm"] = tolerance_cm
    return data


@pytest.mark.parametrize(
    ("sd_cm", "tolerance_cm", "zero_cm"),
    [(0.18, 1.0, 3.0), (1.38, 1.4, 4.1), (2.14, 2.1, 6.4), (4.39, 4.4, 13.2)],
)
def test_tolerance_and_zero_follow_the_sd(sd_cm: float, tolerance_cm: float, zero_cm: float) -> None:
    assert tolerance_from_sd(sd_cm) == pytest.approx(tolerance_cm)
    assert zero_from_sd(sd_cm) == pytest.approx(zero_cm)


def test_a_site_with_neither_spread_nor_reason_is_refused(tmp_path: Path) -> None:
    data = good_atlas_data()
    site(data).pop("tolerance_reason")
    probs = atlas_problems(tmp_path, data)
    assert any("site_a: spread: give the published SD" in p for p in probs), probs


def test_a_spread_sets_the_site_tolerance(tmp_path: Path) -> None:
    assert atlas_problems(tmp_path, with_spread(1.38, 1.4)) == []
    probs = atlas_problems(tmp_path, with_spread(1.38, 2.5))
    assert any(
        "site_a: at.tolerance_cm: 2.5 cm, but max(1.0 cm, published SD 1.38 cm) = 1.4 cm" in p for p in probs
    )
    data = with_spread(1.38, 2.5)
    site(data)["tolerance_reason"] = "the offset from the landmark is our geometry"
    assert atlas_problems(tmp_path, data) == []


def test_a_spread_cites_a_known_source(tmp_path: Path) -> None:
    data = with_spread(0.5, 1.0)
    site(data)["spread"]["ref"] = "nowhere_2020"
    probs = atlas_problems(tmp_path, data)
    assert any("site_a: spread.ref: unknown reference 'nowhere_2020'" in p for p in probs), probs


def bank_problems(tmp_path: Path, data: dict[str, Any], **locate: Any) -> list[str]:
    atlas = load_atlas(write_atlas(tmp_path / "atlas", data))
    bank = copy.deepcopy(good_bank())
    bank["questions"][0].update(locate)  # q_locate targets site_a
    problems, _ = check_banks(atlas, [write_bank(tmp_path / "quizzes", bank)])
    return [str(p) for p in problems]


def test_a_locate_question_inherits_the_site_tolerance(tmp_path: Path) -> None:
    data = with_spread(2.14, 2.1)
    assert bank_problems(tmp_path, data, tolerance_cm=2.1, zero_cm=6.4) == []
    probs = bank_problems(tmp_path, data, tolerance_cm=1.0, zero_cm=3.0)
    assert any(
        "q_locate: tolerance_cm: 1 cm, but the target site's tolerance is 2.1 cm" in p for p in probs
    ), probs
    assert any("q_locate: zero_cm: 3 cm, but max(3.0 cm, 3 x the published SD)" in p for p in probs), probs
    reason = "the direction from the landmark is our reading of the source"
    assert bank_problems(tmp_path, data, tolerance_cm=1.0, zero_cm=3.0, tolerance_reason=reason) == []


def test_a_site_without_a_published_sd_leaves_the_question_free(tmp_path: Path) -> None:
    assert bank_problems(tmp_path, good_atlas_data(), tolerance_cm=1.5, zero_cm=3.5) == []
