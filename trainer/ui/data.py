"""Cached content loaders for the UI (atlas questions)."""

from __future__ import annotations

import streamlit as st

from trainer.atlas import Atlas
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.settings import quiz_dir


@st.cache_resource(show_spinner=False)
def _questions(_atlas: Atlas, key: str) -> dict[str, QuestionModel]:
    return {q.id: q for q in load_questions(_atlas, [quiz_dir()])}


def get_questions(atlas: Atlas) -> dict[str, QuestionModel]:
    """All bank questions by id; cached per atlas object and bank file mtimes."""
    stamp = ",".join(f"{p}:{p.stat().st_mtime_ns}" for p in sorted(quiz_dir().glob("*.yaml")))
    return _questions(atlas, f"{id(atlas)}|{stamp}")
