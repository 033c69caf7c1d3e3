"""The vectorised index agrees with the plain geometry helpers; bench prints its JSON keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.geometry import closest_on_polyline
from trainer.view_index import ViewIndex


def test_index_distances_match_per_item_geometry(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    index = ViewIndex.build(rv, atlas)
    rng = np.random.default_rng(3)
    pts = rng.uniform(-8, 8, size=(500, 3))
    all_d = index.distances(pts)
    for k, item_id in enumerate(index.item_ids):
        line = rv.items[item_id].points_cm
        expected = np.linalg.norm(pts - line[0], axis=1) if len(line) == 1 else closest_on_polyline(pts, line)[0]
        np.testing.assert_allclose(all_d[:, k], expected, atol=1e-9)
        np.testing.assert_allclose(index.distance_to_item(pts, item_id), expected, atol=1e-9)


def test_pin_on_a_vein_is_flagged_unsafe(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    atlas = load_atlas(root)
    rv = load_rendered_view("view_a_right", "female", root)
    x, y = rv.items["vein_a"].points_px[0]
    hit = ViewIndex.build(rv, atlas).score_pin(float(x), float(y))
    assert hit["unsafe"] == ["vein_a"] and hit["nearest"] == "vein_a"


def test_bench_prints_the_documented_figures(tmp_path: Path) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    out = subprocess.run([sys.executable, "-m", "trainer", "bench", "--json", "--atlas", str(root)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    for key in ("score_one_pin_ms", "score_10k_pins_ms", "figure_build_ms", "question_payload_bytes",
                "baseline_score_10k_pins_ms"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert figures["baseline_max_disagreement_cm"] < 1e-6
