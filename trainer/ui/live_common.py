"""Streamlit helpers shared by the host and join pages: the host key, banks, safe text.

Nothing here keeps class state: every page run reads the class from the database through the
per-process store of :mod:`trainer.ui.state`.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from trainer.atlas import Atlas
from trainer.live.views import is_live_question
from trainer.quiz.bank import read_banks
from trainer.quiz.models import QuestionModel
from trainer.settings import author_dir, current, quiz_dir


def configured_host_key() -> str | None:
    """``TRAINER_HOST_KEY`` (from :mod:`trainer.settings`), else ``host_key`` in
    ``.streamlit/secrets.toml`` (Streamlit's own file, so it is read here in the UI), else None."""
    key = current().host_key
    if key:
        return key
    try:
        secret = st.secrets.get("host_key")
    except Exception:  # no secrets file at all: Streamlit raises its own error types here
        return None
    return str(secret).strip() or None if secret else None


def configured_base_url() -> str:
    """``TRAINER_BASE_URL``: the address phones use to join (empty: the one this browser used)."""
    return current().base_url


_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def plain_md(text: str) -> str:
    """User text made inert for ``st.markdown``: every ASCII punctuation mark backslash-escaped.

    CommonMark allows escaping any ASCII punctuation, so links, emphasis, HTML, ``$`` maths,
    ``:emoji:`` and ``:red[...]`` directives all show as the characters typed.

    >>> plain_md("[x](javascript:alert(1)) <b>")
    '\\\\[x\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\) \\\\<b\\\\>'
    """
    return _MD_PUNCT.sub(r"\\\1", " ".join(str(text).split()))


def show_error(message: str) -> None:
    """An error box whose text is never interpreted (messages may quote what a user typed)."""
    st.error(plain_md(message))


def _bank_folders() -> list[Path]:
    """Shipped banks plus the instructor's own (the author page's folder), if it exists."""
    folders = [quiz_dir()]
    if author_dir().is_dir():
        folders.append(author_dir())
    return folders


def _bank_stamp() -> str:
    return ",".join(f"{p}:{p.stat().st_mtime_ns}" for f in _bank_folders() for p in sorted(f.glob("*.yaml")))


@st.cache_data(show_spinner=False)
def _banks(stamp: str, folder: str) -> dict[str, tuple[str, list[str]]]:
    banks, _ = read_banks(_bank_folders())
    return {b.bank.id: (b.bank.title, [q.id for q in b.questions]) for b in banks.values()}


def live_banks() -> dict[str, tuple[str, list[str]]]:
    """Bank id -> (title, question ids), for the host's "by bank" choice."""
    return _banks(_bank_stamp(), str(quiz_dir()))


def live_questions(atlas: Atlas, questions: dict[str, QuestionModel]) -> dict[str, QuestionModel]:
    """The questions a phone can answer on one screen."""
    return {qid: q for qid, q in questions.items() if is_live_question(q)}
