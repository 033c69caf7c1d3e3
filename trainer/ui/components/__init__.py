"""Small inline Streamlit components (no npm build).

Every component gets its ``data`` wrapped in a one-item list (:func:`component_data`), not as a
dict or text: Streamlit checks a dict's values, or text, for data frames, which imports pandas
and pyarrow (about half a second) during the first page a visitor opens after a start; a list
goes to the browser as JSON untouched. Each script unwraps it with :data:`READ_DATA`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

#: The first line of every component script: ``d`` is the server's data as an object.
READ_DATA = "const d = (Array.isArray(data) ? data[0] : data) || {};"


def component_data(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``values`` as the data a component script unwraps with :data:`READ_DATA`."""
    return [dict(values)]


def define(name: str, js: str, css: str = "") -> Callable[..., Any]:
    """Register an inline component whose script reads its data with :data:`READ_DATA` (written
    ``__READ_DATA__`` in the script)."""
    return st.components.v2.component(name, html="", css=css, js=js.replace("__READ_DATA__", READ_DATA))
