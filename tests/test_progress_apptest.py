"""The progress page with a seeded week of practice, and practice recording attempts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.progress.learning import record_answer
from trainer.quiz.bank import load_questions
from trainer.rules.profiles import BrowserProfiles, key_hash, new_key
from trainer.scoring.score import Answer, score
from trainer.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def holding(key: str) -> BrowserProfiles:
    """What the browser's storage component reports for a browser holding ``key``."""
    return BrowserProfiles(keys=(key,), current=key)


@pytest.fixture()
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path, str]:
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
    key = new_key()
    learner = store.create_learner("Ana", now=datetime(2026, 11, 1, tzinfo=UTC), key_hash=key_hash(key))
    start = datetime.now(UTC) - timedelta(days=6)
    for day in range(7):  # a week of answers, each 1.5 cm too proximal
        res = score(q, Answer(pins_px=((float(x), float(y) - 15.0),)), rv, atlas)
        record_answer(
            store,
            atlas,
            learner.id,
            q,
            res,
            view_id="view_a_right",
            body_type="female",
            duration_ms=20_000,
            now=start + timedelta(days=day),
        )
    store.close()
    return learner.id, tmp_path, key


def test_progress_page_shows_mastery_bias_and_queue(seeded: tuple[str, Path, str]) -> None:
    _, _, key = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "7"
    assert at.metric[2].value == "7 d"
    text = " ".join(m.value for m in at.markdown)
    assert "1.5 cm too proximal" in text
    assert "Nerve A" in text or "Site A" in text


def test_progress_without_history_explains_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_practice_with_a_profile_records_attempts_and_queues_reviews(seeded: tuple[str, Path, str]) -> None:
    learner_id, tmp, key = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
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


def _progress_page(key: str) -> AppTest:
    """The Progress page in a browser holding the profile ``key``."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    return at


def test_progress_tables_show_whole_percentages(seeded: tuple[str, Path, str]) -> None:
    at = _progress_page(seeded[2])
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
    for name, value in (
        ("TRAINER_ATLAS_DIR", root),
        ("TRAINER_QUIZ_DIR", tmp_path / "quizzes"),
        ("TRAINER_DATA_DIR", tmp_path / "data"),
    ):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    atlas = load_atlas(root)
    q = next(x for x in load_questions(atlas, [tmp_path / "quizzes"]) if x.id == "q_locate")
    rv = load_rendered_view("view_a_right", "female", root)
    store = open_store(data_dir=tmp_path / "data")
    key = new_key()
    learner = store.create_learner("Bo", now=datetime.now(UTC), key_hash=key_hash(key))
    res = score(q, Answer(pins_px=(tuple(float(c) for c in rv.items["site_a"].points_px[0]),)), rv, atlas)
    record_answer(
        store,
        atlas,
        learner.id,
        q,
        res,
        view_id="view_a_right",
        body_type="female",
        duration_ms=5_000,
        now=datetime.now(UTC),
    )
    store.close()
    text = " ".join(m.value for m in _progress_page(key).markdown)
    assert "over 1 answer," in text or text.rstrip().endswith("over 1 answer")
    assert "1 answers" not in text


def test_a_small_direction_bias_draws_an_arrow_that_can_be_seen(seeded: tuple[str, Path, str]) -> None:
    # The seeded week is 1.5 cm too proximal on a 10 px/cm view shown 360 px high: under the
    # minimum length, so the page must draw it longer, unlabelled, with a note above the image.
    at = _progress_page(seeded[2])
    [chart] = [
        c for c in at.get("plotly_chart") if "annotations" in json.loads(c.proto.spec).get("layout", {})
    ]
    annotations = json.loads(chart.proto.spec)["layout"]["annotations"]
    [arrow] = [a for a in annotations if a.get("showarrow")]
    assert not arrow.get("text")
    assert abs(arrow["ay"] - arrow["y"]) * 360 / 200 >= 60 - 1e-9
    assert any("its true length" in a.get("text", "") and a.get("yref") == "paper" for a in annotations)


def picker(at: AppTest) -> Any:
    """The sidebar's profile picker (its widget key changes whenever the server selects)."""
    return next(s for s in at.sidebar.selectbox if s.label == "Profile")


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.info]
    parts += [o for s in at.selectbox for o in s.options] + [str(s.value) for s in at.selectbox]
    return " ".join(parts)


