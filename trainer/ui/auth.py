"""The host-key gate of the host, author and photo pages.

Logging in on any of these pages sets the same ``host_ok`` flag, so an instructor types the key
once per browser session; the tab also keeps a grant (:mod:`trainer.hostgrant`) in its
``sessionStorage``, so reloading the projector tab does not ask for the key again.
"""

from __future__ import annotations

import hmac

import streamlit as st

from trainer.atlas import Atlas
from trainer.hostgrant import check_grant, issue_grant
from trainer.ui.components.tab_memory import tab_memory
from trainer.ui.live_common import configured_host_key
from trainer.ui.state import now_utc

_GRANT = "host_grant"


def host_gate(host_key: str, *, form_key: str, input_key: str, go_key: str, button: str) -> None:
    """Return if this tab may use host controls; otherwise show the key form and stop.

    A tab is trusted after the key is typed in it, or when it offers an unexpired grant made
    with the current key (after a reload). Typing a wrong key never reveals anything.
    """
    ss = st.session_state
    if ss.get("host_ok"):
        fresh = ss.pop("host_grant_new", None)
        if fresh:
            tab_memory(key="host_tab_memory", name=_GRANT, store=fresh)
        return
    offered = tab_memory(key="host_tab_memory", name=_GRANT, ask=True, forget=bool(ss.get("host_grant_bad")))
    if offered is not None:
        if check_grant(host_key, offered, now_utc()):
            ss["host_ok"] = True
            st.rerun()
        ss["host_grant_bad"] = True  # expired, or made with an older key: the tab forgets it
    with st.form(form_key):
        typed = st.text_input("Host key", type="password", key=input_key)
        go = st.form_submit_button(button, type="primary", key=go_key)
    if go:
        if hmac.compare_digest(typed.strip().encode("utf-8"), host_key.encode("utf-8")):
            ss["host_ok"] = True
            ss["host_grant_new"] = issue_grant(host_key, now_utc())
            ss.pop("host_grant_bad", None)
            st.rerun()
        st.error("That is not the host key.")
    st.stop()


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
    host_gate(key, form_key="author_login", input_key="author_key_input", go_key="author_login_go", button="Open")


def view_label(atlas: Atlas, view_id: str) -> str:
    """A unique, readable label for a view (Streamlit matches select options by their label)."""
    v = atlas.views[view_id]
    region = atlas.regions[v.region].name if v.region in atlas.regions else v.region
    base = v.base_id.replace(v.region, "").strip("_").replace("_", " ")
    return f"{region}{' · ' + base if base else ''} · {v.look_from} view, {v.side} side"
