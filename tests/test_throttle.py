"""Host-key throttling rules (issue 11 item 13): pure, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.rules.throttle import (
    CLIENT_RULE,
    GLOBAL_RULE,
    Failures,
    ThrottleRule,
    current,
    delay_s,
    record_failure,
    try_key,
    wait_s,
)

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_five_wrong_keys_are_free_then_the_wait_doubles_up_to_the_cap() -> None:
    assert [delay_s(CLIENT_RULE, n) for n in range(1, 12)] == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert delay_s(CLIENT_RULE, 10_000) == CLIENT_RULE.max_delay_s == 300


def test_a_brute_force_of_140_keys_takes_hours_not_seconds() -> None:
    """Trying as fast as allowed, 140 wrong keys now need this long (the review did it in 7 s)."""
    f, t = Failures(), T0
    for _ in range(140):
        t += timedelta(seconds=wait_s(CLIENT_RULE, f, t))
        f = record_failure(CLIENT_RULE, f, t)
    assert (t - T0) > timedelta(hours=9)


def test_every_try_inside_the_wait_is_refused_unseen_and_the_right_key_works_after_it() -> None:
    looked: list[str] = []
    limits = [(CLIENT_RULE, Failures()), (GLOBAL_RULE, Failures())]

    def attempt(at: datetime, key: str) -> bool:
        nonlocal limits
        verdict, states = try_key(limits, at, lambda: looked.append(key) is None and key == "right")
        limits = [(rule, f) for (rule, _), f in zip(limits, states, strict=True)]
        return verdict.checked

    for i in range(6):
        assert attempt(s(i * 0.01), "wrong")
    assert not attempt(s(0.5), "right")  # within the 1 s wait after the sixth failure
    assert looked == ["wrong"] * 6
    assert attempt(s(1.06), "right")
    assert looked[-1] == "right"
    assert limits[0][1] == Failures()  # the client's slate is clean
    assert limits[1][1].count == 6  # the global count is not forgiven


def test_the_global_limit_stops_a_guesser_spread_over_many_addresses() -> None:
    glob = Failures()
    checked = 0
    for i in range(100):  # a new address for every guess: the client rule never bites
        verdict, (_, glob) = try_key(
            [(CLIENT_RULE, Failures()), (GLOBAL_RULE, glob)], s(i * 0.1), lambda: False
        )
        checked += verdict.checked
    assert GLOBAL_RULE.free_failures < checked < GLOBAL_RULE.free_failures + 10


def test_failures_are_forgotten_after_a_quiet_hour() -> None:
    f = Failures(count=40, last_at=T0)
    assert current(CLIENT_RULE, f, s(3599)) == f
    assert current(CLIENT_RULE, f, s(3600)) == Failures()
    assert wait_s(CLIENT_RULE, f, s(3600)) == 0
    assert record_failure(CLIENT_RULE, f, s(3600)) == Failures(1, s(3600))


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0, max_value=4000))
def test_the_wait_never_exceeds_the_cap_and_shrinks_as_time_passes(count: int, later_s: float) -> None:
    f = Failures(count=count, last_at=T0)
    w0, w1 = wait_s(CLIENT_RULE, f, T0), wait_s(CLIENT_RULE, f, s(later_s))
    assert 0 <= w1 <= w0 <= CLIENT_RULE.max_delay_s


def test_naive_times_and_nonsense_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        wait_s(CLIENT_RULE, Failures(), datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        ThrottleRule(free_failures=1, base_delay_s=5, max_delay_s=1, forget_after_s=10)
