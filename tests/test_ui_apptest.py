"""Page logic through streamlit.testing.v1.AppTest on a synthetic atlas and bank."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(atlas_root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    return atlas_root


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page(f"trainer/ui/pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_explorer_shows_region_and_nerve_card(content: Path) -> None:
    at = open_page("explorer")
    assert at.title[0].value == "Atlas explorer"
    assert at.selectbox(key="ex_region").value == "reg_a"
    card = next(s for s in at.selectbox if s.label == "Nerve card")
    card.set_value("nerve_a").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Nerve A" in text and "Site A" in text and "Doe J. A test paper" in text


def test_explorer_search_jumps_to_a_nerve(content: Path) -> None:
    at = open_page("explorer")
    at.text_input(key="ex_query").set_value("nerve a").run()
    assert at.button(key="ex_hit_0").label.startswith("Nerve A")
    at.button(key="ex_hit_0").click().run()
    assert at.session_state["ex_nerve"] == "nerve_a"


def test_explorer_reports_a_broken_atlas_readably(content: Path) -> None:
    (content / "regions" / "reg_a.yaml").write_text("schema_version: 1\nregion: [\n")
    at = open_page("explorer")
    assert at.error and "atlas has problems" in at.error[0].value
    assert "YAML syntax error" in at.code[0].value


def _start_practice(at: AppTest, types: list[str], n: int | None = None) -> AppTest:
    at.multiselect(key="pr_types").set_value(types)
    at.number_input(key="pr_n").set_value(n or len(types))
    at.button[0].click().run()  # form submit
    assert not at.exception, at.exception
    return at


def test_practice_locate_scores_a_click_and_reveals(content: Path) -> None:
    at = open_page("practice")
    _start_practice(at, ["locate"])
    assert "Question 1 of 1" in at.get("progress")[0].proto.text
    view = load_rendered_view("view_a_right", "female", content)
    view_l = load_rendered_view("view_a_left", "female", content)
    side = at.session_state["pr"]["views"]["q_locate"]
    x, y = (view if side == "view_a_right" else view_l).items["site_a"].points_px[0]
    key = f"pb_{at.session_state['pr_seq']}"
    at.session_state[key] = {"click": {"x": float(x), "y": float(y) - 20.0, "pointer": "mouse", "seq": 0}}
    at.run()
    assert at.session_state["pr_draft"].pins[-1] == [
        (pytest.approx(float(x)), pytest.approx(float(y) - 20.0))
    ]
    submit = next(b for b in at.button if b.label == "Submit answer")
    submit.click().run()
    assert not at.exception, at.exception
    feedback = at.warning[0].value
    assert feedback.startswith("50%") and "2.0 cm proximal to the site A" in feedback


def test_practice_clinical_question_and_summary(content: Path) -> None:
    at = open_page("practice")
    _start_practice(at, ["clinical"])
    radio = at.radio[0]
    radio.set_value(radio.options.index("Yes")).run()  # the right option, wherever it is shown
    next(b for b in at.button if b.label == "Submit answer").click().run()
    assert at.success[0].value.startswith("100%")
    next(b for b in at.button if b.label == "See summary").click().run()
    assert at.subheader[0].value == "Session summary"
    assert at.metric[0].value == "100%"


def test_practice_session_covers_every_type(content: Path) -> None:
    at = open_page("practice")
    _start_practice(at, ["locate", "multi_site", "trace", "identify", "territory", "clinical", "case"], n=8)
    seen = set()
    atlas = load_atlas(content)
    assert atlas is not None
    for _ in range(8):
        pr = at.session_state["pr"]
        if pr["index"] >= len(pr["ids"]):
            break
        qid = pr["ids"][pr["index"]]
        seen.add(qid)
        key = f"pb_{at.session_state['pr_seq']}"
        for _i in range(2):  # two taps: enough for every pin type
            at.session_state[key] = {
                "click": {"x": 100.0, "y": 100.0 + _i * 10, "pointer": "touch", "seq": 0}
            }
            at.run()
        if at.radio:
            at.radio[0].set_value(0).run()
        submit = next(b for b in at.button if b.label == "Submit answer")
        submit.click().run()
        assert not at.exception, (qid, at.exception)
        nxt = next(b for b in at.button if b.label in ("Next question", "See summary"))
        nxt.click().run()
    assert len(seen) == 8
    assert at.subheader[0].value == "Session summary"


def test_practice_prints_the_unsafe_pin_message_once(content: Path) -> None:
    at = open_page("practice")
    _start_practice(at, ["locate"])
    side = at.session_state["pr"]["views"]["q_locate"]
    view = load_rendered_view(side, "female", content)
    x, y = view.items["vein_a"].points_px[0]
    key = f"pb_{at.session_state['pr_seq']}"
    at.session_state[key] = {"click": {"x": float(x), "y": float(y), "pointer": "mouse", "seq": 0}}
    at.run()
    next(b for b in at.button if b.label == "Submit answer").click().run()
    assert not at.exception, at.exception
    shown = [
        e.value
        for kind in ("error", "warning", "success", "info", "markdown", "caption")
        for e in at.get(kind)
    ]
    assert sum(text.count("inside its 0.5 cm safety radius") for text in shown) == 1
    assert any(text.startswith("0% — No credit: the pin is inside a safety zone") for text in shown)
