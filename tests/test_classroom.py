"""The pure live-class rules: state machine, timing, points, join codes, nicknames, host keys.

Nickname policy (decided here, documented in ``trainer.rules.classroom.clean_nickname``): names
longer than 24 characters are *rejected* with a message saying the limit, never silently
truncated; markup is kept verbatim as plain text (the UI escapes it); control and invisible
format characters are removed; emoji (including joined sequences) are kept and count as one.
"""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from trainer.errors import RuleError
from trainer.rules import classroom as rules
from trainer.rules.classroom import Phase, SessionState

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def lobby(n: int = 3) -> SessionState:
    return rules.new_session_state(question_count=n)


def opened(n: int = 3, limit_s: float = 20.0) -> SessionState:
    return rules.open_question(lobby(n), now=T0, time_limit_s=limit_s)


# -- state machine -----------------------------------------------------------------------------


def test_a_full_game_walks_lobby_open_closed_revealed_and_finished() -> None:
    s = lobby(2)
    s = rules.open_question(s, now=T0, time_limit_s=20)
    assert (s.phase, s.current_index, s.opened_at, s.closes_at) == (
        Phase.OPEN,
        0,
        T0,
        T0 + timedelta(seconds=20),
    )
    s = rules.close_question(s, now=T0 + timedelta(seconds=25))
    assert s.phase is Phase.CLOSED
    s = rules.reveal(s)
    assert s.phase is Phase.REVEALED
    assert not rules.is_last_question(s)
    s = rules.open_question(s, now=T0 + timedelta(minutes=1), time_limit_s=10)
    assert (s.phase, s.current_index) == (Phase.OPEN, 1)
    assert rules.is_last_question(s)
    s = rules.reveal(rules.close_question(s, now=T0 + timedelta(minutes=2)))
    s = rules.finish(s)
    assert s.phase is Phase.FINISHED


def test_transitions_do_not_mutate_their_input() -> None:
    s = lobby()
    after = rules.open_question(s, now=T0, time_limit_s=20)
    assert s.phase is Phase.LOBBY and s.current_index == -1
    assert after is not s
    with pytest.raises(FrozenInstanceError):
        s.phase = Phase.OPEN  # type: ignore[misc]


def _state_in(phase: Phase) -> SessionState:
    s = lobby(3)
    if phase is Phase.LOBBY:
        return s
    s = rules.open_question(s, now=T0, time_limit_s=20)
    if phase is Phase.OPEN:
        return s
    s = rules.close_question(s, now=T0 + timedelta(seconds=5))
    if phase is Phase.CLOSED:
        return s
    s = rules.reveal(s)
    if phase is Phase.REVEALED:
        return s
    return rules.finish(s)


ALLOWED = {
    "open": {Phase.LOBBY, Phase.REVEALED},
    "close": {Phase.OPEN},
    "reveal": {Phase.CLOSED},
    "finish": {Phase.LOBBY, Phase.REVEALED},
}


def _apply(action: str, s: SessionState) -> SessionState:
    now = T0 + timedelta(minutes=5)
    if action == "open":
        return rules.open_question(s, now=now, time_limit_s=20)
    if action == "close":
        return rules.close_question(s, now=now)
    if action == "reveal":
        return rules.reveal(s)
    return rules.finish(s)


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_every_transition_is_allowed_only_from_its_source_states(action: str, phase: Phase) -> None:
    s = _state_in(phase)
    if phase in ALLOWED[action]:
        assert _apply(action, s).phase is not phase
    else:
        with pytest.raises(RuleError, match=phase.value):
            _apply(action, s)


def test_opening_past_the_last_question_is_refused_with_advice_to_finish() -> None:
    s = rules.reveal(rules.close_question(opened(n=1), now=T0))
    with pytest.raises(RuleError, match="Finish the session"):
        rules.open_question(s, now=T0, time_limit_s=20)


def test_a_session_without_questions_cannot_open_but_can_finish() -> None:
    s = lobby(0)
    with pytest.raises(RuleError):
        rules.open_question(s, now=T0, time_limit_s=20)
    assert rules.finish(s).phase is Phase.FINISHED


@pytest.mark.parametrize("limit", [0, -1, float("nan"), float("inf")])
def test_a_non_positive_time_limit_is_refused(limit: float) -> None:
    with pytest.raises(RuleError):
        rules.open_question(lobby(), now=T0, time_limit_s=limit)


def test_closing_early_moves_the_close_time_to_now() -> None:
    s = rules.close_question(opened(limit_s=20), now=T0 + timedelta(seconds=7))
    assert s.closes_at == T0 + timedelta(seconds=7)


def test_closing_after_the_deadline_keeps_the_original_close_time() -> None:
    s = rules.close_question(opened(limit_s=20), now=T0 + timedelta(seconds=90))
    assert s.closes_at == T0 + timedelta(seconds=20)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rules.open_question(lobby(), now=datetime(2025, 1, 1, 9, 0), time_limit_s=20)
    with pytest.raises(ValueError):
        rules.answer_allowed(opened(), datetime(2025, 1, 1, 9, 0))


