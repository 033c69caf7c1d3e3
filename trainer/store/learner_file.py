"""The learner export file: its format, its limits, and every check an import passes first.

An imported file is foreign input: it may come from an older trainer, a text editor or an
attacker. Every value is checked for type, range, size and time stamp **before anything is
stored**, so a bad file is refused with a list of what is wrong and never breaks the
profile's Progress page later. The problems are reported all at once, each as
``attempts[3].credit: ...``, like the validator's ``file: id: field: problem`` lines.

Pure: no database, time passed in. :meth:`trainer.store.Store.export_learner` writes this
format through :func:`to_document`; :meth:`~trainer.store.Store.import_learner` reads it
through :func:`check_document`.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 1, 5, tzinfo=UTC)
>>> doc = {"format": EXPORT_FORMAT, "format_version": 1, "attempts": [], "review_cards": [],
...        "learner": {"id": "a1", "display_name": "Ana", "created_at": "2026-01-01T00:00:00+00:00"}}
>>> check_document(doc, now).learner.display_name
'Ana'
>>> doc["attempts"] = [{"credit": float("nan"), "color": 1}]
>>> check_document(doc, now)
Traceback (most recent call last):
...
trainer.store.learner_file.LearnerFileError: This file cannot be imported (5 problems):
attempts[0]: unknown field 'color'
attempts[0]: missing created_at
attempts[0]: missing id
attempts[0]: missing question_id
attempts[0].credit: must be a number from 0 to 1, got NaN
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from trainer.errors import RuleError, UploadError
from trainer.rules.classroom import clean_nickname
from trainer.store.records import Attempt, Learner, ReviewCardRecord

EXPORT_FORMAT = "nerve-mapping-trainer/learner"
EXPORT_FORMAT_VERSION = 1
DISPLAY_NAME_MAX_CHARS = 40

#: Largest file read at all (a year of daily practice is well under 2 MB).
MAX_IMPORT_BYTES = 5_000_000
MAX_ATTEMPTS = 50_000
MAX_REVIEW_CARDS = 20_000
#: Pins one attempt may carry (multi-site and trace questions use a few dozen at most).
MAX_PINS = 100
#: Axes one direction may name (the view frames use three).
MAX_DIRECTION_KEYS = 6
MAX_DIRECTION_CM = 1_000.0
MAX_DISTANCE_CM = 1_000.0
#: Pixel coordinates beyond this are not on any rendered view.
MAX_PIN_PX = 100_000.0
#: A question left open for a week is still an answer; longer is a corrupt number.
MAX_DURATION_MS = 7 * 24 * 3600 * 1000
#: Time stamps before this are not from this trainer; after ``now`` + slack are from a wrong clock.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
#: FSRS schedules reviews ahead; a due date is accepted up to this far past ``now``.
MAX_DUE_AHEAD = timedelta(days=36_600)
#: Problems listed in the message; the rest are counted.
MAX_LISTED_PROBLEMS = 20

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_TOP_KEYS = {"format", "format_version", "learner", "attempts", "review_cards"}
_LEARNER_KEYS = {"id", "display_name", "created_at"}
_ATTEMPT_KEYS = {
    "id",
    "question_id",
    "view_id",
    "side",
    "body_type",
    "pins",
    "distances_cm",
    "directions",
    "credit",
    "duration_ms",
    "created_at",
    "hints",
}
_ATTEMPT_OPTIONAL = {
    "view_id",
    "side",
    "body_type",
    "pins",
    "distances_cm",
    "directions",
    "duration_ms",
    "hints",
}
_HINT_RE = re.compile(r"^[a-z_]{1,32}$")
MAX_HINTS = 10
_CARD_KEYS = {"card_id", "card", "due", "updated_at"}
_FSRS_CARD_KEYS = {"card_id", "state", "step", "stability", "difficulty", "due", "last_review"}
_SIDES = (None, "right", "left", "midline")


class LearnerFileError(UploadError):
    """An import was refused; ``problems`` lists every finding as ``where: what``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_LISTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        lines = [*shown, *([f"… and {more} more"] if more > 0 else [])]
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"This file cannot be imported ({len(self.problems)} {noun}):\n" + "\n".join(lines))


