"""The page boundary: an error that escapes a page becomes a plain message, its detail a log line.

A traceback in the browser tells a learner nothing and can tell an attacker a lot (a failing
insert printed its SQL, its parameters and the new player's token). So:

* every page runs inside :func:`page_boundary` (``trainer/ui/app.py``): an exception that
  escapes it is logged on the server with its traceback and an incident reference, and the
  browser gets :func:`failure_message` and the reference, nothing else;
* code that runs outside a page run (widget callbacks, fragment reruns) is covered by
  ``client.showErrorDetails = "none"`` in ``.streamlit/config.toml`` (Streamlit's generic,
  redacted message), and pages catch the errors they can explain better themselves, logging
  them with :func:`log_failure`.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from trainer.errors import StoreUnavailableError, TrainerError

__all__ = ["configure_logging", "failure_message", "log_failure", "page_boundary"]

_LOG = logging.getLogger("trainer.ui")


def failure_message(exc: BaseException) -> str:
    """What a user may read about ``exc``: the trainer's own sentence, or a plain generic one.

    The trainer's errors carry sentences written for users (they may quote what the user
    typed, so show them escaped). Anything else may hold internals, so it is described only
    by kind.

    >>> failure_message(RecursionError("maximum recursion depth exceeded"))
    'That input is nested too deeply to read; nothing was changed.'
    >>> failure_message(KeyError("secret-token"))
    'Something went wrong on this page; nothing was changed.'
    """
    if isinstance(exc, StoreUnavailableError | TrainerError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "That input is nested too deeply to read; nothing was changed."
    if isinstance(exc, MemoryError):
        return "That input is too large to handle; nothing was changed."
    if isinstance(exc, UnicodeDecodeError):
        return "That file is not UTF-8 text; nothing was changed."
    return "Something went wrong on this page; nothing was changed."


def log_failure(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback (and its cause's) on the server; return a short reference.

    The reference is shown to the user, so whoever runs the server can find the log line.
    """
    reference = secrets.token_hex(4)
    _LOG.error(
        "Failure in %s (reference %s): %s: %s",
        where,
        reference,
        type(exc).__name__,
        exc,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return reference


def configure_logging() -> None:
    """Send the trainer's log lines (failures, wrong host keys) to the server's stderr, once."""
    logger = logging.getLogger("trainer")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not any(getattr(h, "_trainer", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._trainer = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


@contextmanager
def page_boundary(page: str) -> Iterator[None]:
    """Run a page; show an escaping exception as a plain message and log its detail.

    Streamlit's control flow (``st.stop``, ``st.rerun``, page switches) passes through, and so
    does a fragment's failure that Streamlit has already shown (redacted).
    """
    from streamlit.errors import FragmentHandledException

    from trainer.ui.live_common import show_error

    try:
        yield
    except FragmentHandledException:
        raise
    except Exception as exc:
        reference = log_failure(exc, f"page {page}")
        show_error(f"{failure_message(exc)} The details are in the server's log (reference {reference}).")
