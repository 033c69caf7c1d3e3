"""Every setting, declared once as (name, default, help); a test checks the README lists them all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("TRAINER_DATABASE_URL", "", "SQLAlchemy URL of a PostgreSQL database (postgresql+psycopg://...). Empty: SQLite in the data folder."),
    Setting("TRAINER_DATA_DIR", "./data", "Folder for the SQLite database and other local data."),
    Setting("TRAINER_ATLAS_DIR", "atlas/ in the repository", "Atlas folder (YAML, renders, sidecars)."),
    Setting("TRAINER_QUIZ_DIR", "quizzes/ in the repository", "Folder of quiz bank YAML files."),
    Setting("TRAINER_HOST_KEY", "", "Key instructors type to open the host and author pages. Empty: hosting is disabled."),
    Setting("TRAINER_BASE_URL", "", "Public URL learners use to join (e.g. http://192.168.1.20:8501); shown as the QR code."),
    # issue 7 (authoring): banks written by the author page; Practice and Live read them too.
    Setting("TRAINER_AUTHOR_DIR", "<data dir>/banks", "Folder where the author page saves and merges question banks (YAML)."),
    Setting("TRAINER_ADDRESS", "0.0.0.0", "Network address scripts/start.sh serves on (127.0.0.1: this computer only)."),
)


def get(name: str) -> str:
    """Current value (environment first, else the declared default)."""
    for s in SETTINGS:
        if s.name == name:
            return os.environ.get(name, "" if s.default.endswith("repository") or s.default.startswith("<") else s.default)
    raise KeyError(name)


def location_key() -> str:
    """The raw folder and database settings plus the working directory, without touching the
    file system: a cheap cache key for "which content and database" on pages rerun constantly."""
    names = ("TRAINER_ATLAS_DIR", "TRAINER_QUIZ_DIR", "TRAINER_DATA_DIR", "TRAINER_AUTHOR_DIR", "TRAINER_DATABASE_URL")
    return "|".join([os.getcwd(), *(os.environ.get(n, "") for n in names)])


def atlas_dir() -> Path:
    return Path(os.environ.get("TRAINER_ATLAS_DIR") or REPO_ROOT / "atlas").resolve()


def quiz_dir() -> Path:
    return Path(os.environ.get("TRAINER_QUIZ_DIR") or REPO_ROOT / "quizzes").resolve()


# --- issue 7 (authoring): author banks and kept photos live in the data folder by default.
def data_dir() -> Path:
    return Path(os.environ.get("TRAINER_DATA_DIR") or "data").resolve()


def author_dir() -> Path:
    return Path(os.environ.get("TRAINER_AUTHOR_DIR") or data_dir() / "banks").resolve()


def photo_dir() -> Path:
    """Photos are kept here only when the instructor ticks "keep this photo"."""
    return data_dir() / "photos"
