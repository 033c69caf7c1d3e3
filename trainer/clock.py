"""The one clock rule: every time stamp the trainer handles is timezone-aware UTC.

Time is always passed in (``now``); this module only checks it, so the live rules, the store,
the scheduler and the profile rules agree on what a valid time is.
"""

from __future__ import annotations

from datetime import UTC, datetime


def require_utc(now: datetime, name: str = "now") -> datetime:
    """Return ``now`` converted to UTC; refuse naive datetimes.

    A naive datetime is ambiguous across servers in different zones, and mixing naive and
    aware values is how late answers slip through, so we fail loudly instead of guessing.

    >>> from datetime import timedelta, timezone
    >>> require_utc(datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))).hour
    22
    """
    if not isinstance(now, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got naive {now.isoformat()}")
    return now.astimezone(UTC)


def utc_now() -> datetime:
    """The current time in UTC: for the edges of the app (pages, tools), never inside rules."""
    return datetime.now(UTC)
