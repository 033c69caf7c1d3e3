"""A tiny invisible component that keeps this browser's profile keys in ``localStorage``.

Why ``localStorage``: a learner on their own laptop finds their profile selected on every
visit without typing anything, and the key never appears in the address bar (so it is not in
bookmarks, history, screenshots or shared links). Keys are per site, so no other site reads them.

The server sends the changes it wants (:data:`trainer.rules.profiles.StorageOp`: add a key, remove
one, remember the current one); the script applies them to what is stored, exactly as
:func:`trainer.rules.profiles.apply_ops` does, and reports the result back whenever the server asks
or the stored list changed. The server keeps sending a change until a report shows it, so a
change is not lost when a rerun replaces the page before the script ran.
"""

from __future__ import annotations

from trainer.rules.profiles import StorageOp
from trainer.ui.components import component_data, define

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  __READ_DATA__
  const NAME = 'trainer:profiles';
  const ops = Array.isArray(d.ops) ? d.ops : [];
  let state = { keys: [], current: null, stored: true };
  try {
    const raw = localStorage.getItem(NAME);
    if (raw) {
      try {
        const p = JSON.parse(raw);
        if (p && Array.isArray(p.keys)) state.keys = p.keys.filter(k => typeof k === 'string');
        if (p && typeof p.current === 'string') state.current = p.current;
      } catch (e) { /* unreadable: start again */ }
    }
    for (const op of ops) {
      if (typeof op.add === 'string' && !state.keys.includes(op.add)) state.keys.push(op.add);
      if (typeof op.remove === 'string') {
        state.keys = state.keys.filter(k => k !== op.remove);
        if (state.current === op.remove) state.current = null;
      }
      if ('current' in op) state.current = op.current || null;
    }
    if (!state.keys.includes(state.current)) state.current = null;
    if (ops.length) localStorage.setItem(NAME, JSON.stringify({ keys: state.keys, current: state.current }));
  } catch (e) {
    state = { keys: [], current: null, stored: false };  // site data switched off
  }
  const report = JSON.stringify(state);
  if ((d.ask || ops.length) && parentElement.__reported !== report) {
    parentElement.__reported = report;
    setTriggerValue('report', report);
  }
}
"""

_keys = define("trainer_profile_keys", _JS)


def profile_keys(key: str, *, ops: list[StorageOp], ask: bool) -> str | None:
    """Apply ``ops`` to this browser's stored keys; returns the browser's report (JSON text), if
    it sent one in this run. ``ask`` makes the browser report even when nothing changed."""
    result = _keys(key=key, data=component_data({"ops": ops, "ask": ask}), on_report_change=lambda: None)
    report = result.get("report") if hasattr(result, "get") else getattr(result, "report", None)
    return report if isinstance(report, str) else None
