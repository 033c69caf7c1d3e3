"""The scorer's per-view index against a plain per-item loop; ``bench`` prints its documented figures."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.geometry import closest_on_polyline
from trainer.scoring.score import NAMED_KINDS, ViewScorer, view_scorer

REPO_ATLAS = Path(__file__).resolve().parents[1] / "atlas"


def _per_item_loop(view: RenderedView, atlas: Atlas, points_cm: np.ndarray, target: str) -> dict[str, list]:
    """How scoring worked before the index: one geometry call per item, in view order."""
    out: dict[str, list] = {
        "target_cm": [],
        "closest": [],
        "nearest": [],
        "nearest_cm": [],
        "unsafe": [],
        "unsafe_cm": [],
    }
    for p in points_cm:
        p1 = p.reshape(1, 3)
        best: tuple[str | None, float] = (None, np.inf)
        unsafe: tuple[str | None, float] = (None, np.nan)
        for item in view.items.values():
            if item.kind == "landmark":  # never a target, nearest structure or hazard
                continue
            d, q = _distance(p1, item.points_cm)
            if item.id == target:
                out["target_cm"].append(d)
                out["closest"].append(q)
            if item.kind in NAMED_KINDS and d < best[1]:
                best = (item.id, d)
            a = atlas.avoid.get(item.id) if item.kind == "avoid" else None
            if a is not None and unsafe[0] is None and d <= a.safety_radius_cm:
                unsafe = (item.id, d)
        out["nearest"].append(best[0])
        out["nearest_cm"].append(best[1])
        out["unsafe"].append(unsafe[0])
        out["unsafe_cm"].append(unsafe[1])
    return out


def _distance(p1: np.ndarray, line: np.ndarray) -> tuple[float, np.ndarray]:
    if len(line) == 1:
        return float(np.linalg.norm(p1 - line[0], axis=1)[0]), line[0]
    d, q, _ = closest_on_polyline(p1, line)
    return float(d[0]), q[0]


def _check_against_loop(
    view: RenderedView, atlas: Atlas, xs: np.ndarray, ys: np.ndarray, target: str
) -> None:
    scorer = view_scorer(view, atlas)
    facts = scorer.measure(view, xs, ys, scorer.columns(view, [target]))
    loop = _per_item_loop(view, atlas, facts.points_cm, target)
    # Equal to the last bit, not approximately: the index must not change any score or word.
    assert facts.target_cm[:, 0].tolist() == loop["target_cm"]
    assert np.array_equal(facts.closest_cm[:, 0], np.array(loop["closest"]))
    assert [scorer.item_ids[k] if k >= 0 else None for k in facts.nearest] == loop["nearest"]
    assert facts.nearest_cm.tolist() == loop["nearest_cm"]
    assert [scorer.item_ids[k] if k >= 0 else None for k in facts.unsafe] == loop["unsafe"]
    np.testing.assert_array_equal(facts.unsafe_cm, np.array(loop["unsafe_cm"]))


def test_the_index_equals_a_per_item_loop_on_the_test_atlas(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    rng = np.random.default_rng(3)
    for n in (1, 20, 300):  # one pin, a trace, and a batch (which skips far items)
        xs, ys = rng.uniform(0, 200, n), rng.uniform(0, 200, n)
        _check_against_loop(rv, atlas, xs, ys, "nerve_a")
        _check_against_loop(rv, atlas, xs, ys, "site_a")


@pytest.mark.parametrize("n_pins", [1, 70])  # 70: the batch path, which skips far items
def test_the_index_equals_a_per_item_loop_on_every_shipped_view(n_pins: int) -> None:
    atlas = load_atlas(REPO_ATLAS)
    rng = np.random.default_rng(11)
    for view in atlas.views.values():
        rv = load_rendered_view(view.id, atlas.default_body_type, atlas.root)
        scorer = view_scorer(rv, atlas)
        targets = [i for i in scorer.item_ids if scorer.kinds[scorer.column[i]] in ("nerve", "site")]
        # Half the pins near items (where nearest and safety are decided), half anywhere.
        near = np.concatenate([rv.items[i].points_px for i in scorer.item_ids])
        picks = near[rng.integers(len(near), size=n_pins)] + rng.normal(0, 15, size=(n_pins, 2))
        anywhere = rng.uniform(0, [rv.width_px, rv.height_px], size=(n_pins, 2))
        xy = np.where(rng.random((n_pins, 1)) < 0.5, picks, anywhere)
        _check_against_loop(rv, atlas, xy[:, 0], xy[:, 1], targets[rng.integers(len(targets))])


def test_a_pin_on_a_vein_is_flagged_unsafe(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    scorer = ViewScorer.build(rv, atlas)
    x, y = rv.items["vein_a"].points_px[0]
    facts = scorer.measure(rv, np.array([x]), np.array([y]), scorer.columns(rv, ["site_a"]))
    assert scorer.item_ids[facts.unsafe[0]] == "vein_a" and scorer.item_ids[facts.nearest[0]] == "vein_a"
    assert facts.credits(np.array([0]), 1.0, 3.0).tolist() == [0.0]


def test_the_scorer_is_built_once_per_view_and_rebuilt_for_a_new_atlas(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    first = view_scorer(rv, atlas)
    assert view_scorer(rv, atlas) is first
    edited = dataclasses.replace(atlas, avoid={})  # e.g. a reloaded atlas without the vein's radius
    rebuilt = view_scorer(rv, edited)
    assert rebuilt is not first
    assert (
        np.isneginf(rebuilt.radius_cm[rebuilt.column["vein_a"]])
        and first.radius_cm[first.column["vein_a"]] == 0.5
    )


def test_an_item_the_view_does_not_draw_is_named(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    with pytest.raises(KeyError, match="'nerve_zz' is not drawn on view view_a_right"):
        view_scorer(rv, atlas).columns(rv, ["nerve_zz"])


def test_bench_prints_the_documented_figures(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "bench", "--json", "--atlas", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    for key in (
        "production_score_one_pin_ms",
        "distance_kernel_one_pin_ms",
        "score_10k_pins_ms",
        "figure_build_ms",
        "question_payload_bytes",
        "baseline_one_pin_python_loop_ms",
        "baseline_10k_pins_python_loop_ms",
        "baseline_10k_pins_shapely_ms",
    ):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert figures["baseline_max_disagreement_cm"] < 1e-9
    assert "trainer.scoring.score.score" in figures["production_score_method"]
    assert figures["targets"]["production_score_one_pin_ms"] == 0.2