@dataclass(frozen=True)
class LearnerFile:
    """A checked export: safe to store as it is."""

    learner: Learner
    attempts: tuple[Attempt, ...] = ()
    review_cards: tuple[ReviewCardRecord, ...] = field(default_factory=tuple)


def to_document(
    learner: Learner, attempts: Iterable[Attempt], cards: Iterable[ReviewCardRecord]
) -> dict[str, Any]:
    """One learner as the JSON-ready export document (the inverse of :func:`check_document`)."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "learner": {
            "id": learner.id,
            "display_name": learner.display_name,
            "created_at": learner.created_at.isoformat(),
        },
        "attempts": [
            {
                "id": a.id,
                "question_id": a.question_id,
                "view_id": a.view_id,
                "side": a.side,
                "body_type": a.body_type,
                "pins": a.pins,
                "distances_cm": a.distances_cm,
                "directions": a.directions,
                "credit": a.credit,
                "duration_ms": a.duration_ms,
                "created_at": a.created_at.isoformat(),
                "hints": list(a.hints),
            }
            for a in attempts
        ],
        "review_cards": [
            {
                "card_id": c.card_id,
                "card": c.card,
                "due": c.due.isoformat(),
                "updated_at": c.updated_at.isoformat(),
            }
            for c in cards
        ],
    }


def read_file(raw: bytes, now: datetime) -> LearnerFile:
    """Decode and check an uploaded file's bytes (size, UTF-8, JSON, then :func:`check_document`)."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise LearnerFileError(
            [f"the file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_IMPORT_BYTES / 1e6:.0f} MB"]
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise LearnerFileError(["the file is not UTF-8 text, so it is not a trainer export"]) from None
    except json.JSONDecodeError as exc:
        raise LearnerFileError([f"the file is not valid JSON ({exc.msg}, line {exc.lineno})"]) from None
    except RecursionError:
        raise LearnerFileError(
            ["the file nests lists or objects too deeply to be a trainer export"]
        ) from None
    return check_document(data, now)


