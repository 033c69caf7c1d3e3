"""Every setting, declared once as (name, default, help), and the only reader of the environment.

:class:`Settings` is a typed, frozen object built from the ``TRAINER_*`` variables; each field
states its variable, default and help in one place, and :data:`SETTINGS` lists them for the
README table (a test checks the two agree). The rest of ``trainer/`` asks :func:`current` (or
takes a ``Settings`` passed in) and never reads ``os.environ`` itself; a test fails on any other
``os.environ``/``getenv`` in the package. Child processes (the serve tool's Streamlit backends)
simply inherit this process's environment, so no tool needs to copy it either.

Paths are resolved here and only here: a relative ``TRAINER_DATA_DIR`` is relative to the
working directory the process started in, and the author banks and kept photos default to
folders inside the data folder.

>>> s = Settings.from_environ({"TRAINER_DATA_DIR": "/srv/trainer", "TRAINER_HOST_KEY": " s3cret "})
>>> s.data_dir, s.author_dir, s.photo_dir, s.host_key
(PosixPath('/srv/trainer'), PosixPath('/srv/trainer/banks'), PosixPath('/srv/trainer/photos'), 's3cret')
>>> "s3cret" in repr(s)  # the host key never shows in logs
False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

REPO_ROOT = Path(__file__).resolve().parents[1]


def _setting(name: str, default: Any, help: str, *, shown: str | None = None, secret: bool = False) -> Any:
    """One setting: its environment variable, default (``shown`` as the README writes it) and help."""
    return Field(
        default,
        validation_alias=name,
        description=help,
        repr=not secret,
        json_schema_extra={"shown_default": str(default) if shown is None else shown},
    )


class Settings(BaseModel):
    """The trainer's configuration; build it with :meth:`from_environ` or get :func:`current`."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, validate_default=True)

    database_url: str = _setting(
        "TRAINER_DATABASE_URL",
        "",
        "SQLAlchemy URL of a PostgreSQL database (postgresql+psycopg://...). Empty: SQLite in the data folder.",
    )
    data_dir: Path = _setting(
        "TRAINER_DATA_DIR",
        Path("data"),
        "Folder for the SQLite database and other local data.",
        shown="./data",
    )
    atlas_dir: Path = _setting(
        "TRAINER_ATLAS_DIR",
        REPO_ROOT / "atlas",
        "Atlas folder (YAML, renders, sidecars).",
        shown="atlas/ in the repository",
    )
    quiz_dir: Path = _setting(
        "TRAINER_QUIZ_DIR",
        REPO_ROOT / "quizzes",
        "Folder of quiz bank YAML files.",
        shown="quizzes/ in the repository",
    )
    host_key: str = _setting(
        "TRAINER_HOST_KEY",
        "",
        "Key instructors type to open the host and author pages. Empty: hosting is disabled.",
        secret=True,
    )
    base_url: str = _setting(
        "TRAINER_BASE_URL",
        "",
        "Public URL learners use to join (e.g. http://192.168.1.20:8501); shown as the QR code.",
    )
    # issue 7 (authoring): banks written by the author page; Practice and Live read them too.
    author_dir: Path = _setting(
        "TRAINER_AUTHOR_DIR",
        None,
        "Folder where the author page saves and merges question banks (YAML).",
        shown="<data dir>/banks",
    )
    address: str = _setting(
        "TRAINER_ADDRESS",
        "0.0.0.0",
        "Network address scripts/start.sh serves on (127.0.0.1: this computer only).",
    )
    makehuman_dir: Path | None = _setting(
        "TRAINER_MAKEHUMAN_DIR",
        None,
        "MakeHuman asset folder for the render tool (developers only; the app never reads it).",
        shown="../shared/assets/makehuman, or the first such folder above the repository",
    )

    @field_validator("database_url", "host_key", "base_url", "address", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> str:
        return str(value or "").strip()

    @field_validator("data_dir", "atlas_dir", "quiz_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @field_validator("author_dir", mode="before")
    @classmethod
    def _author_default(cls, value: object, info: ValidationInfo) -> Path:
        if value:
            return Path(str(value)).resolve()
        return Path(info.data["data_dir"]) / "banks"

    @property
    def photo_dir(self) -> Path:
        """Photos are kept here only when the instructor ticks "keep this photo"."""
        return self.data_dir / "photos"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The settings of a process with this environment (an empty variable counts as unset)."""
        return cls.model_validate({name: value for name in ENV_NAMES if (value := environ.get(name))})


#: The environment variables, in declaration order.
ENV_NAMES: tuple[str, ...] = tuple(str(f.validation_alias) for f in Settings.model_fields.values())
#: The variables that say where content and data live (the cache key of pages, see location_key).
_LOCATION_NAMES = (
    "TRAINER_ATLAS_DIR",
    "TRAINER_QUIZ_DIR",
    "TRAINER_DATA_DIR",
    "TRAINER_AUTHOR_DIR",
    "TRAINER_DATABASE_URL",
)


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


def _declared(f: FieldInfo) -> Setting:
    extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
    return Setting(str(f.validation_alias), str(extra.get("shown_default", f.default)), str(f.description))


#: Every setting as (name, default, help): the README's configuration table.
SETTINGS: tuple[Setting, ...] = tuple(_declared(f) for f in Settings.model_fields.values())


def _raw() -> tuple[str, ...]:
    """The working directory and the raw value of every variable: what the settings depend on."""
    return (os.getcwd(), *(os.environ.get(name, "") for name in ENV_NAMES))


@lru_cache(maxsize=16)
def _settings_for(raw: tuple[str, ...]) -> Settings:
    return Settings.from_environ(dict(zip(ENV_NAMES, raw[1:], strict=True)))


def current() -> Settings:
    """This process's settings now; rebuilt only when the environment (or working directory) changes."""
    return _settings_for(_raw())


def location_key() -> str:
    """The raw folder and database settings plus the working directory, without touching the
    file system: a cheap cache key for "which content and database" on pages rerun constantly
    (the host key is left out: cache keys are no place for a secret)."""
    raw = dict(zip(("", *ENV_NAMES), _raw(), strict=True))
    return "|".join([raw[""], *(raw[n] for n in _LOCATION_NAMES)])


# Shorthands for the folders most callers want.
def atlas_dir() -> Path:
    return current().atlas_dir


def quiz_dir() -> Path:
    return current().quiz_dir


def data_dir() -> Path:
    return current().data_dir


def author_dir() -> Path:
    return current().author_dir