def test_other_time_zones_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    s = rules.open_question(lobby(), now=T0.astimezone(paris), time_limit_s=20)
    assert s.opened_at == T0 and s.opened_at.utcoffset() == timedelta(0)


# -- timing ------------------------------------------------------------------------------------


def test_answers_inside_the_window_are_allowed() -> None:
    s = opened(limit_s=20)
    assert rules.answer_allowed(s, T0)
    assert rules.answer_allowed(s, T0 + timedelta(seconds=19.999))


def test_late_answers_are_refused_using_the_server_close_time() -> None:
    s = opened(limit_s=20)
    assert not rules.answer_allowed(s, T0 + timedelta(seconds=20))
    with pytest.raises(RuleError, match="Time is up"):
        rules.check_answer_allowed(s, T0 + timedelta(seconds=21.5))


def test_answers_before_the_open_time_are_refused() -> None:
    assert not rules.answer_allowed(opened(), T0 - timedelta(seconds=1))


@pytest.mark.parametrize("phase", [Phase.LOBBY, Phase.CLOSED, Phase.REVEALED, Phase.FINISHED])
def test_answers_outside_an_open_question_are_refused(phase: Phase) -> None:
    s = _state_in(phase)
    assert not rules.answer_allowed(s, T0 + timedelta(seconds=1))


def test_an_answer_to_a_question_no_longer_on_screen_is_refused() -> None:
    s = opened()
    assert rules.answer_allowed(s, T0, question_index=0)
    with pytest.raises(RuleError, match="question 2 is on screen|question 1 is on screen"):
        rules.check_answer_allowed(s, T0, question_index=1)


def test_time_left_and_elapsed() -> None:
    s = opened(limit_s=20)
    assert rules.time_left_s(s, T0 + timedelta(seconds=5)) == 15
    assert rules.time_left_s(s, T0 + timedelta(seconds=50)) == 0
    assert rules.elapsed_s(s, T0 + timedelta(seconds=5)) == 5
    assert rules.time_left_s(lobby(), T0) == 0


# -- points ------------------------------------------------------------------------------------


def test_points_are_credit_times_one_thousand_without_speed_bonus() -> None:
    assert rules.points_for(0.0, 1, 20, speed_bonus=False) == 0
    assert rules.points_for(0.5, 1, 20, speed_bonus=False) == 500
    assert rules.points_for(1.0, 19, 20, speed_bonus=False) == 1000


def test_points_are_monotone_in_credit_with_and_without_bonus() -> None:
    credits = [i / 200 for i in range(201)]
    for bonus in (False, True):
        for elapsed in (0.0, 3.3, 10.0, 20.0):
            pts = [rules.points_for(c, elapsed, 20.0, speed_bonus=bonus) for c in credits]
            assert pts == sorted(pts)


def test_speed_bonus_rewards_fast_correct_answers_up_to_500() -> None:
    assert rules.points_for(1.0, 0.0, 20.0, speed_bonus=True) == 1500
    assert rules.points_for(1.0, 10.0, 20.0, speed_bonus=True) == 1250
    assert rules.points_for(1.0, 20.0, 20.0, speed_bonus=True) == 1000
    assert rules.points_for(1.0, 99.0, 20.0, speed_bonus=True) == 1000
    fast, slow = (rules.points_for(0.8, t, 20.0, speed_bonus=True) for t in (1.0, 15.0))
    assert fast > slow


def test_a_miss_earns_no_speed_bonus() -> None:
    assert rules.points_for(0.0, 0.0, 20.0, speed_bonus=True) == 0


def test_speed_bonus_off_makes_time_irrelevant() -> None:
    assert {rules.points_for(0.7, t, 20.0, speed_bonus=False) for t in (0, 5, 19)} == {700}


@pytest.mark.parametrize("credit", [-0.1, 1.01, float("nan")])
def test_credit_outside_zero_to_one_is_a_programming_error(credit: float) -> None:
    with pytest.raises(ValueError):
        rules.points_for(credit, 0, 20, speed_bonus=True)


def test_points_at_uses_the_server_time_stamps_of_the_state() -> None:
    s = opened(limit_s=20)
    assert rules.points_at(s, 1.0, T0 + timedelta(seconds=10), speed_bonus=True) == 1250


def test_live_settings_validate_the_time_limit() -> None:
    assert rules.LiveSettings.from_dict({"time_limit_s": 15, "unknown_future_key": 1}).time_limit_s == 15
    with pytest.raises(RuleError):
        rules.LiveSettings(time_limit_s=0)


# -- join codes --------------------------------------------------------------------------------


