"""Authored text: control characters and images are refused by the validator and made harmless on display."""

from __future__ import annotations

import html

from trainer.safetext import clean_text, field_text_problems, inert_markdown, text_problems
from trainer.ui.common import esc


def test_control_characters_are_named_by_code_point() -> None:
    assert text_problems("Inject 0.5 mL\x1f here") == ["contains a control character (U+001F); remove it"]
    assert text_problems("line one\nline two\ttabbed\r\n") == []  # ordinary whitespace is fine
    assert text_problems("C1 control \x85") != []


def test_markdown_and_html_images_are_refused_but_plain_angle_brackets_are_not() -> None:
    for text in (
        "![x](http://example.com/a.png)",
        "see ![diagram][d]",
        "<img src=http://e/x>",
        "<IMG SRC='x'>",
        '<div style="background:url(http://e/x)">',
        "<iframe>",
    ):
        assert text_problems(text), text
    for text in ("pain < 3/10 at rest", "a <5 mm wheal", "[Lyftogt 2007](https://doi.org/x)", "<b>bold</b>"):
        assert text_problems(text) == [], text


def test_every_field_of_a_nested_record_is_named() -> None:
    record = {
        "prompt": "ok",
        "choices": [{"text": "fine"}, {"text": "bad\x07"}],
        "steps": [{"prompt": "![a](b)"}],
    }
    assert [field for field, _ in field_text_problems(record)] == ["choices.1.text", "steps.0.prompt"]


def test_display_escaping_leaves_no_image_syntax_and_no_control_character() -> None:
    shown = esc('Tap ![here](http://example.com/t.png) <img src="x"> \x07now')
    assert "![" not in shown and "<img" not in shown and "\x07" not in shown
    assert shown == inert_markdown(html.escape('Tap ![here](http://example.com/t.png) <img src="x"> \x07now'))
    assert clean_text("a\x00b\x1fc\ud800d\uffff") == "abcd"
