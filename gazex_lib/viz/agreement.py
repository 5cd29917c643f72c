"""Figures of the agreement chapters: Bland-Altman plots and rater-against-rater scatters.

Every function returns a matplotlib ``Figure`` and changes no global state.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gazex_lib.viz.style import PALETTE, figure_size, style_axes

__all__ = ["bland_altman_figure", "agreement_scatter"]


def bland_altman_figure(a, b, summary: dict, *, unit: str = "px", title: str | None = None) -> Figure:
    """Differences ``a - b`` against means, with the bias and the limits of agreement of
    ``summary`` (:func:`gazex_lib.analysis.bland_altman`) and their intervals as bands."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    mean, diff = (a[ok] + b[ok]) / 2, a[ok] - b[ok]
    fig = Figure(figsize=figure_size(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.scatter(mean, diff, s=14, color=PALETTE["bar"], alpha=0.7, linewidths=0)
    for key, style in (("bias", "-"), ("loa_low", "--"), ("loa_high", "--")):
        y = summary[key]
        lo, hi = summary[f"{key}_ci"]
        ax.axhspan(lo, hi, color=PALETTE["accent"] if key != "bias" else PALETTE["positive"], alpha=0.12, lw=0)
        ax.axhline(y, color="#333333", linestyle=style, linewidth=1, gid=f"ba-{key}")
        ax.annotate(f"{key.replace('_', ' ')} {y:+.1f}", (1.0, y), xycoords=("axes fraction", "data"),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xlabel(f"mean of the two ({unit})", fontsize=8)
    ax.set_ylabel(f"difference ({unit})", fontsize=8)
    style_axes(ax)
    if title:
        ax.set_title(f"{title} (n = {summary['n']})", fontsize=10, loc="left")
    return fig


def agreement_scatter(x, y, *, xlabel: str, ylabel: str, title: str | None = None) -> Figure:
    """``y`` against ``x`` with the line y = x (perfect agreement)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig = Figure(figsize=figure_size(4.2, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.scatter(x, y, s=14, color=PALETTE["bar"], alpha=0.7, linewidths=0)
    finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.plot([lo, hi], [lo, hi], color="#333333", linewidth=1, linestyle="--", gid="identity")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    style_axes(ax)
    if title:
        ax.set_title(title, fontsize=10, loc="left")
    return fig
