"""Options are shown shuffled and scored by the option itself (issue 11, item 1).

Authors write the right answer first; shown in file order, always tapping the first option
scored 100%. These tests check the display orders Practice and a live class really use (the
same functions the pages call, with seeded generators so the figures are deterministic), and
that a displayed position is mapped back to the option before scoring.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, q, write_bank
from trainer.atlas import DEFAULT_ATLAS_DIR, load_atlas
from trainer.live import service as live
from trainer.quiz.bank import DEFAULT_QUIZ_DIR, load_questions
from trainer.quiz.choices import OWN_CHOICES, option_texts, practice_orders, revealed_options
from trainer.quiz.models import ChoiceModel, QuestionModel
from trainer.rules.classroom import LiveSettings
from trainer.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

FOUR = [  # a clinical question written the way authors write them: the right answer first
    {"text": "5% dextrose", "correct": True, "why": "The PIT solution."},
    {"text": "Saline", "why": "A placebo arm in trials."},
    {"text": "Lidocaine alone"},
    {"text": "Steroid"},
]


def single_answer_sets(qs: list[QuestionModel]) -> Iterator[tuple[QuestionModel, int, list[ChoiceModel]]]:
    """(question, order key, options) of every single-answer set: identify, territory (name),
    clinical without multi_answer, and the single-answer choice steps of cases."""
    for x in qs:
        if (
            x.choices
            and not x.multi_answer
            and (x.type in ("identify", "clinical") or (x.type == "territory" and x.mode == "name"))
        ):
            yield x, OWN_CHOICES, list(x.choices)
        for i, step in enumerate(x.steps):
            if step.choices and not step.multi_answer:
                yield x, i, list(step.choices)


def assert_spread(positions: dict[int, list[int]], where: str) -> None:
    """No display position holds the right option much more often than chance: at most 40%
    with 4 options (1/n + 15 points in general), for every option count with 20+ questions."""
    checked = 0
    for n, pos in sorted(positions.items()):
        if len(pos) < 20:
            continue
        checked += len(pos)
        top_pos, top = Counter(pos).most_common(1)[0]
        share = top / len(pos)
        assert share <= 1 / n + 0.15, (
            f"{where}: with {n} options the right one is at position {top_pos + 1} "
            f"in {share:.0%} of {len(pos)} questions"
        )
    assert checked >= 150, f"{where}: too few shipped questions checked ({checked})"
    every = [p for pos in positions.values() for p in pos]
    assert Counter(every)[0] / len(every) <= 0.40, f"{where}: the first option is right too often"


@pytest.fixture(scope="module")
def shipped() -> tuple[Any, list[QuestionModel]]:
    atlas = load_atlas(DEFAULT_ATLAS_DIR)
    return atlas, load_questions(atlas, [DEFAULT_QUIZ_DIR])


def test_practice_spreads_the_right_option_over_the_positions(
    shipped: tuple[Any, list[QuestionModel]],
) -> None:
    _, qs = shipped
    positions: dict[int, list[int]] = defaultdict(list)
    for k, x in enumerate(qs):
        orders = practice_orders(x, random.Random(k))  # one attempt per question
        for qq, key, choices in single_answer_sets([x]):
            assert qq is x
            right = next(i for i, c in enumerate(choices) if c.correct)
            positions[len(choices)].append(orders[key].index(right))
    assert_spread(positions, "practice")


def test_a_live_class_spreads_the_right_option_over_the_positions(
    shipped: tuple[Any, list[QuestionModel]], tmp_path: Path
) -> None:
    atlas, qs = shipped
    by_id = {x.id: x for x in qs}
    ids = [x.id for x, key, _ in single_answer_sets(qs) if key == OWN_CHOICES and live.is_live_question(x)]
    store = open_store(data_dir=tmp_path / "data")
    positions: dict[int, list[int]] = defaultdict(list)
    for seed in (1, 2):  # two classes of every live single-answer question
        session = live.create_class(
            store,
            atlas,
            by_id,
            title="All choices",
            question_ids=ids,
            host_key="k",
            settings=LiveSettings(),
            side="right",
            body_type=atlas.default_body_type,
            now=T0,
            rng=random.Random(seed),
        )
        for index, qid in enumerate(session.question_ids):
            choices = by_id[qid].choices
            right = next(i for i, c in enumerate(choices) if c.correct)
            positions[len(choices)].append(live.choice_order(session, index, len(choices)).index(right))
    store.close()
    assert_spread(positions, "live class")


def test_one_live_question_shows_one_order_everywhere_but_classes_differ(tmp_path: Path) -> None:
    atlas, questions = _content(tmp_path)
    store = open_store(data_dir=tmp_path / "data")
    a = _class(store, atlas, questions, ["q_four", "q_four"], seed=5)
    again = store.get_session(a.id)  # another process reading the class from the database
    assert live.choice_order(again, 0, 4) == live.choice_order(a, 0, 4)
    orders = {live.choice_order(_class(store, atlas, questions, ["q_four"], seed=s), 0, 4) for s in range(12)}
    assert len(orders) > 3  # a fresh secret per class: the session id alone does not give it away
    assert "choice_seed" in a.settings and a.settings["choice_seed"] not in a.id
    store.close()


def _content(tmp: Path) -> tuple[Any, dict[str, QuestionModel]]:
    root = write_atlas(tmp / "atlas", good_atlas_data())
    bank = good_bank()
    bank["questions"].append(
        q("q_four", "clinical", prompt="Which solution does classic PIT inject?", choices=FOUR)
    )
    bank["questions"].append(
        q(
            "q_four_multi",
            "clinical",
            prompt="Which two are right?",
            multi_answer=True,
            choices=[{**FOUR[0]}, {**FOUR[1], "correct": True}, FOUR[2], FOUR[3]],
        )
    )
    write_bank(tmp / "quizzes", bank)
    atlas = load_atlas(root)
    return atlas, {x.id: x for x in load_questions(atlas, [tmp / "quizzes"])}


def _class(store: Any, atlas: Any, questions: dict[str, QuestionModel], ids: list[str], seed: int) -> Any:
    return live.create_class(
        store,
        atlas,
        questions,
        title="c",
        question_ids=ids,
        host_key="k",
        settings=LiveSettings(time_limit_s=30, speed_bonus=False),
        side="right",
        body_type="female",
        now=T0,
        rng=random.Random(seed),
    )


def test_live_submit_scores_the_option_shown_at_the_tapped_position(tmp_path: Path) -> None:
    atlas, questions = _content(tmp_path)
    store = open_store(data_dir=tmp_path / "data")
    session = _class(store, atlas, questions, ["q_four", "q_four_multi"], seed=5)
    order = live.choice_order(session, 0, 4)
    assert order[0] != 0, "pick a seed whose order does not show the right option first"
    right = order.index(0)
    ana = live.join(store, session.join_code, "Ana", T0)[1]
    bo = live.join(store, session.join_code, "Bo", T0)[1]
    live.open_next(store, session.id, T0)
    t = T0 + timedelta(seconds=2)
    assert (
        live.submit(store, atlas, questions, session.id, ana.token, [], t, choices=[right]).answer.credit
        == 1.0
    )
    assert live.submit(store, atlas, questions, session.id, bo.token, [], t, choices=[0]).answer.credit == 0.0
    # What is stored is the option itself (its index in the file), never the position tapped.
    assert store.get_answer(session.id, 0, ana.id).pins == {"choices": [0]}
    assert store.get_answer(session.id, 0, bo.id).pins == {"choices": [order[0]]}
    live.close_now(store, session.id, t)
    session = live.reveal_answer(store, session.id, t)
    stats = live.reveal_stats(store, atlas, questions, session, 0)
    counts = {
        o.text: stats.choice_counts[o.file_index]
        for o in revealed_options(questions["q_four"].choices, order)
    }
    assert counts == {
        "5% dextrose": 1,
        questions["q_four"].choices[order[0]].text: 1,
        **{c.text: 0 for i, c in enumerate(questions["q_four"].choices) if i not in (0, order[0])},
    }
    # A multi-answer question: the two right options, wherever they are shown.
    live.open_next(store, session.id, t)
    m_order = live.choice_order(session, 1, 4)
    both = sorted(m_order.index(i) for i in (0, 1))
    out = live.submit(
        store, atlas, questions, session.id, ana.token, [], t + timedelta(seconds=2), choices=both
    )
    assert out.answer.credit == 1.0 and sorted(out.answer.pins["choices"]) == [0, 1]
    with pytest.raises(Exception, match="not one of the options"):
        live.submit(store, atlas, questions, session.id, bo.token, [], t + timedelta(seconds=2), choices=[4])
    store.close()


# ---------------------------------------------------------------- Practice, through the page


@pytest.fixture()
def practice_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _content(tmp_path)
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(tmp_path / "atlas"))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _practise(qid: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/practice.py")
    at.query_params["questions"] = qid
    at.run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Submit answer").click().run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("pick", ["5% dextrose", "Steroid"])
def test_practice_scores_the_option_at_the_picked_position(practice_content: Path, pick: str) -> None:
    at = _practise("q_four")
    order = at.session_state["pr_orders"][OWN_CHOICES]
    radio = at.radio[0]
    assert list(radio.options) == option_texts([ChoiceModel(**c) for c in FOUR], order)
    radio.set_value(radio.options.index(pick)).run()
    _submit(at)
    result = at.session_state["pr_result"]
    file_index = [c["text"] for c in FOUR].index(pick)
    assert result.chosen == (file_index,) and result.credit == (1.0 if pick == "5% dextrose" else 0.0)
    # The reveal lists the options where they were shown, the right one marked, the pick named.
    lines = [m.value for m in at.markdown if m.value[:1] in "✓✗·"]
    assert [line.split(". ", 1)[1].split(" — ")[0] for line in lines] == list(radio.options)
    assert "right answer" in lines[order.index(0)] and "your answer" in lines[order.index(file_index)]
    assert any(c.value == "The PIT solution." for c in at.caption)


def test_practice_orders_are_fresh_per_attempt_and_cover_case_steps(practice_content: Path) -> None:
    seen = set()
    for _ in range(8):
        at = _practise("q_four")
        seen.add(at.session_state["pr_orders"][OWN_CHOICES])
    assert len(seen) > 1  # the same order of 4 options 8 times running: odds (1/24)^7
    at = _practise("q_case")
    order = at.session_state["pr_orders"][0]  # step 0 of the case is "which nerve?"
    assert list(at.radio[0].options) == option_texts(
        [ChoiceModel(text="Nerve A", correct=True, item="nerve_a"), ChoiceModel(text="Nerve B")], order
    )
