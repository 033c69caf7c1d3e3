"""Geometry helpers measured against their definitions: a safety zone is every point within its radius."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.geometry import buffer_polyline, closest_on_polyline, points_in_polygon


def _outline_distances(outline: np.ndarray, polyline: np.ndarray, per_edge: int = 40) -> np.ndarray:
    """Distance to the polyline of points spread densely along every edge of the closed outline."""
    ring = np.vstack([outline, outline[:1]])
    t = np.linspace(0.0, 1.0, per_edge, endpoint=False)[None, :, None]
    samples = (ring[:-1, None, :] + t * (ring[1:, None, :] - ring[:-1, None, :])).reshape(-1, 2)
    return closest_on_polyline(samples, polyline)[0]


def _assert_zone_is_the_radius(polyline: list[list[float]], radius: float) -> None:
    line = np.asarray(polyline, dtype=np.float64)
    outline = buffer_polyline(line, radius)
    d = _outline_distances(outline, line)
    # Everywhere along the outline, not only at its vertices: never inside the radius (a zone
    # drawn too narrow tells a learner that an unsafe spot is safe), at most 1.1% outside it.
    assert d.min() >= radius * (1 - 1e-9), d.min() / radius
    assert d.max() <= radius * 1.011, d.max() / radius
    # And the region it encloses is the set of points within the radius.
    lo, hi = line.min(axis=0) - 2 * radius, line.max(axis=0) + 2 * radius
    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120)), -1).reshape(
        -1, 2
    )
    dist = closest_on_polyline(grid, line)[0]
    inside = points_in_polygon(grid, outline)
    assert inside[dist <= radius * 0.999].all()
    # Outside the radius only where the path loops round a hole, which is drawn filled.
    far_inside = grid[inside & (dist >= radius * 1.012)]
    with np.errstate(all="ignore"):  # the reference's own GEOS buffer divides by near-zero segments
        # The reference: GEOS's buffer of each segment, united (GEOS's buffer of the whole line
        # fills the hole of a path that goes round a loop twice; hypothesis found one), at the
        # widest the outline may be (1.011 x): a pocket whose mouth is narrower than that margin
        # is closed by the outline, and drawn filled like any hole (hypothesis found one).
        segs = [
            shapely.LineString([a, b]).buffer(radius * 1.011)
            for a, b in zip(line[:-1], line[1:], strict=True)
        ]
        ref = shapely.union_all(segs) if segs else shapely.Point()
        holes = [h for g in getattr(ref, "geoms", [ref]) for h in getattr(g, "interiors", [])]
    in_hole = np.zeros(len(far_inside), dtype=bool)
    for hole in holes:
        in_hole |= points_in_polygon(far_inside, np.asarray(hole.coords)[:-1])
    assert in_hole.all()


def test_a_right_angle_keeps_the_full_radius_inside_and_outside_the_bend() -> None:
    _assert_zone_is_the_radius([[0, 0], [10, 0], [10, 10]], 1.0)


def test_a_hairpin_keeps_the_full_radius_round_the_turn() -> None:
    # The two legs 0.6 apart: closer than twice the radius, so the zones merge.
    _assert_zone_is_the_radius([[0, 0], [10, 0], [0, 0.6]], 1.0)


def test_a_hairpin_folded_back_on_itself_is_still_a_full_capsule() -> None:
    _assert_zone_is_the_radius([[0, 0], [10, 0], [2, 0]], 1.5)


@pytest.mark.parametrize(
    "points",
    [
        # Near-degenerate hairpins that GEOS's round joins drew 1.8% too wide or slightly inside.
        [[0.0, 1.0], [0.0, 6.4e-214], [1.0, 0.0], [0.0, 0.0]],
        [[0.0, 0.0], [0.0078125, 0.0], [0.0, 0.0], [0.0, 1.0]],
        # Segments GEOS collapses to a point (shorter than about 1e-3 radius).
        [[0.0, 0.0], [0.0, 1e-05]],
        [[0.0, 0.0], [0.0, 1e-4], [3.0, 1e-4]],
        # Points 1e-302 apart, which GEOS's union left as two polygons (found by hypothesis).
        [[1.0, 0.0], [-7.5e-302, 0.0], [0.0, 0.0]],
    ],
)
def test_tiny_hairpins_keep_the_zone_within_its_bounds(points: list[list[float]]) -> None:
    _assert_zone_is_the_radius(points, 1.0)


def test_a_single_point_is_a_disc() -> None:
    _assert_zone_is_the_radius([[3, 4]], 2.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=2, max_size=6), st.floats(0.5, 4.0)
)
def test_any_polyline_gets_a_zone_of_its_radius(points: list[tuple[float, float]], radius: float) -> None:
    _assert_zone_is_the_radius([list(p) for p in points], radius)


def test_a_loop_traced_twice_is_drawn_filled() -> None:
    _assert_zone_is_the_radius([[15.0, 0.0], [0.0, 6.0], [2.0, 1.0], [15.0, 0.0], [0.0, 6.0]], 1.0)


def test_a_pocket_with_a_mouth_narrower_than_the_margin_is_drawn_filled() -> None:
    _assert_zone_is_the_radius([[0.0, 16.0], [6.65625, -9.125], [0.0, -3.0], [0.0, -1.125]], 2.1875)


def test_a_loop_is_drawn_filled() -> None:
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]])
    assert points_in_polygon([[5.0, 5.0]], buffer_polyline(square, 1.0)).tolist() == [True]


def test_the_outline_has_no_repeated_closing_point() -> None:
    outline = buffer_polyline([[0, 0], [5, 0]], 1.0)
    assert not np.allclose(outline[0], outline[-1])
    assert len(np.unique(np.round(outline, 9), axis=0)) == len(outline)


@pytest.mark.parametrize("cap_segments", [6, 8, 16])
def test_coarser_arcs_stay_outside_the_radius(cap_segments: int) -> None:
    line = np.array([[0.0, 0.0], [4.0, 3.0], [8.0, 0.0]])
    d = _outline_distances(buffer_polyline(line, 1.0, cap_segments=cap_segments), line)
    assert d.min() >= 1.0 - 1e-9 and d.max() <= 1.0 / np.cos(0.75 * np.pi / (2 * cap_segments)) + 1e-9
