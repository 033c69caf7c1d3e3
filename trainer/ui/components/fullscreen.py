"""A "Full screen" button that also reports whether the page fills the screen.

The host page hides the class's live pins whenever this reports ``True`` (a projector). Two
signals count as full screen:

* the Fullscreen API (``document.fullscreenElement``), which the button itself uses; and
* the page covering the whole screen (``innerWidth >= screen.width`` and ``innerHeight >=
  screen.height``), which is what the browser's own full-screen mode (F11) or a kiosk window
  looks like: that mode is invisible to the Fullscreen API.

The component sends back one boolean and nothing else; it receives nothing secret.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from trainer.ui.components import component_data, define

_CSS = """
.fs-btn { font: 14px/1.2 sans-serif; padding: 6px 12px; border-radius: 8px; cursor: pointer;
          border: 1px solid rgba(49,51,63,0.3); background: white; }
"""

_JS = """
export default function(component) {
  const { data, setStateValue, parentElement } = component;
  const el = parentElement;
  __READ_DATA__
  el.__fsKnown = !!d.known;   // what the server last heard
  el.__fsSet = setStateValue;
  if (!el.__fsReport) {
    const btn = document.createElement('button');
    btn.className = 'fs-btn';
    btn.type = 'button';
    el.appendChild(btn);
    btn.addEventListener('click', () => {
      if (document.fullscreenElement) { document.exitFullscreen().catch(() => {}); }
      else { document.documentElement.requestFullscreen().catch(() => {}); }
    });
    const report = () => {
      const full = !!document.fullscreenElement ||
        (window.innerWidth >= screen.width && window.innerHeight >= screen.height);
      btn.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen (projector)';
      if (full !== el.__fsKnown) { el.__fsKnown = full; el.__fsSet('fullscreen', full); }
    };
    el.__fsReport = report;
    el.__fsButton = btn;
    document.addEventListener('fullscreenchange', report);
    window.addEventListener('resize', report);
  }
  el.__fsReport();
  return () => {
    document.removeEventListener('fullscreenchange', el.__fsReport);
    window.removeEventListener('resize', el.__fsReport);
    if (el.__fsButton) el.__fsButton.remove();
    el.__fsReport = undefined;
    el.__fsButton = undefined;
  };
}
"""

_fullscreen = define("trainer_fullscreen", _JS, _CSS)


def fullscreen_button(key: str, on_change: Callable[[], None] | None = None) -> bool:
    """Show the button; return whether the page is full screen (as last reported)."""
    known = is_fullscreen(key)
    _fullscreen(
        key=key, data=component_data({"known": known}), on_fullscreen_change=on_change or (lambda: None)
    )
    return is_fullscreen(key)


def is_fullscreen(key: str) -> bool:
    """The last state the browser reported for the component ``key`` (False before any)."""
    state = st.session_state.get(key)
    get = getattr(state, "get", None)
    value = get("fullscreen") if callable(get) else getattr(state, "fullscreen", None)
    return bool(value)
