"""Exports: Moodle XML with the structure Moodle imports, an Anki package, CSV and the region sheet."""

from __future__ import annotations

import base64
import io
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, q
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.exports import anki_package, moodle_xml, region_sheet_png, rows_csv
from trainer.quiz.models import BankFile, QuestionModel


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, Path]:
    root = tmp_path_factory.mktemp("flat") / "atlas"
    write_atlas(root, good_atlas_data())
    return load_atlas(root), root


def questions() -> list[QuestionModel]:
    data = good_bank()
    data["questions"].append(q("q_clinical_multi", "clinical", multi_answer=True, prompt="Which apply? <b>bold</b> & more",
                               choices=[{"text": "A", "correct": True}, {"text": "B", "correct": True},
                                        {"text": "C", "correct": True}, {"text": "D"}]))
    return list(BankFile.model_validate(data).questions)


def view_for(flat: tuple[Atlas, Path]):  # type: ignore[no-untyped-def]
    def get(question: QuestionModel) -> RenderedView | None:
        return load_rendered_view(f"{question.view}_right", "female", flat[1]) if question.view else None

    return get


def by_name(root: ET.Element) -> dict[str, ET.Element]:
    return {el.findtext("name/text"): el for el in root.findall("question") if el.get("type") != "category"}


def test_moodle_xml_has_the_ddmarker_and_multichoice_structure_moodle_expects(flat: tuple[Atlas, Path]) -> None:
    atlas, _ = flat
    result = moodle_xml(questions(), atlas, view_for(flat))
    root = ET.fromstring(result.data)
    assert root.tag == "quiz"
    assert root.find("question[@type='category']/category/text").text.startswith("$course$/")  # type: ignore[union-attr]
    qs = by_name(root)

    loc = qs["q_locate"]
    assert loc.get("type") == "ddmarker"
    assert loc.find("questiontext").get("format") == "html"  # type: ignore[union-attr]
    assert "Question q_locate" in loc.findtext("questiontext/text")  # type: ignore[operator]
    bg = loc.find("file")
    assert bg is not None and bg.get("encoding") == "base64" and bg.get("name", "").endswith(".png")
    image = Image.open(io.BytesIO(base64.b64decode(bg.text or "")))
    assert image.size == (200, 200)  # fits 600 × 400 already, so not scaled
    [drag] = loc.findall("drag")
    assert drag.findtext("no") == "1" and drag.findtext("noofdrags") == "1" and drag.findtext("text")
    [drop] = loc.findall("drop")
    assert drop.findtext("shape") == "circle" and drop.findtext("choice") == "1"
    # site_a is at (100, 120) px; 1.0 cm tolerance at 10 px/cm is a 10 px radius.
    assert drop.findtext("coords") == "100,120;10"

    multi = qs["q_multi"]
    drops = multi.findall("drop")
    assert [d.findtext("shape") for d in drops] == ["circle", "polygon"]  # a site and a nerve course
    assert multi.find("drag/noofdrags").text == "2"  # type: ignore[union-attr]
    poly = [tuple(map(int, p.split(","))) for p in drops[1].findtext("coords").split(";")]  # type: ignore[union-attr]
    xs = [p[0] for p in poly]
    assert min(xs) == 90 and max(xs) == 110  # the course at x = 100 px, ±1 cm

    assert qs["q_terr_tap"].get("type") == "ddmarker" and qs["q_terr_tap"].find("drop/shape").text == "polygon"  # type: ignore[union-attr]

    clinical = qs["q_clinical"]
    assert clinical.get("type") == "multichoice" and clinical.findtext("single") == "true"
    assert sorted(a.get("fraction") for a in clinical.findall("answer")) == ["0", "100"]
    assert all(a.find("text") is not None for a in clinical.findall("answer"))

    multi_answer = qs["q_clinical_multi"]
    assert multi_answer.findtext("single") == "false"
    assert [a.get("fraction") for a in multi_answer.findall("answer")] == ["33.33333", "33.33333", "33.33333", "-33.33333"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in multi_answer.findtext("questiontext/text")  # type: ignore[operator]

    ident = qs["q_identify"]
    assert ident.get("type") == "multichoice"
    assert "@@PLUGINFILE@@/" in ident.findtext("questiontext/text")  # type: ignore[operator]
    assert ident.find("questiontext/file").get("encoding") == "base64"  # type: ignore[union-attr]

    assert result.count == 7
    assert sorted(s.split(":")[0] for s in result.skipped) == ["q_case", "q_trace"]


def test_a_large_background_is_scaled_with_its_drop_zones(flat: tuple[Atlas, Path], tmp_path: Path) -> None:
    atlas, _ = flat
    view = view_for(flat)(questions()[0])
    assert view is not None
    big = Image.open(view.image_path).resize((1000, 1000))
    big_path = tmp_path / "big.png"
    big.save(big_path)
    from dataclasses import replace

    from trainer.camera import Camera

    cam = view.camera
    scaled_items = {k: replace(v, points_px=v.points_px * 5) for k, v in view.items.items()}
    big_view = replace(view, image_path=big_path, items=scaled_items,
                       camera=Camera(cam.center_cm, cam.direction, cam.up, 1000, 1000, cam.px_per_cm * 5))
    root = ET.fromstring(moodle_xml(questions()[:1], atlas, lambda _q: big_view).data)
    loc = root.find("question[@type='ddmarker']")
    assert loc is not None
    assert Image.open(io.BytesIO(base64.b64decode(loc.findtext("file") or ""))).size == (400, 400)
    assert loc.findtext("drop/coords") == "200,240;20"  # 0.4 × (500, 600; 50)


def test_the_apkg_is_a_zip_with_a_sqlite_collection_and_the_expected_notes(flat: tuple[Atlas, Path], tmp_path: Path) -> None:
    atlas, _ = flat
    result = anki_package(questions(), atlas, view_for(flat), deck_name="Test deck")
    # identify + two territory questions are picture cards, two clinical questions are text cards.
    assert result.count == 5
    path = tmp_path / "deck.apkg"
    path.write_bytes(result.data)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "collection.anki2" in names and "media" in names
        (tmp_path / "collection.anki2").write_bytes(zf.read("collection.anki2"))
        media = zf.read("media").decode()
    assert ".png" in media
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        notes = db.execute("select flds from notes").fetchall()
        decks = db.execute("select decks from col").fetchone()[0]
    assert len(notes) == 5
    assert "Test deck" in decks
    fields = [n[0].split("\x1f") for n in notes]
    assert any(f[2] == "Nerve A" and "<img" in f[1] for f in fields)
    assert any("&lt;b&gt;bold" in f[0] for f in fields)  # user text is escaped in the card HTML


def test_region_sheet_is_a_png_taller_than_the_view(flat: tuple[Atlas, Path]) -> None:
    atlas, root = flat
    view = load_rendered_view("view_a_right", "female", root)
    image = Image.open(io.BytesIO(region_sheet_png(view, atlas)))
    assert image.format == "PNG" and image.size[0] == view.width_px and image.size[1] > view.height_px


def test_rows_csv_writes_a_header_and_rows() -> None:
    text = rows_csv([{"nickname": "'=cmd", "credit": 0.5}, {"nickname": "Ann", "credit": 1.0}])
    assert text.splitlines() == ["nickname,credit", "'=cmd,0.5", "Ann,1.0"]
    assert rows_csv([]) == ""
