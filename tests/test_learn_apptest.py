"""The Learn and Evidence map pages in AppTest, on the shipped atlas, lessons and banks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from trainer.atlas import load_atlas
from trainer.learn.lessons import lessons_dir, load_lessons
from trainer.learn.page import NO_LESSONS, NO_PROFILE, page_count
from trainer.quiz.bank import load_questions
from trainer.rules.profiles import BrowserProfiles, key_hash, new_key
from trainer.settings import quiz_dir
from trainer.store import open_store
from trainer.store.lessons import lesson_progress

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    return tmp_path / "data"


def _learn(key: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if key is not None:
        at.session_state["profile_browser"] = BrowserProfiles(keys=(key,), current=key)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_root_opens_learn_with_the_lessons_grouped(data_dir: Path) -> None:
    at = _learn()
    assert [t.value for t in at.title] == ["Learn"]
    assert [s.value for s in at.subheader][:2] == ["The method", "Conditions"]
    assert any(NO_PROFILE in c.value for c in at.caption)
    labels = [b.label for b in at.button]
    assert "Start" in labels


def test_a_learner_goes_through_the_elbow_lesson_and_answers_its_questions(data_dir: Path) -> None:
    store = open_store(data_dir=data_dir)
    key = new_key()
    ana = store.create_learner("Ana", now=datetime(2026, 1, 1, tzinfo=UTC), key_hash=key_hash(key))
    at = _learn(key)
    at.button(key="ln_open_lateral_elbow").click().run()
    lesson = next(lf for lf in load_lessons(lessons_dir(quiz_dir())) if lf.lesson.id == "lateral_elbow")
    assert at.subheader[0].value == lesson.lesson.title
    assert at.button(key="ln_back").disabled
    for _ in range(page_count(lesson) - 1):
        at.button(key="ln_next").click().run()
        assert not at.exception, at.exception
    assert at.button(key="ln_next").disabled
    assert any("Check yourself" in m.value for m in at.markdown)
    first_id = lesson.check[0]
    q = next(x for x in load_questions(load_atlas(), [quiz_dir()]) if x.id == first_id)
    right = {c.text for c in q.choices if c.correct}
    if q.multi_answer:
        for box in at.checkbox:
            if box.key.startswith(f"ln_q_lateral_elbow_{first_id}_") and box.label in right:
                box.check()
    else:
        radio = at.radio(key=f"ln_q_lateral_elbow_{first_id}")
        radio.set_value(next(i for i in radio.options if radio.format_func(i) in right))  # type: ignore[misc]
    at.button(key=f"ln_submit_lateral_elbow_{first_id}").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("100%") for s in at.success)
    attempts = store.list_attempts(ana.id)
    assert [a.question_id for a in attempts] == [first_id] and attempts[0].credit == 1.0
    progress = lesson_progress(store, ana.id, key_hash=key_hash(key))["lateral_elbow"]
    assert progress.completed and progress.steps_seen == page_count(lesson)
    store.close()


def test_a_lesson_reopens_where_the_learner_left_it(data_dir: Path) -> None:
    at = _learn()
    at.button(key="ln_open_knee_osteoarthritis").click().run()
    at.button(key="ln_next").click().run()
    at.button(key="ln_next").click().run()
    at.button(key="ln_to_list").click().run()
    assert any(m.value.startswith("**Knee osteoarthritis") and "step 3 of" in m.value for m in at.markdown)
    at.button(key="ln_open_knee_osteoarthritis").click().run()
    assert at.progress[0].value is not None and "Step 3 of" in str(at.progress[0].proto.text)


def test_without_lessons_the_page_says_how_to_add_one(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "quizzes").mkdir()
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    at = _learn()
    assert any(NO_LESSONS in i.value for i in at.info)


def test_the_evidence_map_filters_to_trials_whose_control_arm_improved(data_dir: Path) -> None:
    at = _learn()
    at.switch_page("trainer/ui/pages/evidence.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Evidence map"
    every = len(at.dataframe[0].value)
    at.toggle(key="ev_control").set_value(True).run()
    shown = at.dataframe[0].value
    assert 0 < len(shown) < every
    assert set(shown["Control arm improved"]) == {"Yes: the control arm improved too"}
    assert all(str(x) for x in shown["Control arm change"])
