"""Nerve Mapping Trainer: surface-anatomy nerve mapping for perineural injection therapy."""

from trainer.errors import (
    AtlasError,
    ConflictError,
    NotFoundError,
    Problem,
    QuizBankError,
    RuleError,
    StoreError,
    TrainerError,
    UploadError,
)

__version__ = "0.1.0"

__all__ = [
    "AtlasError",
    "ConflictError",
    "NotFoundError",
    "Problem",
    "QuizBankError",
    "RuleError",
    "StoreError",
    "TrainerError",
    "UploadError",
    "__version__",
]
