"""The host-key gate of the host, author and photo pages.

Logging in on any of these pages sets the same ``host_ok`` flag, so an instructor types the key
once per browser session; the tab also keeps a grant (:mod:`trainer.access.hostgrant`) in its
``sessionStorage``, so reloading the projector tab does not ask for the key again.

Typed keys are throttled (:mod:`trainer.rules.throttle`): per client address and over all clients,
with the counters in the database so every server process sees them. Each wrong key is logged
on the server (address and counts, never what was typed).
"""

from __future__ import annotations

import hmac
import logging
import math

import streamlit as st

from trainer.access.hostgrant import check_grant, issue_grant
from trainer.access.transport import PLAIN_HTTP_WARNING, exposed_over_plain_http
from trainer.atlas import Atlas
from trainer.errors import TrainerError
from trainer.rules import throttle
from trainer.ui.components.tab_memory import tab_memory
from trainer.ui.live_common import configured_host_key
from trainer.ui.state import get_store, now_utc

_GRANT = "host_grant"
_LOG = logging.getLogger("trainer.auth")
#: Every client together; a client's own counter is "host-key:client:<address>".
GLOBAL_SCOPE = "host-key:all"


def client_scope() -> str:
    """The throttle counter of this browser's address (``loopback`` for the laptop itself).

    Streamlit reports the websocket's peer address, or the address a trusted local proxy
    forwarded (``trainer serve`` and the deploy/ examples forward it).
    """
    ip = st.context.ip_address  # None on loopback; a str otherwise (not always in tests)
    return f"host-key:client:{ip[:64] if isinstance(ip, str) and ip else 'loopback'}"


def plain_http_warning() -> None:
    """Warn when this page reached the browser over plain HTTP from another machine."""
    if exposed_over_plain_http(st.context.url):
        st.warning(PLAIN_HTTP_WARNING, icon=":material/lock_open:")


def _check_typed_key(typed: str, host_key: str) -> bool | None:
    """True/False for a key that was compared; None when the try was refused or failed (shown)."""
    scope = client_scope()
    try:
        verdict = get_store().try_host_key(
            [(scope, throttle.CLIENT_RULE), (GLOBAL_SCOPE, throttle.GLOBAL_RULE)],
            now_utc(),
            lambda: hmac.compare_digest(typed.strip().encode("utf-8"), host_key.encode("utf-8")),
        )
    except TrainerError as exc:
        _LOG.warning("Host key could not be checked: %s", exc, exc_info=exc.__cause__)
        st.error(f"The key cannot be checked just now. {exc}")
        return None
    wait = math.ceil(verdict.retry_after_s)
    if not verdict.checked:
        _LOG.warning(
            "Host key try refused unseen (%s must wait %d s; %d failures, %d in all)",
            scope,
            wait,
            *verdict.counts,
        )
        st.error(f"Too many wrong keys. Wait {wait} s, then try again.")
        return None
    if not verdict.right:
        _LOG.warning(
            "Wrong host key (%s: %d failures, %d in all; next try allowed in %d s)",
            scope,
            *verdict.counts,
            wait,
        )
        st.error("That is not the host key." + (f" Wait {wait} s before the next try." if wait else ""))
        return False
    return True


def host_gate(host_key: str, *, form_key: str, input_key: str, go_key: str, button: str) -> None:
    """Return if this tab may use host controls; otherwise show the key form and stop.

    A tab is trusted after the key is typed in it, or when it offers an unexpired grant made
    with the current key (after a reload). Typing a wrong key never reveals anything, and
    typing keys quickly is throttled.
    """
    ss = st.session_state
    plain_http_warning()
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
    if go and _check_typed_key(typed, host_key):
        ss["host_ok"] = True
        ss["host_grant_new"] = issue_grant(host_key, now_utc())
        ss.pop("host_grant_bad", None)
        st.rerun()
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
    host_gate(
        key, form_key="author_login", input_key="author_key_input", go_key="author_login_go", button="Open"
    )


def view_label(atlas: Atlas, view_id: str) -> str:
    """A unique, readable label for a view (Streamlit matches select options by their label)."""
    v = atlas.views[view_id]
    region = atlas.regions[v.region].name if v.region in atlas.regions else v.region
    base = v.base_id.replace(v.region, "").strip("_").replace("_", " ")
    return f"{region}{' · ' + base if base else ''} · {v.look_from} view, {v.side} side"
