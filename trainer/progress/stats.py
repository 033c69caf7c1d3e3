"""Progress analytics from stored attempts: mastery, accuracy over time, direction bias, streaks.

Pure functions over plain records; the page only renders what they return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from trainer.geometry import direction_words
from trainer.scoring.score import count_noun

MIN_PINS_FOR_BIAS = 3
MIN_BIAS_CM = 0.3
# Learners see whole percentages: "73%", never "73.09%" (tables format credit × 100 with this).
PERCENT_FORMAT = "%.0f%%"


def percent(fraction: float | None) -> float | None:
    """A 0–1 credit or recall as a whole percentage for a table cell (None stays empty).

    >>> percent(0.730912), percent(None)
    (73.0, None)
    """
    return None if fraction is None else float(round(fraction * 100))


class AttemptLike(Protocol):
    """A stored attempt or a tab's anonymous one: read-only, as both are frozen."""

    @property
    def question_id(self) -> str: ...
    @property
    def view_id(self) -> str | None: ...
    @property
    def credit(self) -> float: ...
    @property
    def duration_ms(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def distances_cm(self) -> Any: ...
    @property
    def directions(self) -> Any: ...


@dataclass(frozen=True)
class Bias:
    region: str
    pins: int
    mean_cm: dict[str, float]  # proximal / lateral / anterior components of (pin - target)
    magnitude_cm: float
    words: str
    vocabulary: str = "leg"  # "foot" for pins placed on views of the foot
    split: bool = False  # the region also has pins on views of the other vocabulary

    def sentence(self, region_name: str) -> str:
        place = region_name.lower() + (
            " (views of the foot)" if self.split and self.vocabulary == "foot" else ""
        )
        pins = count_noun(self.pins, "pin")
        if self.magnitude_cm < MIN_BIAS_CM:
            return f"On the {place} your pins show no consistent direction error ({pins})."
        return f"On the {place} you place sites {self.words} on average ({pins})."


def _pin_directions(a: AttemptLike) -> list[dict[str, float]]:
    dirs = a.directions or []
    return [d for d in dirs if isinstance(d, dict) and d]


def direction_bias(
    attempts: Iterable[AttemptLike],
    region_of_view: dict[str, str],
    vocabulary_of_view: dict[str, str] | None = None,
) -> list[Bias]:
    """Mean error vector per region, in anatomical words ("1.3 cm too proximal").

    Directions are stored per pin as components of (pin − target) in the view's
    anatomical frame, so mirrored sides add up correctly. Pins on views of the foot
    (``vocabulary_of_view``) are summed apart and read in the foot's words ("too far toward
    the heel"), as Practice told them.
    """
    vocab = vocabulary_of_view or {}
    groups: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for a in attempts:
        region = region_of_view.get(a.view_id or "")
        if region is None:
            continue
        groups[(region, vocab.get(a.view_id or "", "leg"))].extend(_pin_directions(a))
    out = []
    for (region, words_of), dirs in sorted(groups.items()):
        if len(dirs) < MIN_PINS_FOR_BIAS:
            continue
        mean = {k: float(np.mean([d.get(k, 0.0) for d in dirs])) for k in ("proximal", "lateral", "anterior")}
        mag = float(np.linalg.norm(list(mean.values())))
        words = direction_words(mean, min_cm=MIN_BIAS_CM, vocabulary=words_of, too=True)
        split = any(
            r == region and v != words_of and len(d) >= MIN_PINS_FOR_BIAS for (r, v), d in groups.items()
        )
        out.append(Bias(region, len(dirs), mean, mag, words, words_of, split))
    return out


@dataclass(frozen=True)
class DayPoint:
    day: date
    attempts: int
    mean_credit: float
    mean_distance_cm: float | None


def accuracy_over_time(attempts: Sequence[AttemptLike]) -> list[DayPoint]:
    by_day: dict[date, list[AttemptLike]] = defaultdict(list)
    for a in attempts:
        by_day[a.created_at.date()].append(a)
    out = []
    for day in sorted(by_day):
        rows = by_day[day]
        dists = [float(d) for a in rows for d in (a.distances_cm or []) if d is not None and np.isfinite(d)]
        out.append(
            DayPoint(
                day,
                len(rows),
                float(np.mean([a.credit for a in rows])),
                float(np.mean(dists)) if dists else None,
            )
        )
    return out


def streak_days(attempts: Iterable[AttemptLike], today: date) -> int:
    """Consecutive days with practice, ending today (or yesterday, so a streak survives the morning)."""
    days = {a.created_at.date() for a in attempts}
    start = today if today in days else today - timedelta(days=1)
    n = 0
    while start - timedelta(days=n) in days:
        n += 1
    return n


def minutes_practised(attempts: Iterable[AttemptLike]) -> float:
    return sum((a.duration_ms or 0) for a in attempts) / 60000.0


@dataclass(frozen=True)
class Mastery:
    key: str
    attempts: int
    mean_credit: float
    retrievability: float | None


def mastery(
    attempts: Iterable[AttemptLike],
    key_of: dict[str, list[str]],
    retrievability_of: dict[str, float] | None = None,
) -> list[Mastery]:
    """Mean credit per key (region or nerve) from question→keys, with FSRS retrievability if known."""
    credits: dict[str, list[float]] = defaultdict(list)
    for a in attempts:
        for k in key_of.get(a.question_id, []):
            credits[k].append(a.credit)
    ret = retrievability_of or {}
    return sorted(
        (Mastery(k, len(v), float(np.mean(v)), ret.get(k)) for k, v in credits.items()),
        key=lambda m: (m.mean_credit, m.key),
    )


def weakest(masteries: Sequence[Mastery], n: int = 5) -> list[Mastery]:
    """Lowest recall first (retrievability when known, else mean credit)."""
    return sorted(
        masteries,
        key=lambda m: (m.retrievability if m.retrievability is not None else m.mean_credit, m.mean_credit),
    )[:n]
