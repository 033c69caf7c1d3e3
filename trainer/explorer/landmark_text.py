"""A landmark's hover text, without plotly: Learn's first page and the figures both use it."""

from __future__ import annotations

import textwrap

from trainer.atlas.core import Landmark

METHOD_WORDS = {
    "joint_offset": "found from the joint centre plus a documented offset",
    "relief": "found as the most prominent point of the bony relief",
    "vertex_pick": "a mesh vertex picked by eye and reviewed",
}


def landmark_hover_lines(lm: Landmark) -> list[str]:
    """Hover text for a landmark: name, the bony point it is, how it was found on the body
    (with its expected error), and how to palpate it."""
    how = METHOD_WORDS.get(lm.method, lm.method)
    lines = [lm.name]
    if lm.definition:
        lines.append(f"Definition: {lm.definition}")
    if lm.method:
        err = f" (expected error about {lm.expected_error_cm:g} cm)" if lm.expected_error_cm else ""
        lines.append(f"On this body: {how}{err}: {lm.method_rule}")
    if lm.palpation:
        lines.append(f"Palpation: {lm.palpation}")
    # Plotly does not wrap hover text: break long lines so the box stays readable.
    return [part for line in lines for part in textwrap.wrap(line, 90)]
