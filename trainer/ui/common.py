"""Shared Streamlit helpers: cached atlas loading and readable error display."""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from trainer.atlas import Atlas, atlas_stamp, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.atlas.snapshot import read_snapshot, write_snapshot
from trainer.errors import AtlasError
from trainer.safetext import inert_markdown
from trainer.settings import data_dir, location_key

MOBILE_CSS = """
<style>
/* Keep the body image usable on phones: tighter padding, full-width widgets. */
@media (max-width: 640px) {
  .block-container { padding-left: 0.6rem; padding-right: 0.6rem; padding-top: 2.6rem; }
}
/* A compact top so that a question, its image and its buttons fit a 1366x800 screen. */
.block-container { padding-top: 2.6rem; }
.block-container h1 { font-size: 2rem; padding-top: 0.4rem; padding-bottom: 0.4rem; }
.trainer-badge { display:inline-block; padding:0 6px; border-radius:8px; font-size:0.8em; }
.trainer-badge.unverified { background:#fff3cd; color:#7a5b00; border:1px solid #e6c200; }
.trainer-badge.verified { background:#e6f4ea; color:#1e6b35; border:1px solid #9bd3ad; }
</style>
"""


def page_setup(extra_css: str = "") -> None:
    """The app's CSS, with a page's own ``extra_css`` in the same element (one element less to
    send on a page that phones rerun)."""
    st.markdown(MOBILE_CSS + extra_css, unsafe_allow_html=True)


@st.cache_resource(show_spinner=False)
def _recent_memo() -> dict[str, tuple[float, Any]]:
    """Per-process memo of file stamps: each entry is (monotonic time taken, value)."""
    return {}


#: The atlas this process has loaded, by stamp (the newest only). A plain module dict, not a
#: Streamlit cache, so that the warm-up thread (no script context) can fill it.
_ATLASES: dict[tuple[Any, ...], Atlas] = {}
_ATLAS_LOCK = threading.Lock()  # the first sessions after a start (and the warm-up) share one load
_LOG = logging.getLogger("trainer.ui")


def load_atlas_once(stamp: tuple[Any, ...]) -> Atlas:
    """The atlas for ``stamp``: from memory, else from the snapshot the last start saved (a
    fraction of a second), else from the YAML (several seconds; a snapshot is then saved in
    the background for the next start). Raises :class:`AtlasError`. No Streamlit calls."""
    with _ATLAS_LOCK:
        hit = _ATLASES.get(stamp)
        if hit is not None:
            return hit
        cache_dir = data_dir() / "cache"
        atlas = read_snapshot(cache_dir, stamp)
        if atlas is None:
            atlas = load_atlas(stamp=stamp)
            threading.Thread(target=write_snapshot, args=(cache_dir, stamp, atlas), daemon=True).start()
        _ATLASES.clear()
        _ATLASES[stamp] = atlas
        return atlas


_WARM_STARTED = threading.Event()


def start_warm_up() -> None:
    """Once per process, load what the first page needs in a background thread (atlas, the
    explorer's first view and figure code) while the first visitor's browser is still
    setting up and switching to that page."""
    if _WARM_STARTED.is_set():
        return
    _WARM_STARTED.set()
    threading.Thread(target=_warm_up, name="trainer-warm-up", daemon=True).start()


def _warm_up() -> None:
    try:
        atlas = load_atlas_once(atlas_stamp())
        from trainer.explorer import page as model
        from trainer.explorer.figures import explorer_figure
        from trainer.quiz.views import base_views

        region = next(iter(atlas.regions), None)
        if region is None:
            return
        view_id = model.view_for(atlas, region, base_views(atlas, region)[0], "right")
        if view_id is not None:
            explorer_figure(load_rendered_view(view_id, atlas.default_body_type), atlas, model.DEFAULT_LAYERS)
    except Exception:  # noqa: BLE001 - a warm-up failure only means the page loads it itself
        _LOG.warning("warm-up failed; the first page loads the atlas itself", exc_info=True)


def recent(key: str, compute: Callable[[], Any], max_age_s: float) -> Any:
    """``compute()``, reused for ``max_age_s`` seconds (0 = always fresh).

    Listing the content folders costs a few ms; a page that hundreds of phones rerun (join)
    checks them every few seconds instead of on every rerun.
    """
    if max_age_s <= 0:
        return compute()
    memo = _recent_memo()
    now_s = time.monotonic()
    hit = memo.get(key)
    if hit is not None and now_s - hit[0] < max_age_s:
        return hit[1]
    value = compute()
    memo[key] = (now_s, value)
    return value


def get_atlas(max_stale_s: float = 0.0) -> Atlas | None:
    """The atlas, or None after showing every problem (so a page never dies with a traceback).

    ``max_stale_s`` > 0 lets a hot page reuse the folder check for that long, so an edited
    atlas shows there up to that many seconds later.
    """
    try:
        stamp = recent(f"atlas:{location_key()}", atlas_stamp, max_stale_s)
        hit = _ATLASES.get(stamp)
        if hit is not None:
            return hit
        with st.spinner("Loading the atlas (a few seconds after the server starts)…"):
            return load_atlas_once(stamp)
    except AtlasError as exc:
        st.error("The atlas has problems, so this page cannot show it. Run `python -m trainer validate`.")
        st.code("\n".join(str(p) for p in exc.problems[:50]), language=None)
        return None


def require_atlas(max_stale_s: float = 0.0) -> Atlas:
    """The atlas; when it has problems, :func:`get_atlas` has shown them and the page stops here."""
    atlas = get_atlas(max_stale_s)
    if atlas is None:
        st.stop()
    return atlas


def get_view(view_id: str, body_type: str) -> RenderedView | None:
    try:
        return load_rendered_view(view_id, body_type)
    except AtlasError as exc:
        st.warning(f"This view has not been rendered yet ({html.escape(str(exc.problems[0]))}).")
        return None


def badge(verified: bool) -> str:
    """An HTML badge; callers must pass only trusted (atlas) text alongside it."""
    if verified:
        return '<span class="trainer-badge verified">verified</span>'
    return '<span class="trainer-badge unverified" title="Not yet confirmed against the cited source">unverified</span>'


def esc(text: str | None) -> str:
    """Escape user or content text for st.markdown with unsafe_allow_html.

    HTML is escaped, control characters dropped and markdown images made inert, so no
    authored text can make a learner's browser fetch another site (``trainer.safetext``).
    """
    return inert_markdown(html.escape(text or ""))
