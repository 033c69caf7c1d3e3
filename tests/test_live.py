"""The live-class service on SQLite and on a real PostgreSQL: server-side scoring, points,
idempotency, late answers, reveal statistics (cluster direction words) and anonymity.

The synthetic atlas is a flat 20 cm plane seen head-on at 10 px/cm (tests/atlas_factory.py):
on the right view, +y in the image is distal, so a pin 21 px below the site is 2.1 cm distal.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import load_rendered_view
from trainer.errors import NotFoundError, RuleError
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.quiz.choices import to_file_indexes
from trainer.quiz.models import QuestionModel
from trainer.rules.classroom import LiveSettings, Phase
from trainer.store import Store, open_store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEY = "host-secret"


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, dict[str, QuestionModel], Path]:
    tmp = tmp_path_factory.mktemp("content")
    root = write_atlas(tmp / "atlas", good_atlas_data())
    write_bank(tmp / "quizzes", good_bank())
    atlas = load_atlas(root)
    return atlas, {q.id: q for q in load_questions(atlas, [tmp / "quizzes"])}, root


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(data_dir=tmp_path / "data")
    else:
        s = open_store(url=request.getfixturevalue("pg_database_url"))
    yield s
    s.close()


def site_px(root: Path, view_id: str = "view_a_right") -> tuple[float, float]:
    x, y = load_rendered_view(view_id, "female", root).items["site_a"].points_px[0]
    return float(x), float(y)


def new_class(store: Store, content: Any, qids: list[str], side: str = "right", **settings: Any) -> Any:
    atlas, questions, _ = content
    return live.create_class(
        store,
        atlas,
        questions,
        title="Test class",
        question_ids=qids,
        host_key=KEY,
        settings=LiveSettings(**{"time_limit_s": 20.0, "speed_bonus": False, **settings}),
        side=side,
        body_type="female",
        now=T0,
        rng=random.Random(5),
    )


def players(store: Store, code: str, names: list[str]) -> list[Any]:
    return [live.join(store, code, n, T0)[1] for n in names]


def open_with_ana(store: Store, content: Any, qid: str) -> tuple[Any, Any, tuple[float, float]]:
    """A class on one question, opened at T0, with one player: (session, Ana, the site's px)."""
    session = new_class(store, content, [qid])
    (ana,) = players(store, session.join_code, ["Ana"])
    live.open_next(store, session.id, T0)
    return session, ana, site_px(content[2])


def test_live_answers_are_scored_on_the_server_with_the_class_view(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate"], side="left")
    assert session.settings["view_ids"] == ["view_a_left"] and session.settings["body_type"] == "female"
    (ana, bo) = players(store, session.join_code, ["Ana", "Bo"])
    live.open_next(store, session.id, T0)
    x, y = site_px(root, "view_a_left")
    hit = live.submit(store, atlas, questions, session.id, ana.token, [(x, y)], T0 + timedelta(seconds=4))
    miss = live.submit(
        store, atlas, questions, session.id, bo.token, [(x, y + 20)], T0 + timedelta(seconds=4)
    )
    assert hit.created and hit.answer.credit == 1.0 and hit.answer.distance_cm == pytest.approx(0.0)
    assert hit.answer.points == 1000  # accuracy × 1000, speed bonus off
    assert miss.answer.distance_cm == pytest.approx(2.0)
    assert miss.answer.credit == pytest.approx(0.5) and miss.answer.points == 500
    assert miss.answer.result["pins"][0]["direction"]["proximal"] == pytest.approx(-2.0)
    assert miss.answer.result["elapsed_s"] == 4.0


def test_speed_bonus_rewards_fast_accurate_answers(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate"], speed_bonus=True)
    fast, slow = players(store, session.join_code, ["Fast", "Slow"])
    live.open_next(store, session.id, T0)
    x, y = site_px(root)
    a = live.submit(store, atlas, questions, session.id, fast.token, [(x, y)], T0 + timedelta(seconds=5))
    b = live.submit(store, atlas, questions, session.id, slow.token, [(x, y)], T0 + timedelta(seconds=15))
    assert a.answer.points == 1000 + 375 and b.answer.points == 1000 + 125


def test_a_resubmission_is_a_no_op_that_says_already_received(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    session, ana, (x, y) = open_with_ana(store, content, "q_locate")
    first = live.submit(
        store, atlas, questions, session.id, ana.token, [(x, y + 25)], T0 + timedelta(seconds=2)
    )
    again = live.submit(store, atlas, questions, session.id, ana.token, [(x, y)], T0 + timedelta(seconds=3))
    assert first.created and not again.created
    assert again.message.startswith("Already received")
    assert again.answer.pins == first.answer.pins and again.answer.points == first.answer.points
    # Still "already received" after the close, not "too late".
    after = live.submit(store, atlas, questions, session.id, ana.token, [(x, y)], T0 + timedelta(seconds=60))
    assert not after.created
    assert store.count_answers(session.id, 0) == 1


def test_late_answers_are_refused_and_the_close_is_automatic(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate", "q_trace"])
    ana, bo = players(store, session.join_code, ["Ana", "Bo"])
    live.open_next(store, session.id, T0)
    x, y = site_px(root)
    # Nobody has polled yet: the row still says open, the clock says closed, the store refuses.
    assert live.effective_phase(store.get_session(session.id), T0 + timedelta(seconds=20)) is Phase.CLOSED
    with pytest.raises(RuleError, match="Time is up"):
        live.submit(
            store,
            atlas,
            questions,
            session.id,
            ana.token,
            [(x, y)],
            T0 + timedelta(seconds=20, milliseconds=1),
        )
    assert live.tick(store, session.id, T0 + timedelta(seconds=21)).state is Phase.CLOSED
    assert live.tick(store, session.id, T0 + timedelta(seconds=22)).state is Phase.CLOSED  # idempotent
    with pytest.raises(RuleError):
        live.submit(store, atlas, questions, session.id, bo.token, [(x, y)], T0 + timedelta(seconds=22))
    live.reveal_answer(store, session.id, T0 + timedelta(seconds=23))
    live.open_next(store, session.id, T0 + timedelta(seconds=30))
    # A phone still showing question 1 cannot answer question 2 by accident.
    with pytest.raises(RuleError, match="question 2 is on screen"):
        live.submit(
            store,
            atlas,
            questions,
            session.id,
            ana.token,
            [(x, y)],
            T0 + timedelta(seconds=31),
            question_index=0,
        )
    assert store.count_answers(session.id, 0) == 0


def test_transitions_follow_the_state_machine(store: Store, content: Any) -> None:
    session = new_class(store, content, ["q_locate"])
    with pytest.raises(RuleError):
        live.reveal_answer(store, session.id, T0)
    live.open_next(store, session.id, T0)
    with pytest.raises(RuleError):
        live.finish_class(store, session.id, T0)
    assert (
        live.reveal_answer(store, session.id, T0 + timedelta(seconds=25)).state is Phase.REVEALED
    )  # auto-closed
    with pytest.raises(RuleError, match="no next question"):
        live.open_next(store, session.id, T0 + timedelta(seconds=26))
    assert live.finish_class(store, session.id, T0 + timedelta(seconds=27)).state is Phase.FINISHED


def test_reveal_statistics_and_the_largest_wrong_cluster(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate"])
    names = ["A", "B", "C", "D", "E", "F"]
    ps = players(store, session.join_code, [*names, "Silent"])
    live.open_next(store, session.id, T0)
    x, y = site_px(root)
    pins = {
        "A": (x, y),
        "B": (x + 3, y + 4),  # within 1 cm
        "C": (x, y + 21),
        "D": (x + 2, y + 20),
        "E": (x - 1, y + 22),  # ~2.1 cm distal (right view: +y)
        "F": (x - 25, y),  # 2.5 cm to the image left = lateral on the right view
    }
    for p in ps[:6]:
        live.submit(
            store, atlas, questions, session.id, p.token, [pins[p.nickname]], T0 + timedelta(seconds=3)
        )
    s = live.reveal_answer(store, session.id, T0 + timedelta(seconds=21))
    stats = live.reveal_stats(store, atlas, questions, s, 0)
    assert (stats.answered, stats.players) == (6, 7)
    assert stats.within_tolerance_pct == pytest.approx(100 * 2 / 6)
    d = [0.0, 0.5, 2.1, np.hypot(0.2, 2.0), np.hypot(0.1, 2.2), 2.5]
    assert stats.mean_error_cm == pytest.approx(float(np.mean(d)), abs=1e-6)
    assert stats.cluster is not None and stats.cluster.size == 3 and stats.cluster.wrong_total == 4
    assert stats.cluster.sentence == "The largest group of wrong pins (3 of 6 pins) went 2.1 cm too distal."
    assert "3 of 6" in stats.summary and "Mean error" in stats.summary
    assert live.heatmap_pins(store, session.id, 0) == [pins[n] for n in names] or sorted(
        live.heatmap_pins(store, session.id, 0)
    ) == sorted(pins.values())
    # With a fourth distal pin the group is a majority of the class.
    assert live.too_words(stats.cluster.direction_cm) == "2.1 cm too distal"


def test_cluster_direction_is_the_same_on_a_mirrored_view(store: Store, content: Any) -> None:
    atlas, questions, root = content
    words = []
    for side, dx in (("right", -25), ("left", 25)):
        session = new_class(store, content, ["q_locate"], side=side)
        ps = players(store, session.join_code, ["A", "B"])
        live.open_next(store, session.id, T0)
        x, y = site_px(root, f"view_a_{side}")
        for i, p in enumerate(ps):
            live.submit(
                store, atlas, questions, session.id, p.token, [(x + dx, y + i)], T0 + timedelta(seconds=2)
            )
        s = live.reveal_answer(store, session.id, T0 + timedelta(seconds=21))
        cluster = live.reveal_stats(store, atlas, questions, s, 0).cluster
        assert cluster is not None
        words.append(cluster.sentence)
    assert words[0] == words[1] == "Most of you went 2.5 cm too lateral."


def test_anonymous_leaderboard_hides_names_but_shows_you(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate"], anonymous=True)
    ana, bo = players(store, session.join_code, ["Ana", "Bo"])
    live.open_next(store, session.id, T0)
    x, y = site_px(root)
    live.submit(store, atlas, questions, session.id, bo.token, [(x, y)], T0 + timedelta(seconds=1))
    live.submit(store, atlas, questions, session.id, ana.token, [(x, y + 25)], T0 + timedelta(seconds=1))
    board = live.leaderboard(store, session)
    assert [(r.rank, r.name) for r in board] == [(1, "Player 2"), (2, "Player 1")]
    mine = live.leaderboard(store, session, you_player_id=ana.id)
    assert [r.name for r in mine] == ["Player 2", "You"] and mine[1].is_you
    assert all("Ana" not in r.name and "Bo" not in r.name for r in board)
    open_board = live.leaderboard(store, new_class(store, content, ["q_locate"]))
    assert open_board == []
    assert live.player_standing(store, session, ana.id) == (2, 2, 250)


def test_rejoin_by_token_and_duplicate_nicknames(store: Store, content: Any) -> None:
    session = new_class(store, content, ["q_locate"])
    (ana,) = players(store, session.join_code, ["Ana"])
    s2, again = live.rejoin(store, ana.token)
    assert again.id == ana.id and s2.id == session.id
    with pytest.raises(NotFoundError):
        live.rejoin(store, "x" * 500)
    with pytest.raises(Exception, match="already taken"):
        live.join(store, session.join_code.lower(), " ANA ", T0)


def test_choice_questions_count_options(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    session = new_class(store, content, ["q_identify"])
    a, b, c = players(store, session.join_code, ["A", "B", "C"])
    live.open_next(store, session.id, T0)
    # Phones send the positions they tapped; option 0 of the file ("Nerve A") is the right one.
    order = live.choice_order(session, 0, len(questions["q_identify"].choices))
    right, wrong = order.index(0), order.index(1)
    for p, shown in ((a, right), (b, right), (c, wrong)):
        live.submit(
            store, atlas, questions, session.id, p.token, [], T0 + timedelta(seconds=2), choices=[shown]
        )
    with pytest.raises(RuleError):
        live.submit(store, atlas, questions, session.id, a.token, [(1, 2)], T0 + timedelta(seconds=2))
    s = live.reveal_answer(store, session.id, T0 + timedelta(seconds=21))
    stats = live.reveal_stats(store, atlas, questions, s, 0)
    assert stats.choice_counts == (2, 1) and stats.correct_pct == pytest.approx(200 / 3)


def test_junk_pins_from_a_modified_client_are_refused(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    session = new_class(store, content, ["q_locate"])
    (a,) = players(store, session.join_code, ["A"])
    live.open_next(store, session.id, T0)
    for bad in ([(float("nan"), 1.0)], [(1.0, 2.0), (3.0, 4.0)], [(1.0,)]):
        with pytest.raises(RuleError):
            live.submit(store, atlas, questions, session.id, a.token, bad, T0 + timedelta(seconds=1))
    with pytest.raises(NotFoundError):
        live.submit(store, atlas, questions, session.id, "not-a-token", [(1, 1)], T0 + timedelta(seconds=1))


def test_analytics_and_csv_hold_every_answer(store: Store, content: Any) -> None:
    atlas, questions, root = content
    session = new_class(store, content, ["q_locate", "q_locate"])
    ps = players(store, session.join_code, ["=cmd()", "Bo"])
    x, y = site_px(root)
    t = T0
    for _ in range(2):
        live.open_next(store, session.id, t)
        for p in ps:
            live.submit(store, atlas, questions, session.id, p.token, [(x, y + 10)], t + timedelta(seconds=2))
        live.reveal_answer(store, session.id, t + timedelta(seconds=21))
        t += timedelta(seconds=30)
    s = live.finish_class(store, session.id, t)
    text = live.answers_csv(store, s, questions)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 4 and {r["question_number"] for r in rows} == {"1", "2"}
    assert list(rows[0]) == list(live.CLASS_CSV_COLUMNS)
    assert "'=cmd()" in {r["nickname"] for r in rows}  # formula neutralised
    table = live.question_analytics(store, atlas, questions, s)
    assert [r["Answered"] for r in table] == ["2/2", "2/2"]
    assert table[0]["Mean error (cm)"] == 1.0 and table[0]["Median time (s)"] == 2.0


def test_csv_has_a_row_per_player_per_question_with_choice_texts(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    session = new_class(store, content, ["q_clinical", "q_locate"])
    ana, bo = players(store, session.join_code, ["Ana", "Zoë"])
    live.open_next(store, session.id, T0)
    order = live.choice_order(store.get_session(session.id), 0, 2)
    live.submit(store, atlas, questions, session.id, ana.token, [], T0, choices=(order.index(1),))
    live.close_now(store, session.id, T0 + timedelta(seconds=1))
    s = live.reveal_answer(store, session.id, T0 + timedelta(seconds=2))
    text = live.answers_csv(store, s, questions)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["nickname"], r["answered"]) for r in rows] == [("Ana", "yes"), ("Zoë", "no")]
    assert rows[0]["choice_shown"] == str(order.index(1) + 1) and rows[0]["choice_text"] == "No"
    assert rows[1]["credit"] == rows[1]["points"] == rows[1]["choice_text"] == ""
    assert rows[0]["question"] == questions["q_clinical"].prompt
    assert all(r["question_number"] == "1" for r in rows)  # question 2 was never shown
    assert "\r\n" in text


def test_create_class_reports_every_problem_at_once(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    with pytest.raises(RuleError) as err:
        live.create_class(
            store,
            atlas,
            questions,
            title="x",
            question_ids=["nope", "q_case"],
            host_key=KEY,
            settings=LiveSettings(),
            side="up",
            body_type="giant",
            now=T0,
        )
    text = str(err.value)
    assert "nope" in text and "q_case" in text and "'up'" in text and "giant" in text


def test_sessions_for_key_lists_only_this_hosts_classes(store: Store, content: Any) -> None:
    mine = new_class(store, content, ["q_locate"])
    atlas, questions, _ = content
    live.create_class(
        store,
        atlas,
        questions,
        title="other",
        question_ids=["q_locate"],
        host_key="other",
        settings=LiveSettings(),
        side="right",
        body_type="female",
        now=T0,
    )
    assert [s.id for s in live.sessions_for_key(store, KEY)] == [mine.id]


def test_qr_code_is_a_png_of_the_join_url() -> None:
    png = live.qr_png(live.join_url("http://10.0.0.5:8501", "K7PM3Q"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("qid", ["q_locate", "q_multi", "q_trace", "q_identify", "q_terr_tap"])
def test_the_reveal_reads_the_stored_result_which_equals_a_fresh_score(
    store: Store, content: Any, qid: str
) -> None:
    """Phones show the result stored at submit time; it must be the very result scoring gives."""
    from trainer.quiz.session import pins_needed
    from trainer.scoring.score import Answer as ScoredAnswer
    from trainer.scoring.score import score

    atlas, questions, _ = content
    session, ana, (x, y) = open_with_ana(store, content, qid)
    _, hi = pins_needed(atlas, questions[qid])
    # Near the target, one pin far off (unmatched or off the body), at most 5 pins.
    pins = [(x + 7.0 * i, y + 13.0 + 5.0 * i) for i in range(min(hi, 4))] + ([(1.0, 1.0)] if hi > 1 else [])
    choices = [1] if hi == 0 else []
    out = live.submit(
        store, atlas, questions, session.id, ana.token, pins, T0 + timedelta(seconds=3), choices=choices
    )
    view = live.question_view(atlas, session, 0)
    stored = store.get_answer(session.id, 0, ana.id)
    assert stored is not None
    scored_pins = tuple((float(px), float(py)) for px, py in stored.pins) if hi > 0 else ()
    picked = to_file_indexes(choices, live.choice_order(session, 0, len(questions[qid].choices)))
    fresh = score(questions[qid], ScoredAnswer(pins_px=scored_pins, choices=picked), view, atlas)
    assert same(live.rescore(atlas, questions, session, stored), fresh)
    assert same(live.result_from_json(out.answer.result), fresh)
    # Guard against a comparison that cannot fail: a different result is told apart.
    assert not same(live.result_from_json({**out.answer.result, "credit": 0.123}), fresh)


def same(a: Any, b: Any) -> bool:
    """Deep equality of results where NaN equals NaN (an unmatched pin's distance is NaN)."""
    import dataclasses
    import math

    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


def test_an_unreadable_stored_result_is_scored_again(store: Store, content: Any) -> None:
    import dataclasses

    atlas, questions, _ = content
    session, ana, (x, y) = open_with_ana(store, content, "q_locate")
    out = live.submit(
        store, atlas, questions, session.id, ana.token, [(x, y + 20)], T0 + timedelta(seconds=3)
    )
    broken = dataclasses.replace(out.answer, result={"question_id": "q_locate", "pins": [{"x_px": "?"}]})
    again = live.rescore(atlas, questions, session, broken)
    assert again is not None and again.mean_distance_cm == pytest.approx(2.0)
