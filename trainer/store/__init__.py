"""Persistence for the trainer: SQLite by default, PostgreSQL via ``TRAINER_DATABASE_URL``.

>>> import tempfile, pathlib
>>> from datetime import datetime, timezone
>>> with tempfile.TemporaryDirectory() as tmp:
...     with open_store(data_dir=pathlib.Path(tmp)) as store:
...         ana = store.create_learner("Ana", now=datetime(2025, 1, 1, tzinfo=timezone.utc))
...         [learner.display_name for learner in store.list_learners()]
['Ana']
"""

from trainer.store.records import (
    Answer,
    Attempt,
    LeaderboardEntry,
    Learner,
    LiveSession,
    Player,
    ReviewCardRecord,
    SessionClock,
    Standing,
)
from trainer.store.store import (
    ANSWER_CSV_COLUMNS,
    SQLITE_FILENAME,
    Store,
    default_url,
    open_store,
    sqlite_url,
)

__all__ = [
    "ANSWER_CSV_COLUMNS",
    "SQLITE_FILENAME",
    "Answer",
    "Attempt",
    "LeaderboardEntry",
    "Learner",
    "LiveSession",
    "Player",
    "ReviewCardRecord",
    "SessionClock",
    "Standing",
    "Store",
    "default_url",
    "open_store",
    "sqlite_url",
]
