"""The Progress page's decisions, without Streamlit: what a learner's history shows, and what
each "your data" action stores and says.

The store and the clock are passed in. Texts come back plain (the page escapes atlas names);
``Notice`` texts are markdown already, with user-typed names made literal.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from trainer.atlas.core import Atlas
from trainer.errors import TrainerError
from trainer.plotting import go
from trainer.progress.learning import Queue, attempts_csv, nerve_retrievability, review_queue
from trainer.progress.stats import (
    MIN_BIAS_CM,
    AttemptLike,
    DayPoint,
    Mastery,
    accuracy_over_time,
    direction_bias,
    mastery,
    minutes_practised,
    percent,
    streak_days,
    weakest,
)
from trainer.quiz.models import QuestionModel
from trainer.quiz.session import question_nerves, question_region
from trainer.rules.profiles import key_hash
from trainer.safetext import literal_markdown
from trainer.scoring.score import count_noun, direction_vocabulary
from trainer.store import Learner, Store
from trainer.store.learner_file import read_file

#: Questions a "Practise these" or review link carries at most (a URL has to stay short).
MAX_LINKED = 20
MAX_PRACTISE_LINKED = 10
WEAKEST_SHOWN = 5
NO_PROFILE = (
    "You are studying without a profile: this page shows this tab's answers only. "
    "Create a profile in the sidebar to keep your progress and get a review queue."
)
NOTHING_DUE = "Nothing is due for review right now."
NO_BIAS_YET = "Answer at least three pin questions in a region to see whether your errors lean one way."


@dataclass(frozen=True)
class AnonymousAttempt:
    """An answer given without a profile: kept in the tab's memory only (Practice appends them)."""

    question_id: str
    view_id: str | None
    credit: float
    duration_ms: int | None
    created_at: datetime
    distances_cm: Any = ()
    directions: Any = ()

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> AnonymousAttempt:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__ if k in row})


@dataclass(frozen=True)
class Metric:
    label: str
    value: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class BiasLine:
    """A sentence about where the learner's pins lean, and the view to draw its arrow on."""

    key: str
    sentence: str
    view_id: str | None
    mean_cm: dict[str, float]


@dataclass(frozen=True)
class WeakItem:
    name: str
    detail: str  # "mean score 40% over 3 answers, recall 35%"
    practise: Link | None


@dataclass(frozen=True)
class ProgressView:
    """Everything above "Your data"; ``empty`` means there is no answer to show yet."""

    anonymous: bool
    empty: bool
    metrics: tuple[Metric, ...] = ()
    review: Link | None = None
    review_note: str | None = None
    by_region: tuple[dict[str, Any], ...] = ()
    by_nerve: tuple[dict[str, Any], ...] = ()
    days: tuple[DayPoint, ...] = ()
    biases: tuple[BiasLine, ...] = ()
    weakest: tuple[WeakItem, ...] = ()


