"""What the class sees at the reveal: the pins, mean error, % within tolerance, the choice
counts and the largest cluster of wrong pins in words ("Most of you went 2.1 cm too distal.")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree

from trainer.atlas.core import Atlas
from trainer.geometry import VOCABULARIES, direction_words
from trainer.live.views import ViewLoader, question_view
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import direction_vocabulary
from trainer.store import LiveSession, Store

#: Wrong pins within this distance (on the body) of a pin count as one cluster.
CLUSTER_RADIUS_CM = 1.5


def heatmap_pins(store: Store, session_id: str, question_index: int) -> list[tuple[float, float]]:
    """Every pin placed on a question so far (host only: this is where the class thinks it is)."""
    out: list[tuple[float, float]] = []
    for a in store.list_answers(session_id, question_index):
        if isinstance(a.pins, list):
            out.extend((float(x), float(y)) for x, y in a.pins)
    return out


# --------------------------------------------------------------------------------------------
# Reveal statistics
# --------------------------------------------------------------------------------------------


def too_words(components_cm: Mapping[str, float], min_cm: float = 0.3, vocabulary: str = "leg") -> str:
    """Direction of an error as a class hears it, largest component first (at most two).

    ``vocabulary`` is ``"foot"`` on views of the foot (:func:`trainer.scoring.score.direction_vocabulary`).

    >>> too_words({"proximal": -2.08, "lateral": 0.1, "anterior": 0.0})
    '2.1 cm too distal'
    >>> too_words({"proximal": 0.5, "lateral": -1.2, "anterior": 0.0})
    '1.2 cm too medial and 0.5 cm too proximal'
    >>> too_words({"proximal": -0.4, "lateral": 0.0, "anterior": -2.0}, vocabulary="foot")
    '2.0 cm too far toward the heel and 0.4 cm too plantar'
    """
    largest = dict(
        sorted(
            ((a, v) for a, v in components_cm.items() if a in VOCABULARIES[vocabulary] and abs(v) >= min_cm),
            key=lambda kv: (-round(abs(kv[1]), 4), list(VOCABULARIES[vocabulary]).index(kv[0])),
        )[:2]
    )
    words = direction_words(largest, min_cm=min_cm, vocabulary=vocabulary, too=True)
    return words if largest else "close to the target, but outside the tolerance"


@dataclass(frozen=True)
class PinStat:
    """One pin of one answer, as the reveal needs it."""

    x_px: float
    y_px: float
    credit: float
    distance_cm: float | None
    direction: dict[str, float]
    on_body: bool
    wrong: bool


@dataclass(frozen=True)
class WrongCluster:
    """The densest group of wrong pins and its mean error direction (body cm, anatomical axes)."""

    size: int
    wrong_total: int
    pins_total: int
    direction_cm: dict[str, float]
    center_px: tuple[float, float]
    sentence: str


@dataclass(frozen=True)
class RevealStats:
    question_index: int
    question_id: str
    answered: int
    players: int
    mean_error_cm: float | None
    within_tolerance_pct: float | None
    mean_credit_pct: float | None
    off_body: int
    cluster: WrongCluster | None
    pins: tuple[PinStat, ...] = ()
    choice_counts: tuple[int, ...] = ()
    correct_pct: float | None = None
    summary: str = field(default="")


def largest_wrong_cluster(
    points_cm: np.ndarray,
    directions: Sequence[Mapping[str, float]],
    centers_px: np.ndarray,
    pins_total: int,
    radius_cm: float = CLUSTER_RADIUS_CM,
    vocabulary: str = "leg",
) -> WrongCluster | None:
    """The most populated disc of ``radius_cm`` (on the body) centred on a wrong pin.

    One pass with a k-d tree, deterministic (ties go to the earliest pin), O(n log n): a
    300-phone class is clustered in well under a millisecond. The direction is the mean of the
    members' error components, so "2.1 cm too distal" is the group's typical miss.

    >>> pts = np.array([[0, -2.0, 0], [0.2, -2.1, 0], [0.1, -2.2, 0], [5, 5, 0]])
    >>> dirs = [{"proximal": -2.0}, {"proximal": -2.1}, {"proximal": -2.2}, {"proximal": 5.0}]
    >>> c = largest_wrong_cluster(pts, dirs, np.zeros((4, 2)), pins_total=5)
    >>> (c.size, c.sentence)
    (3, 'Most of you went 2.1 cm too distal.')
    """
    n = len(points_cm)
    if n == 0:
        return None
    tree = cKDTree(np.asarray(points_cm, dtype=np.float64))
    neighbours = tree.query_ball_point(np.asarray(points_cm, dtype=np.float64), r=radius_cm)
    counts = np.array([len(nb) for nb in neighbours])
    leader = int(np.argmax(counts))
    members = sorted(neighbours[leader])
    axes = ("proximal", "lateral", "anterior")
    mean_dir = {a: float(np.mean([directions[i].get(a, 0.0) for i in members])) for a in axes}
    center = np.asarray(centers_px, dtype=np.float64)[members].mean(axis=0)
    words = too_words(mean_dir, vocabulary=vocabulary)
    size = len(members)
    if size * 2 > pins_total:
        sentence = f"Most of you went {words}."
    elif size == 1:
        sentence = (
            f"The wrong pins were scattered; the nearest miss went {words}."
            if n == 1
            else (f"The {n} wrong pins were scattered (no two within {radius_cm:g} cm); one went {words}.")
        )
    else:
        sentence = f"The largest group of wrong pins ({size} of {pins_total} pins) went {words}."
    return WrongCluster(
        size=size,
        wrong_total=n,
        pins_total=pins_total,
        direction_cm=mean_dir,
        center_px=(float(center[0]), float(center[1])),
        sentence=sentence,
    )


def reveal_stats(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    session: LiveSession,
    question_index: int,
    *,
    players: int | None = None,
    view_loader: ViewLoader | None = None,
) -> RevealStats:
    """Mean error, % within tolerance and the largest wrong cluster for one question.

    * mean error: mean of each answer's (mean) distance in cm, answers with a pin on the body;
    * within tolerance: answers whose distance is at most the question's ``tolerance_cm`` and
      that scored (a pin in a safety radius does not count, however close);
    * wrong pins: pins on the body farther than the tolerance (or unsafe); clustered on the body.
    """
    qid = session.question_ids[question_index]
    q = questions.get(qid)
    answers = store.list_answers(session.id, question_index)
    n_players = players if players is not None else len(store.list_players(session.id))
    tol = q.tolerance_cm if q is not None else 1.0
    distances = [a.distance_cm for a in answers if a.distance_cm is not None]
    pins: list[PinStat] = []
    for a in answers:
        for p in a.result.get("pins", []) or []:
            d = p.get("distance_cm")
            on_body = bool(p.get("on_body"))
            targeted = p.get("target_id") is not None
            credit = float(p.get("credit") or 0.0)
            wrong = on_body and targeted and (d is None or d > tol + 1e-9 or bool(p.get("safety")))
            pins.append(
                PinStat(
                    float(p["x_px"]),
                    float(p["y_px"]),
                    credit,
                    d,
                    dict(p.get("direction") or {}),
                    on_body,
                    wrong,
                )
            )
    within = sum(
        1 for a in answers if a.distance_cm is not None and a.distance_cm <= tol + 1e-9 and a.credit > 0
    )
    cluster = None
    wrong = [p for p in pins if p.wrong]
    if wrong:
        view = question_view(atlas, session, question_index, view_loader)
        if view is not None:
            xy = np.array([[p.x_px, p.y_px] for p in wrong])
            pts_cm, _ = view.lift(xy[:, 0], xy[:, 1])
            cluster = largest_wrong_cluster(
                pts_cm,
                [p.direction for p in wrong],
                xy,
                pins_total=sum(1 for p in pins if p.on_body),
                vocabulary=direction_vocabulary(atlas, view.view_id),
            )
    counts: tuple[int, ...] = ()
    correct_pct = None
    if q is not None and q.choices and not any(isinstance(a.pins, list) and a.pins for a in answers):
        tally = [0] * len(q.choices)
        for a in answers:
            for c in a.pins.get("choices", []) if isinstance(a.pins, dict) else []:
                if 0 <= int(c) < len(tally):
                    tally[int(c)] += 1
        counts = tuple(tally)
        correct_pct = 100.0 * sum(1 for a in answers if a.credit >= 0.999) / len(answers) if answers else None
    stats = RevealStats(
        question_index=question_index,
        question_id=qid,
        answered=len(answers),
        players=n_players,
        mean_error_cm=float(np.mean(distances)) if distances else None,
        within_tolerance_pct=100.0 * within / len(answers) if answers and (distances or pins) else None,
        mean_credit_pct=100.0 * float(np.mean([a.credit for a in answers])) if answers else None,
        off_body=sum(1 for p in pins if not p.on_body),
        cluster=cluster,
        pins=tuple(pins),
        choice_counts=counts,
        correct_pct=correct_pct,
    )
    return _with_summary(stats)


def _with_summary(s: RevealStats) -> RevealStats:
    parts = [f"{s.answered} of {s.players} answered."]
    if s.mean_error_cm is not None:
        parts.append(f"Mean error {s.mean_error_cm:.1f} cm.")
    if s.within_tolerance_pct is not None:
        parts.append(f"{s.within_tolerance_pct:.0f}% within tolerance.")
    if s.correct_pct is not None:
        parts.append(f"{s.correct_pct:.0f}% correct.")
    if s.cluster is not None:
        parts.append(s.cluster.sentence)
    return replace(s, summary=" ".join(parts))
