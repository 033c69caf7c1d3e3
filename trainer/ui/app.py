"""Multipage navigation; each page is a thin file under trainer/ui/pages, run inside the page
boundary (:mod:`trainer.ui.boundary`), so no page shows a user a traceback."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from trainer.ui.boundary import configure_logging, page_boundary
from trainer.ui.common import start_warm_up

PAGES = Path(__file__).resolve().parent / "pages"


def run() -> None:
    st.set_page_config(page_title="Nerve Mapping Trainer", page_icon=":material/stethoscope:", layout="wide")
    learn = st.Page(PAGES / "learn.py", title="Learn", icon=":material/school:", url_path="learn")
    explorer = st.Page(
        PAGES / "explorer.py", title="Atlas explorer", icon=":material/map:", url_path="explorer"
    )

    def open_first_page() -> None:
        # A ?region= link (older links, other pages) still opens the explorer on that region.
        target = explorer if "region" in st.query_params else learn
        st.switch_page(target, query_params=st.query_params.to_dict())

    # Streamlit serves the default page at "/" only and ignores its url_path, so a default
    # page made its own address a "Page not found". The root is a hidden page that opens
    # Learn (or the explorer, for a ?region= link) at its own address instead.
    home = st.Page(open_first_page, title="Learn", url_path="start", default=True, visibility="hidden")
    pages = {
        "Learn": [
            home,
            learn,
            explorer,
            st.Page(
                PAGES / "practice.py", title="Practice", icon=":material/my_location:", url_path="practice"
            ),
            st.Page(
                PAGES / "progress.py", title="Progress", icon=":material/trending_up:", url_path="progress"
            ),
            st.Page(
                PAGES / "evidence.py",
                title="Evidence map",
                icon=":material/table_chart:",
                url_path="evidence",
            ),
        ],
        "Live class": [
            st.Page(PAGES / "join.py", title="Join a class", icon=":material/smartphone:", url_path="join"),
            st.Page(PAGES / "host.py", title="Host a class", icon=":material/co_present:", url_path="host"),
            st.Page(
                PAGES / "results.py",
                title="Class results",
                icon=":material/fact_check:",
                url_path="results",
                visibility="hidden",
            ),
            st.Page(
                PAGES / "projector.py",
                title="Projector view",
                icon=":material/tv:",
                url_path="projector",
                visibility="hidden",
            ),
        ],
        "Authoring": [
            st.Page(PAGES / "author.py", title="Author", icon=":material/edit_note:", url_path="author"),
            # issue 7: photo overlay
            st.Page(
                PAGES / "photo.py", title="Photo overlay", icon=":material/photo_camera:", url_path="photo"
            ),
        ],
    }
    configure_logging()
    page = st.navigation(pages, position="sidebar")
    try:
        with page_boundary(page.url_path or "learn"):
            page.run()
    finally:
        # After the page, not before: the first visitor's page gets the CPU (one interpreter
        # lock) and the atlas loads while their browser draws it. The hidden root page only
        # redirects, so the warm-up waits for the page it opens.
        if page.url_path:  # "" is the root
            start_warm_up()
