"""Exports: Moodle XML with the structure Moodle imports, an Anki package, CSV and the region sheet."""

from __future__ import annotations

import base64
import html
import io
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.atlas_factory import good_atlas_data, write_atlas
from tests.quiz_factory import good_bank, q
from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.authoring.exports import anki_package, moodle_xml, region_sheet_png, rows_csv
from trainer.quiz.models import BankFile, QuestionModel


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Atlas, Path]:
    root = tmp_path_factory.mktemp("flat") / "atlas"
    write_atlas(root, good_atlas_data())
    return load_atlas(root), root


def questions() -> list[QuestionModel]:
    data = good_bank()
    data["questions"].append(
        q(
            "q_clinical_multi",
            "clinical",
            multi_answer=True,
            prompt="Which apply? <b>bold</b> & more",
            choices=[
                {"text": "A", "correct": True},
                {"text": "B", "correct": True},
                {"text": "C", "correct": True},
                {"text": "D"},
            ],
        )
    )
    return list(BankFile.model_validate(data).questions)


def view_for(flat: tuple[Atlas, Path]):  # type: ignore[no-untyped-def]
    def get(question: QuestionModel) -> RenderedView | None:
        return load_rendered_view(f"{question.view}_right", "female", flat[1]) if question.view else None

    return get


def by_name(root: ET.Element) -> dict[str, ET.Element]:
    return {el.findtext("name/text"): el for el in root.findall("question") if el.get("type") != "category"}


def test_moodle_xml_has_the_ddmarker_and_multichoice_structure_moodle_expects(
    flat: tuple[Atlas, Path],
) -> None:
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

    assert (
        qs["q_terr_tap"].get("type") == "ddmarker" and qs["q_terr_tap"].find("drop/shape").text == "polygon"
    )  # type: ignore[union-attr]

    clinical = qs["q_clinical"]
    assert clinical.get("type") == "multichoice" and clinical.findtext("single") == "true"
    assert sorted(a.get("fraction") for a in clinical.findall("answer")) == ["0", "100"]
    assert all(a.find("text") is not None for a in clinical.findall("answer"))

    multi_answer = qs["q_clinical_multi"]
    assert multi_answer.findtext("single") == "false"
    assert [a.get("fraction") for a in multi_answer.findall("answer")] == [
        "33.33333",
        "33.33333",
        "33.33333",
        "-33.33333",
    ]
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

    from trainer.atlas.camera import Camera

    cam = view.camera
    scaled_items = {k: replace(v, points_px=v.points_px * 5) for k, v in view.items.items()}
    big_view = replace(
        view,
        image_path=big_path,
        items=scaled_items,
        camera=Camera(cam.center_cm, cam.direction, cam.up, 1000, 1000, cam.px_per_cm * 5),
    )
    root = ET.fromstring(moodle_xml(questions()[:1], atlas, lambda _q: big_view).data)
    loc = root.find("question[@type='ddmarker']")
    assert loc is not None
    assert Image.open(io.BytesIO(base64.b64decode(loc.findtext("file") or ""))).size == (400, 400)
    assert loc.findtext("drop/coords") == "200,240;20"  # 0.4 × (500, 600; 50)


def test_the_apkg_is_a_zip_with_a_sqlite_collection_and_the_expected_notes(
    flat: tuple[Atlas, Path], tmp_path: Path
) -> None:
    atlas, _ = flat
    result = anki_package(questions(), atlas, view_for(flat), deck_name="Test deck")
    # Every question type has a card: 2 pictures, 2 clinical, locate + multi-site + trace + case on the body.
    assert result.skipped == [] and result.count == 9
    path = tmp_path / "deck.apkg"
    path.write_bytes(result.data)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "collection.anki2" in names and "media" in names
        (tmp_path / "collection.anki2").write_bytes(zf.read("collection.anki2"))
        media = zf.read("media").decode()
    assert ".png" in media and "__answer.jpg" in media
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        notes = db.execute("select flds from notes").fetchall()
        decks = db.execute("select decks from col").fetchone()[0]
    assert len(notes) == 9
    assert "Test deck" in decks
    fields = [n[0].split("\x1f") for n in notes]
    assert any(f[2] == "Nerve A" and "<img" in f[1] for f in fields)
    assert any("&lt;b&gt;bold" in f[0] for f in fields)  # user text is escaped in the card HTML
    # The locate card: the plain view in front, the target drawn on the back, the site in words.
    [loc] = [f for f in fields if f[0].startswith("Question q_locate")]
    assert (
        'src="trainer_view_a_right__female.png"' in loc[1] and 'src="trainer_q_locate__answer.jpg"' in loc[2]
    )
    assert "Site A: 2.0 cm distal to the landmark A" in loc[3] and "Full credit within 1 cm" in loc[3]


