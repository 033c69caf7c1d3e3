"""A tiny invisible component through which the join page's poll hands a phase change to the
answer fragment, so the phone redraws only that fragment instead of the whole page.

Why a component: Streamlit reruns another fragment by its key (``st.rerun(scope=key)``) only from
a widget callback, never from a fragment's body. The poll fragment draws this element with the
new phase; the browser sends it straight back as a trigger, and the trigger's callback reruns
the answer fragment. If the trigger never comes (scripts off), the next poll reruns the page.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from trainer.ui.components import READ_DATA, component_data

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  __READ_DATA__
  const fire = d.fire;
  if (fire && parentElement.__fired !== fire) {
    parentElement.__fired = fire;
    setTriggerValue('fire', fire);
  }
}
"""

_signal = st.components.v2.component(
    "trainer_phase_signal", html="", js=_JS.replace("__READ_DATA__", READ_DATA)
)


def phase_signal(key: str, fire: str, on_fire: Callable[[], None]) -> None:
    """Ask the browser to send ``fire`` straight back, which runs ``on_fire`` (a callback)."""
    _signal(key=key, data=component_data({"fire": fire}), on_fire_change=on_fire)
