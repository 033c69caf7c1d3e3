"""Cached content loaders for the UI (atlas questions)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from trainer.atlas import Atlas
from trainer.quiz.bank import load_questions
from trainer.quiz.models import QuestionModel
from trainer.settings import author_dir, location_key, quiz_dir
from trainer.ui.common import recent


def _bank_folders() -> list[Path]:
    # issue 7: banks saved by the author page are read after the shipped ones.
    return [quiz_dir(), *([author_dir()] if author_dir().is_dir() and author_dir() != quiz_dir() else [])]


@st.cache_resource(show_spinner=False)
def _questions(_atlas: Atlas, key: str) -> dict[str, QuestionModel]:
    out: dict[str, QuestionModel] = {}
    for q in load_questions(_atlas, _bank_folders()):
        out.setdefault(q.id, q)  # a shipped question is never replaced by an authored one
    return out


def _banks_stamp() -> str:
    files = [p for folder in _bank_folders() for p in sorted(folder.glob("*.yaml"))]
    return ",".join(f"{p}:{p.stat().st_mtime_ns}" for p in files)


def get_questions(atlas: Atlas, max_stale_s: float = 0.0) -> dict[str, QuestionModel]:
    """All bank questions by id (shipped and authored); cached per atlas object and bank file mtimes.

    ``max_stale_s`` as for :func:`trainer.ui.common.get_atlas`.
    """
    stamp = recent(f"banks:{location_key()}", _banks_stamp, max_stale_s)
    return _questions(atlas, f"{id(atlas)}|{stamp}")


@st.cache_resource(show_spinner=False, max_entries=64)
def _explorer_fig(_view: object, _atlas: Atlas, key: tuple[object, ...]) -> object:
    from trainer.explorer.figures import explorer_figure, legend_height_px, legend_names
    from trainer.explorer.page import chart_height_for

    fig = explorer_figure(_view, _atlas, key[2], highlight=key[3], height_px=None)  # type: ignore[arg-type]
    names = legend_names(fig)
    # The height depends on the legend this figure draws, so it is set here, in the one build.
    fig.update_layout(
        height=chart_height_for(bool(key[4]), lambda width_px: legend_height_px(names, width_px))
    )
    return fig


def cached_explorer_figure(
    view: object, atlas: Atlas, layers: list[str], highlight: str | None, phone: bool = False
) -> object:
    """Explorer figures rebuilt only when the view, layers, highlighted nerve or screen kind change."""
    key = (getattr(view, "key", ""), id(atlas), tuple(sorted(layers)), highlight, phone)
    return _explorer_fig(view, atlas, key)


@st.cache_resource(show_spinner=False, max_entries=32)
def _explorer_fig_3d(_view: object, _atlas: Atlas, key: tuple[object, ...]) -> object:
    from trainer.explorer.figure3d import explorer_figure_3d

    return explorer_figure_3d(_view, _atlas, key[2], highlight=key[3])  # type: ignore[arg-type]


def cached_explorer_figure_3d(view: object, atlas: Atlas, layers: list[str], highlight: str | None) -> object:
    """The 3D body view, rebuilt only when the view, layers or highlighted nerve change."""
    key = (getattr(view, "key", ""), id(atlas), tuple(sorted(layers)), highlight)
    return _explorer_fig_3d(view, atlas, key)
