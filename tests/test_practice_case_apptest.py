"""Practice plays a six-step case end to end through the page (AppTest): landmarks, a site and
the vein to avoid placed in turn on the image, three choice steps answered, one score."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, six_step_case, write_bank
from trainer.atlas.rendered import load_rendered_view

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    bank = good_bank()
    bank["questions"].append(six_step_case())
    write_bank(tmp_path / "quizzes", bank)
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(atlas_root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    return atlas_root


def _tap(at: AppTest, x: float, y: float, n: int) -> None:
    key = f"pb_{at.session_state['pr_seq']}"
    at.session_state[key] = {"click": {"x": x, "y": y, "pointer": "mouse", "seq": 0, "n": n}}
    at.run()
    assert not at.exception, at.exception


def _pick(at: AppTest, key: str, text: str) -> None:
    radio = at.radio(key=key)
    radio.set_value(radio.options.index(text)).run()


def test_a_six_step_case_is_played_and_scored_through_the_page(content: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/practice.py")
    at.query_params["questions"] = "q_case6"
    at.query_params["side"] = "right"
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["pr"]["views"] == {"q_case6": "view_a_right"}
    view = load_rendered_view("view_a_right", "female", content)
    seq = at.session_state["pr_seq"]
    submit = next(b for b in at.button if b.label == "Submit answer")
    assert submit.disabled

    for n, (step, item) in enumerate(((1, "lm_a"), (2, "site_a"), (4, "vein_a")), start=1):
        at.radio(key=f"pr_part_{seq}").set_value(step).run()
        x, y = view.items[item].points_px[0]
        _tap(at, float(x), float(y), n)
        assert at.session_state["pr_draft"].pins[step] == [(pytest.approx(float(x)), pytest.approx(float(y)))]
        captions = " ".join(c.value for c in at.caption)
        assert ("Place 1 pin. Each extra pin" in captions) == (step == 2)  # the multi-site step's caption

    _pick(at, f"ch_{seq}_0", "Nerve A")
    _pick(at, f"ch_{seq}_3", "Yes")
    _pick(at, f"ch_{seq}_5", "Yes")
    submit = next(b for b in at.button if b.label == "Submit answer")
    assert not submit.disabled
    submit.click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("100% — Step 1: Correct. Step 2: 1 of 1 sites within tolerance.")
    assert not at.error  # marking the vein to avoid is not an unsafe pin
    result = at.session_state["pr_result"]
    assert [s.credit for s in result.steps] == [1.0] * 6
    next(b for b in at.button if b.label == "See summary").click().run()
    assert at.subheader[0].value == "Session summary" and at.metric[0].value == "100%"


def test_a_hint_is_asked_for_on_the_page_and_its_cost_shown(content: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/practice.py")
    at.query_params["questions"] = "q_locate"
    at.query_params["side"] = "right"
    at.run()
    assert not at.exception, at.exception
    hint = next(b for b in at.button if b.label == "Landmarks (−10)")
    hint.click().run()
    assert next(b for b in at.button if b.label == "Landmarks (−10)").disabled
    view = load_rendered_view("view_a_right", "female", content)
    x, y = view.items["site_a"].points_px[0]
    _tap(at, float(x), float(y), 1)
    next(b for b in at.button if b.label == "Submit answer").click().run()
    assert not at.exception, at.exception
    assert at.warning[0].value.startswith("90% — Within tolerance")
    assert at.warning[0].value.endswith("Hints used: show the landmarks (−10 points); 100% before hints.")
    next(b for b in at.button if b.label == "See summary").click().run()
    assert at.dataframe[0].value["Hints"].tolist() == ["show the landmarks (−10 points)"]
