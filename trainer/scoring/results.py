"""What scoring returns: a result per answer (and per case step), a result per pin."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PinResult:
    x_px: float
    y_px: float
    on_body: bool
    target_id: str | None
    distance_cm: float
    credit: float
    direction: dict[str, float]
    direction_text: str
    nearest_id: str | None
    nearest_name: str | None
    nearest_cm: float | None
    safety: str | None
    target_px: tuple[float, float] | None


@dataclass(frozen=True)
class Result:
    question_id: str
    type: str
    credit: float
    feedback: str
    pins: tuple[PinResult, ...] = ()
    chosen: tuple[int, ...] = ()
    correct_choices: tuple[int, ...] = ()
    teaching: str = ""
    references: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    details: dict[str, float] = field(default_factory=dict)
    steps: tuple[Result, ...] = ()
    hints: tuple[str, ...] = ()  # hint ids the learner used (credit already lowered for them)

    @property
    def percent(self) -> int:
        return int(round(self.credit * 100))

    @property
    def mean_distance_cm(self) -> float | None:
        ds = [p.distance_cm for p in self.pins if p.target_id is not None]
        return float(np.mean(ds)) if ds else None
