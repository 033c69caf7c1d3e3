"""Bank validation: the good bank passes; each mistake gets its own located message."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import load_atlas
from trainer.quiz.bank import check_banks


def bank_problems(tmp_path: Path, bank: dict[str, Any] | str) -> list[str]:
    atlas = load_atlas(write_atlas(tmp_path / "atlas", good_atlas_data()))
    path = write_bank(tmp_path / "quizzes", bank)
    problems, _ = check_banks(atlas, [path])
    return [str(p) for p in problems]


def mutate(fn: Any) -> dict[str, Any]:
    bank = copy.deepcopy(good_bank())
    fn(bank["questions"])
    return bank


def test_good_bank_has_no_problems(tmp_path: Path) -> None:
    assert bank_problems(tmp_path, good_bank()) == []


def test_unknown_target_id(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[0].update(targets=["site_zz"])))
    assert any(p.endswith("q_locate: targets: unknown atlas id 'site_zz'") for p in probs), probs


def test_missing_explanation(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[0].update(explanation="")))
    assert any(p.endswith("q_locate: explanation: every question needs an explanation") for p in probs), probs


def test_unknown_view(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[0].update(view="view_nowhere")))
    assert any(p.endswith("q_locate: view: unknown view 'view_nowhere'") for p in probs), probs


def test_unknown_field_in_a_question(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[0].update(answer_hint="x")))
    assert any(p.endswith("q_locate: answer_hint: unknown field (not in the schema)") for p in probs), probs


def test_choice_question_without_a_correct_choice(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[6].update(choices=[{"text": "a"}, {"text": "b"}])))
    assert any(p.endswith("q_clinical: choices: no choice is marked correct") for p in probs), probs


def test_duplicate_question_ids(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[1].update(id="q_locate")))
    assert any("q_locate: id: duplicate question id" in p for p in probs), probs


def test_zero_must_exceed_tolerance(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, mutate(lambda qs: qs[0].update(tolerance_cm=2.0, zero_cm=1.5)))
    assert any("q_locate: -: " in p and "zero_cm must be larger" in p for p in probs), probs


def test_target_not_visible_in_the_view(tmp_path: Path) -> None:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    import json

    for side in ("right", "left"):
        meta = atlas_root / "sidecars" / f"view_a_{side}__female.json"
        data = json.loads(meta.read_text())
        data["items"]["site_a"]["visible"] = [False]
        meta.write_text(json.dumps(data))
    atlas = load_atlas(atlas_root)
    problems, _ = check_banks(atlas, [write_bank(tmp_path / "quizzes", good_bank())])
    assert any(
        str(p).endswith("q_locate: targets: 'site_a' is not visible in view view_a_right (female)")
        for p in problems
    ), problems


def _outline_at(atlas_root: Path, view_key: str, gap_px: int, item: str = "site_a") -> None:
    """Make the fake render's body end ``gap_px`` to the right of ``item``'s first point."""
    import json

    import numpy as np
    from PIL import Image

    meta = json.loads((atlas_root / "sidecars" / f"{view_key}.json").read_text())
    x_px = round(meta["items"][item]["points_px"][0][0])
    path = atlas_root / "sidecars" / f"{view_key}.depth.png"
    depth = np.asarray(Image.open(path)).copy()
    depth[:, x_px + gap_px :] = 0  # no skin
    Image.fromarray(depth).save(path)


def test_target_on_the_edge_of_the_outline_is_refused(tmp_path: Path) -> None:
    """A site 2 px (0.2 cm at 10 px/cm) from the outline is seen edge-on: every question that
    places it (a trace: its nerve, which runs along the same edge) is refused for that view; the
    choice questions that only name it are not."""
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    _outline_at(atlas_root, "view_a_right__female", 2)
    atlas = load_atlas(atlas_root)
    problems = [str(p) for p in check_banks(atlas, [write_bank(tmp_path / "quizzes", good_bank())])[0]]
    edge = [p for p in problems if "inside the body's outline" in p]
    assert any(
        p.endswith(
            "q_locate: targets: 'site_a' lies 0.20 cm inside the body's outline or the image's edge in "
            "view view_a_right (female); a target placed by tapping must lie at least 0.5 cm inside "
            "both, where the skin faces the camera and is not cut off: use a view that faces it"
        )
        for p in edge
    ), problems
    assert {p.split(": ")[1] for p in edge} == {"q_locate", "q_multi", "q_trace", "q_case"}, edge
    assert not [p for p in edge if "view_a_left" in p], edge


def test_target_at_the_image_edge_is_refused(tmp_path: Path) -> None:
    """Skin all the way to the frame, but the site 3 px (0.3 cm) from the image's left edge: half
    of its full-credit disc is off the picture."""
    import json

    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    meta_path = atlas_root / "sidecars" / "view_a_right__female.json"
    meta = json.loads(meta_path.read_text())
    meta["items"]["site_a"]["points_px"] = [[3.0, 100.0]]
    meta_path.write_text(json.dumps(meta))
    atlas = load_atlas(atlas_root)
    problems = [str(p) for p in check_banks(atlas, [write_bank(tmp_path / "quizzes", good_bank())])[0]]
    assert any(
        "q_locate: targets: 'site_a' lies 0.30 cm inside" in p and "view_a_right" in p for p in problems
    ), problems


def test_a_course_to_trace_must_mostly_face_the_camera(tmp_path: Path) -> None:
    """Nerve A runs 6 cm down the fake body; the body ends 2 cm down it, so under a third of the
    course lies 0.5 cm inside. A trace is scored on the whole course and is refused; a multi-site
    question that may tap anywhere on the nerve needs only one point that far in, and is refused
    for its site (now off the body) but not for the nerve."""
    import json

    import numpy as np
    from PIL import Image

    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    key = "view_a_right__female"
    course_px = json.loads((atlas_root / "sidecars" / f"{key}.json").read_text())["items"]["nerve_a"][
        "points_px"
    ]
    top_y = min(y for _, y in course_px)
    depth = np.asarray(Image.open(atlas_root / "sidecars" / f"{key}.depth.png")).copy()
    depth[round(top_y) + 21 :, :] = 0  # no skin below 2 cm down the course
    Image.fromarray(depth).save(atlas_root / "sidecars" / f"{key}.depth.png")
    atlas = load_atlas(atlas_root)
    problems = [str(p) for p in check_banks(atlas, [write_bank(tmp_path / "quizzes", good_bank())])[0]]
    [trace] = [p for p in problems if ": q_trace: " in p]
    assert "q_trace: targets: only 31% of 'nerve_a' lies 0.5 cm inside" in trace, trace
    assert "a course to trace needs at least 50% there" in trace, trace
    multi = [p for p in problems if ": q_multi: " in p]
    assert multi and all("'site_a'" in p for p in multi), multi


def test_target_well_inside_the_outline_passes(tmp_path: Path) -> None:
    """The same cut 6 px away (0.6 cm) leaves the site facing the camera."""
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    _outline_at(atlas_root, "view_a_right__female", 6)
    atlas = load_atlas(atlas_root)
    problems, _ = check_banks(atlas, [write_bank(tmp_path / "quizzes", good_bank())])
    assert not [p for p in problems if "outline" in str(p)], problems


def test_yaml_syntax_error_in_a_bank(tmp_path: Path) -> None:
    probs = bank_problems(tmp_path, "schema_version: 1\nquestions: [\n")
    assert any("YAML syntax error (line" in p for p in probs), probs


def test_validate_cli_exits_1_and_prints_file_id_field(tmp_path: Path) -> None:
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    bank = mutate(lambda qs: qs[0].update(targets=["site_zz"]))
    path = write_bank(tmp_path / "quizzes", bank)
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "validate", "--atlas", str(atlas_root), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert "q_locate: targets: unknown atlas id 'site_zz'" in out.stdout
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer",
            "validate",
            "--atlas",
            str(atlas_root),
            str(write_bank(tmp_path / "ok", good_bank())),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok: 1 regions, 2 views")


# ------------------------------------------------- every problem of a file at once (issue 11, item 10b)


def many_problems_bank() -> dict[str, Any]:
    """One bank, nine mistakes of different kinds in six questions."""

    def edit(qs: list[dict[str, Any]]) -> None:
        qs[0].update(colour="red", tolerance_cm=9)  # two shape problems in one question
        qs[1].update(references=["ref_zz"], explanation="")  # two rule problems (+ visibility, below)
        qs[2].update(targets=["nerve_zz"])  # unknown target: one rule problem, not also "not visible"
        qs[3]["choices"] = [{"text": "Nerve A"}, {"text": "Nerve B"}]  # no correct choice
        qs[4].update(id="Bad Id")  # shape problem, question left out
        qs[6].update(prompt="Is it safe?\x07", explanation="See ![map](http://example.com/map.png)")
        qs.append(copy.deepcopy(qs[6]) | {"prompt": "Is it safe here?"})  # duplicate id

    return mutate(edit)


def atlas_with_site_a_hidden(tmp_path: Path) -> Path:
    import json

    root = write_atlas(tmp_path / "atlas", good_atlas_data())
    for side in ("right", "left"):
        meta = root / "sidecars" / f"view_a_{side}__female.json"
        data = json.loads(meta.read_text())
        data["items"]["site_a"]["visible"] = [False]
        meta.write_text(json.dumps(data))
    return root


EXPECTED_MANY = [
    ("q_locate", "colour", "unknown field (not in the schema)"),
    ("q_locate", "tolerance_cm", "less than or equal to 5"),
    ("Bad Id", "id", "should match pattern"),
    ("q_multi", "explanation", "every question needs an explanation"),
    ("q_multi", "references", "unknown reference 'ref_zz'"),
    ("q_multi", "targets", "'site_a' is not visible in view view_a_right (female)"),
    ("q_multi", "targets", "'site_a' is not visible in view view_a_left (female)"),
    ("q_trace", "targets", "unknown atlas id 'nerve_zz'"),
    ("q_identify", "choices", "no choice is marked correct"),
    ("q_clinical", "prompt", "control character (U+0007)"),
    ("q_clinical", "explanation", "markdown image '![map]'"),
    ("q_clinical", "id", "duplicate question id"),
    # q_locate and q_case share site_a, hidden too
    ("q_case", "targets", "'site_a' is not visible in view view_a_right (female)"),
]


def _matches(lines: list[str], label: str) -> None:
    for item, field, fragment in EXPECTED_MANY:
        assert any(line.startswith(f"{label}: {item}: {field}: ") and fragment in line for line in lines), (
            item,
            field,
            fragment,
            lines,
        )


def test_every_problem_of_a_bank_is_reported_in_one_run(tmp_path: Path) -> None:
    atlas = load_atlas(atlas_with_site_a_hidden(tmp_path))
    path = write_bank(tmp_path / "quizzes", many_problems_bank())
    problems, count = check_banks(atlas, [path])
    lines = [str(p) for p in problems]
    _matches(lines, str(path))
    # The shape problems leave two questions out; the other seven are all checked.
    assert count == len(many_problems_bank()["questions"]) - 2
    # An unknown target is one problem, not also "not visible".
    assert not any("nerve_zz" in line and "not visible" in line for line in lines), lines


def test_the_cli_and_an_upload_report_the_same_full_list(tmp_path: Path) -> None:
    from trainer.authoring.questions import check_upload

    root = atlas_with_site_a_hidden(tmp_path)
    path = write_bank(tmp_path / "quizzes", many_problems_bank())
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "validate", "--atlas", str(root), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    cli_lines = [line for line in out.stdout.splitlines() if line.startswith(str(path))]
    _matches(cli_lines, str(path))

    bank, problems = check_upload(load_atlas(root), path.read_bytes(), "upload.yaml")
    assert bank is None
    upload_lines = [str(p) for p in problems]
    _matches(upload_lines, "upload.yaml")
    assert [line.replace("upload.yaml", "FILE") for line in upload_lines] == [
        line.replace(str(path), "FILE") for line in cli_lines
    ]


def test_a_question_without_an_id_is_named_by_its_position(tmp_path: Path) -> None:
    bank = mutate(lambda qs: qs.insert(1, {"type": "locate", "prompt": "Where is it?"}))
    probs = bank_problems(tmp_path, bank)
    assert any(p.endswith(": -: questions.1.id: required field is missing") for p in probs), probs


def test_validate_warns_of_a_right_option_that_gives_itself_away_by_length(tmp_path: Path) -> None:
    """Over 1.5× the longest wrong option and over 30 characters longer: a warning, exit 0.
    The right option written first in the file is no warning (options are shown shuffled)."""
    atlas_root = write_atlas(tmp_path / "atlas", good_atlas_data())
    long_yes = "Yes, and here is the whole careful justification of it"
    shortish = "No, not this time; see the notes below"
    assert len(long_yes) - 2 > 30 and len(shortish) * 1.5 > len(long_yes)  # so only the fair one passes

    def edit(qs: list[dict[str, Any]]) -> None:
        qs[6]["choices"] = [{"text": long_yes, "correct": True}, {"text": "No"}]
        qs[7]["steps"][0]["choices"] = [{"text": "Nerve B"}, {"text": long_yes, "correct": True}]
        qs.append(
            {
                **qs[6],
                "id": "q_clinical_fair",
                "choices": [{"text": long_yes, "correct": True}, {"text": shortish}],
            }
        )

    path = write_bank(tmp_path / "quizzes", mutate(edit))
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "validate", "--atlas", str(atlas_root), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    warnings = [line for line in out.stdout.splitlines() if line.startswith("warning: ")]
    assert [w.split(": ")[2:4] for w in warnings] == [
        ["q_clinical", "choices.0"],
        ["q_case", "steps.0.choices.1"],
    ]
    assert f"{len(long_yes)} characters long, the longest wrong one 2:" in warnings[0]
    assert (
        warnings[0].startswith("warning: ") and "quizzes/bank_a.yaml: q_clinical: choices.0: " in warnings[0]
    )
    assert out.stdout.splitlines()[-1].startswith("ok: ")


def test_shipped_right_options_do_not_give_themselves_away_by_length() -> None:
    """A ratchet on the shipped banks: the longest option is the right one in at most 26% of
    choice sets (it was 71% when options were first shuffled, 31% before issue 16's bank
    hygiene, 24% after it, 21.5% with the full worked cases), and no length warning except two
    items another change is rewriting for their content."""
    from trainer.quiz.bank import DEFAULT_QUIZ_DIR, bank_warnings, read_banks

    banks, _ = read_banks([DEFAULT_QUIZ_DIR])
    sets = [
        choices
        for b in banks.values()
        for q in b.questions
        for choices in (q.choices, *(s.choices for s in q.steps))
        if choices
    ]
    longest_right = sum(
        any(c.correct and len(c.text) == max(len(x.text) for x in ch) for c in ch) for ch in sets
    )
    assert len(sets) > 200 and longest_right / len(sets) <= 0.26, f"{longest_right} of {len(sets)}"
    warned = {w.item for w in bank_warnings([DEFAULT_QUIZ_DIR])}
    assert warned <= {"knee_lat_cli_cfn_safety", "knee_lat_case_scar"}, warned
