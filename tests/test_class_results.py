"""A learner's read-only results of a finished class: only their own answers, only once the class
is finished, only with their own token. (The class played is built by tests/test_class_review.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests import test_class_review as base
from trainer.live import results_page as results
from trainer.live import service as live
from trainer.live.links import results_url
from trainer.store import Store

# The class both files play (tests/test_class_review.py), and its fixtures.
content, store, played = base.content, base.store, base.played


def test_a_learner_sees_only_their_own_answers_and_the_reveals(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    c = played(store, content)
    code = c["session"].join_code
    ana = results.learner_results(store, atlas, questions, c["ana"].token, code)
    assert ana.error == "" and ana.player is not None and ana.player.nickname == "Ana"
    assert ana.standing == "Rank 1 of 3 · 1500 points"  # 500 (half credit, 2 cm off) + 1000
    q1, q2 = ana.questions
    assert q1.answered and q1.distance_cm == pytest.approx(2.0, abs=0.05) and "distal" in q1.feedback
    assert q1.pins_px == ((c["xy"][0], c["xy"][1] + 20),)  # her own pin, nobody else's
    assert q1.view is not None and any(s["type"] == "circle" for s in q1.shapes)  # the target
    assert "cm from the target" in q1.score_line and q1.right_answer == atlas.name_of("site_a")
    assert q1.references and q1.explanation == "Because of anatomy."
    assert [(o.text, o.correct, o.chosen) for o in q2.options if o.chosen] == [("Yes", True, True)]
    assert q2.credit == pytest.approx(1.0) and q2.view is None and q2.right_answer == "Yes"

    bo = results.learner_results(store, atlas, questions, c["bo"].token, code)
    b1, b2 = bo.questions
    assert b1.pins_px == ((c["xy"][0], c["xy"][1]),) and b1.distance_cm == pytest.approx(0.0, abs=0.05)
    assert [(o.text, o.chosen) for o in b2.options if o.chosen] == [("No", True)] and b2.credit == 0.0
    assert bo.player is not None and bo.player.nickname == "Bo"

    cy = results.learner_results(store, atlas, questions, c["cy"].token)  # the personal link: no code
    assert [r.answered for r in cy.questions] == [False, False]
    assert [r.score_line for r in cy.questions] == ["Not answered", "Not answered"]
    assert cy.questions[0].pins_px == () and all(not o.chosen for o in cy.questions[1].options)


def test_no_results_before_the_end_nor_with_a_wrong_token_or_class(store: Store, content: Any) -> None:
    atlas, questions, _ = content
    running = played(store, content, finish=False)
    early = results.learner_results(store, atlas, questions, running["ana"].token)
    assert early.error == results.NOT_FINISHED and early.questions == ()

    c = played(store, content)
    code = c["session"].join_code
    assert results.learner_results(store, atlas, questions, "not-a-token", code).error == results.LINK_INVALID
    assert results.learner_results(store, atlas, questions, "x" * 200).error == results.LINK_INVALID
    assert results.learner_results(store, atlas, questions, "", code).error == results.NOT_ON_THIS_DEVICE
    assert results.learner_results(store, atlas, questions, "", "").error == results.NO_CODE
    # A token of another class under this class's link: refused, not shown.
    other = results.learner_results(store, atlas, questions, running["ana"].token, code)
    assert other.error == results.OTHER_CLASS and other.questions == ()
    # A player the host removed: the link stops working.
    live.remove_player(store, c["session"].id, c["bo"].id)
    assert results.learner_results(store, atlas, questions, c["bo"].token, code).error == results.LINK_INVALID


def test_links_and_device_keys() -> None:
    assert results_url("http://10.0.0.2:8501/", "K7PM3Q") == "http://10.0.0.2:8501/results?code=K7PM3Q"
    assert results.link_code("k7p m3q") == "K7PM3Q" and results.link_code("../x") == ""
    assert results.device_key("K7PM3Q") == "player:K7PM3Q"
    assert results.personal_params("tok") == {"token": "tok"}
    assert results.who(store=None, token="", code="K7PM3Q").error == results.NOT_ON_THIS_DEVICE  # type: ignore[arg-type]
