"""The options of a choice question after the answer: in the order the learner saw them, the
right ones marked, the learner's own picks named, and each option's "why" under it.

Shared by Practice and the phone's reveal, so both read the same way. Before the reveal pages
show only :func:`trainer.quiz.choices.option_texts`; this is never called then.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from trainer.quiz.choices import ShownOption
from trainer.ui.common import esc


def option_line(row: ShownOption) -> str:
    """One option as a line of markdown (author text escaped)."""
    mark = "✓" if row.correct else ("✗" if row.chosen else "·")
    notes = [n for n, on in (("right answer", row.correct), ("your answer", row.chosen)) if on]
    tail = f" — *{' · '.join(notes)}*" if notes else ""
    return f"{mark} {row.position + 1}. {esc(row.text)}{tail}"


def show_revealed_options(rows: Sequence[ShownOption]) -> None:
    for row in rows:
        st.markdown(option_line(row), unsafe_allow_html=True)
        if row.why:
            st.caption(row.why)
