"""The same reading's two attention maps (paper recipe, REFLACX recipe) side by side.

Units: axes in **film pixels**; each map is stretched over the film whatever its own grid
(e.g. map-grid px and original px); the colourbars are in each map's own units (``units``).
"""
from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from gazex_lib.viz.keyframes._common import _check_film, _film_axes, _grey
from gazex_lib.viz.style import figure_size

# No σ in the default titles: the caller knows the recipe's values (``configs/*.yaml``) and
# can pass titles that state them.
_DEFAULT_TITLES = ("paper: raw samples, max = 1",
                   "REFLACX: fixations, duration-weighted, sum 1")
_DEFAULT_UNITS = ("paper map (max = 1)", "REFLACX map (fraction of total per px)")
#: Grey factor of the film under the heat (dimmed so the heat reads).
_FILM_DIM = 0.55


def recipe_comparison_figure(film, paper_map, reflacx_map, titles=_DEFAULT_TITLES,
                             units=_DEFAULT_UNITS, title: str | None = None) -> Figure:
    """The same reading's two attention maps side by side over the film.

    ``film``: (H, W) uint8 at any scale; ``paper_map`` / ``reflacx_map``: 2-D maps at any
    grid (e.g. the map grid and original pixels) of the **same image**, each stretched over
    the film (the aspect ratios must agree within 2 %). Each map is drawn in its own colour
    scale with its own colourbar (``units``) over the dimmed film; the heat's opacity
    grows with its value (transparent at 0). ``titles``: one per panel (paper, REFLACX),
    each followed by the map's grid, max and sum. Axes are in film pixels.
    """
    film = _check_film(film)
    maps_ = []
    for name, m in (("paper_map", paper_map), ("reflacx_map", reflacx_map)):
        arr = np.asarray(m, dtype=float)
        if arr.ndim != 2 or 0 in arr.shape:
            raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} has NaN or infinite values")
        a_map, a_film = arr.shape[1] / arr.shape[0], film.shape[1] / film.shape[0]
        if abs(a_map / a_film - 1) > 0.02:
            raise ValueError(f"{name} shape {arr.shape} does not match the film's aspect "
                             f"(film {film.shape[:2]})")
        maps_.append(arr)
    if len(titles) != 2 or len(units) != 2:
        raise ValueError("titles and units need two entries each (paper, reflacx)")
    h, w = film.shape[:2]
    fig = Figure(figsize=figure_size(2 * 4.2 * w / h + 1.6, 5.6), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    cmaps = ("inferno", "viridis")
    for ax, arr, sub, unit, cm, gid in zip(axes, maps_, titles, units, cmaps,
                                           ("paper", "reflacx")):
        ax.set_gid(gid)
        _grey(ax, film, _FILM_DIM)
        top = float(arr.max())
        norm = Normalize(0.0, top if top > 0 else 1.0)
        alpha = np.clip(arr / top, 0, 1) * 0.9 if top > 0 else np.zeros_like(arr)
        ax.imshow(arr, cmap=cm, norm=norm, alpha=alpha, extent=extent,
                  interpolation="bilinear", gid="attention_map")
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cm), ax=ax, location="bottom",
                          shrink=0.85, pad=0.02, aspect=30)
        cb.set_label(unit, fontsize=8)
        cb.ax.tick_params(labelsize=7)
        cb.formatter.set_powerlimits((-2, 3))
        cb.update_ticks()
        ax.set_title(f"{sub}\ngrid {arr.shape[1]} × {arr.shape[0]}, max {top:.3g}, "
                     f"sum {arr.sum():.3g}", fontsize=8.5)
        _film_axes(ax, film.shape)
    axes[0].set_ylabel("y (film px)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
