"""The answer surface's server side: what it sends, how a click or an arrow-key nudge is applied."""

from __future__ import annotations

import json

from trainer.explorer.figures import answer_surface_data
from trainer.live.join_page import place_pin
from trainer.ui.components.pinboard import clean_click


def test_a_nudge_moves_the_last_pin_and_a_tap_adds_or_moves() -> None:
    def place(
        pins: list[tuple[float, float]], click: dict[str, object], hi: int
    ) -> list[tuple[float, float]]:
        clicked = clean_click(click)
        assert clicked is not None
        xy = (float(clicked["x"]), float(clicked["y"]))
        return place_pin(pins, xy, hi, nudge=bool(clicked["nudge"]))

    pins: list[tuple[float, float]] = []
    pins = place(pins, {"x": 3.0, "y": 4.0, "nudge": True}, 2)  # nothing to nudge: a nudge places a pin
    assert pins == [(3.0, 4.0)]
    pins = place(pins, {"x": 10.0, "y": 10.0}, 2)
    pins = place(pins, {"x": 11.5, "y": 10.0, "nudge": True}, 2)
    assert pins == [(3.0, 4.0), (11.5, 10.0)]
    pins = place(pins, {"x": 50.0, "y": 50.0}, 2)  # full: a tap adds nothing
    assert pins == [(3.0, 4.0), (11.5, 10.0)]
    one = place([(1.0, 1.0)], {"x": 2.0, "y": 2.0}, 1)
    assert one == [(2.0, 2.0)]


def test_only_a_real_true_is_a_nudge() -> None:
    assert clean_click({"x": 1, "y": 2, "nudge": True})["nudge"] is True  # type: ignore[index]
    for value in ("true", 1, None, [True]):
        assert clean_click({"x": 1, "y": 2, "nudge": value})["nudge"] is False  # type: ignore[index]


def test_the_surface_gets_the_scale_but_no_answer() -> None:
    data = answer_surface_data("app/static/v.png", 900, 900, [], True, px_per_cm=37.5, reserve_px=380)
    assert data["px_per_cm"] == 37.5 and data["reserve_px"] == 380
    assert set(data) == {
        "image",
        "width",
        "height",
        "pins",
        "active",
        "shapes",
        "hint",
        "seq",
        "max_width_px",
        "px_per_cm",
        "reserve_px",
    }
    assert "target" not in json.dumps(data)
