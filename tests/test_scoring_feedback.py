"""Feedback that teaches (issue 15 item 4): which pin missed and which way, and direction
words even inside the tolerance."""

from __future__ import annotations

import re

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.quiz.answers import Answer
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import score


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    root = write_atlas(tmp_path_factory.mktemp("atlas"), good_atlas_data())
    loaded = load_atlas(root)
    assert loaded is not None
    return loaded


def question(qid: str) -> QuestionModel:
    return next(QuestionModel.model_validate(x) for x in good_bank()["questions"] if x["id"] == qid)


def site(view: RenderedView) -> tuple[float, float]:
    x, y = view.items["site_a"].points_px[0]
    return float(x), float(y)


def test_a_pin_inside_the_tolerance_still_gets_its_direction(atlas: Atlas) -> None:
    view = load_rendered_view("view_a_right", "female", atlas.root)
    x, y = site(view)
    ppc = view.camera.px_per_cm
    near = score(question("q_locate"), Answer(pins_px=((x, y + 0.5 * ppc),)), view, atlas)
    assert near.credit == 1.0
    assert near.feedback == "Within tolerance: 0.5 cm distal to the site A — fine."
    exact = score(question("q_locate"), Answer(pins_px=((x, y),)), view, atlas)
    assert exact.feedback == "Within tolerance: on target (0.0 cm from the site A)."


@pytest.mark.parametrize("view_id", ["view_a_right", "view_a_left"])
def test_multi_site_feedback_says_which_pin_missed_and_which_way(atlas: Atlas, view_id: str) -> None:
    view = load_rendered_view(view_id, "female", atlas.root)
    x, y = site(view)
    ppc = view.camera.px_per_cm
    # Pin 1 on the site, 0.4 cm proximal; pin 2 beside the nerve, 3 cm proximal and 2 cm to the side.
    pins = ((x, y - 0.4 * ppc), (x + 2.0 * ppc, y - 3.0 * ppc))
    r = score(question("q_multi"), Answer(pins_px=pins), view, atlas)
    assert r.feedback.startswith("1 of 2 sites within tolerance. Pin 1 (site A): 0.4 cm proximal — fine. ")
    assert re.search(
        r"Pin 2 \(nerve A\): 2\.0 cm (lateral|medial), 2\.0 cm away: partial credit\.$", r.feedback
    )
    side_word = "medial" if view_id == "view_a_right" else "lateral"
    assert f"2.0 cm {side_word}" in r.feedback  # the same tap on the mirrored side reads the other way
    extra = score(question("q_multi"), Answer(pins_px=(*pins, (x, y))), view, atlas)
    assert "Pin 3 (site A): on target — fine." in extra.feedback or "Pin 3: extra pin." in extra.feedback
