"""``bench`` reports the 3D view's payload and build time, measured through the page's function."""

from __future__ import annotations

import pytest

from trainer.atlas import load_atlas
from trainer.tools.bench import TARGETS, _bench_3d

pytestmark = pytest.mark.slow


def test_bench_measures_the_3d_view_next_to_a_whole_mesh_baseline() -> None:
    figures = _bench_3d(load_atlas())
    assert figures["explorer_3d_payload_bytes"] < TARGETS["explorer_3d_payload_bytes"]
    assert figures["explorer_3d_payload_median_bytes"] <= figures["explorer_3d_payload_bytes"]
    # The cropped, typed-array view sends far less than the naive whole-mesh figure.
    assert figures["explorer_3d_payload_bytes"] < figures["baseline_3d_whole_mesh_payload_bytes"] / 2
    assert figures["explorer_3d_build_ms"] > 0 and figures["baseline_3d_whole_mesh_build_ms"] > 0
    assert figures["explorer_3d_payload_view"].endswith("__" + load_atlas().default_body_type)
