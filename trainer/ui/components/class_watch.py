"""A phone's link to the class: waits on ``api/class/<code>`` and shows the countdown.

The page draws a view of the class (which question, which phase) and gives this component that
view. The component asks the server, over plain HTTP, to answer when the view has changed (a
long poll, :mod:`trainer.live.class_signal`); only then does it ask Streamlit for a page run
(``setTriggerValue('moved', view)``), once per new view. Between changes the countdown ticks
every second in the browser, from the server's close time and clock, and follows the host's
pause and "+30 s" without a page run. If the route cannot be reached for a while, the component
asks for a page run every :data:`RETRY_S` seconds instead, so a phone is never stuck.
"""

from __future__ import annotations

from trainer.live.class_signal import ClassSignal
from trainer.ui.components import component_data, define

#: Without an answer from the route for this long, the page is rerun (the old polling, slower).
RETRY_S = 6.0

_CSS = """
.cw { font: 600 1.15rem/1.4 sans-serif; min-height: 0.2rem; }
.cw.low { color: #c62828; }
"""

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  const el = parentElement;
  __READ_DATA__
  if (!el.__cw) { el.__cw = document.createElement('div'); el.__cw.className = 'cw'; el.appendChild(el.__cw); }
  const box = el.__cw;
  el.__view = d.view;
  const gen = (el.__gen = (el.__gen || 0) + 1);  // a newer page run supersedes this one
  if (el.__timer) { clearInterval(el.__timer); el.__timer = undefined; }
  if (el.__abort) { el.__abort.abort(); el.__abort = undefined; }
  let clock = d.clock || null;
  const draw = () => {
    if (!clock || clock.closes_ms === null || clock.closes_ms === undefined) { box.textContent = ''; return; }
    if (clock.paused) {
      box.textContent = 'Paused by the host · ' + Math.max(0, Math.round(clock.left_s || 0)) + ' s left';
      box.className = 'cw';
      return;
    }
    const offset = clock.server_now_ms - clock.seen_ms;  // the server's clock, not the phone's
    const left = Math.max(0, Math.round((clock.closes_ms - (Date.now() + offset)) / 1000));
    box.textContent = left > 0 ? left + ' s left' : 'Time is up';
    box.className = left <= 5 ? 'cw low' : 'cw';
  };
  if (clock) { clock.seen_ms = Date.now(); }
  draw();
  el.__timer = setInterval(draw, 1000);
  if (!d.code || !d.view) { return () => { clearInterval(el.__timer); }; }
  const url = 'api/class/' + encodeURIComponent(d.code) + '?since=';
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const loop = async () => {
    let failedSince = null;
    let since = clock && clock.stamp ? clock.stamp : d.view;
    for (;;) {
      if (el.__gen !== gen) return;
      const ctl = new AbortController();
      el.__abort = ctl;
      try {
        const r = await fetch(url + encodeURIComponent(since), { cache: 'no-store', signal: ctl.signal });
        if (el.__gen !== gen) return;
        if (!r.ok) throw new Error('status ' + r.status);
        const s = await r.json();
        failedSince = null;
        clock = s; clock.seen_ms = Date.now(); draw();
        if (s.view !== d.view) {
          el.__want = s.view;
          if (!el.__pending) {
            // A random part of the class's spread, so a room's page runs do not all arrive at
            // once; a view that changes again meanwhile (closed, then revealed) costs one run.
            el.__pending = true;
            setTimeout(() => {
              el.__pending = false;
              if (el.__view !== el.__want) setTriggerValue('moved', el.__want);
            }, Math.random() * (s.spread_ms || 0));
          }
        }
        since = s.stamp;  // keep waiting (a page run may be slow); a new run replaces this loop
      } catch (e) {
        if (el.__gen !== gen || (e && e.name === 'AbortError')) return;
        const now = Date.now();
        if (failedSince === null) failedSince = now;
        if (now - failedSince >= d.retry_ms) { failedSince = now; setTriggerValue('retry', now); }
        await sleep(1000 + Math.random() * 1000);
      }
    }
  };
  loop();
  return () => {
    if (el.__timer) clearInterval(el.__timer);
    el.__timer = undefined;
    if (el.__abort) el.__abort.abort();
  };
}
"""

_watch = define("trainer_class_watch", _JS, _CSS)


def class_watch(key: str, code: str, view: str, signal: ClassSignal | None) -> None:
    """Wait for the class to move on from ``view`` (then a page run) and show ``signal``'s clock.

    The route's URL is relative to the page (``api/class/...``), so it follows a base path.
    """
    _watch(
        key=key,
        data=component_data(
            {
                "code": code,
                "view": view,
                "clock": signal.payload() if signal is not None else None,
                "retry_ms": int(RETRY_S * 1000),
            }
        ),
        on_moved_change=lambda: None,
        on_retry_change=lambda: None,
    )
