"""The progress page with a seeded week of practice, and practice recording attempts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.learning import record_answer
from trainer.quiz.bank import load_questions
from trainer.scoring import Answer, score
from trainer.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    atlas = load_atlas(root)
    q = next(x for x in load_questions(atlas, [tmp_path / "quizzes"]) if x.id == "q_locate")
    rv = load_rendered_view("view_a_right", "female", root)
    x, y = rv.items["site_a"].points_px[0]
    store = open_store(data_dir=tmp_path / "data")
    learner = store.create_learner("Ana", now=datetime(2026, 11, 1, tzinfo=UTC))
    start = datetime.now(UTC) - timedelta(days=6)
    for day in range(7):  # a week of answers, each 1.5 cm too proximal
        res = score(q, Answer(pins_px=((float(x), float(y) - 15.0),)), rv, atlas)
        record_answer(store, atlas, learner.id, q, res, view_id="view_a_right", body_type="female",
                      duration_ms=20_000, now=start + timedelta(days=day))
    store.close()
    return learner.id, tmp_path


def test_progress_page_shows_mastery_bias_and_queue(seeded: tuple[str, Path]) -> None:
    learner_id, _ = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["learner_id"] = learner_id
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "7"
    assert at.metric[2].value == "7 d"
    text = " ".join(m.value for m in at.markdown)
    assert "1.5 cm too proximal" in text
    assert "Nerve A" in text or "Site A" in text


def test_progress_without_history_explains_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception
    assert "No answers yet" in " ".join(m.value for m in at.markdown)


def test_practice_with_a_profile_records_attempts_and_queues_reviews(seeded: tuple[str, Path]) -> None:
    learner_id, tmp = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["learner_id"] = learner_id
    at.run()
    at.switch_page("trainer/ui/pages/practice.py").run()
    at.multiselect(key="pr_types").set_value(["clinical"])
    at.number_input(key="pr_n").set_value(1)
    at.button[0].click().run()
    assert not at.exception, at.exception
    radio = at.radio[0]
    radio.set_value(radio.options.index("No")).run()  # the wrong answer, wherever it is shown
    next(b for b in at.button if b.label == "Submit answer").click().run()
    store = open_store(data_dir=tmp / "data")
    attempts = store.list_attempts(learner_id)
    assert len(attempts) == 8 and attempts[-1].question_id == "q_clinical" and attempts[-1].credit == 0.0
    due_now = store.list_due(learner_id, datetime.now(UTC) + timedelta(minutes=15))
    assert any(c.card_id == "q:q_clinical" for c in due_now)
    store.close()


def _progress_page(learner_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["learner_id"] = learner_id
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    return at


def test_progress_tables_show_whole_percentages(seeded: tuple[str, Path]) -> None:
    at = _progress_page(seeded[0])
    for table in at.dataframe:
        config = json.loads(table.proto.columns)
        for column in ("Mean score", "Recall now"):
            if column in config:
                assert config[column]["type_config"]["format"] == "%.0f%%"
                values = [v for v in table.value[column] if v == v]  # NaN: no recall yet
                assert values and all(0 <= v <= 100 and float(v).is_integer() for v in values)


def test_one_answer_reads_one_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    for name, value in (("TRAINER_ATLAS_DIR", root), ("TRAINER_QUIZ_DIR", tmp_path / "quizzes"),
                        ("TRAINER_DATA_DIR", tmp_path / "data")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    atlas = load_atlas(root)
    q = next(x for x in load_questions(atlas, [tmp_path / "quizzes"]) if x.id == "q_locate")
    rv = load_rendered_view("view_a_right", "female", root)
    store = open_store(data_dir=tmp_path / "data")
    learner = store.create_learner("Bo", now=datetime.now(UTC))
    res = score(q, Answer(pins_px=(tuple(float(c) for c in rv.items["site_a"].points_px[0]),)), rv, atlas)
    record_answer(store, atlas, learner.id, q, res, view_id="view_a_right", body_type="female", duration_ms=5_000,
                  now=datetime.now(UTC))
    store.close()
    text = " ".join(m.value for m in _progress_page(learner.id).markdown)
    assert "over 1 answer," in text or text.rstrip().endswith("over 1 answer")
    assert "1 answers" not in text


def test_a_small_direction_bias_draws_an_arrow_that_can_be_seen(seeded: tuple[str, Path]) -> None:
    # The seeded week is 1.5 cm too proximal on a 10 px/cm view shown 360 px high: under the
    # minimum length, so the page must draw it longer, unlabelled, with a note above the image.
    at = _progress_page(seeded[0])
    [chart] = [c for c in at.get("plotly_chart") if "annotations" in json.loads(c.proto.spec).get("layout", {})]
    annotations = json.loads(chart.proto.spec)["layout"]["annotations"]
    [arrow] = [a for a in annotations if a.get("showarrow")]
    assert not arrow.get("text")
    assert abs(arrow["ay"] - arrow["y"]) * 360 / 200 >= 60 - 1e-9
    assert any("its true length" in a.get("text", "") and a.get("yref") == "paper" for a in annotations)
