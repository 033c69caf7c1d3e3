"""Throttling guesses of the host key: pure rules, the clock passed in (like :mod:`trainer.rules.classroom`).

A wrong key costs nothing to type again, so without a limit a script tries thousands a
minute. The rule: each *scope* (one client address, and every client together) may fail
``free_failures`` times; after that, each further failure makes the scope wait before its next
try, doubling from ``base_delay_s`` up to ``max_delay_s``. A try inside the wait is refused
without looking at the key, so a guess made during the wait tells the guesser nothing.
Failures are forgotten after ``forget_after_s`` of quiet. The right key typed after the wait
works, and clears the client's own count (not the global one: an attacker spread over many
addresses must not be forgiven because the instructor logged in).

The state is a :class:`Failures` per scope, kept by the store (so every server process sees
the same counts) and updated by :func:`try_key` inside one write transaction.

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
>>> rule = ThrottleRule(free_failures=2, base_delay_s=1, max_delay_s=8, forget_after_s=600)
>>> f = Failures()
>>> for i in range(4):
...     f = record_failure(rule, f, t0)
>>> f.count, delay_s(rule, f.count), wait_s(rule, f, t0 + timedelta(seconds=1))
(4, 2.0, 1.0)
>>> wait_s(rule, f, t0 + timedelta(seconds=2))
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from trainer.clock import require_utc

__all__ = [
    "CLIENT_RULE",
    "GLOBAL_RULE",
    "Failures",
    "ThrottleRule",
    "Verdict",
    "current",
    "delay_s",
    "record_failure",
    "try_key",
    "wait_s",
]


@dataclass(frozen=True)
class ThrottleRule:
    """How many failures a scope gets for free, and how long it waits after that."""

    free_failures: int
    base_delay_s: float
    max_delay_s: float
    forget_after_s: float
    #: Whether the right key clears this scope's failures (the client's own, not the global).
    reset_on_success: bool = True

    def __post_init__(self) -> None:
        if self.free_failures < 0 or not (0 < self.base_delay_s <= self.max_delay_s):
            raise ValueError("free_failures must be >= 0 and 0 < base_delay_s <= max_delay_s")
        if not (math.isfinite(self.max_delay_s) and self.forget_after_s > 0):
            raise ValueError("max_delay_s must be finite and forget_after_s positive")


#: One address: five free tries (typos), then 1, 2, 4 … s, at most 5 minutes between tries.
#: 140 wrong keys then take about ten hours instead of seven seconds.
CLIENT_RULE = ThrottleRule(free_failures=5, base_delay_s=1.0, max_delay_s=300.0, forget_after_s=3600.0)
#: Every address together (a guesser spread over many addresses, or many phones behind one
#: proxy): more free tries, a shorter cap, so a flood slows everyone to one guess a minute
#: without locking the instructor out for long.
GLOBAL_RULE = ThrottleRule(
    free_failures=30, base_delay_s=1.0, max_delay_s=60.0, forget_after_s=3600.0, reset_on_success=False
)


@dataclass(frozen=True)
class Failures:
    """Failed tries of one scope: how many, and when the last one was made (aware UTC)."""

    count: int = 0
    last_at: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    """What happened to one try.

    ``checked`` False: refused unseen, retry after ``retry_after_s``. ``checked`` True: the
    key was compared and ``right`` says how it went; after a wrong key ``retry_after_s`` is the
    wait before the next try (0 while free tries remain). ``counts`` are the failure counts of
    each scope after this try, in the order given to :func:`try_key` (for the server log).
    """

    checked: bool
    right: bool
    retry_after_s: float
    counts: tuple[int, ...] = ()


def current(rule: ThrottleRule, failures: Failures, now: datetime) -> Failures:
    """``failures``, or none at all once the scope has been quiet for ``forget_after_s``."""
    now = require_utc(now)
    if failures.last_at is None or now - require_utc(failures.last_at, "last_at") >= timedelta(
        seconds=rule.forget_after_s
    ):
        return Failures()
    return failures


def delay_s(rule: ThrottleRule, count: int) -> float:
    """The wait imposed after the ``count``-th failure: 0 while free, then doubling, capped.

    >>> [delay_s(CLIENT_RULE, n) for n in (5, 6, 7, 8, 20)]
    [0.0, 1.0, 2.0, 4.0, 300.0]
    """
    over = count - rule.free_failures
    if over <= 0:
        return 0.0
    if over > 64:  # 2**64 s is far past any cap; avoid huge integers
        return float(rule.max_delay_s)
    return float(min(rule.base_delay_s * 2 ** (over - 1), rule.max_delay_s))


def wait_s(rule: ThrottleRule, failures: Failures, now: datetime) -> float:
    """Seconds until the scope may try again (0 = now)."""
    now = require_utc(now)
    f = current(rule, failures, now)
    if f.last_at is None:
        return 0.0
    until = f.last_at + timedelta(seconds=delay_s(rule, f.count))
    return max(0.0, (until - now).total_seconds())


def record_failure(rule: ThrottleRule, failures: Failures, now: datetime) -> Failures:
    """The state after one more wrong key at ``now``."""
    f = current(rule, failures, now)
    return Failures(count=f.count + 1, last_at=require_utc(now))


def try_key(
    limits: Sequence[tuple[ThrottleRule, Failures]],
    now: datetime,
    is_right: Callable[[], bool],
) -> tuple[Verdict, list[Failures]]:
    """One try against every scope at once; returns the verdict and each scope's new state.

    ``is_right`` is called only when no scope is waiting, so a refused try never compares the
    key. The caller stores the new states in the same transaction it read the old ones in.
    """
    now = require_utc(now)
    states = [current(rule, f, now) for rule, f in limits]
    waits = [wait_s(rule, f, now) for (rule, _), f in zip(limits, states, strict=True)]
    if any(w > 0 for w in waits):
        return Verdict(False, False, max(waits), tuple(f.count for f in states)), states
    if is_right():
        new = [
            Failures() if rule.reset_on_success else f for (rule, _), f in zip(limits, states, strict=True)
        ]
        return Verdict(True, True, 0.0, tuple(f.count for f in new)), new
    new = [record_failure(rule, f, now) for (rule, _), f in zip(limits, states, strict=True)]
    retry = max((delay_s(rule, f.count) for (rule, _), f in zip(limits, new, strict=True)), default=0.0)
    return Verdict(True, False, retry, tuple(f.count for f in new)), new
