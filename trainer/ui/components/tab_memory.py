"""A tiny invisible component that keeps one string in the tab's ``sessionStorage``.

Used for the host grant (:mod:`trainer.access.hostgrant`): ``sessionStorage`` survives a reload of
the tab but not closing it, is never shown in the address bar (the projector shows the URL),
and is not shared with other tabs or other sites.
"""

from __future__ import annotations

from trainer.ui.components import component_data, define

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  __READ_DATA__
  const name = 'trainer:' + (d.name || 'memory');
  try {
    if (d.store) sessionStorage.setItem(name, d.store);
    if (d.forget) sessionStorage.removeItem(name);
    const kept = sessionStorage.getItem(name);
    // Offer the kept value once per page load, and only when the server asks for it.
    if (d.ask && kept && !parentElement.__offered) {
      parentElement.__offered = true;
      setTriggerValue('kept', kept);
    }
  } catch (e) { /* storage switched off: the user types the key instead */ }
}
"""

_memory = define("trainer_tab_memory", _JS)


def tab_memory(
    key: str, name: str, *, store: str | None = None, forget: bool = False, ask: bool = False
) -> str | None:
    """Store, forget or ask for the tab's value ``name``; returns the value the tab offered."""
    data = {"name": name, "store": store or "", "forget": forget, "ask": ask}
    result = _memory(key=key, data=component_data(data), on_kept_change=lambda: None)
    kept = result.get("kept") if hasattr(result, "get") else getattr(result, "kept", None)
    return kept if isinstance(kept, str) else None
