"""A tiny invisible component that keeps a phone's player token of a class in ``localStorage``.

Why: the host shares one results link for the whole class (``/results?code=…``, a QR code on the
projector); a learner who scans it opens a new tab, which has no Streamlit session and no token
in its URL. Their phone kept the token when they joined (the join page stores it under the
class's code), so the results page asks the phone for it and shows that player's own answers.
Storage is per site, so no other site reads it; **Leave** on the join page forgets it.
"""

from __future__ import annotations

from trainer.ui.components import component_data, define

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  __READ_DATA__
  const name = 'trainer:' + (d.name || 'memory');
  let kept = '';
  try {
    if (d.store) localStorage.setItem(name, d.store);
    if (d.forget) localStorage.removeItem(name);
    kept = localStorage.getItem(name) || '';
  } catch (e) { /* site data switched off: the learner uses their personal link instead */ }
  // Answer once per page load when the server asks, also when nothing is kept (so the page
  // can say so instead of waiting).
  if (d.ask && !parentElement.__answered) {
    parentElement.__answered = true;
    setTriggerValue('kept', 'kept:' + kept);
  }
}
"""

_memory = define("trainer_class_memory", _JS)


def class_memory(
    key: str, name: str, *, store: str = "", forget: bool = False, ask: bool = False
) -> str | None:
    """Store, forget or ask for the value ``name`` on this device. Returns what the device holds
    ("" for nothing) in the run its answer arrives, else None."""
    data = {"name": name, "store": store, "forget": forget, "ask": ask}
    result = _memory(key=key, data=component_data(data), on_kept_change=lambda: None)
    kept = result.get("kept") if hasattr(result, "get") else getattr(result, "kept", None)
    if isinstance(kept, str) and kept.startswith("kept:"):
        return kept[len("kept:") :]
    return None
