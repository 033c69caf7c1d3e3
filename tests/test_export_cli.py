"""`python -m trainer export moodle|anki|csv --out FILE [BANK...]`, driven as an instructor's script would."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, q, write_bank


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("content")
    write_atlas(root / "atlas", good_atlas_data())
    write_bank(root / "quizzes", good_bank())
    mine = {
        "schema_version": 1,
        "bank": {"id": "mine", "title": "Mine"},
        "questions": [
            q(
                "my_clinical",
                "clinical",
                prompt='=HYPERLINK("http://x") is it safe?',
                choices=[{"text": "Yes", "correct": True}, {"text": "No"}, {"text": "Maybe"}],
            )
        ],
    }
    write_bank(root / "authored", mine, name="mine.yaml")
    return root


def export(content: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "trainer",
        "export",
        *args,
        "--atlas",
        str(content / "atlas"),
        "--quizzes",
        str(content / "quizzes"),
        "--authored",
        str(content / "authored"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_an_unknown_bank_exits_non_zero_names_it_and_writes_nothing(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.xml"
    run = export(content, "moodle", "--out", str(out), "bank_a", "no_such_bank")
    assert run.returncode == 1
    assert "no_such_bank: -: -: unknown bank" in run.stderr and "known banks: bank_a, mine" in run.stderr
    assert not out.exists()


def test_an_invalid_bank_file_is_refused_with_its_problems(content: Path, tmp_path: Path) -> None:
    bad = write_bank(
        tmp_path / "bad",
        {
            "schema_version": 1,
            "bank": {"id": "bad", "title": "Bad"},
            "questions": [q("q_bad", "locate", colour="red")],
        },
    )
    run = export(content, "csv", "--out", str(tmp_path / "x.csv"), str(bad))
    assert run.returncode == 1 and "q_bad: colour: unknown field" in run.stderr


def test_moodle_export_of_one_bank_by_id(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "moodle.xml"
    run = export(content, "moodle", "--out", str(out), "bank_a")
    assert run.returncode == 0, run.stderr
    root = ET.parse(out).getroot()
    names = [el.findtext("name/text") for el in root.findall("question") if el.get("type") != "category"]
    assert "my_clinical" not in names and "q_locate" in names
    # Trace and case questions have no Moodle type: reported, and the count says so.
    assert "not exported: q_trace:" in run.stderr and "not exported: q_case:" in run.stderr
    assert run.stdout.strip() == f"wrote {out}: {len(names)} question(s) from 1 bank(s), 2 not exported"


def test_anki_export_of_every_bank_imports_into_anki(content: Path, tmp_path: Path) -> None:
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    out = tmp_path / "deck.apkg"
    run = export(content, "anki", "--out", str(out))
    assert run.returncode == 0, run.stderr
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(out), options=ImportAnkiPackageOptions(with_scheduling=False)
            )
        )
        # Every question of both banks (shipped folder and authored folder) is a note.
        assert col.note_count() == len(good_bank()["questions"]) + 1
    finally:
        col.close()


def test_csv_export_by_path_is_spreadsheet_safe(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "questions.csv"
    run = export(content, "csv", "--out", str(out), str(content / "authored" / "mine.yaml"), "bank_a")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == len(good_bank()["questions"]) + 1
    mine = next(r for r in rows if r["id"] == "my_clinical")
    assert mine["bank"] == "mine" and mine["prompt"].startswith("'=HYPERLINK")  # never run as a formula
    assert sorted(mine["choices"].split(" | ")) == ["Maybe", "No", "Yes"] and mine["correct"] == "Yes"
