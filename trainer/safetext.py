"""Authored text that is safe to show, export and print: one home for the rules.

Question and atlas text is plain text. Two things in it would do harm downstream:

* **control characters** (U+0000–U+001F except tab, newline and carriage return, U+007F–U+009F,
  lone surrogates, U+FFFE/U+FFFF): XML 1.0 forbids most of them, so one in a prompt makes
  the whole Moodle file malformed; U+001F is Anki's field separator, so it splits a note;
* **images**: markdown ``![alt](url)`` (rendered by ``st.markdown`` and by widget labels)
  and raw HTML that loads a resource (``<img src=…>``, ``<iframe>``, a ``style=`` with a
  ``url(…)``) would make every learner's browser fetch a third-party URL.

The validator refuses both (:func:`text_problems`, with the field named by the caller);
exports and pages also neutralise them (:func:`clean_text`, :func:`inert_markdown`) in case a
file skipped validation.

>>> text_problems("Tap the point.\\x07")
['contains a control character (U+0007); remove it']
>>> clean_text("a\\x1fb\\tc")
'ab\\tc'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

# Tab, newline and carriage return are ordinary text; every other C0/C1 control, a lone
# surrogate or a Unicode non-character is not.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# ![alt](url), ![alt][ref] and the shortcut ![ref] (with a [ref]: url definition elsewhere).
_MD_IMAGE = re.compile(r"!\[[^\]]*\]")
_HTML_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9:-]*)([^>]*)>?")
# Elements that fetch something by themselves, and attributes that point at a URL or carry CSS.
_FETCHING_TAGS = frozenset(
    {
        "img",
        "image",
        "picture",
        "source",
        "video",
        "audio",
        "track",
        "iframe",
        "frame",
        "object",
        "embed",
        "svg",
        "link",
        "script",
        "style",
        "meta",
    }
)
_URL_ATTR = re.compile(
    r"\b(src|srcset|href|xlink:href|background|poster|data|style|action|formaction)\s*=", re.I
)


def text_problems(text: str) -> list[str]:
    """Why this authored text cannot be used as it is (empty when it is fine).

    >>> text_problems("See ![diagram](http://example.com/x.png)")
    ["contains a markdown image '![diagram]': learners' browsers would fetch it from another site; describe it in words"]
    >>> text_problems('<img src="x.png"> and <b>bold</b>')
    ["contains HTML that loads a resource ('<img'): learners' browsers would fetch it; use plain text"]
    >>> text_problems("2 < 3 and a <5 mm needle")
    []
    """
    out: list[str] = []
    ctrl = _CONTROL.search(text)
    if ctrl is not None:
        out.append(f"contains a control character (U+{ord(ctrl.group()):04X}); remove it")
    img = _MD_IMAGE.search(text)
    if img is not None:
        shown = img.group()[:40]
        out.append(
            f"contains a markdown image '{shown}': learners' browsers would fetch it from another site; "
            "describe it in words"
        )
    for tag in _HTML_TAG.finditer(text):
        name, attrs = tag.group(1).lower(), tag.group(2)
        if name in _FETCHING_TAGS or _URL_ATTR.search(attrs):
            out.append(
                f"contains HTML that loads a resource ('<{tag.group(1)}'): learners' browsers would fetch it; "
                "use plain text"
            )
            break
    return out


def iter_text(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a model, list or mapping, with its dotted field path.

    >>> list(iter_text({"prompt": "a", "choices": [{"text": "b"}]}))
    [('prompt', 'a'), ('choices.0.text', 'b')]
    """

    def join(key: object) -> str:
        return f"{path}.{key}" if path else str(key)

    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from iter_text(getattr(value, name), join(name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_text(item, join(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from iter_text(item, join(i))


def field_text_problems(value: Any, path: str = "") -> list[tuple[str, str]]:
    """``(field, problem)`` for every string in ``value`` that :func:`text_problems` refuses."""
    return [(field, msg) for field, text in iter_text(value, path) for msg in text_problems(text)]


def clean_text(text: str) -> str:
    """The text without control characters: safe inside XML and inside an Anki field."""
    return _CONTROL.sub("", text)


def inert_markdown(escaped_html: str) -> str:
    """Text already HTML-escaped, made unable to form a markdown image.

    A numeric character reference is never markdown syntax, so ``!&#91;`` shows as ``![``
    but cannot start an image.

    >>> inert_markdown("![x](http://example.com/a.png)")
    '!&#91;x](http://example.com/a.png)'
    """
    return clean_text(escaped_html).replace("![", "!&#91;")


def inert_label(text: str) -> str:
    """Plain text made safe as a widget label (Streamlit renders labels as markdown).

    A backslash before ``[`` keeps the bracket visible but stops ``![…](…)`` forming an image.

    >>> inert_label("![x](http://example.com/a.png)")
    '!\\\\[x](http://example.com/a.png)'
    """
    return clean_text(text).replace("![", "!\\[")


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&])")


def literal_markdown(text: str) -> str:
    """``text`` shown literally in markdown: a profile named ``![x](http://…)`` or ``<b>`` is
    printed as typed, never turned into an image, a link or markup.

    >>> literal_markdown("![x](y) <b>")
    '\\\\!\\\\[x\\\\]\\\\(y\\\\) \\\\<b\\\\>'
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)