def import_into_anki(data: bytes, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh Anki collection with the package imported by Anki's own importer."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    apkg = tmp_path / "deck.apkg"
    apkg.write_bytes(data)
    col = Collection(str(tmp_path / "collection.anki2"))
    col.import_anki_package(
        ImportAnkiPackageRequest(
            package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=False)
        )
    )
    return col


def note_images(fields: list[str]) -> list[str]:
    return [name for f in fields for name in re.findall(r'<img src="([^"]+)"', f)]


@pytest.mark.slow
def test_the_shipped_deck_imports_into_anki_with_a_card_for_every_question(tmp_path: Path) -> None:
    from trainer.quiz.bank import load_questions, resolve_view_id

    atlas = load_atlas()
    shipped = load_questions(atlas)

    def shipped_view(question: QuestionModel) -> RenderedView | None:
        vid = resolve_view_id(atlas, question.view, "right")
        return load_rendered_view(vid, atlas.default_body_type, atlas.root) if vid else None

    result = anki_package(shipped, atlas, shipped_view)
    assert result.skipped == [] and result.count == len(shipped)
    col = import_into_anki(result.data, tmp_path)
    try:
        assert col.note_count() == len(shipped)
        assert col.card_count() == len(shipped)
        media_dir = Path(col.media.dir())
        on_disk = {p.name for p in media_dir.iterdir()}
        referenced: set[str] = set()
        pins = {x.id for x in shipped if x.type in ("locate", "multi_site", "trace")}
        answer_images = 0
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            assert len(note.fields) == len(note.note_type()["flds"])  # no field split or lost
            names = note_images(note.fields)
            referenced.update(names)
            if "AnswerImage" in note.keys() and note["AnswerImage"]:
                answer_images += 1
                [front] = note_images([note["Image"]])
                [back] = note_images([note["AnswerImage"]])
                plain = Image.open(media_dir / front).convert("RGB")
                drawn = Image.open(media_dir / back).convert("RGB")
                assert plain.size == drawn.size
                # The target is drawn: many pixels differ well beyond JPEG noise.
                diff = np.abs(np.asarray(plain, dtype=int) - np.asarray(drawn, dtype=int)).max(axis=2)
                assert int((diff > 60).sum()) > 50, note["Prompt"]
        assert referenced == on_disk  # every picture a card shows is in the collection, and no other
        with_view_cases = sum(
            1
            for x in shipped
            if x.type == "case" and any(s.type in ("locate", "multi_site") for s in x.steps)
        )
        assert answer_images == len(pins) + with_view_cases
    finally:
        col.close()


def single_answer_clinical(atlas: Atlas) -> list[QuestionModel]:
    from trainer.quiz.bank import load_questions

    return [
        x for x in load_questions(atlas) if x.type == "clinical" and sum(c.correct for c in x.choices) == 1
    ]


def assert_spread(positions: list[tuple[int, int]]) -> None:
    """(displayed position of the right option, number of options): no position dominates.

    The shipped files put the right option first in every question; a learner tapping the
    first option must not score well. Three-option questions are most of the bank.
    """
    three = [pos for pos, n in positions if n == 3]
    assert len(three) > 50
    assert max(three.count(k) / len(three) for k in range(3)) <= 0.45
    assert sum(pos == 0 for pos, _ in positions) / len(positions) <= 0.45


