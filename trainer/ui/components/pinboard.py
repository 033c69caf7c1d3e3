"""The answer surface: an <img> served as a static file, with an SVG overlay for pins.

One ``pointerup`` handler maps the tap to *natural image pixels* and sends it with
``setTriggerValue('click', ...)``; it works the same for mouse, pen and touch. The browser
only ever receives what is in ``data``: before an answer is scored that is the image URL,
its size and the learner's own pins — never a target or a course.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from trainer.explorer.figures import answer_surface_data

_CSS = """
.pb-wrap { position: relative; width: 100%; max-width: var(--pb-max, 900px); margin: 0 auto; touch-action: manipulation; user-select: none; -webkit-user-select: none; }
.pb-wrap img { display: block; width: 100%; height: auto; border-radius: 6px; }
.pb-wrap svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.pb-wrap.pb-active { cursor: crosshair; }
.pb-hint { font: 13px/1.3 sans-serif; color: #555; text-align: center; margin-top: 4px; }
"""

_JS = """
export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  const d = data || {};
  let wrap = parentElement.querySelector('.pb-wrap');
  if (!wrap) {
    wrap = document.createElement('div');
    wrap.className = 'pb-wrap';
    const img = document.createElement('img');
    img.draggable = false;
    img.alt = 'Body view';
    wrap.appendChild(img);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    wrap.appendChild(svg);
    const hint = document.createElement('div');
    hint.className = 'pb-hint';
    parentElement.appendChild(wrap);
    parentElement.appendChild(hint);
    wrap.addEventListener('pointerup', (e) => {
      const cur = wrap.__pbData || {};
      if (!cur.active) return;
      const im = wrap.querySelector('img');
      const r = im.getBoundingClientRect();
      if (r.width === 0) return;
      const x = (e.clientX - r.left) * (cur.width / r.width);
      const y = (e.clientY - r.top) * (cur.height / r.height);
      if (x < 0 || y < 0 || x > cur.width || y > cur.height) return;
      drawPin(wrap.querySelector('svg'), x, y, cur, true);
      wrap.__pbCount = (wrap.__pbCount || 0) + 1;
      setTriggerValue('click', { x: x, y: y, pointer: e.pointerType || 'mouse', seq: (cur.seq || 0), n: wrap.__pbCount });
    });
  }
  wrap.__pbData = d;
  wrap.classList.toggle('pb-active', !!d.active);
  if (d.max_width_px) wrap.style.setProperty('--pb-max', d.max_width_px + 'px');
  const img = wrap.querySelector('img');
  if (img.getAttribute('src') !== d.image) img.setAttribute('src', d.image);
  const svg = wrap.querySelector('svg');
  svg.setAttribute('viewBox', `0 0 ${d.width} ${d.height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const ns = 'http://www.w3.org/2000/svg';
  const r = Math.max(d.width, d.height) / 90;
  for (const s of (d.shapes || [])) {
    let el;
    if (s.type === 'polyline' || s.type === 'polygon') {
      el = document.createElementNS(ns, s.type);
      el.setAttribute('points', s.points.map(p => p[0] + ',' + p[1]).join(' '));
      el.setAttribute('fill', s.fill || 'none');
    } else if (s.type === 'circle') {
      el = document.createElementNS(ns, 'circle');
      el.setAttribute('cx', s.x); el.setAttribute('cy', s.y); el.setAttribute('r', s.r || r);
      el.setAttribute('fill', s.fill || 'none');
    } else if (s.type === 'arrow') {
      el = document.createElementNS(ns, 'line');
      el.setAttribute('x1', s.x1); el.setAttribute('y1', s.y1); el.setAttribute('x2', s.x2); el.setAttribute('y2', s.y2);
    } else if (s.type === 'text') {
      el = document.createElementNS(ns, 'text');
      el.setAttribute('x', s.x); el.setAttribute('y', s.y);
      el.setAttribute('font-size', s.size || r * 2.2);
      el.setAttribute('fill', s.fill || '#222');
      el.setAttribute('paint-order', 'stroke'); el.setAttribute('stroke', 'white'); el.setAttribute('stroke-width', r / 2);
      el.textContent = s.text;   // textContent: never parsed as HTML
    } else { continue; }
    if (s.type !== 'text') {
      el.setAttribute('stroke', s.stroke || '#1f77ff');
      el.setAttribute('stroke-width', s.width || r / 2.5);
      if (s.dash) el.setAttribute('stroke-dasharray', s.dash);
      if (s.opacity) el.setAttribute('opacity', s.opacity);
      el.setAttribute('stroke-linecap', 'round'); el.setAttribute('stroke-linejoin', 'round');
    }
    svg.appendChild(el);
  }
  (d.pins || []).forEach((p, i) => drawPin(svg, p[0], p[1], d, false, i + 1));
  const hint = parentElement.querySelector('.pb-hint');
  if (hint) hint.textContent = d.hint || '';
}

function drawPin(svg, x, y, d, pending, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const r = Math.max(d.width, d.height) / 90;
  const c = document.createElementNS(ns, 'circle');
  c.setAttribute('cx', x); c.setAttribute('cy', y); c.setAttribute('r', r);
  c.setAttribute('fill', pending ? 'rgba(123,44,191,0.45)' : '#7b2cbf');
  c.setAttribute('stroke', 'white'); c.setAttribute('stroke-width', r / 3);
  c.setAttribute('class', pending ? 'pb-pin pb-pending' : 'pb-pin');
  svg.appendChild(c);
  if (label && (d.pins || []).length > 1) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', x + r * 1.2); t.setAttribute('y', y - r * 1.2);
    t.setAttribute('font-size', r * 2); t.setAttribute('fill', '#7b2cbf');
    t.textContent = String(label);
    svg.appendChild(t);
  }
}
"""

_pinboard = st.components.v2.component("trainer_pinboard", html="", css=_CSS, js=_JS)


#: Natural-pixel coordinates beyond this are not a tap on any rendered view.
_MAX_COORD_PX = 100_000.0


def clean_click(click: object) -> dict[str, Any] | None:
    """The click a browser sent, or None when it is not a tap at two finite numbers.

    The trigger value comes from the browser, so a modified client can send anything
    (strings, ``null``, lists, ``NaN``, huge numbers): every page reads taps through here.

    >>> clean_click({"x": 10, "y": 2.5, "seq": 1, "n": 3})["x"]
    10.0
    >>> [clean_click(c) for c in ({"x": "1", "y": 2}, {"x": float("nan"), "y": 1}, {"x": True, "y": 1}, [1, 2])]
    [None, None, None, None]
    """
    if not isinstance(click, dict):
        return None
    x, y = click.get("x"), click.get("y")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        return None
    fx, fy = float(x), float(y)  # type: ignore[arg-type]
    if not all(math.isfinite(v) and abs(v) <= _MAX_COORD_PX for v in (fx, fy)):
        return None
    stamp = tuple(
        v if isinstance(v, int | float | str) and not isinstance(v, bool) else None
        for v in (click.get("seq"), click.get("n"))
    )
    pointer = click.get("pointer")
    return {
        "x": fx,
        "y": fy,
        "pointer": pointer if isinstance(pointer, str) else "mouse",
        "seq": stamp[0],
        "n": stamp[1],
    }


def _read_click(key: str) -> dict[str, Any] | None:
    state = st.session_state.get(key)
    get = getattr(state, "get", None)
    click = get("click") if callable(get) else getattr(state, "click", None)
    return clean_click(click)


def take_click(key: str) -> dict[str, Any] | None:
    """Return a click exactly once: the trigger value, de-duplicated by its counter."""
    click = _read_click(key)
    if click is None:
        return None
    stamp = (click.get("seq"), click.get("n"), click["x"], click["y"])
    if st.session_state.get(f"{key}__last") == stamp:
        return None
    st.session_state[f"{key}__last"] = stamp
    return click


def pinboard(
    key: str,
    image_url: str,
    width_px: int,
    height_px: int,
    pins_px: list[tuple[float, float]],
    active: bool,
    shapes: list[dict[str, Any]] | None = None,
    hint: str = "",
    seq: int = 0,
    max_width_px: int = 900,
    on_click: Callable[[], None] | None = None,
) -> dict[str, Any] | None:
    """Show the image; return a new click ``{"x", "y", "pointer", "seq", "n"}`` (natural px) or None.

    ``shapes`` are drawn in the overlay and must only hold what the learner may see now.
    ``on_click`` runs before the script (use :func:`take_click` inside it), which saves a rerun.
    """
    data = answer_surface_data(
        image_url, width_px, height_px, pins_px, active, shapes or [], hint, seq, max_width_px
    )
    _pinboard(key=key, data=data, on_click_change=on_click or (lambda: None))
    return take_click(key)
