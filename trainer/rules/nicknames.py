"""Nicknames: what a learner may be called in a class, and when two names are "the same".

Two rules live here, both pure:

* :func:`clean_nickname` turns what was typed into the name shown on the leaderboard, or
  refuses it. It NFKC-normalises (so full-width, circled or ligature letters become the plain
  ones the reader sees), drops control characters and every *invisible* character (format
  characters such as bidi overrides and zero-width spaces, and Unicode's default-ignorable
  code points such as the Hangul filler U+3164), and refuses names that are empty once the
  invisible part is gone. Emoji joiners and variation selectors survive only inside an emoji
  sequence, where they are drawn.
* :func:`nickname_key` and :func:`nickname_shape_key` are the keys under which a class
  refuses duplicates: the name's *skeleton* in the sense of Unicode Technical Standard #39
  (each character replaced by a representative of the characters it is confusable with),
  case-folded for the first key and not for the second. A name matching an existing one on
  either key is refused, so "Аlice" with a Cyrillic "А", "ALICE", "Alice\\u3164" and "AIice"
  with a capital I all collide with "Alice".

The confusable classes come from Unicode's ``confusables.txt`` as shipped by the
``confusable-homoglyphs`` package (its ``confusables.json``: for each character, the characters
it is confusable with). That file lists each source character against its prototype in both
directions, so the classes are rebuilt here with a union-find over single characters; a source
whose prototype is a sequence ("m" → "rn") maps to that sequence. Any member can represent a
class as long as every name uses the same one; the plain ASCII member is chosen where there is
one, so keys stay readable.

>>> clean_nickname("  Ａｎａ\\u200b ")
'Ana'
>>> nickname_key("Аlice") == nickname_key("ALICE") == nickname_key("alice\\u3164")
True
>>> nickname_shape_key("AIice") == nickname_shape_key("Alice")
True
>>> nickname_key("Ana") == nickname_key("Anna")
False
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from functools import cache
from importlib import resources

from trainer.errors import RuleError

__all__ = [
    "NICKNAME_MAX_CHARS",
    "clean_nickname",
    "display_length",
    "is_invisible",
    "nickname_key",
    "nickname_shape_key",
    "skeleton",
]

NICKNAME_MAX_CHARS = 24
#: Hard cap on code points, so a name of a few letters buried under hundreds of combining
#: marks ("Zalgo" text) cannot blow up a leaderboard row while counting as 3 characters.
_MAX_CODE_POINTS_PER_CHAR = 4
#: Keys longer than this are stored as a hash (same equality, bounded column width): a skeleton
#: can be much longer than the name (one Arabic ligature expands to 18 characters).
_MAX_KEY_CHARS = 200

ZWJ = "\u200d"
_KEYCAP = "\u20e3"
_BLACK_FLAG = "\U0001f3f4"

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): characters
#: a renderer draws as nothing. Listed, not derived, because ``unicodedata`` does not expose
#: the property. Most are format (Cf) or unassigned; the rest look like letters or marks to
#: ``unicodedata.category`` (the Hangul fillers are "Lo") and are exactly the ones used to
#: make a name look like another or look empty.
_DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
#: Not default-ignorable, but drawn as an empty cell: treated as a space.
_BLANK_LOOKING = frozenset({"\u2800", "\u3000", "\u1680"})


def is_invisible(ch: str) -> bool:
    """True for a character that draws nothing: default-ignorable, control, format, unassigned.

    >>> [is_invisible(c) for c in ("a", "\\u3164", "\\u200b", "\\u202e", " ")]
    [False, True, True, True, False]
    """
    code = ord(ch)
    if any(lo <= code <= hi for lo, hi in _DEFAULT_IGNORABLE):
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def _is_pictographic(ch: str) -> bool:
    """Emoji and other symbols that ZWJ sequences and emoji variation selectors attach to."""
    return unicodedata.category(ch) in ("So", "Sk") or ord(ch) >= 0x1F000


def _is_extending(ch: str) -> bool:
    """Code points that attach to the previous one and do not count towards the length."""
    if unicodedata.category(ch) in ("Mn", "Me") or ch == ZWJ:
        return True
    code = ord(ch)
    return (
        0x1F3FB <= code <= 0x1F3FF
        or 0xFE00 <= code <= 0xFE0F  # skin tones, variation selectors
        or 0xE0020 <= code <= 0xE007F
    )  # tag characters of subdivision flags


def display_length(text: str) -> int:
    """Length as a reader perceives it (grapheme-ish): combining marks, ZWJ, skin tones and
    variation selectors do not count, and a ZWJ glues the next code point to the previous.

    >>> display_length("👩\\u200d⚕️ Ana")
    5
    """
    count = 0
    after_zwj = False
    for ch in text:
        if ch == ZWJ:
            after_zwj = True
            continue
        if not _is_extending(ch) and not after_zwj:
            count += 1
        after_zwj = False
    return count


def _keep_invisible(text: str, i: int, kept: list[str]) -> bool:
    """Whether the invisible character ``text[i]`` is part of an emoji sequence (so it is drawn).

    A ZWJ joins two pictographs; a variation selector follows a pictograph or starts a keycap
    ("1️⃣"); tag characters follow a black flag (subdivision flags such as England's).
    """
    ch = text[i]
    prev = kept[-1] if kept else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if ch == ZWJ:
        return (
            bool(prev)
            and (_is_pictographic(prev) or prev == "\ufe0f")
            and bool(nxt)
            and _is_pictographic(nxt)
        )
    if ch in ("\ufe0e", "\ufe0f"):
        return bool(prev) and (_is_pictographic(prev) or nxt == _KEYCAP)
    if 0xE0020 <= ord(ch) <= 0xE007F:
        return prev == _BLACK_FLAG or (bool(prev) and 0xE0020 <= ord(prev) < 0xE007F)
    return False


def clean_nickname(raw: str, max_chars: int = NICKNAME_MAX_CHARS) -> str:
    """Normalise a nickname, or raise :class:`RuleError` saying what to change.

    Steps: NFKC-normalise; every whitespace or blank-looking character becomes a space;
    control, format and default-ignorable characters are removed (unless they hold an emoji
    sequence together); runs of spaces collapse; the ends are trimmed. A name with nothing
    visible left is refused. Markup is *not* interpreted or removed: ``<b>x</b>`` stays those
    exact characters, and the UI must render nicknames escaped. Names longer than
    ``max_chars`` are **rejected**, not truncated, so a learner never sees a name on the
    leaderboard that is not the one they typed.

    >>> clean_nickname("  Ana \\t  María\\u0007 ")
    'Ana María'
    >>> clean_nickname("[me](http://x)")
    '[me](http://x)'
    >>> clean_nickname("Alice\\u3164")
    'Alice'
    """
    if not isinstance(raw, str):
        raise RuleError("The nickname must be text.")
    # Cheap guard before any per-character work: a 10 kB paste is refused immediately.
    if len(raw) > max_chars * _MAX_CODE_POINTS_PER_CHAR * 4:
        raise RuleError(f"That nickname is far too long ({len(raw)} characters); use at most {max_chars}.")
    text = unicodedata.normalize("NFKC", raw)
    kept: list[str] = []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _BLANK_LOOKING:
            kept.append(" ")
        elif not is_invisible(ch) or _keep_invisible(text, i, kept):
            kept.append(ch)
    name = " ".join("".join(kept).split())
    if not name or all(_is_extending(ch) or ch == " " for ch in name):
        raise RuleError(
            "Please type a nickname (letters, digits or emoji); invisible characters do not count."
        )
    length = display_length(name)
    if length > max_chars:
        raise RuleError(f"That nickname is {length} characters long; use at most {max_chars}.")
    if len(name) > max_chars * _MAX_CODE_POINTS_PER_CHAR:
        raise RuleError("That nickname has too many accents or joined symbols; please simplify it.")
    return name


# --------------------------------------------------------------------------------------------
# Confusables (UTS #39 skeletons)
# --------------------------------------------------------------------------------------------

_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f")


@cache
def _confusable_map() -> dict[str, str]:
    """Character → representative of its confusable class (only characters that change).

    Built once per process from ``confusable_homoglyphs/confusables.json`` (about 10 000
    entries, a few tens of milliseconds).
    """
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8")
    data: dict[str, list[dict[str, str]]] = json.loads(raw)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    to_sequence: dict[str, str] = {}
    for key, entries in data.items():
        key = key.translate(_BIDI_MARKS)
        for entry in entries:
            other = entry["c"].translate(_BIDI_MARKS)
            if len(key) == 1 and len(other) == 1:
                a, b = find(key), find(other)
                if a != b:
                    parent[a] = b
            elif len(key) == 1 and len(other) > 1:
                to_sequence[key] = other  # a source whose prototype is a sequence ("m" -> "rn")
            elif len(other) == 1 and len(key) > 1:
                to_sequence[other] = key
    members: dict[str, list[str]] = {}
    for ch in list(parent):
        members.setdefault(find(ch), []).append(ch)

    def representative(group: list[str]) -> str:
        # A plain ASCII letter first (readable keys: "l" for l, I, 1, |), then any ASCII,
        # then the lowest code point: the same choice in every process and run.
        return min(group, key=lambda c: (not c.isascii(), not c.isalpha(), not c.islower(), ord(c)))

    single = {ch: representative(group) for group in members.values() for ch in group}
    mapping = {ch: rep for ch, rep in single.items() if ch != rep}
    for ch, seq in to_sequence.items():
        mapping[ch] = "".join(single.get(c, c) for c in seq)
    return mapping


def skeleton(text: str) -> str:
    """UTS #39-style skeleton: NFD, each character replaced by its class representative, NFD.

    Two strings with the same skeleton can be drawn alike; the function is idempotent.

    >>> skeleton("раураl") == skeleton("paypal")   # Cyrillic р, а, у
    True
    """
    mapping = _confusable_map()
    out = unicodedata.normalize("NFD", text)
    for _ in range(3):  # a representative may itself decompose into mapped characters
        mapped = unicodedata.normalize("NFD", "".join(mapping.get(ch, ch) for ch in out))
        if mapped == out:
            break
        out = mapped
    return out


def _visible(nickname: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", nickname) if not is_invisible(ch))


def _bounded(key: str) -> str:
    key = unicodedata.normalize("NFC", key)
    if len(key) > _MAX_KEY_CHARS:
        key = "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


def nickname_key(nickname: str) -> str:
    """Uniqueness key ignoring case, width, invisible characters and look-alike letters.

    "ANA", "ana", the full-width "ＡＮＡ" and "Аna" (Cyrillic А) collide. Case is folded
    first, so this key cannot see that a capital I looks like a small l: that is
    :func:`nickname_shape_key`'s job, and a class refuses a name that matches on either.

    >>> nickname_key("ＡＮＡ") == nickname_key("ana") == nickname_key("Аna")
    True
    """
    return _bounded(skeleton(_visible(nickname).casefold()))


def nickname_shape_key(nickname: str) -> str:
    """Uniqueness key by shape, case kept: "AIice" (capital I) and "Alice" collide here.

    Case folding and confusability cannot share one key (I is i by case and l by shape, but
    "ali" and "all" are different names), so a class keeps both keys, each unique.

    >>> nickname_shape_key("AIice") == nickname_shape_key("Alice") != nickname_shape_key("alice")
    True
    """
    return _bounded(skeleton(_visible(nickname)))