def test_a_clinical_cards_options_are_in_a_fixed_shuffled_order(tmp_path: Path) -> None:
    atlas = load_atlas()
    clinical = single_answer_clinical(atlas)
    decks = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        col = import_into_anki(anki_package(clinical, atlas, lambda _q: None).data, tmp_path / run)
        try:
            decks.append(
                {
                    col.get_note(nid)["Question"]: (col.get_note(nid)["Choices"], col.get_note(nid)["Answer"])
                    for nid in col.find_notes("")
                }
            )
        finally:
            col.close()
    assert decks[0] == decks[1]  # fixed: the same order on every export
    positions = []
    for choices, answer in decks[0].values():
        shown = re.findall(r"<li>(.*?)</li>", choices)
        [pos] = [i for i, text in enumerate(shown) if f"{chr(ord('a') + i)}. {text}" == answer]
        positions.append((pos, len(shown)))
    assert len(positions) == len(clinical)
    assert_spread(positions)


def test_moodle_answers_are_shuffled_and_not_written_right_first() -> None:
    atlas = load_atlas()
    clinical = single_answer_clinical(atlas)
    root = ET.fromstring(moodle_xml(clinical, atlas, lambda _q: None).data)
    positions = []
    for el in by_name(root).values():
        assert el.findtext("shuffleanswers") == "true"
        fractions = [a.get("fraction") for a in el.findall("answer")]
        positions.append((fractions.index("100"), len(fractions)))
    assert len(positions) == len(clinical)
    assert_spread(positions)


def test_control_characters_never_break_the_moodle_xml_or_anki_fields(
    flat: tuple[Atlas, Path], tmp_path: Path
) -> None:
    """A bank that skipped validation still exports: XML well-formed, one Anki field per field."""
    atlas, _ = flat
    data = good_bank()
    nasty = {"prompt": "Tap the\x07 point \x1f here\x0b.", "explanation": "Because\x1f of\x00 anatomy."}
    for question in data["questions"]:
        question.update(nasty)
    data["questions"][6]["choices"] = [{"text": "Yes\x1fno", "correct": True}, {"text": "No\x08"}]
    qs = list(BankFile.model_validate(data).questions)

    root = ET.fromstring(moodle_xml(qs, atlas, view_for(flat)).data)  # raises if malformed
    text = ET.tostring(root, encoding="unicode")
    assert "Tap the point  here." in text and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", text)

    col = import_into_anki(anki_package(qs, atlas, view_for(flat)).data, tmp_path)
    try:
        assert col.note_count() == len(qs)
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            assert len(note.fields) == len(note.note_type()["flds"])
            assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", f) for f in note.fields)
            assert "Because of anatomy." in note["Why"]
    finally:
        col.close()


def test_region_sheet_is_a_png_taller_than_the_view(flat: tuple[Atlas, Path]) -> None:
    atlas, root = flat
    view = load_rendered_view("view_a_right", "female", root)
    image = Image.open(io.BytesIO(region_sheet_png(view, atlas)))
    assert image.format == "PNG" and image.size[0] == view.width_px and image.size[1] > view.height_px


def test_rows_csv_writes_a_header_and_rows() -> None:
    text = rows_csv([{"nickname": "'=cmd", "credit": 0.5}, {"nickname": "Ann", "credit": 1.0}])
    assert text.splitlines() == ["nickname,credit", "'=cmd,0.5", "Ann,1.0"]
    assert rows_csv([]) == ""


# ------------------------------------------------ Moodle's own rules for drop zones (issue 11, item 8)


def moodle_zone_errors(shape: str, coords: str, width_px: int, height_px: int) -> list[str]:
    """Moodle's ddmarker checks, re-stated from its source (question/type/ddmarker/shapes.php and
    edit_ddmarker_form.php ``validation``), independent of our exporter.

    Each number must match ^[0-9]+$; a circle is "x,y;r"; a polygon has at least three
    "x,y" parts, none equal to the part before it (a last part equal to the first is dropped);
    the shape's outlying coordinates must lie within 0..width and 0..height of the background.
    """
    only_numbers = re.compile(r"^[0-9]+$")
    coords = re.sub(r"\s", "", coords)
    parts = coords.split(";")
    errors: list[str] = []
    if shape == "circle":
        if len(parts) != 2:
            return ["toomanysemicolons" if len(parts) > 2 else "nosemicolons"]
        xy = parts[0].split(",")
        if len(xy) != 2:
            return ["unrecognisedxypart"]
        if not all(only_numbers.match(v) for v in (*xy, parts[1])):
            return ["onlyusewholepositivenumbers"]
        x, y, r = int(xy[0]), int(xy[1]), int(parts[1])
        outlying = [(x - r, y - r), (x + r, y + r)]
    elif shape == "polygon":
        if len(parts) < 3:
            return ["polygonmusthaveatleastthreepoints"]
        points: list[tuple[int, int]] = []
        for part in parts:
            xy = part.split(",")
            if len(xy) != 2:
                errors.append("unrecognisedxypart")
                continue
            if not all(only_numbers.match(v) for v in xy):
                errors.append("onlyusewholepositivenumbers")
                continue
            p = (int(xy[0]), int(xy[1]))
            if points and points[-1] == p:
                errors.append("repeatedpoint")
            points.append(p)
        if errors:
            return errors
        if points[-1] == points[0]:
            points.pop()
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        outlying = [(min(xs), min(ys)), (max(xs), max(ys))]
    else:
        return [f"unknown shape {shape!r}"]
    if any(x < 0 or x > width_px or y < 0 or y > height_px for x, y in outlying):
        errors.append("shapeoutsideboundsofbgimage")
    return errors


