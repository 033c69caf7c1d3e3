"""The author page model (trainer/authoring/page.py): the synthetic atlas, real bank folders, no Streamlit.

The flat test body: 10 px per cm, landmark A at (100, 100) px; site_a 2 cm distal at
(100, 120); nerve_a runs from (100, 80) to (100, 140).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.authoring import page
from trainer.authoring.questions import AUTHOR_TYPES, bank_to_yaml, new_bank, read_bank_folder
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.store.records import LiveSession


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, RenderedView]:
    root = write_atlas(tmp_path_factory.mktemp("author") / "atlas", good_atlas_data())
    return load_atlas(root), load_rendered_view("view_a_right", "female", root)


def draft(**kw: object) -> page.Draft:
    base = page.Draft(
        qid="my_locate",
        qtype="locate",
        view_id="view_a_right",
        side_only=False,
        targets=("site_a",),
        prompt="Tap the fascial piercing point of nerve A.",
        explanation="It pierces 2 cm below A.",
        tolerance_cm=1.0,
        zero_cm=3.0,
        difficulty=2,
        technique="classic_pit",
        references=("ref_a",),
        choices=(),
        multi_answer=False,
        mode=None,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def question(atlas: Atlas, **kw: object) -> QuestionModel:
    made, problems = page.draft_question(atlas, draft(**kw))
    assert made is not None, problems
    return made


# -- the form --------------------------------------------------------------------------------------


def test_every_type_the_author_can_write_has_a_form() -> None:
    assert tuple(page.FORMS) == AUTHOR_TYPES


@pytest.mark.parametrize(
    ("qtype", "chosen", "mode", "choices"),
    [
        ("locate", None, None, False),
        ("multi_site", "name", None, False),
        ("identify", None, None, True),
        ("clinical", None, None, True),
        ("territory", None, "name", True),
        ("territory", "tap", "tap", False),
    ],
)
def test_choices_are_asked_for_where_the_learner_picks_an_answer(
    qtype: str, chosen: str | None, mode: str | None, choices: bool
) -> None:
    assert page.mode_of(qtype, chosen) == mode
    assert page.needs_choices(qtype, mode) is choices


def test_only_a_clinical_question_may_have_several_right_choices() -> None:
    assert page.choices_heading("clinical").endswith("correct ones)")
    assert page.choices_heading("identify").endswith("correct one)")
    assert [t for t, f in page.FORMS.items() if not f.measured] == ["identify", "clinical"]


def test_a_click_sets_adds_or_removes_a_target_and_says_so(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, view = flat
    one = page.click(view, atlas, "locate", [], 101.0, 121.0)
    assert one.targets == ("site_a",) and one.message.startswith("Target set to Site A")
    again = page.click(view, atlas, "locate", ["nerve_a"], 101.0, 121.0)
    assert again.targets == ("site_a",) and "replacing Nerve A" in again.message
    added = page.click(view, atlas, "multi_site", ["site_a"], 100.0, 85.0)
    assert added.targets == ("site_a", "nerve_a")
    removed = page.click(view, atlas, "multi_site", ["site_a", "nerve_a"], 100.0, 85.0)
    assert removed.targets == ("site_a",) and removed.message.startswith("Removed Nerve A")
    assert page.click(view, atlas, "trace", [], 101.0, 121.0).targets == (
        "nerve_a",
    )  # a trace snaps to courses
    assert page.list_edit_message(["site_a"], atlas) == "Changed in the list. Targets (1): Site A."


def test_switching_type_keeps_only_targets_the_new_type_can_use(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, view = flat
    assert page.targets_kept(view, atlas, "trace", ["site_a", "nerve_a"]) == ["nerve_a"]
    assert page.targets_kept(None, atlas, "clinical", ["site_a"]) == []


def test_targets_are_drawn_by_kind(flat: tuple[Atlas, RenderedView]) -> None:
    _, view = flat
    shapes = page.target_shapes(view, ["site_a", "nerve_a", "terr_a", "not_on_this_view"])
    assert [s["type"] for s in shapes] == ["circle", "polyline", "polygon"]
    assert (shapes[0]["x"], shapes[0]["y"]) == pytest.approx((100.0, 120.0))


def test_choices_start_from_the_targets_nerve_and_come_back_trimmed(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    seeded = page.seed_choices(atlas, "identify", ["nerve_a"])
    assert {"text": "Nerve A", "correct": True, "why": ""} in seeded
    assert page.seed_choices(atlas, "clinical", []) == [
        {"text": "", "correct": True, "why": ""},
        {"text": "", "correct": False, "why": ""},
    ]
    rows = [
        {"text": "  Yes ", "correct": True, "why": " because "},
        {"text": "", "correct": True},
        {"text": "No", "correct": None, "why": None},
    ]
    assert page.choices_from_rows(rows) == [
        {"text": "Yes", "correct": True, "why": "because"},
        {"text": "No", "correct": False},
    ]


def test_the_suggested_id_is_unused(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    assert page.default_id(atlas, "view_a_right", "locate", ["site_a"], "", {}) == "view_a_locate_site_a"
    taken = {"view_a_locate_site_a": "quizzes/a.yaml"}
    assert page.default_id(atlas, "view_a_right", "locate", ["site_a"], "", taken) == "view_a_locate_site_a_2"
    assert (
        page.default_id(atlas, "view_a_right", "clinical", [], "Which nerve? A long prompt", {})
        == "clinical_which_nerve_a_long_prompt"
    )


def test_both_sides_are_practised_unless_the_author_ticks_one(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    assert question(atlas).view == "view_a"
    assert question(atlas, side_only=True).view == "view_a_right"
    none, problems = page.draft_question(atlas, draft(prompt="", qid="Bad Id"))
    assert none is None and {p.field for p in problems} >= {"prompt", "id"}


# -- the preview's try -----------------------------------------------------------------------------


def test_the_try_moves_one_pin_or_adds_pins_up_to_the_limit(flat: tuple[Atlas, RenderedView]) -> None:
    atlas, view = flat
    one = question(atlas)
    assert page.takes_pins(atlas, one)
    assert page.try_pins(atlas, one, [(1.0, 1.0)], 100.0, 120.0) == [(100.0, 120.0)]
    assert page.try_result(atlas, one, [(100.0, 120.0)], view).startswith("Your try scores 100%")
    multi = question(atlas, qid="my_multi", qtype="multi_site", targets=("site_a", "nerve_a"))
    pins: list[tuple[float, float]] = []
    for i in range(8):
        pins = page.try_pins(atlas, multi, pins, float(i), 0.0)
    assert pins == [(float(i), 0.0) for i in range(3, 8)]  # two targets: at most five pins
    named = question(
        atlas,
        qid="my_identify",
        qtype="identify",
        targets=("nerve_a",),
        choices=({"text": "Nerve A", "correct": True}, {"text": "Nerve B", "correct": False}),
    )
    assert not page.takes_pins(atlas, named)


# -- saving and merging ----------------------------------------------------------------------------


def folders(tmp_path: Path) -> tuple[Path, Path]:
    shipped = tmp_path / "quizzes"
    write_bank(shipped, good_bank())
    return tmp_path / "banks", shipped


def test_a_question_is_saved_to_a_new_bank_then_its_id_is_taken(
    tmp_path: Path, flat: tuple[Atlas, RenderedView]
) -> None:
    atlas, _ = flat
    folder, shipped = folders(tmp_path)
    saved = page.save(folder, shipped, {}, page.NEW_BANK, " my_questions ", "", question(atlas))
    assert saved.path == folder / "my_questions.yaml" and saved.message.startswith("Saved 'my_locate' to ")
    banks = read_bank_folder(folder)
    assert banks["my_questions"].bank.title == "my_questions"
    same = page.save(folder, shipped, banks, "my_questions", "", "", question(atlas))
    assert same.path == saved.path  # the identical question again: nothing changes
    again = page.save(
        folder, shipped, banks, "my_questions", "", "", question(atlas, prompt="Another prompt.")
    )
    assert (
        again.path is None
        and again.message == "Not saved: question id 'my_locate' is already used in bank 'my_questions'"
    )
    clash = page.save(
        folder, shipped, banks, page.NEW_BANK, "my_questions", "Mine", question(atlas, qid="other")
    )
    assert clash.path is None and "already exists" in clash.message
    bad = page.save(folder, shipped, banks, page.NEW_BANK, "My Bank!", "Mine", question(atlas, qid="other"))
    assert bad.path is None and bad.message == (
        "Not saved: invalid bank id 'My Bank!': use lower-case letters, digits and _ (e.g. my_questions)"
    )
    shipped_id = page.save(folder, shipped, banks, "my_questions", "", "", question(atlas, qid="q_locate"))
    assert shipped_id.path is None and "already used in" in shipped_id.message
    assert [x.id for x in load_questions(atlas, [folder])] == ["my_locate"]


def test_an_author_bank_named_like_a_shipped_bank_still_respects_its_ids(
    tmp_path: Path, flat: tuple[Atlas, RenderedView]
) -> None:
    """Ids are unique across every bank, whatever the files are called (bank_a.yaml in both folders)."""
    atlas, _ = flat
    folder, shipped = folders(tmp_path)
    mine = new_bank("bank_a", "Mine")
    folder.mkdir()
    (folder / "bank_a.yaml").write_text(bank_to_yaml(mine), encoding="utf-8")
    saved = page.save(
        folder, shipped, read_bank_folder(folder), "bank_a", "", "", question(atlas, qid="q_locate")
    )
    assert saved.path is None and "already used in" in saved.message


def test_a_merge_reports_taken_ids_and_renames_them_only_when_asked(
    tmp_path: Path, flat: tuple[Atlas, RenderedView]
) -> None:
    atlas, _ = flat
    folder, shipped = folders(tmp_path)
    upload = new_bank("extra", "Extra").model_copy(
        update={"questions": [question(atlas, qid="q_locate"), question(atlas, qid="brand_new")]}
    )
    assert page.merge_into_options(upload, {}) == ["extra"]
    assert page.merge_into_label("extra", {}) == "extra (new bank)"
    plan = page.merge_plan(folder, shipped, {}, upload, "extra")
    assert page.conflict_warning(plan) == "1 id(s) are already used and will not overwrite anything: q_locate"
    assert not folder.exists()  # a plan writes nothing
    assert page.merge(folder, shipped, {}, upload, "extra", None) == [
        "Added 1 question(s): brand_new.",
        "Not added, id already used: q_locate.",
    ]
    banks = read_bank_folder(folder)
    assert page.merge(folder, shipped, banks, upload, "extra", "imported") == [
        "'q_locate' was taken and was added as 'q_locate_imported'.",
        "Already present and identical: brand_new.",
    ]
    assert [x.id for x in read_bank_folder(folder)["extra"].questions] == ["brand_new", "q_locate_imported"]
    assert page.merge(
        folder, shipped, read_bank_folder(folder), new_bank("extra", "Extra"), "extra", None
    ) == ["Nothing to merge."]


# -- exports ---------------------------------------------------------------------------------------


def test_exports_offer_yours_and_shipped_banks(tmp_path: Path, flat: tuple[Atlas, RenderedView]) -> None:
    atlas, _ = flat
    folder, shipped = folders(tmp_path)
    page.save(folder, shipped, {}, page.NEW_BANK, "mine", "Mine", question(atlas))
    banks = page.export_banks(read_bank_folder(shipped), read_bank_folder(folder))
    assert list(banks) == ["quiz:bank_a", "author:mine"]
    assert [k for k in banks if page.is_authored(k)] == ["author:mine"]
    assert page.export_label("author:mine", banks) == "Mine (yours)"
    assert page.export_label("quiz:bank_a", banks) == "Bank A (shipped)"
    loaded = {"my_locate": question(atlas, prompt="As loaded.")}
    chosen = page.exported_questions(["author:mine"], banks, loaded)
    assert [x.prompt for x in chosen] == ["As loaded."]
    assert len(page.exported_questions(["quiz:bank_a"], banks, {})) == len(good_bank()["questions"])


def test_notes_and_file_names_of_exports() -> None:
    assert page.skipped_note([]) is None
    assert page.skipped_note(["a: no view"]) == "Not exported: a: no view"
    assert page.skipped_note([f"q{i}" for i in range(25)]).endswith("; q19 …")  # type: ignore[union-attr]
    assert page.sheet_name("knee_anteromedial_right", "female") == "knee_anteromedial_right__female-sheet.png"
    when = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    session = LiveSession(id="s1", join_code="ABCD", host_key_hash="", title="Knee", created_at=when)
    assert page.session_labels([session]) == {"s1": "ABCD · Knee · 04 Mar 09:30"}
