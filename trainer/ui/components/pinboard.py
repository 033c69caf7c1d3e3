"""The answer surface: an <img> served as a static file, with an SVG overlay for pins.

One ``pointerup`` handler maps the tap to *natural image pixels* and sends it with
``setTriggerValue('click', ...)``; it works the same for mouse, pen and touch. On a touch
screen a magnifier (a loupe, 3x, with a crosshair) shows the spot under the finger above the
finger while it moves, so a 1 cm target can be hit on a phone; with a keyboard the arrow keys
move the last pin by 0.1 cm (the view's scale comes with the image, never a target). The browser
only ever receives what is in ``data``: before an answer is scored that is the image URL,
its size and the learner's own pins — never a target or a course.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from trainer.explorer.figures import answer_surface_data
from trainer.ui.components import component_data, define

_CSS = """
.pb-wrap { position: relative; width: 100%; margin: 0 auto; touch-action: manipulation; user-select: none; -webkit-user-select: none;
  max-width: max(var(--pb-min, 260px), min(var(--pb-max, 900px), calc((100dvh - var(--pb-top, 0px) - var(--pb-reserve, 0px)) * var(--pb-aspect, 1)))); }
.pb-wrap img { display: block; width: 100%; height: auto; border-radius: 6px; }
.pb-wrap svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.pb-wrap.pb-active { cursor: crosshair; touch-action: none; }
.pb-wrap:focus-visible { outline: 3px solid #7b2cbf; outline-offset: 2px; }
.pb-hint { font: 13px/1.3 sans-serif; color: #555; text-align: center; margin-top: 4px; min-height: 1.3em; }
.pb-loupe { position: absolute; width: 128px; height: 128px; border-radius: 50%; border: 3px solid #7b2cbf;
  box-shadow: 0 2px 10px rgba(0,0,0,0.35); background-repeat: no-repeat; background-color: #fff;
  pointer-events: none; display: none; z-index: 10; }
.pb-loupe::before, .pb-loupe::after { content: ""; position: absolute; background: #7b2cbf; }
.pb-loupe::before { left: 50%; top: 18%; bottom: 18%; width: 1.5px; margin-left: -0.75px; }
.pb-loupe::after { top: 50%; left: 18%; right: 18%; height: 1.5px; margin-top: -0.75px; }
"""

_JS = """
const LOUPE_PX = 128, LOUPE_ZOOM = 3, LOUPE_LIFT_PX = 96;

function natural(wrap, e) {
  const cur = wrap.__pbData || {};
  const r = wrap.querySelector('img').getBoundingClientRect();
  if (r.width === 0) return null;
  const x = (e.clientX - r.left) * (cur.width / r.width);
  const y = (e.clientY - r.top) * (cur.height / r.height);
  return { x, y, inside: !(x < 0 || y < 0 || x > cur.width || y > cur.height), r };
}

function showLoupe(wrap, p) {
  // A magnified view of the spot under the finger, drawn above it, with a crosshair on the spot.
  const loupe = wrap.querySelector('.pb-loupe');
  const cur = wrap.__pbData || {};
  const im = wrap.querySelector('img');
  const w = im.clientWidth, h = im.clientHeight;
  const sx = p.x * w / cur.width, sy = p.y * h / cur.height;   // displayed px inside the image
  let left = sx - LOUPE_PX / 2, top = sy - LOUPE_PX / 2 - LOUPE_LIFT_PX;
  if (top + p.r.top < 4) top = sy + LOUPE_LIFT_PX - LOUPE_PX / 2;  // no room above: below the finger
  loupe.style.left = left + 'px'; loupe.style.top = top + 'px';
  loupe.style.backgroundImage = 'url("' + im.currentSrc + '")';
  loupe.style.backgroundSize = (w * LOUPE_ZOOM) + 'px ' + (h * LOUPE_ZOOM) + 'px';
  loupe.style.backgroundPosition = (LOUPE_PX / 2 - sx * LOUPE_ZOOM) + 'px ' + (LOUPE_PX / 2 - sy * LOUPE_ZOOM) + 'px';
  loupe.dataset.x = p.x.toFixed(2); loupe.dataset.y = p.y.toFixed(2);
  loupe.style.display = 'block';
}

function hideLoupe(wrap) { const l = wrap.querySelector('.pb-loupe'); if (l) l.style.display = 'none'; }

function lastPin(wrap) {
  const d = wrap.__pbData || {};
  if (wrap.__pbLocal) return wrap.__pbLocal;
  const pins = d.pins || [];
  return pins.length ? pins[pins.length - 1] : null;
}

function nudgeText(wrap) {
  const o = wrap.__pbNudge;
  if (!o || (o.dx === 0 && o.dy === 0)) return '';
  const part = (v, pos, neg) => v === 0 ? '' : (Math.abs(v) / 10).toFixed(1) + ' cm ' + (v > 0 ? pos : neg);
  return 'Last pin moved ' + [part(o.dx, 'right', 'left'), part(o.dy, 'down', 'up')].filter(Boolean).join(', ') + ' (0.1 cm per arrow key).';
}

function send(wrap, setTriggerValue, x, y, pointer, nudge) {
  const cur = wrap.__pbData || {};
  wrap.__pbCount = (wrap.__pbCount || 0) + 1;
  setTriggerValue('click', { x: x, y: y, pointer: pointer, seq: (cur.seq || 0), n: wrap.__pbCount, nudge: !!nudge });
}

export default function(component) {
  const { data, setTriggerValue, parentElement } = component;
  __READ_DATA__
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
    const loupe = document.createElement('div');
    loupe.className = 'pb-loupe';
    wrap.appendChild(loupe);
    const hint = document.createElement('div');
    hint.className = 'pb-hint';
    hint.setAttribute('aria-live', 'polite');
    parentElement.appendChild(wrap);
    parentElement.appendChild(hint);
    wrap.addEventListener('pointerdown', (e) => {
      const cur = wrap.__pbData || {};
      if (!cur.active || e.pointerType === 'mouse') return;
      const p = natural(wrap, e);
      if (!p || !p.inside) return;
      try { wrap.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
      showLoupe(wrap, p);
    });
    wrap.addEventListener('pointermove', (e) => {
      const l = wrap.querySelector('.pb-loupe');
      if (!l || l.style.display !== 'block') return;
      const p = natural(wrap, e);
      if (p && p.inside) showLoupe(wrap, p);
    });
    wrap.addEventListener('pointercancel', () => hideLoupe(wrap));
    wrap.addEventListener('pointerup', (e) => {
      hideLoupe(wrap);
      const cur = wrap.__pbData || {};
      if (!cur.active) return;
      const p = natural(wrap, e);
      if (!p || !p.inside) return;
      drawPin(wrap.querySelector('svg'), p.x, p.y, cur, true);
      wrap.__pbLocal = [p.x, p.y];
      wrap.__pbLocalMoves = false;
      wrap.__pbNudge = { dx: 0, dy: 0 };
      wrap.focus({ preventScroll: true });
      send(wrap, setTriggerValue, p.x, p.y, e.pointerType || 'mouse', false);
    });
    wrap.addEventListener('keydown', (e) => {
      // Arrow keys move the last pin by 0.1 cm on the body (the scale comes with the image).
      const cur = wrap.__pbData || {};
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
      if (!step || !cur.active || !cur.px_per_cm) return;
      const last = lastPin(wrap);
      if (!last) return;
      e.preventDefault();
      const s = cur.px_per_cm / 10;
      const x = Math.min(cur.width, Math.max(0, last[0] + step[0] * s));
      const y = Math.min(cur.height, Math.max(0, last[1] + step[1] * s));
      if (!wrap.__pbLocal) wrap.__pbLocalMoves = true;  // moving a pin the server has
      wrap.__pbLocal = [x, y];
      const o = wrap.__pbNudge || { dx: 0, dy: 0 };
      wrap.__pbNudge = { dx: o.dx + step[0], dy: o.dy + step[1] };
      const svg = wrap.querySelector('svg');
      svg.querySelectorAll('.pb-pending').forEach(n => n.remove());
      drawPin(svg, x, y, cur, true);
      const hint = parentElement.querySelector('.pb-hint');
      if (hint) hint.textContent = nudgeText(wrap);
      send(wrap, setTriggerValue, x, y, 'keyboard', true);
    });
  }
  if ((wrap.__pbData || {}).seq !== d.seq || !d.active) { wrap.__pbNudge = null; wrap.__pbLocal = null; }
  wrap.__pbData = d;
  const pins = d.pins || [];
  const loc = wrap.__pbLocal;
  if (loc && pins.length && Math.abs(pins[pins.length - 1][0] - loc[0]) < 0.02 && Math.abs(pins[pins.length - 1][1] - loc[1]) < 0.02) {
    wrap.__pbLocal = null;  // the server has the pin where the learner put it
    wrap.__pbLocalMoves = false;
  }
  wrap.classList.toggle('pb-active', !!d.active);
  wrap.tabIndex = d.active ? 0 : -1;
  wrap.setAttribute('aria-label', d.active && d.px_per_cm ? 'Body view: tap or click to place a pin; arrow keys move the last pin by 0.1 cm' : 'Body view');
  if (d.max_width_px) wrap.style.setProperty('--pb-max', d.max_width_px + 'px');
  wrap.style.setProperty('--pb-aspect', String((d.width || 1) / (d.height || 1)));
  wrap.style.setProperty('--pb-reserve', (d.reserve_px || 0) + 'px');
  // The image is sized so that what is above it, it, and reserve_px below fit the window.
  const top = wrap.getBoundingClientRect().top + window.scrollY;
  if (top > 0 && top < window.innerHeight) wrap.style.setProperty('--pb-top', Math.round(top) + 'px');
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
  // While a nudge is on its way, the server's copy of the moved pin is not drawn.
  const shown = wrap.__pbLocal && wrap.__pbLocalMoves ? pins.slice(0, -1) : pins;
  shown.forEach((p, i) => drawPin(svg, p[0], p[1], d, false, i + 1));
  if (wrap.__pbLocal) drawPin(svg, wrap.__pbLocal[0], wrap.__pbLocal[1], d, true);
  const hint = parentElement.querySelector('.pb-hint');
  if (hint) hint.textContent = nudgeText(wrap) || d.hint || '';
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

_pinboard = define("trainer_pinboard", _JS, _CSS)


#: Height (px) kept below the image (hint, buttons) when the image is sized to the window.
DEFAULT_RESERVE_PX = 215

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
        "nudge": click.get("nudge") is True,
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
    px_per_cm: float | None = None,
    reserve_px: int = DEFAULT_RESERVE_PX,
) -> dict[str, Any] | None:
    """Show the image; return a new click ``{"x", "y", "pointer", "seq", "n", "nudge"}``
    (natural px) or None. Apply it with the page model's pin rule (a nudge moves the last pin).

    ``shapes`` are drawn in the overlay and must only hold what the learner may see now.
    ``on_click`` runs before the script (use :func:`take_click` inside it), which saves a rerun.
    ``px_per_cm`` (the view's scale) turns on arrow-key nudging in 0.1 cm steps.
    ``reserve_px`` is the height the page needs below the image: the image shrinks so that
    what is above it, the image and that much fit the window (down to a 260 px wide image).
    """
    data = answer_surface_data(
        image_url,
        width_px,
        height_px,
        pins_px,
        active,
        shapes or [],
        hint,
        seq,
        max_width_px,
        px_per_cm=px_per_cm,
        reserve_px=reserve_px,
    )
    _pinboard(key=key, data=component_data(data), on_click_change=on_click or (lambda: None))
    return take_click(key)