def test_join_codes_never_contain_look_alike_characters() -> None:
    rng = random.Random(1)
    codes = [rules.generate_join_code(rng) for _ in range(2000)] + [
        rules.generate_join_code() for _ in range(200)
    ]
    seen = set("".join(codes))
    assert not seen & set("0O1IL")
    assert seen <= set(rules.JOIN_CODE_ALPHABET)
    assert all(len(c) == 6 for c in codes)
    assert len(set(codes)) > 1990  # 31**6 codes: collisions are rare


def test_join_codes_are_reproducible_with_a_seeded_rng() -> None:
    assert rules.generate_join_code(random.Random(5)) == rules.generate_join_code(random.Random(5))


def test_typed_join_codes_are_normalised() -> None:
    assert rules.normalise_join_code("  ab c-d2 3 ") == "ABCD23"


@pytest.mark.parametrize(
    ("typed", "message"), [("ABC", "6 characters"), ("ABCDE0", "'0'"), ("ABCDEO", "'O'"), ("", "6")]
)
def test_malformed_join_codes_are_refused_readably(typed: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        rules.normalise_join_code(typed)


# -- nicknames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["<script>x</script>", "<script>alert(1)", "<img src=x onerror=1>", "**bold** _it_ `c`"]
)
def test_markup_is_kept_as_plain_text(raw: str) -> None:
    assert rules.clean_nickname(raw) == raw


def test_the_classic_script_payload_is_refused_for_length_not_rewritten() -> None:
    # "<script>alert(1)</script>" is 25 characters: over the limit, so it is refused as a
    # whole rather than truncated into something else.
    with pytest.raises(RuleError, match="25 characters long"):
        rules.clean_nickname("<script>alert(1)</script>")


def test_markdown_links_are_kept_as_plain_text() -> None:
    raw = "[x](javascript:alert(1))"
    assert rules.clean_nickname(raw) == raw
    assert type(rules.clean_nickname(raw)) is str


def test_a_10_kb_nickname_is_rejected_with_the_limit_in_the_message() -> None:
    with pytest.raises(RuleError, match="at most 24"):
        rules.clean_nickname("A" * 10_000)


def test_a_25_character_nickname_is_rejected_not_truncated() -> None:
    assert rules.clean_nickname("x" * 24) == "x" * 24
    with pytest.raises(RuleError, match="25 characters long; use at most 24"):
        rules.clean_nickname("x" * 25)


def test_emoji_are_kept_and_count_as_one_character() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
    thumbs = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone
    name = rules.clean_nickname(f"{family}{thumbs} Ana 🦴")
    assert name == f"{family}{thumbs} Ana 🦴"
    assert rules.display_length(name) == 8
    assert rules.clean_nickname("🙂" * 24) == "🙂" * 24


def test_control_and_invisible_characters_are_removed() -> None:
    assert rules.clean_nickname("Ana\x00\x07\x1b[31m") == "Ana[31m"
    assert rules.clean_nickname("A\u202eNA\u200b") == "ANA"  # bidi override, zero-width space


def test_whitespace_is_trimmed_and_collapsed() -> None:
    assert rules.clean_nickname("  Dr \t\n  Who \u2028 ") == "Dr Who"


def test_nicknames_are_nfc_normalised() -> None:
    decomposed = "Jose\u0301"
    assert rules.clean_nickname(decomposed) == "Jos\u00e9"


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "\u200b\u200b", "\u0301\u0301"])
def test_empty_nicknames_are_rejected(raw: str) -> None:
    with pytest.raises(RuleError, match="Please type a nickname"):
        rules.clean_nickname(raw)


def test_zalgo_text_is_rejected() -> None:
    with pytest.raises(RuleError, match="accents"):
        rules.clean_nickname("a" + "\u0301" * 120)


def test_nickname_keys_ignore_case_and_width() -> None:
    assert rules.nickname_key("ANA") == rules.nickname_key("ana") == rules.nickname_key("ＡＮＡ")
    assert rules.nickname_key("Straße") == rules.nickname_key("STRASSE")
    assert rules.nickname_key("Ana") != rules.nickname_key("Anna")


def test_non_text_nickname_is_refused() -> None:
    with pytest.raises(RuleError):
        rules.clean_nickname(None)  # type: ignore[arg-type]


# -- host key ----------------------------------------------------------------------------------


def test_host_key_round_trip_and_rejection() -> None:
    stored = rules.hash_host_key("correct horse")
    assert "correct horse" not in stored
    assert rules.check_host_key("correct horse", stored)
    assert not rules.check_host_key("correct hors", stored)
    assert not rules.check_host_key("", stored)
    assert not rules.check_host_key("correct horse", "garbage")
    assert rules.hash_host_key("k") != rules.hash_host_key("k")  # salted


def test_an_empty_host_key_cannot_be_set() -> None:
    with pytest.raises(RuleError):
        rules.hash_host_key("")