def test_the_moodle_checker_catches_what_moodle_refuses() -> None:
    assert moodle_zone_errors("polygon", "182,-8;190,10;170,10", 600, 400) == ["onlyusewholepositivenumbers"]
    assert moodle_zone_errors("polygon", "1,1;5,5;5,5;1,5", 600, 400) == ["repeatedpoint"]
    assert moodle_zone_errors("polygon", "1,1;5,5;1,5;1,1", 600, 400) == []  # closed: Moodle drops the last
    assert moodle_zone_errors("polygon", "590,1;610,5;590,9", 600, 400) == ["shapeoutsideboundsofbgimage"]
    assert moodle_zone_errors("circle", "5,100;10", 600, 400) == ["shapeoutsideboundsofbgimage"]
    assert moodle_zone_errors("circle", "100,120;10.5", 600, 400) == ["onlyusewholepositivenumbers"]


@pytest.mark.slow
def test_every_shipped_pin_question_exports_drop_zones_moodle_accepts() -> None:
    from trainer.quiz.bank import load_questions, resolve_view_id

    atlas = load_atlas()
    shipped = load_questions(atlas)

    def shipped_view(question: QuestionModel) -> RenderedView | None:
        vid = resolve_view_id(atlas, question.view, "right")
        return load_rendered_view(vid, atlas.default_body_type, atlas.root) if vid else None

    pin = [
        x
        for x in shipped
        if x.type in ("locate", "multi_site") or (x.type == "territory" and x.mode == "tap")
    ]
    result = moodle_xml(pin, atlas, shipped_view)
    assert result.skipped == [] and result.count == len(pin)
    questions = by_name(ET.fromstring(result.data))
    bad: list[str] = []
    for x in pin:
        el = questions[x.id]
        width_px, height_px = Image.open(io.BytesIO(base64.b64decode(el.findtext("file") or ""))).size
        drops = el.findall("drop")
        assert len(drops) == len(x.targets), x.id
        for drop in drops:
            errors = moodle_zone_errors(
                drop.findtext("shape") or "", drop.findtext("coords") or "", width_px, height_px
            )
            if errors:
                bad.append(f"{x.id}: {errors}")
    assert bad == []


def test_the_anki_back_gives_why_each_option_is_right_or_wrong_with_the_fronts_letters(
    tmp_path: Path,
) -> None:
    """Issue 15 item 3: the banks' ``why`` texts reach the back of the card, lettered as on the front."""
    atlas = load_atlas()
    with_why = [q for q in single_answer_clinical(atlas) if sum(1 for c in q.choices if c.why) >= 2]
    assert with_why, "the shipped banks have clinical questions with rationales"
    col = import_into_anki(anki_package(with_why, atlas, lambda _q: None).data, tmp_path)
    try:
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            question = next(q for q in with_why if q.prompt in html.unescape(note["Question"]))
            shown = [html.unescape(t) for t in re.findall(r"<li>(.*?)</li>", note["Choices"])]
            for choice in question.choices:
                if not choice.why:
                    continue
                letter = chr(ord("a") + shown.index(choice.text))
                verdict = "right" if choice.correct else "wrong"
                back_text = html.unescape(re.sub(r"<[^>]+>", "", note["Why"]))
                assert f"{letter}. {verdict}: {choice.why.strip()}" in back_text, (question.id, choice.text)
    finally:
        col.close()
