"""plotly's graph objects, handed out only once pandas has finished importing.

plotly looks pandas up in ``sys.modules`` without importing it, so a figure built in one
session while another session's first table is still importing pandas failed with "partially
initialized module 'pandas'" (seen with a projector and a host tab together). Importing pandas
here first, under Python's per-module import lock, means every module that can build a figure
has a complete pandas — and the app no longer imports pandas at start-up for a first page that
draws no figure.
"""

from __future__ import annotations

import pandas  # noqa: F401  (imported for its side effect: see the module docstring)
import plotly.graph_objects as go

__all__ = ["go"]
