"""The host-key gate shared by the author and photo pages (the host page has its own copy).

Logging in on any of these pages sets the same ``host_ok`` flag the host page uses, so an
instructor types the key once per browser session.
"""

from __future__ import annotations

import hmac

import streamlit as st

from trainer.atlas import Atlas
from trainer.ui.live_common import configured_host_key


def require_host_key(page: str = "this page") -> None:
    """Stop the page unless the configured host key has been typed in this session."""
    key = configured_host_key()
    if not key:
        st.error(f"Authoring is switched off: no host key is configured, and {page} is for instructors.")
        st.markdown(
            "Set `TRAINER_HOST_KEY` before starting the app (or `host_key` in `.streamlit/secrets.toml`); "
            "see docs/authoring.md."
        )
        st.stop()
    if st.session_state.get("host_ok"):
        return
    with st.form("author_login"):
        typed = st.text_input("Host key", type="password", key="author_key_input")
        go = st.form_submit_button("Open", type="primary")
    if go:
        if hmac.compare_digest(typed.strip().encode("utf-8"), key.encode("utf-8")):
            st.session_state["host_ok"] = True
            st.rerun()
        st.error("That is not the host key.")
    st.stop()


def view_label(atlas: Atlas, view_id: str) -> str:
    """A unique, readable label for a view (Streamlit matches select options by their label)."""
    v = atlas.views[view_id]
    region = atlas.regions[v.region].name if v.region in atlas.regions else v.region
    base = v.base_id.replace(v.region, "").strip("_").replace("_", " ")
    return f"{region}{' · ' + base if base else ''} · {v.look_from} view, {v.side} side"
