"""The labelled atlas: label placement (trainer/explorer/labels.py) and the figure's nerve styles."""

from __future__ import annotations

import itertools

import pytest

from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.explorer.figures import atlas_labels, explorer_figure, nerve_styles
from trainer.explorer.labels import Box, LabelRequest, marker_box, place_labels, short_label


def _no_overlaps(boxes: list[Box]) -> None:
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_labels_in_a_crowd_never_overlap_and_those_without_room_are_left_out() -> None:
    # 60 labels piled on the same few points of a small image: far more than fit.
    reqs = [
        LabelRequest(f"k{i}", f"Label number {i}", "landmark", ((100.0 + (i % 3), 100.0),)) for i in range(60)
    ]
    placed = place_labels(reqs, 300, 300)
    assert 3 <= len(placed) < 60
    _no_overlaps([p.box for p in placed])
    for p in placed:
        assert p.box.x0 >= 0 and p.box.y0 >= 0 and p.box.x1 <= 300 and p.box.y1 <= 300


def test_a_label_avoids_markers_and_tries_its_later_anchors() -> None:
    blocker = Box(0, 0, 900, 450)  # the whole top half is covered
    req = LabelRequest("n", "Sural nerve", "nerve", ((450.0, 100.0), (450.0, 700.0)))
    (placed,) = place_labels([req], 900, 900, obstacles=[blocker])
    assert placed.anchor_px == (450.0, 700.0)
    assert not placed.box.overlaps(blocker)
    assert place_labels([LabelRequest("n", "Sural", "nerve", ((450.0, 100.0),))], 900, 900, [blocker]) == []


def test_short_label_drops_a_trailing_parenthesis() -> None:
    assert short_label("Sural nerve (lateral calcaneal branches)") == "Sural nerve"
    assert short_label("Saphenous nerve") == "Saphenous nerve"


@pytest.fixture(scope="module")
def atlas() -> Atlas:
    return load_atlas()


def test_every_view_of_every_region_has_non_overlapping_labels(atlas: Atlas) -> None:
    body = atlas.default_body_type
    labelled = wanted = 0
    for view_id in atlas.views:
        view = load_rendered_view(view_id, body)
        labels = atlas_labels(view, atlas)
        _no_overlaps([lab.box for lab in labels])
        size = max(view.width_px, view.height_px)
        markers = [
            marker_box(float(it.points_px[0, 0]), float(it.points_px[0, 1]), 12, 390, size)
            for i, it in view.items.items()
            if (it.kind == "site" and i in atlas.sites) or i in atlas.region_landmarks(view.region)
            if it.visible[0]
        ]
        for lab in labels:
            assert 0 <= lab.box.x0 and lab.box.x1 <= view.width_px, (view_id, lab.key)
            assert 0 <= lab.box.y0 and lab.box.y1 <= view.height_px, (view_id, lab.key)
            assert not any(lab.box.overlaps(m) for m in markers), (view_id, lab.key)
        keys = [lab.key for lab in labels]
        assert len(keys) == len(set(keys))
        nerves = [
            i for i, it in view.items.items() if it.kind == "nerve" and i in atlas.nerves and it.any_visible
        ]
        lms = [i for i in atlas.region_landmarks(view.region) if i in view.items and view.items[i].visible[0]]
        wanted += len(nerves) + len(lms)
        labelled += len(labels)
    # Crowded views drop a few labels rather than overlap; the rest of the atlas is named.
    assert labelled >= 0.85 * wanted, (labelled, wanted)


def test_no_two_nerves_of_a_view_share_colour_and_dash(atlas: Atlas) -> None:
    for view_id in atlas.views:
        view = load_rendered_view(view_id, atlas.default_body_type)
        styles = nerve_styles(atlas, view)
        drawn = [styles[i] for i, it in view.items.items() if it.kind == "nerve" and i in atlas.nerves]
        assert len({c for c, _ in drawn}) == len(drawn), view_id
        assert len({d for _, d in drawn}) == len(drawn), view_id


def test_the_figure_names_each_nerve_in_the_legend_and_on_the_image(atlas: Atlas) -> None:
    view = load_rendered_view("knee_anteromedial_right", atlas.default_body_type)
    fig = explorer_figure(view, atlas)
    nerve_traces = [t for t in fig.data if t.meta == "nerve"]
    assert nerve_traces and all(t.showlegend is not False for t in nerve_traces)
    names = {t.name for t in nerve_traces}
    assert len(names) == len(nerve_traces)
    label_texts = {a.text.replace("<br>", " ") for a in fig.layout.annotations}
    assert any(n in label_texts for n in names)
    # A click on a course selects a point that carries the nerve's id.
    assert all(set(t.customdata) == {t.legendgroup.split(":", 1)[1]} for t in nerve_traces)
