"""Look-alike and invisible nicknames (issue 11 item 21): the pure rules of trainer.rules.nicknames."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.errors import RuleError
from trainer.rules.nicknames import clean_nickname, nickname_key, nickname_shape_key, skeleton


def clash(a: str, b: str) -> bool:
    """What a class refuses: the same name on either key."""
    a, b = clean_nickname(a), clean_nickname(b)
    return nickname_key(a) == nickname_key(b) or nickname_shape_key(a) == nickname_shape_key(b)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("\u0410lice", "Cyrillic capital A"),
        ("Alic\u0435", "Cyrillic small ie"),
        ("\u0391lice", "Greek capital alpha"),
        ("AIice", "capital I for small l"),
        ("A1ice", "digit one for small l"),
        ("ALICE", "case"),
        ("\uff21lice", "full-width A"),
        ("Alice\u3164", "trailing Hangul filler"),
        ("\u3164Alice", "leading Hangul filler"),
        ("Al\u200bice", "zero-width space"),
        ("Al\u00adice", "soft hyphen"),
        ("\u202eAlice", "bidi override"),
        ("Alice\ufe0f", "stray variation selector"),
        ("A\u034flice", "combining grapheme joiner"),
        ("Alice\u2800", "braille blank"),
        ("\U0001d400lice", "mathematical bold A"),
    ],
)
def test_look_alikes_of_a_name_collide_with_it(typed: str, why: str) -> None:
    assert clash("Alice", typed), why


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ana", "Anna"),
        ("Alice", "Alicia"),
        ("ali", "all"),
        ("José", "Jose"),
        ("Bo", "Bob"),
        ("李", "季"),
        ("Ana 🦴", "Ana 🧠"),
    ],
)
def test_different_names_do_not_collide(a: str, b: str) -> None:
    assert not clash(a, b)


def test_a_capital_i_is_a_small_l_by_shape_but_a_small_i_by_case() -> None:
    assert nickname_shape_key("AIice") == nickname_shape_key("Alice")
    assert nickname_key("AIICE") == nickname_key("aiice") != nickname_key("alice")


@pytest.mark.parametrize(
    "raw",
    [
        "\u3164",
        "\u3164 \u3164",
        "\u115f\u1160",
        "\uffa0",
        "\u2800\u2800",
        "\u200b\u200c\u200d",
        "\ufe0f",
        "\U000e0041\U000e007f",
        "\u202e\u202d",
        "\u034f",
        "\u180e",
        "\u0301\u0301",
    ],
)
def test_names_with_nothing_visible_are_refused(raw: str) -> None:
    with pytest.raises(RuleError, match="invisible characters do not count"):
        clean_nickname(raw)


def test_invisible_characters_are_removed_from_the_shown_name() -> None:
    assert clean_nickname("Alice\u3164") == "Alice"
    assert clean_nickname("\u200eA\u2066li\u2069ce\ufeff") == "Alice"
    assert clean_nickname("Al\u3164ice") == "Alice"


def test_names_are_nfkc_normalised() -> None:
    assert clean_nickname("\uff21\uff4e\uff41") == "Ana"  # full-width
    assert clean_nickname("\ufb01ona") == "fiona"  # ligature
    assert clean_nickname("Jose\u0301") == "Jos\u00e9"


def test_emoji_sequences_keep_their_joiners_and_selectors() -> None:
    health_worker = "\U0001f469\u200d\u2695\ufe0f"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    keycap = "1\ufe0f\u20e3"
    for name in (f"{health_worker} Ana", f"{family} Bo", f"Cy {england}", f"{keycap} Di", "\u2764\ufe0f Ed"):
        assert clean_nickname(name) == name
    # …but the same marks between letters are invisible and go.
    assert clean_nickname("A\u200dn\ufe0fa") == "Ana"


def test_a_long_skeleton_is_stored_as_a_bounded_key() -> None:
    long_name = "\ufdfa" * 24  # one Arabic ligature is 18 characters after NFKC
    assert len(skeleton(long_name)) > 200
    for key in (nickname_key, nickname_shape_key):
        assert len(key(long_name)) <= 200
        assert key(long_name) == key("\ufdfa" * 24) != key("\ufdfa" * 23)


@given(st.text(max_size=30))
def test_the_skeleton_is_idempotent(text: str) -> None:
    assert skeleton(skeleton(text)) == skeleton(text)


@given(st.text(min_size=1, max_size=24))
def test_cleaning_is_idempotent_and_keys_survive_it(raw: str) -> None:
    try:
        name = clean_nickname(raw)
    except RuleError:
        return
    assert clean_nickname(name) == name
    assert nickname_key(clean_nickname(name)) == nickname_key(name)