def accuracy_figure(days: Sequence[DayPoint]) -> go.Figure:
    """Mean score (%) and mean distance (cm) per day, on two axes."""
    fig = go.Figure()
    labels = [d.day.isoformat() for d in days]
    fig.add_trace(
        go.Scatter(x=labels, y=[d.mean_credit * 100 for d in days], name="mean score %", mode="lines+markers")
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[d.mean_distance_cm for d in days],
            name="mean distance (cm)",
            mode="lines+markers",
            yaxis="y2",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Accuracy over time",
        yaxis={"title": "score %", "range": [0, 105]},
        yaxis2={"title": "cm", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h"},
    )
    return fig


def practice_url(question_ids: Sequence[str]) -> str:
    return "practice?questions=" + ",".join(question_ids)


def progress_view(
    store: Store,
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    learner_id: str | None,
    anonymous: Sequence[Mapping[str, Any]],
    now: datetime,
) -> ProgressView:
    """The learner's history (or, without a profile, this tab's ``anonymous`` answers) as shown."""
    attempts: list[AttemptLike]
    if learner_id is None:
        attempts = [AnonymousAttempt.from_dict(a) for a in anonymous]
    else:
        attempts = list(store.list_attempts(learner_id))
    if not attempts:
        return ProgressView(anonymous=learner_id is None, empty=True)
    queue = review_queue(store, learner_id, now, list(questions)) if learner_id else None
    recall = nerve_retrievability(store, learner_id, now) if learner_id else {}
    return summarise(atlas, questions, attempts, now, queue, recall, anonymous=learner_id is None)


def summarise(
    atlas: Atlas,
    questions: Mapping[str, QuestionModel],
    attempts: Sequence[AttemptLike],
    now: datetime,
    queue: Queue | None,
    recall: Mapping[str, float],
    *,
    anonymous: bool,
) -> ProgressView:
    """The pure part of :func:`progress_view`: from answers, review queue and recall to what is shown."""
    minutes = minutes_practised(attempts)
    metrics = (
        Metric("Answers", str(len(attempts))),
        Metric("Mean score", f"{sum(a.credit for a in attempts) / len(attempts) * 100:.0f}%"),
        Metric("Streak", f"{streak_days(attempts, now.astimezone(UTC).date())} d"),
        Metric("Practised", "< 1 min" if minutes < 1 else f"{minutes:.0f} min"),
    )
    review, note = None, None
    if queue is not None:
        if queue.due_question_ids:
            review = Link(
                f"Review queue: {len(queue.due_question_ids)} due today",
                practice_url(queue.due_question_ids[:MAX_LINKED]),
            )
        else:
            note = NOTHING_DUE

    region_of_q = {qid: [r] for qid, q in questions.items() if (r := question_region(atlas, q))}
    nerves_of_q = {qid: sorted(question_nerves(atlas, q)) for qid, q in questions.items()}
    by_nerve = mastery(attempts, nerves_of_q, dict(recall))
    return ProgressView(
        anonymous=anonymous,
        empty=False,
        metrics=metrics,
        review=review,
        review_note=note,
        by_region=tuple(
            {
                "Region": atlas.regions[m.key].name if m.key in atlas.regions else m.key,
                "Answers": m.attempts,
                "Mean score": percent(m.mean_credit),
            }
            for m in mastery(attempts, region_of_q)
        ),
        by_nerve=tuple(
            {
                "Nerve": atlas.name_of(m.key),
                "Answers": m.attempts,
                "Mean score": percent(m.mean_credit),
                "Recall now": percent(m.retrievability),
            }
            for m in by_nerve
        ),
        days=tuple(accuracy_over_time(attempts)),
        biases=tuple(_bias_lines(atlas, attempts)),
        weakest=tuple(_weak_items(atlas, by_nerve, nerves_of_q)),
    )


def _bias_lines(atlas: Atlas, attempts: Sequence[AttemptLike]) -> list[BiasLine]:
    region_of_view = {v.id: v.region for v in atlas.views.values()}
    vocabulary_of_view = {v.id: direction_vocabulary(atlas, v.id) for v in atlas.views.values()}
    out = []
    for b in direction_bias(attempts, region_of_view, vocabulary_of_view):
        view_id = None
        if b.magnitude_cm >= MIN_BIAS_CM:  # an arrow on a right (or midline) view in the same words
            view_id = next(
                (
                    v.id
                    for v in atlas.views_of_region(b.region)
                    if v.side in ("right", "midline") and vocabulary_of_view[v.id] == b.vocabulary
                ),
                None,
            )
        out.append(
            BiasLine(
                f"{b.region}_{b.vocabulary}", b.sentence(atlas.regions[b.region].name), view_id, b.mean_cm
            )
        )
    return out


def _weak_items(
    atlas: Atlas, by_nerve: Sequence[Mastery], nerves_of_q: Mapping[str, list[str]]
) -> list[WeakItem]:
    questions_of: dict[str, list[str]] = defaultdict(list)
    for qid, nerves in nerves_of_q.items():
        for n in nerves:
            questions_of[n].append(qid)
    out = []
    for m in weakest(by_nerve, WEAKEST_SHOWN):
        recall = f", recall {m.retrievability * 100:.0f}%" if m.retrievability is not None else ""
        qids = questions_of.get(m.key, [])[:MAX_PRACTISE_LINKED]
        out.append(
            WeakItem(
                atlas.name_of(m.key),
                f"mean score {m.mean_credit * 100:.0f}% over {count_noun(m.attempts, 'answer')}{recall}",
                Link("Practise these", practice_url(qids)) if qids else None,
            )
        )
    return out


# -- your data: every call passes this browser's key hash; the store checks it in the transaction


@dataclass(frozen=True)
class Notice:
    """A message for the learner after an action; ``text`` is markdown with user text made literal."""

    kind: Literal["success", "error"]
    text: str


@dataclass(frozen=True)
class Downloads:
    csv_name: str
    csv: str
    json_name: str
    json: str


def downloads(store: Store, learner: Learner, key_hash_: str) -> Downloads:
    """The learner's history as CSV and everything as JSON (only for a browser holding the profile)."""
    exported = store.export_learner(learner.id, key_hash=key_hash_)
    stem = f"nerve-trainer-{learner.display_name}"
    return Downloads(
        f"{stem}.csv",
        attempts_csv(store.list_attempts(learner.id)),
        f"{stem}.json",
        json.dumps(exported, default=str, indent=1),
    )


@dataclass(frozen=True)
class TransferShown:
    learner_id: str
    code: str
    expires_at: datetime


def make_transfer_code(store: Store, learner_id: str, key_hash_: str, now: datetime) -> TransferShown:
    code, expires = store.create_transfer_code(learner_id, now=now, key_hash=key_hash_)
    return TransferShown(learner_id, code.text, expires)


def transfer_to_show(shown: TransferShown | None, learner_id: str, now: datetime) -> TransferShown | None:
    """The code made on this page for this profile, while it still works."""
    return shown if shown is not None and shown.learner_id == learner_id and shown.expires_at > now else None


def rename(store: Store, learner_id: str, key_hash_: str, new_name: str) -> Notice:
    try:
        renamed = store.rename_learner(learner_id, new_name, key_hash=key_hash_)
    except TrainerError as exc:
        return Notice("error", literal_markdown(str(exc)))
    return Notice("success", f"Renamed to {literal_markdown(renamed.display_name)}.")


def can_delete(typed: str, learner: Learner) -> bool:
    """Deleting is enabled once the learner has typed the profile's name exactly."""
    return typed == learner.display_name


def delete(store: Store, learner: Learner, key_hash_: str) -> tuple[bool, Notice]:
    """Delete the profile with every answer and card; (deleted?, what to say)."""
    try:
        counts = store.delete_learner(learner.id, key_hash=key_hash_)
    except TrainerError as exc:
        return False, Notice("error", literal_markdown(str(exc)))
    return True, Notice(
        "success",
        f"Deleted {literal_markdown(learner.display_name)}: "
        f"{count_noun(counts['attempts'], 'answer')} and "
        f"{count_noun(counts['review_cards'], 'review card')}. "
        "You are studying without a profile.",
    )


@dataclass(frozen=True)
class Imported:
    """An import's outcome: the profile (held by ``key``) and what to say, or the file's problems."""

    learner: Learner | None
    notice: Notice | None
    problems: str | None


def import_profile(store: Store, raw: bytes, key: str, now: datetime) -> Imported:
    """Store an exported file as a new profile held by ``key``; nothing is stored if it is refused."""
    try:
        checked = read_file(raw, now)
        learner = store.import_learner(checked, now=now, key_hash=key_hash(key))
    except TrainerError as exc:
        return Imported(None, None, str(exc))
    return Imported(
        learner,
        Notice(
            "success",
            f"Imported {literal_markdown(learner.display_name)} "
            f"({count_noun(len(checked.attempts), 'answer')}); it is selected "
            "and kept in this browser.",
        ),
        None,
    )
