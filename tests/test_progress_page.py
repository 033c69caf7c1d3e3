"""The Progress page model (trainer/progress/page.py): a real SQLite store and a fixed clock, no Streamlit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.errors import NotFoundError
from trainer.progress import page
from trainer.progress.learning import ATTEMPT_CSV_COLUMNS, attempt_fields, record_answer
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.rules.profiles import key_hash, new_key
from trainer.scoring.score import Answer, score
from trainer.store import Learner, Store, open_store

NOW = datetime(2026, 11, 8, 12, 0, tzinfo=UTC)


@dataclass
class World:
    atlas: Atlas
    questions: dict[str, QuestionModel]
    view: RenderedView
    store: Store

    def answer(self, learner_id: str, dy_px: float, when: datetime, qid: str = "q_locate") -> None:
        """A locate answer ``dy_px`` above site A (the flat view: 10 px a cm, proximal up)."""
        q = self.questions[qid]
        x, y = self.view.items["site_a"].points_px[0]
        result = score(q, Answer(pins_px=((float(x), float(y) - dy_px),)), self.view, self.atlas)
        record_answer(
            self.store,
            self.atlas,
            learner_id,
            q,
            result,
            view_id="view_a_right",
            body_type="female",
            duration_ms=20_000,
            now=when,
        )


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    write_bank(tmp_path / "quizzes", good_bank())
    atlas = load_atlas(root)
    questions = {q.id: q for q in load_questions(atlas, [tmp_path / "quizzes"])}
    with open_store(data_dir=tmp_path / "data") as store:
        yield World(atlas, questions, load_rendered_view("view_a_right", "female", root), store)


def show(
    w: World, learner_id: str | None, anonymous: list[dict[str, object]] | None = None, now: datetime = NOW
) -> page.ProgressView:
    return page.progress_view(w.store, w.atlas, w.questions, learner_id, anonymous or [], now)


def test_no_answers_yet_is_said_with_or_without_a_profile(world: World) -> None:
    ana = world.store.create_learner("Ana", now=NOW)
    assert show(world, ana.id) == page.ProgressView(anonymous=False, empty=True)
    assert show(world, None) == page.ProgressView(anonymous=True, empty=True)


def test_a_week_of_answers_shows_metrics_bias_and_weak_items(world: World) -> None:
    ana = world.store.create_learner("Ana", now=NOW)
    for day in range(7):  # 1.5 cm too proximal every day
        world.answer(ana.id, 15.0, NOW - timedelta(days=6 - day))
    shown = show(world, ana.id)
    assert not shown.empty and not shown.anonymous
    credits = [a.credit for a in world.store.list_attempts(ana.id)]
    assert 0 < credits[0] < 1  # partial credit: 1.5 cm off
    assert {m.label: m.value for m in shown.metrics} == {
        "Answers": "7",
        "Mean score": f"{sum(credits) / 7 * 100:.0f}%",
        "Streak": "7 d",
        "Practised": "2 min",
    }
    assert [r["Region"] for r in shown.by_region] == ["Region A"] and shown.by_region[0]["Answers"] == 7
    assert [r["Nerve"] for r in shown.by_nerve] == ["Nerve A"]
    assert 0 < shown.by_nerve[0]["Recall now"] <= 100  # the nerve's card was reviewed
    assert [d.attempts for d in shown.days] == [1] * 7
    score_line, distance_line = page.accuracy_figure(shown.days).data
    assert list(distance_line.y) == pytest.approx([1.5] * 7) and distance_line.yaxis == "y2"
    assert len(score_line.x) == 7 and score_line.x[-1] == NOW.date().isoformat()
    [bias] = shown.biases
    assert "1.5 cm too proximal" in bias.sentence and bias.view_id == "view_a_right"
    assert bias.mean_cm["proximal"] == pytest.approx(1.5)
    [weak] = shown.weakest
    assert weak.name == "Nerve A" and "over 7 answers" in weak.detail and "recall" in weak.detail
    assert weak.practise is not None and weak.practise.url.startswith("practice?questions=q_locate,")


def test_due_questions_make_a_review_link_and_none_due_a_note(world: World) -> None:
    ana = world.store.create_learner("Ana", now=NOW)
    world.answer(ana.id, 60.0, NOW - timedelta(days=3))  # 6 cm off: no credit, due again soon
    due = show(world, ana.id)
    assert due.review == page.Link("Review queue: 1 due today", "practice?questions=q_locate")
    assert due.review_note is None
    world.answer(ana.id, 0.0, NOW)  # right on the site, just now: nothing due today
    assert show(world, ana.id).review is None and show(world, ana.id).review_note == page.NOTHING_DUE


def test_without_a_profile_the_tabs_own_answers_are_shown_and_nothing_is_queued(world: World) -> None:
    q = world.questions["q_locate"]
    x, y = world.view.items["site_a"].points_px[0]
    result = score(q, Answer(pins_px=((float(x), float(y)),)), world.view, world.atlas)
    row = {
        "question_id": q.id,
        "view_id": "view_a_right",
        "credit": result.credit,
        "duration_ms": 30_000,
        "created_at": NOW - timedelta(minutes=1),
        **attempt_fields(result),
    }
    shown = show(world, None, [row, row])
    assert shown.anonymous and not shown.empty
    assert [m.value for m in shown.metrics] == ["2", "100%", "1 d", "1 min"]
    assert shown.review is None and shown.review_note is None  # no profile, no review queue
    assert shown.by_nerve[0]["Recall now"] is None
    assert world.store.list_attempts(None) == []  # reading the page stores nothing


def test_a_bias_too_small_to_draw_gets_words_but_no_arrow(world: World) -> None:
    ana = world.store.create_learner("Ana", now=NOW)
    for i in range(3):
        world.answer(ana.id, 1.0, NOW - timedelta(hours=i))  # 0.1 cm: no consistent direction
    [bias] = show(world, ana.id).biases
    assert "no consistent direction" in bias.sentence and bias.view_id is None


# -- your data ---------------------------------------------------------------------------------


def held(world: World, name: str = "Ana") -> tuple[str, str, Learner]:
    key = new_key()
    learner = world.store.create_learner(name, now=NOW, key_hash=key_hash(key))
    return key, key_hash(key), learner


def test_downloads_hold_the_history_and_everything(world: World) -> None:
    key, h, ana = held(world)
    world.answer(ana.id, 15.0, NOW)
    files = page.downloads(world.store, ana, h)
    assert (files.csv_name, files.json_name) == ("nerve-trainer-Ana.csv", "nerve-trainer-Ana.json")
    assert files.csv.startswith("\ufeff")  # spreadsheets read UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(files.csv.removeprefix("\ufeff"))))
    assert tuple(rows[0]) == ATTEMPT_CSV_COLUMNS and len(rows) == 2
    assert json.loads(files.json)["learner"]["display_name"] == "Ana"
    with pytest.raises(NotFoundError):
        page.downloads(world.store, ana, key_hash(new_key()))  # only a browser holding the profile


def test_a_transfer_code_is_shown_to_its_profile_until_it_expires(world: World) -> None:
    _, h, ana = held(world)
    shown = page.make_transfer_code(world.store, ana.id, h, NOW)
    assert shown.learner_id == ana.id and shown.expires_at == NOW + timedelta(minutes=15)
    assert page.transfer_to_show(shown, ana.id, NOW + timedelta(minutes=14)) == shown
    assert page.transfer_to_show(shown, ana.id, NOW + timedelta(minutes=15)) is None
    assert page.transfer_to_show(shown, "someone_else", NOW) is None
    assert page.transfer_to_show(None, ana.id, NOW) is None


def test_rename_says_the_new_name_literally_or_why_not(world: World) -> None:
    _, h, ana = held(world)
    done = page.rename(world.store, ana.id, h, "![x](http://e.invalid/a.png)")
    assert done == page.Notice("success", "Renamed to \\!\\[x\\]\\(http://e\\.invalid/a\\.png\\).")
    refused = page.rename(world.store, ana.id, h, "   ")
    assert refused.kind == "error"
    assert world.store.get_learner(ana.id).display_name == "![x](http://e.invalid/a.png)"


def test_delete_needs_the_typed_name_and_reports_what_went(world: World) -> None:
    _, h, ana = held(world)
    world.answer(ana.id, 15.0, NOW)
    assert not page.can_delete("ana", ana) and not page.can_delete("", ana) and page.can_delete("Ana", ana)
    deleted, notice = page.delete(world.store, ana, key_hash(new_key()))  # a browser that does not hold it
    assert not deleted and notice.kind == "error" and world.store.list_attempts(ana.id)
    deleted, notice = page.delete(world.store, ana, h)
    assert deleted and notice.kind == "success"
    assert "1 answer and 2 review cards" in notice.text
    assert world.store.list_learners() == []


def test_an_import_stores_the_profile_for_the_new_key_or_nothing(world: World) -> None:
    _, h, ana = held(world)
    world.answer(ana.id, 15.0, NOW)
    exported = json.dumps(world.store.export_learner(ana.id, key_hash=h)).encode()
    world.store.delete_learner(ana.id)

    refused = page.import_profile(world.store, b'{"format": "something else"}', new_key(), NOW)
    assert refused.learner is None and refused.notice is None and refused.problems
    assert world.store.list_learners() == []

    key = new_key()
    done = page.import_profile(world.store, exported, key, NOW)
    assert done.learner is not None and done.problems is None
    assert done.notice == page.Notice(
        "success", "Imported Ana (1 answer); it is selected and kept in this browser."
    )
    assert world.store.get_learner(done.learner.id, key_hash=key_hash(key)).display_name == "Ana"
    assert len(world.store.list_attempts(done.learner.id)) == 1
