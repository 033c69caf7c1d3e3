"""A countdown that ticks every second in the browser, from the server's close time.

The phone polls the class every few seconds; between polls this component counts down on its
own. It is given the close time and the server's "now" (both epoch ms), so a phone whose clock
is wrong still shows the server's countdown. The server alone decides whether an answer was in
time; this is only what the learner sees. It sends nothing back.
"""

from __future__ import annotations

from datetime import datetime

from trainer.ui.components import component_data, define

_CSS = """
.cd { font: 600 1.15rem/1.4 sans-serif; }
.cd.low { color: #c62828; }
"""

_JS = """
export default function(component) {
  const { data, parentElement } = component;
  const el = parentElement;
  __READ_DATA__
  if (!el.__cd) { el.__cd = document.createElement('div'); el.__cd.className = 'cd'; el.appendChild(el.__cd); }
  if (el.__timer) { clearInterval(el.__timer); el.__timer = undefined; }
  const box = el.__cd;
  const offset = (d.server_now_ms || Date.now()) - Date.now();
  const draw = () => {
    const left = Math.max(0, Math.round(((d.closes_ms || 0) - (Date.now() + offset)) / 1000));
    const frozen = d.paused ? 'Paused by the host · ' : '';
    box.textContent = left > 0 ? frozen + left + ' s left' : 'Time is up';
    box.className = left <= 5 ? 'cd low' : 'cd';
    if (left <= 0 && el.__timer) { clearInterval(el.__timer); el.__timer = undefined; }
  };
  if (d.paused) {
    const left = Math.max(0, Math.round(d.left_s || 0));
    box.textContent = 'Paused by the host · ' + left + ' s left';
    box.className = 'cd';
  } else {
    draw();
    el.__timer = setInterval(draw, 1000);
  }
  return () => { if (el.__timer) clearInterval(el.__timer); el.__timer = undefined; };
}
"""

_countdown = define("trainer_countdown", _JS, _CSS)


def countdown(key: str, closes_at: datetime, now: datetime, paused: bool, left_s: float) -> None:
    """Show the ticking countdown (frozen at ``left_s`` while the host has paused the clock)."""
    _countdown(
        key=key,
        data=component_data(
            {
                "closes_ms": int(closes_at.timestamp() * 1000),
                "server_now_ms": int(now.timestamp() * 1000),
                "paused": paused,
                "left_s": left_s,
            }
        ),
    )