def check_document(data: object, now: datetime) -> LearnerFile:
    """Check every field of an export document; raise :class:`LearnerFileError` listing all problems."""
    c = _Checker(now)
    if not isinstance(data, Mapping):
        raise LearnerFileError(["the file is not a trainer export (expected a JSON object)"])
    if data.get("format") != EXPORT_FORMAT:
        raise LearnerFileError(
            [
                f"format: expected {EXPORT_FORMAT!r}, got {_show(data.get('format'))}: "
                "this is not a learner export from this trainer"
            ]
        )
    c.keys("file", data, _TOP_KEYS, required={"format", "format_version", "learner"})
    version = data.get("format_version")
    if not _is_int(version) or not 1 <= version <= EXPORT_FORMAT_VERSION:
        if _is_int(version) and version > EXPORT_FORMAT_VERSION:
            c.problem(
                "format_version",
                f"{version} is newer than this trainer reads ({EXPORT_FORMAT_VERSION}); "
                "upgrade the trainer before importing",
            )
        else:
            c.problem(
                "format_version",
                f"must be a whole number from 1 to {EXPORT_FORMAT_VERSION}, got {_show(version)}",
            )
    learner = c.learner(data["learner"]) if "learner" in data else None
    attempts = c.attempts(data.get("attempts", []), learner.id if learner else "")
    cards = c.cards(data.get("review_cards", []), learner.id if learner else "")
    if c.problems or learner is None:
        raise LearnerFileError(c.problems or ["learner: missing"])
    return LearnerFile(learner, tuple(attempts), tuple(cards))


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> TypeGuard[int | float]:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _show(v: object) -> str:
    """A short, safe rendering of a bad value for the message."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v).replace("nan", "NaN").replace("inf", "Infinity")
    if isinstance(v, list | dict):
        return f"a {'list' if isinstance(v, list) else 'JSON object'} of {len(v)} items"
    text = (
        json.dumps(v, ensure_ascii=False)
        if isinstance(v, str | int | float | bool | None)
        else type(v).__name__
    )
    return text if len(text) <= 40 else text[:37] + '…"'


class _Checker:
    """Collects problems; each method returns the checked value or None after recording why not."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.problems: list[str] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def keys(self, where: str, obj: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
        unknown = sorted(str(k) for k in obj if k not in allowed)
        if unknown:
            shown = ", ".join(repr(k[:40]) for k in unknown[:5]) + (" …" if len(unknown) > 5 else "")
            self.problem(where, f"unknown field{'s' if len(unknown) > 1 else ''} {shown}")
        for k in sorted(required - set(obj)):
            self.problem(where, f"missing {k}")

    def text(
        self,
        where: str,
        v: object,
        max_chars: int,
        *,
        optional: bool = False,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v or len(v) > max_chars or (pattern and not pattern.match(v)):
            kind = "letters, digits, '-' or '_'" if pattern else "text"
            self.problem(where, f"must be {kind} of 1 to {max_chars} characters, got {_show(v)}")
            return None
        return v

    def time(self, where: str, v: object, latest: datetime | None = None) -> datetime | None:
        latest = latest or self.now + FUTURE_SLACK
        if not isinstance(v, str) or len(v) > 40:
            self.problem(where, f"must be an ISO 8601 time with a time zone, got {_show(v)}")
            return None
        try:
            t = datetime.fromisoformat(v)
        except ValueError:
            self.problem(where, f"is not a date and time: {_show(v)}")
            return None
        if t.tzinfo is None:
            self.problem(where, f"has no time zone: {_show(v)} (exports write UTC, e.g. +00:00)")
            return None
        t = t.astimezone(UTC)
        if not EARLIEST <= t <= latest:
            self.problem(where, f"{v} is outside {EARLIEST:%Y-%m-%d} to {latest:%Y-%m-%d}")
            return None
        return t

    def learner(self, raw: object) -> Learner | None:
        if not isinstance(raw, Mapping):
            self.problem("learner", f"must be a JSON object, got {_show(raw)}")
            return None
        n = len(self.problems)
        self.keys("learner", raw, _LEARNER_KEYS, _LEARNER_KEYS)
        learner_id = self.text("learner.id", raw.get("id"), 36, pattern=_ID_RE) if "id" in raw else None
        name = None
        if "display_name" in raw:
            try:
                name = clean_nickname(raw["display_name"], max_chars=DISPLAY_NAME_MAX_CHARS)
            except RuleError as exc:
                self.problem("learner.display_name", str(exc).replace("nickname", "name"))
        created = self.time("learner.created_at", raw.get("created_at")) if "created_at" in raw else None
        if len(self.problems) > n or learner_id is None or name is None or created is None:
            return None
        return Learner(id=learner_id, display_name=name, created_at=created)

    def _list(self, where: str, raw: object, limit: int) -> list[Any]:
        if not isinstance(raw, list):
            self.problem(where, f"must be a list, got {_show(raw)}")
            return []
        if len(raw) > limit:
            self.problem(where, f"has {len(raw)} entries; at most {limit} are accepted")
            return []
        return raw

    def attempts(self, raw: object, learner_id: str) -> list[Attempt]:
        out: list[Attempt] = []
        seen: set[str] = set()
        for i, a in enumerate(self._list("attempts", raw, MAX_ATTEMPTS)):
            where = f"attempts[{i}]"
            if not isinstance(a, Mapping):
                self.problem(where, f"must be a JSON object, got {_show(a)}")
                continue
            n = len(self.problems)
            self.keys(where, a, _ATTEMPT_KEYS, _ATTEMPT_KEYS - _ATTEMPT_OPTIONAL)
            attempt_id = self.text(f"{where}.id", a.get("id"), 36, pattern=_ID_RE) if "id" in a else None
            if attempt_id is not None and attempt_id in seen:
                self.problem(f"{where}.id", f"{attempt_id!r} appears twice")
            seen.add(attempt_id or "")
            qid = self.text(f"{where}.question_id", a.get("question_id"), 200) if "question_id" in a else None
            view_id = self.text(f"{where}.view_id", a.get("view_id"), 200, optional=True)
            side = a.get("side")
            if side not in _SIDES:
                self.problem(f"{where}.side", f"must be right, left, midline or null, got {_show(side)}")
            body_type = self.text(f"{where}.body_type", a.get("body_type"), 64, optional=True)
            pins = self.pins(f"{where}.pins", a.get("pins", []))
            distances = self.distances(f"{where}.distances_cm", a.get("distances_cm", []))
            directions = self.directions(f"{where}.directions", a.get("directions", []))
            raw_credit = a.get("credit")
            # NaN marks a missing or bad credit; either way a problem is recorded (a missing key
            # by ``keys`` above), so the attempt is skipped below.
            credit = float(raw_credit) if _is_number(raw_credit) else math.nan
            if "credit" in a and not (math.isfinite(credit) and 0 <= credit <= 1):
                self.problem(f"{where}.credit", f"must be a number from 0 to 1, got {_show(raw_credit)}")
            duration = a.get("duration_ms")
            if duration is not None and not (_is_int(duration) and 0 <= duration <= MAX_DURATION_MS):
                self.problem(
                    f"{where}.duration_ms",
                    f"must be null or whole milliseconds from 0 to {MAX_DURATION_MS}, got {_show(duration)}",
                )
            created = self.time(f"{where}.created_at", a.get("created_at")) if "created_at" in a else None
            hints = self._list(f"{where}.hints", a.get("hints", []), MAX_HINTS)
            for j, h in enumerate(hints):
                if not (isinstance(h, str) and _HINT_RE.match(h)):
                    self.problem(f"{where}.hints.{j}", f"must be a hint id, got {_show(h)}")
            if len(self.problems) > n or attempt_id is None or qid is None or created is None:
                continue
            out.append(
                Attempt(
                    id=attempt_id,
                    learner_id=learner_id,
                    question_id=qid,
                    view_id=view_id,
                    side=side,
                    body_type=body_type,
                    pins=pins,
                    distances_cm=distances,
                    directions=directions,
                    credit=float(credit),
                    duration_ms=duration,
                    created_at=created,
                    hints=tuple(hints),
                )
            )
        return out

    def pins(self, where: str, raw: object) -> list[list[float]]:
        pins = self._list(where, raw, MAX_PINS)
        for j, p in enumerate(pins):
            if not (
                isinstance(p, list)
                and len(p) in (2, 3)
                and all(_is_number(v) and math.isfinite(v) and abs(v) <= MAX_PIN_PX for v in p)
            ):
                self.problem(
                    f"{where}[{j}]", f"must be [x, y] in image pixels (or [x, y, z]), got {_show(p)}"
                )
                break
        return pins

    def distances(self, where: str, raw: object) -> list[float | None]:
        dists = self._list(where, raw, MAX_PINS)
        for j, d in enumerate(dists):
            if d is not None and not (_is_number(d) and math.isfinite(d) and 0 <= d <= MAX_DISTANCE_CM):
                self.problem(
                    f"{where}[{j}]",
                    f"must be null or centimetres from 0 to {MAX_DISTANCE_CM:g}, got {_show(d)}",
                )
                break
        return dists

    def directions(self, where: str, raw: object) -> list[dict[str, float]]:
        dirs = self._list(where, raw, MAX_PINS)
        for j, d in enumerate(dirs):
            ok = (
                isinstance(d, dict)
                and len(d) <= MAX_DIRECTION_KEYS
                and all(isinstance(k, str) and 0 < len(k) <= 32 for k in d)
                and all(_is_number(v) and math.isfinite(v) and abs(v) <= MAX_DIRECTION_CM for v in d.values())
            )
            if not ok:
                self.problem(
                    f"{where}[{j}]",
                    "must be an object of at most "
                    f"{MAX_DIRECTION_KEYS} axis names and centimetres, got {_show(d)}",
                )
                break
        return dirs

    def cards(self, raw: object, learner_id: str) -> list[ReviewCardRecord]:
        out: list[ReviewCardRecord] = []
        seen: set[str] = set()
        for i, c in enumerate(self._list("review_cards", raw, MAX_REVIEW_CARDS)):
            where = f"review_cards[{i}]"
            if not isinstance(c, Mapping):
                self.problem(where, f"must be a JSON object, got {_show(c)}")
                continue
            n = len(self.problems)
            self.keys(where, c, _CARD_KEYS, _CARD_KEYS)
            card_id = self.text(f"{where}.card_id", c.get("card_id"), 200) if "card_id" in c else None
            if card_id is not None and card_id in seen:
                self.problem(f"{where}.card_id", f"{card_id!r} appears twice")
            seen.add(card_id or "")
            card = self.fsrs_card(f"{where}.card", c.get("card")) if "card" in c else None
            due = self.time(f"{where}.due", c.get("due"), self.now + MAX_DUE_AHEAD) if "due" in c else None
            updated = self.time(f"{where}.updated_at", c.get("updated_at")) if "updated_at" in c else None
            if len(self.problems) > n or card_id is None or card is None or due is None or updated is None:
                continue
            out.append(
                ReviewCardRecord(
                    learner_id=learner_id, card_id=card_id, card=card, due=due, updated_at=updated
                )
            )
        return out

    def fsrs_card(self, where: str, raw: object) -> dict[str, Any] | None:
        """An FSRS card the scheduler can read back and compute a recall probability for."""
        if not isinstance(raw, Mapping):
            self.problem(where, f"must be an FSRS card object, got {_show(raw)}")
            return None
        n = len(self.problems)
        self.keys(where, raw, _FSRS_CARD_KEYS, _FSRS_CARD_KEYS)
        if len(self.problems) > n:
            return None
        if not (_is_int(raw["card_id"]) and 0 <= raw["card_id"] < 2**63):
            self.problem(f"{where}.card_id", f"must be a whole number, got {_show(raw['card_id'])}")
        if not (_is_int(raw["state"]) and raw["state"] in (1, 2, 3)):
            self.problem(
                f"{where}.state",
                f"must be 1, 2 or 3 (learning, review, relearning), got {_show(raw['state'])}",
            )
        if raw["step"] is not None and not (_is_int(raw["step"]) and 0 <= raw["step"] <= 100):
            self.problem(f"{where}.step", f"must be null or a small whole number, got {_show(raw['step'])}")
        for name, hi in (("stability", 1e6), ("difficulty", 10.0)):
            v = raw[name]
            if v is not None and not (_is_number(v) and math.isfinite(v) and 0 < v <= hi):
                self.problem(
                    f"{where}.{name}", f"must be null or a number above 0 and at most {hi:g}, got {_show(v)}"
                )
        self.time(f"{where}.due", raw["due"], self.now + MAX_DUE_AHEAD)
        if raw["last_review"] is not None:
            self.time(f"{where}.last_review", raw["last_review"])
        if len(self.problems) > n:
            return None
        from trainer.rules.srs import retrievability  # the scheduler itself must accept the card

        try:
            r = retrievability(dict(raw), self.now)
        except (ValueError, TypeError, KeyError, OverflowError, ZeroDivisionError) as exc:
            self.problem(where, f"the FSRS scheduler cannot read this card ({exc})")
            return None
        if not (math.isfinite(r) and 0 <= r <= 1):
            self.problem(where, f"the FSRS scheduler gives a recall probability of {r!r} for this card")
            return None
        return dict(raw)