@pytest.mark.parametrize(
    "browser",
    [None, BrowserProfiles(), BrowserProfiles(keys=(new_key(),))],
    ids=["before the browser reports", "a browser with no keys", "a browser with a stranger key"],
)
def test_a_browser_that_holds_no_key_sees_no_profile_even_the_only_one(
    seeded: tuple[str, Path, str], browser: BrowserProfiles | None
) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    if browser is not None:
        at.session_state["profile_browser"] = browser
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    assert picker(at).options == ["Study without a profile"]
    assert "Ana" not in page_text(at)
    assert "studying without a profile" in page_text(at)
    assert not at.metric  # this tab's (empty) answers, not Ana's seven


def test_creating_a_profile_selects_it_before_the_next_answer(seeded: tuple[str, Path, str]) -> None:
    learner_id, tmp, key = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
    at.run()
    at.switch_page("trainer/ui/pages/practice.py").run()
    assert picker(at).value == learner_id
    next(t for t in at.sidebar.text_input if t.label == "Display name").input("Bea")
    at.button(key="profile_create").click().run()
    assert not at.exception, at.exception
    with open_store(data_dir=tmp / "data") as store:
        bea = next(lr for lr in store.list_learners() if lr.display_name == "Bea")
    assert picker(at).value == bea.id
    assert at.session_state["profile_ops"][0] == {"add": at.session_state["profile_held_keys"][bea.id]}

    at.multiselect(key="pr_types").set_value(["clinical"])
    at.number_input(key="pr_n").set_value(1)
    next(b for b in at.button if b.label == "Start practice").click().run()
    at.radio[0].set_value(0).run()
    next(b for b in at.button if b.label == "Submit answer").click().run()
    with open_store(data_dir=tmp / "data") as store:
        assert len(store.list_attempts(bea.id)) == 1
        assert len(store.list_attempts(learner_id)) == 7


def test_deleting_the_profile_leaves_the_page_without_one_at_once(seeded: tuple[str, Path, str]) -> None:
    learner_id, tmp, key = seeded
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    at.text_input(key="del_confirm").input("Ana").run()
    at.button(key="del_go").click().run()
    assert not at.exception, at.exception
    assert picker(at).value == "__anonymous__"
    assert picker(at).options == ["Study without a profile"]
    assert "studying without a profile" in page_text(at)
    assert {"remove": key} in at.session_state["profile_ops"]
    with open_store(data_dir=tmp / "data") as store:
        assert store.list_learners() == []


def test_progress_renders_a_profile_imported_with_edge_values(seeded: tuple[str, Path, str]) -> None:
    """An accepted file must never break the Progress page: nulls, empty lists and a fresh card."""
    _, tmp, _ = seeded
    key = new_key()
    t = datetime.now(UTC) - timedelta(days=1)
    doc = {
        "format": "nerve-mapping-trainer/learner",
        "format_version": 1,
        "learner": {"id": "imported1", "display_name": "Ida", "created_at": t.isoformat()},
        "attempts": [
            {"id": "x1", "question_id": "q_locate", "credit": 0, "created_at": t.isoformat()},
            {
                "id": "x2",
                "question_id": "no_such_question",
                "view_id": "no_such_view",
                "side": None,
                "body_type": None,
                "pins": [[0, 0], [1e4, -1e4]],
                "distances_cm": [None, 0],
                "directions": [{}, {"proximal": 999.0}],
                "credit": 1,
                "duration_ms": None,
                "created_at": t.isoformat(),
            },
        ],
        "review_cards": [
            {
                "card_id": "n:nerve_a:locate",
                "card": {
                    "card_id": 1,
                    "state": 1,
                    "step": None,
                    "stability": None,
                    "difficulty": None,
                    "due": t.isoformat(),
                    "last_review": None,
                },
                "due": t.isoformat(),
                "updated_at": t.isoformat(),
            }
        ],
    }
    with open_store(data_dir=tmp / "data") as store:
        store.import_learner(doc, now=datetime.now(UTC), key_hash=key_hash(key))
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["profile_browser"] = holding(key)
    at.run()
    at.switch_page("trainer/ui/pages/progress.py").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "2"


def test_a_hostile_profile_name_is_shown_as_typed_never_as_markdown(seeded: tuple[str, Path, str]) -> None:
    hostile = "![x](http://e.invalid/t.png) <b>B</b>"
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/practice.py").run()
    next(t for t in at.sidebar.text_input if t.label == "Display name").input(hostile)
    at.button(key="profile_create").click().run()
    assert not at.exception, at.exception
    assert picker(at).options == ["Study without a profile", hostile]
    toast = at.toast[0].value
    assert "![x](" not in toast and "<b>" not in toast and "\\!\\[x\\]" in toast
