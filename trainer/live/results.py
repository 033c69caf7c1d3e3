"""A scored answer as it is stored (JSON next to the answer row) and read back for the reveal."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from trainer.atlas.core import Atlas
from trainer.live.views import ViewLoader, question_view
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer as ScoredAnswer
from trainer.scoring.score import PinResult, Result, score
from trainer.store import Answer, LiveSession


def _json_safe(value: Any) -> Any:
    """Tuples to lists, non-finite floats to None: the store refuses NaN/inf (so do browsers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def result_to_json(result: Result) -> dict[str, Any]:
    """A scoring result as JSON-ready data (kept with the answer for the CSV and the reveal)."""
    data: dict[str, Any] = _json_safe(asdict(result))
    return data


def _num(value: Any, missing: float = math.nan) -> float:
    """A stored number; ``None`` is what :func:`_json_safe` made of infinity or NaN."""
    return missing if value is None else float(value)


def _pin_from_json(d: Mapping[str, Any]) -> PinResult:
    target = d.get("target_px")
    target_id = d.get("target_id")
    # Scoring gives an extra (unmatched) pin a NaN distance and an off-body pin infinity.
    missing = math.nan if target_id is None else math.inf
    return PinResult(
        x_px=float(d["x_px"]),
        y_px=float(d["y_px"]),
        on_body=bool(d["on_body"]),
        target_id=target_id,
        distance_cm=_num(d["distance_cm"], missing),
        credit=float(d["credit"]),
        direction={str(k): _num(v) for k, v in dict(d.get("direction") or {}).items()},
        direction_text=str(d.get("direction_text") or ""),
        nearest_id=d.get("nearest_id"),
        nearest_name=d.get("nearest_name"),
        nearest_cm=None if d.get("nearest_cm") is None else float(d["nearest_cm"]),
        safety=d.get("safety"),
        target_px=None if target is None else (float(target[0]), float(target[1])),
    )


def result_from_json(data: Mapping[str, Any]) -> Result:
    """The :class:`Result` stored by :func:`result_to_json` (extra keys such as ``elapsed_s``
    are ignored). Raises ``KeyError``/``TypeError``/``ValueError`` on a malformed record."""
    return Result(
        question_id=str(data["question_id"]),
        type=str(data["type"]),
        credit=float(data["credit"]),
        feedback=str(data["feedback"]),
        pins=tuple(_pin_from_json(p) for p in data.get("pins") or ()),
        chosen=tuple(int(c) for c in data.get("chosen") or ()),
        correct_choices=tuple(int(c) for c in data.get("correct_choices") or ()),
        teaching=str(data.get("teaching") or ""),
        references=tuple(str(r) for r in data.get("references") or ()),
        safety=tuple(str(x) for x in data.get("safety") or ()),
        details={str(k): _num(v) for k, v in dict(data.get("details") or {}).items()},
        steps=tuple(result_from_json(x) for x in data.get("steps") or ()),
    )


def rescore(
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    answer: Answer,
    view_loader: ViewLoader | None = None,
) -> Result | None:
    """The full :class:`Result` of a stored answer (for the player's reveal overlay).

    The result stored with the answer is what the points were given for, so it is used as is
    (every phone asks for it at the same moment, after the reveal). An answer stored without
    a readable result is scored again: scoring is pure, so that gives the same result.
    """
    if answer.result:
        try:
            return result_from_json(answer.result)
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    q = questions.get(answer.question_id)
    if q is None:
        return None
    view = question_view(atlas, session, answer.question_index, view_loader)
    pins = answer.pins if isinstance(answer.pins, list) else []
    chosen = answer.pins.get("choices", []) if isinstance(answer.pins, dict) else []
    return score(
        q,
        ScoredAnswer(
            pins_px=tuple((float(x), float(y)) for x, y in pins), choices=tuple(int(c) for c in chosen)
        ),
        view,
        atlas,
    )
