"""One exception tree for the whole trainer.

    TrainerError
    ├── AtlasError        bad atlas YAML, sidecar or render input
    ├── QuizBankError     bad quiz bank YAML
    ├── StoreError        database problems (unknown ids, conflicts)
    │   ├── NotFoundError
    │   ├── ConflictError
    │   └── StoreUnavailableError   the database could not be reached or written
    ├── RuleError         a classroom / scoring rule refused an action
    └── UploadError       oversized, corrupt or unsupported upload

Problems found while validating files are collected as :class:`Problem` records so
that one run reports every mistake at once, in ``file: id: field: problem`` form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as ``file: item: field: message``."""

    file: str
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item or '-'}: {self.field or '-'}: {self.message}"


class TrainerError(Exception):
    """Root of every error the trainer raises on purpose."""


class AtlasError(TrainerError):
    """The atlas could not be loaded; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("atlas", "", "", problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class QuizBankError(AtlasError):
    """A quiz bank is malformed or points at atlas ids that do not exist."""


class StoreError(TrainerError):
    """The store refused or failed an operation."""


class NotFoundError(StoreError):
    """An id (session, player, learner, question) does not exist."""


class ConflictError(StoreError):
    """The write conflicts with existing data (duplicate nickname, id clash)."""


class StoreUnavailableError(StoreError):
    """The database failed underneath (unreachable, read-only, full, locked too long).

    The message is a plain sentence; the driver's error (with its SQL and parameters, which
    may hold a player's token) is only the ``__cause__``, for the server log.
    """


class RuleError(TrainerError):
    """A classroom rule refused the action (late answer, wrong state)."""


class UploadError(TrainerError):
    """An upload was too large, corrupt, or of an unsupported type."""
