"""Embed plotly figures in notebooks so the offline book stays interactive and nbval-stable.

* plotly.js is inlined the **first** time :func:`plotly_html` runs in a process (one
  kernel = one notebook) and omitted afterwards, so a page carries it exactly once and
  needs no CDN.
* The caller names the ``<div>`` (``div_id``); nothing random (no uuid) appears in the
  output, so re-running a notebook gives byte-identical HTML.
"""
from __future__ import annotations

import re

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_STATE = {"js_included": False}

#: Passed to ``plotly.io.to_html`` for every figure.
CONFIG = {"responsive": True, "displaylogo": False}


def reset_plotly_embed() -> None:
    """Forget that plotly.js was embedded (the next call inlines it again). For tests."""
    _STATE["js_included"] = False


def plotly_html_string(fig, div_id: str) -> str:
    """The HTML fragment for ``fig`` (see module docstring); updates the embed state."""
    import plotly.graph_objects as go
    import plotly.io as pio

    if not isinstance(fig, go.Figure):
        raise ValueError(f"fig must be a plotly.graph_objects.Figure, got {type(fig).__name__}")
    if not isinstance(div_id, str) or not _ID.match(div_id):
        raise ValueError(f"div_id must match {_ID.pattern} (letters, digits, _ or -), got {div_id!r}")
    include = not _STATE["js_included"]
    html = pio.to_html(fig, include_plotlyjs=include, full_html=False, div_id=div_id,
                       config=CONFIG, auto_play=False, validate=True)
    _STATE["js_included"] = True
    return html


def plotly_html(fig, div_id: str):
    """``IPython.display.HTML`` embedding ``fig`` under ``<div id=div_id>``.

    The first call in a process inlines plotly.js (``include_plotlyjs=True``); later
    calls reference the already-loaded library (``False``). Output is deterministic.
    """
    from IPython.display import HTML

    return HTML(plotly_html_string(fig, div_id))
