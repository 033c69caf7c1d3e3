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


@st.cache_resource(show_spinner=False, max_entries=64)
def _explorer_fig(_view: object, _atlas: Atlas, key: tuple[object, ...]) -> object:
    from trainer.figures import explorer_figure

    return explorer_figure(_view, _atlas, key[2], highlight=key[3])  # type: ignore[arg-type]


def cached_explorer_figure(view: object, atlas: Atlas, layers: list[str], highlight: str | None) -> object:
    """Explorer figures rebuilt only when the view, layers or highlighted nerve change."""
    key = (getattr(view, "key", ""), id(atlas), tuple(sorted(layers)), highlight)
    return _explorer_fig(view, atlas, key)
