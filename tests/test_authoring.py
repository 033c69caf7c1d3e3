"""Authoring: snap a click to a target, create → save → validate → practise, merge without clobbering."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.authoring.questions import (
    Snap,
    apply_click,
    bank_to_yaml,
    build_question,
    check_bank,
    default_choices,
    merge_questions,
    new_bank,
    parse_bank,
    question_ids,
    read_bank_folder,
    save_question,
    snap_click,
    target_options,
)
from trainer.quiz.bank import check_banks, load_questions
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer, score

# The flat test body: 10 px per cm, landmark A at (100, 100) px; site_a 2 cm distal at
# (100, 120); nerve_a runs from (100, 80) to (100, 140); vein_a at x = 70 px.


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, RenderedView]:
    root = tmp_path_factory.mktemp("flat") / "atlas"
    write_atlas(root, good_atlas_data())
    return load_atlas(root), load_rendered_view("view_a_right", "female", root)


def locate(atlas: Atlas, qid: str = "my_locate", **kw: object) -> QuestionModel:
    fields: dict[str, object] = {
        "qid": qid,
        "qtype": "locate",
        "prompt": "Tap the fascial piercing point of nerve A.",
        "view": "view_a",
        "targets": ["site_a"],
        "tolerance_cm": 1.0,
        "zero_cm": 3.0,
        "explanation": "It pierces 2 cm below landmark A.",
        "references": ["ref_a"],
    }
    fields.update(kw)
    q, problems = build_question(atlas, **fields)  # type: ignore[arg-type]
    assert problems == [] and q is not None, problems
    return q


# ------------------------------------------------------------------------- snapping


def test_a_click_near_a_site_snaps_to_the_site_not_its_nerve(flat: tuple[Atlas, RenderedView]) -> None:
    _, view = flat
    snap = snap_click(view, 103.0, 121.0)
    assert (
        snap is not None and snap.item_id == "site_a" and snap.distance_cm == pytest.approx(0.316, abs=0.01)
    )


def test_a_click_on_a_course_away_from_sites_snaps_to_the_nerve(flat: tuple[Atlas, RenderedView]) -> None:
    _, view = flat
    snap = snap_click(view, 101.0, 85.0)
    assert snap is not None and (snap.item_id, snap.kind) == ("nerve_a", "nerve")
    assert snap.distance_cm == pytest.approx(0.1, abs=0.01)


def test_a_click_far_from_everything_snaps_to_nothing(flat: tuple[Atlas, RenderedView]) -> None:
    _, view = flat
    assert snap_click(view, 190.0, 190.0) is None


def test_territory_questions_snap_to_the_territory_under_the_click(flat: tuple[Atlas, RenderedView]) -> None:
    _, view = flat
    snap = snap_click(view, 100.0, 110.0, kinds=("territory",))
    assert snap is not None and snap.item_id == "terr_a" and snap.distance_cm == 0.0


def test_target_options_follow_the_question_type(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, view = flat
    assert set(target_options(view, atlas, "locate")) == {"site_a", "nerve_a"}
    assert target_options(view, atlas, "trace") == ["nerve_a"]
    assert target_options(view, atlas, "territory") == ["terr_a"]
    assert target_options(view, atlas, "clinical") == []


# ------------------------------------------------------------------------- building


def test_every_problem_with_a_draft_is_reported_at_once(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    q, problems = build_question(
        atlas,
        qid="draft_1",
        qtype="locate",
        prompt="Tap it here.",
        view="view_a",
        targets=["site_a", "nerve_a"],
        explanation="",
        references=["ref_nowhere"],
    )
    assert q is None
    lines = [str(p) for p in problems]
    assert "author: draft_1: explanation: every question needs an explanation" in lines
    assert "author: draft_1: references: unknown reference 'ref_nowhere'" in lines
    assert any("exactly one target" in p for p in lines), lines


def test_a_bad_id_and_tolerance_are_reported_with_their_fields(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    q, problems = build_question(
        atlas,
        qid="Bad Id!",
        qtype="locate",
        prompt="Tap it here.",
        view="view_a",
        targets=["site_a"],
        tolerance_cm=3.0,
        zero_cm=2.0,
        explanation="x",
        references=["ref_a"],
    )
    assert q is None
    fields = {p.field for p in problems}
    assert "id" in fields and any("zero_cm must be larger" in p.message for p in problems)


def test_identify_choices_default_to_the_nerve_and_are_valid(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    choices = default_choices(atlas, "nerve_a")
    assert [c.item for c in choices if c.correct] == ["nerve_a"]  # the flat atlas has no other nerve
    assert default_choices(atlas, "nerve_a") == choices  # stable: the page does not reshuffle on every rerun
    choices = [*choices, {"text": "Some other nerve"}]
    q, problems = build_question(
        atlas,
        qid="my_identify",
        qtype="identify",
        prompt="Which nerve is highlighted?",
        view="view_a",
        targets=["nerve_a"],
        explanation="It is nerve A.",
        references=["ref_a"],
        choices=choices,
    )
    assert problems == [] and q is not None
    assert q.tags.region == "reg_a" and q.tags.nerves == ["nerve_a"]


def test_default_choices_do_not_put_the_right_nerve_first() -> None:
    atlas = load_atlas()
    positions = []
    for nerve_id in atlas.nerves:
        choices = default_choices(atlas, nerve_id)
        assert len(choices) == 4 and sum(c.correct for c in choices) == 1
        positions.append(next(i for i, c in enumerate(choices) if c.correct))
    shares = [positions.count(k) / len(positions) for k in range(4)]
    assert max(shares) <= 0.4, shares


# ----------------------------------------------------------- picking targets by clicking


def test_every_click_says_what_it_did_to_the_targets() -> None:
    names = {"s1": "Site one", "s2": "Site two"}.__getitem__
    added = apply_click([], Snap("s1", "site", 0.31), single=False, name_of=names)
    assert (
        added.targets == ("s1",)
        and added.message == "Added Site one (0.3 cm from the click). Targets (1): Site one."
    )
    both = apply_click(added.targets, Snap("s2", "site", 0.0), single=False, name_of=names)
    assert both.targets == ("s1", "s2") and both.message.endswith("Targets (2): Site one, Site two.")
    # Clicking a target again removes it, and says so (it used to say "Snapped to…").
    removed = apply_click(both.targets, Snap("s1", "site", 0.2), single=False, name_of=names)
    assert removed.targets == ("s2",)
    assert (
        removed.message
        == "Removed Site one: it was a target and you clicked it again. Targets (1): Site two."
    )
    missed = apply_click(removed.targets, None, single=False, name_of=names)
    assert missed.targets == ("s2",) and missed.message.startswith("Nothing to snap to within 3 cm")
    # One-target questions replace the target, naming the one replaced.
    replaced = apply_click(["s1"], Snap("s2", "site", 0.5), single=True, name_of=names)
    assert (
        replaced.targets == ("s2",)
        and replaced.message == "Target set to Site two (0.5 cm from the click), replacing Site one."
    )
    same = apply_click(["s2"], Snap("s2", "site", 0.5), single=True, name_of=names)
    assert (
        same.targets == ("s2",) and same.message == "Site two is already the target (0.5 cm from the click)."
    )


# ---------------------------------------------------------------- the round trip


def test_create_save_validate_and_practise_round_trip(
    tmp_path: Path, flat: tuple[Atlas, RenderedView]
) -> None:
    atlas, view = flat
    snap = snap_click(view, 102.0, 119.0)
    assert snap is not None
    q = locate(atlas, targets=[snap.item_id])
    folder = tmp_path / "banks"
    path = save_question(folder, new_bank("my_bank", "My bank"), q, question_ids([folder]))
    assert path == folder / "my_bank.yaml"

    problems, count = check_banks(atlas, [folder])  # exactly what `python -m trainer validate` runs
    assert problems == [] and count == 1
    [loaded] = load_questions(atlas, [folder])
    assert loaded == q

    on_target = score(loaded, Answer(pins_px=((100.0, 120.0),)), view, atlas)
    assert on_target.credit == pytest.approx(1.0)
    two_cm_off = score(loaded, Answer(pins_px=((100.0, 140.0),)), view, atlas)
    assert 0.0 < two_cm_off.credit < 1.0 and "distal" in two_cm_off.feedback

    # A second question goes into the same bank; its id must not be reused.
    bank = read_bank_folder(folder)["my_bank"]
    with pytest.raises(ValueError, match="already used"):
        save_question(folder, bank, q, question_ids([folder]))
    save_question(folder, bank, locate(atlas, qid="my_locate_nerve", targets=["nerve_a"]), {})
    assert [x.id for x in load_questions(atlas, [folder])] == ["my_locate", "my_locate_nerve"]


def test_bank_yaml_round_trips_and_leaves_defaults_out(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    bank = new_bank("b", "B").model_copy(update={"questions": [locate(atlas)]})
    text = bank_to_yaml(bank)
    assert "tolerance_cm" not in text and text.startswith("schema_version: 1")
    parsed, problems = parse_bank(text, "b.yaml")
    assert problems == [] and parsed == bank


# ---------------------------------------------------------------------- uploads


def test_an_uploaded_bank_gets_the_same_messages_as_the_cli(
    tmp_path: Path, flat: tuple[Atlas, RenderedView]
) -> None:
    atlas, _ = flat
    data = good_bank()
    data["questions"][0]["targets"] = ["site_zz"]
    data["questions"][1]["explanation"] = ""
    path = write_bank(tmp_path / "cli", data)
    cli, _ = check_banks(atlas, [path])
    bank, shape = parse_bank(path.read_bytes(), "upload.yaml")
    assert shape == [] and bank is not None
    ours = check_bank(atlas, bank, "upload.yaml")
    assert [(p.item, p.field, p.message) for p in ours] == [(p.item, p.field, p.message) for p in cli]
    assert str(ours[0]).startswith("upload.yaml: q_locate: targets: ")


def test_broken_yaml_and_wrong_shapes_are_located(flat: tuple[Atlas, RenderedView]) -> None:
    _, problems = parse_bank(b"schema_version: 1\nbank: {id: x, title: [unclosed\n", "up.yaml")
    assert len(problems) == 1 and "YAML syntax error (line" in str(problems[0])
    _, problems = parse_bank(b"\xff\xfe not utf8", "up.yaml")
    assert str(problems[0]) == "up.yaml: -: -: file is not UTF-8 text"
    _, problems = parse_bank(
        "schema_version: 1\nbank: {id: b, title: B}\nquestions:\n  - {id: q1, type: locate, prompt: hi there, colour: red}\n",
        "up.yaml",
    )
    assert "up.yaml: q1: colour: unknown field (not in the schema)" in [str(p) for p in problems]


# ----------------------------------------------------------------------- merging


def test_merge_reports_conflicting_ids_and_never_overwrites(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    mine = [locate(atlas, "q_one"), locate(atlas, "q_two")]
    bank = new_bank("mine", "Mine").model_copy(update={"questions": mine})
    changed_two = locate(atlas, "q_two", prompt="A different prompt for the same id.")
    incoming = [mine[0], changed_two, locate(atlas, "q_three"), locate(atlas, "q_shipped")]

    report = merge_questions(bank, incoming, taken_elsewhere={"q_shipped": "quizzes/knee.yaml"})
    assert report.added == ("q_three",)
    assert report.conflicts == ("q_two", "q_shipped")
    assert report.unchanged == ("q_one",)
    merged = {q.id: q for q in report.bank.questions}
    assert merged["q_two"] == mine[1]  # the existing question is untouched
    assert "q_shipped" not in merged
    assert any("Not added, id already used: q_two, q_shipped" in line for line in report.lines())


def test_merge_can_rename_conflicts_with_a_suffix(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    bank = new_bank("mine", "Mine").model_copy(
        update={"questions": [locate(atlas, "q_two"), locate(atlas, "q_two_imported")]}
    )
    changed = locate(atlas, "q_two", prompt="A different prompt for the same id.")
    report = merge_questions(bank, [changed], rename_suffix="imported")
    assert report.conflicts == ()
    assert report.renamed == {"q_two": "q_two_imported_2"}
    ids = [q.id for q in report.bank.questions]
    assert ids == ["q_two", "q_two_imported", "q_two_imported_2"]
    assert report.bank.questions[0].prompt != changed.prompt


# ------------------------------------------------------------------ the author page


def test_the_author_page_saves_a_question_that_practice_then_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(root))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_HOST_KEY", "author-key")
    page = Path(__file__).resolve().parents[1] / "trainer" / "ui" / "pages" / "author.py"

    locked = AppTest.from_file(str(page), default_timeout=120)
    locked.run()
    assert not locked.exception and not locked.tabs  # the host key comes first

    at = AppTest.from_file(str(page), default_timeout=120)
    at.run()
    at.text_input(key="author_key_input").set_value("author-key")  # the instructor types the key
    at.button(key="author_login_go").click().run()
    assert not at.exception, at.exception
    assert at.tabs
    at.text_area(key="au_prompt").set_value("Tap the fascial piercing point of nerve A <b>x</b>.")
    at.text_area(key="au_explanation").set_value("It pierces 2 cm below landmark A.")
    at.multiselect(key="au_refs").set_value(["ref_a"])
    at.multiselect(key="au_targets").set_value(["site_a"]).run()
    assert not at.exception, at.exception
    at.button(key="au_save").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Saved" in s.value for s in at.success), [e.value for e in at.error]
    # The form starts afresh: the saved question's target is not carried into the next one.
    assert at.multiselect(key="au_targets").value == []
    assert at.text_area(key="au_prompt").value == "" and at.multiselect(key="au_refs").value == []
    assert any(i.value == "No targets yet\\." for i in at.info), [i.value for i in at.info]
    assert at.button(key="au_save").disabled  # nothing to save until a new question is written

    # Exports offer a live class's answers only: practice attempts belong to each learner.
    labels = [el.proto.label for el in at.get("download_button")]
    assert not any("practice attempt" in label.lower() for label in labels), labels
    assert any("No live class has been run" in i.value for i in at.info)

    # The saved question exports from the page.
    at.multiselect(key="au_ex_banks").set_value(["author:my_questions"])
    at.run()
    at.button(key="au_ex_anki").click()
    at.run()
    at.button(key="au_ex_moodle").click()
    at.run()
    assert not at.exception, at.exception
    labels = [el.proto.label for el in at.get("download_button")]
    assert "Download Anki deck (1 cards)" in labels and "Download Moodle XML (1 questions)" in labels, labels

    atlas = load_atlas(root)
    [q] = load_questions(atlas, [tmp_path / "data" / "banks"])
    assert q.type == "locate" and q.targets == ["site_a"] and q.view == "view_a"
    problems, _ = check_banks(atlas, [tmp_path / "data" / "banks"])
    assert problems == []
