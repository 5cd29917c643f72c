"""Shared pieces of the key-frame figures: constants, colours, captions, row checks, drawing.

Units: film coordinates are **map-grid pixels** (original px × the grid ``scale``; origin
top-left, y down), the grid of the key-frame table's ``box_*`` columns. Box extents are
inclusive pixel indices, so a box is drawn from ``x_min - 0.5`` to ``x_max + 0.5``. Grey
levels are uint8 (0..255).

No recipe value (scale, σ factors, threshold, darkness) is defined here: the callers take
them from their arguments (``configs/*.yaml`` via :class:`~gazex_lib.gaze.pipeline.KeyframeConfig`
or the ``params`` of a :class:`~gazex_lib.gaze.clusters.WindowClustering`).
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.patches import Rectangle

from gazex_lib.viz.style import require_columns, require_image

#: Grid-space box columns of the key-frame table (map-grid px, inclusive extents).
BOX_COLUMNS = ("box_x_min", "box_y_min", "box_x_max", "box_y_max", "box_cx", "box_cy")
#: Columns a row (of ``reading_keyframes`` / the key-frame table) needs to draw its box.
ROW_BOX_REQUIRED = ("frame_kind", "cluster_rank", "has_box", *BOX_COLUMNS)
#: Sentence outcomes, in the order the stats figure shows them (``clusters.CLUSTER_STATUSES``).
SENTENCE_STATUSES = ("ok", "single_cluster", "all_noise", "offimage", "no_gaze", "trimmed_empty")
#: Columns :func:`~gazex_lib.viz.keyframes.keyframe_stats_figure` needs.
STATS_REQUIRED = ("reading_id", "sentence_index", "frame_kind", "n_clusters", "status",
                  "has_box", "box_x_min", "box_y_min", "box_x_max", "box_y_max")
#: The holistic box (dashed) and its centroid.
HOLISTIC_COLOR = "#00e5ff"
#: DBSCAN noise pixels.
NOISE_COLOR = "#9e9e9e"
#: Colormap of the cluster time ranks (:func:`rank_colors`).
RANK_CMAP = "plasma"

# Unicode vulgar fractions for grid-unit labels ("¼-scale px"); any other scale prints as %g.
_FRACTIONS = {0.125: "⅛", 0.25: "¼", 0.5: "½", 0.75: "¾"}


def rank_colors(n: int) -> list[tuple]:
    """``n`` RGBA colours (floats in [0, 1]) for cluster time ranks 0..n-1 (plasma 0.4 ->
    0.95: early = pink, late = yellow), all readable on a dark frame."""
    cmap = colormaps[RANK_CMAP]
    if n <= 1:
        return [cmap(0.4)] * max(n, 0)
    return [cmap(0.4 + 0.55 * i / (n - 1)) for i in range(n)]


def _rank_color(rank: int, n: int):
    cols = rank_colors(max(n, rank + 1))
    return cols[rank]


def frame_caption(frame_index: int, sentence_index: int, kind: str,
                  cluster_rank: int | None) -> str:
    """``"#3 · sentence 1 · cluster 0"`` or ``"#4 · sentence 1 · holistic"``."""
    what = "holistic" if kind == "holistic" else f"cluster {cluster_rank}"
    return f"#{frame_index} · sentence {sentence_index} · {what}"


def grid_unit(scale: float) -> str:
    """Axis unit of a map grid at ``scale`` (grid px per original px): ``"¼-scale px"`` for
    0.25, ``"0.3-scale px"`` for 0.3, ``"original px"`` for 1."""
    scale = float(scale)
    if scale == 1.0:
        return "original px"
    return f"{_FRACTIONS.get(scale, f'{scale:g}')}-scale px"


def _as_frame_rows(rows, what: str) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        df = rows
    elif isinstance(rows, (list, tuple)) and all(isinstance(r, dict) for r in rows):
        df = pd.DataFrame(list(rows))
    else:
        raise ValueError(f"{what} must be a DataFrame or a list of row dicts, "
                         f"got {type(rows).__name__}")
    require_columns(df, ROW_BOX_REQUIRED, what)
    return df


def _has_box(df: pd.DataFrame) -> np.ndarray:
    """Rows that carry a box: ``has_box`` true and all four extents finite."""
    ext = df[list(BOX_COLUMNS[:4])].to_numpy(dtype=float)
    return df["has_box"].fillna(False).astype(bool).to_numpy() & np.isfinite(ext).all(axis=1)


def _n_ranks(r: pd.Series, df: pd.DataFrame) -> int:
    """Clusters of the row's sentence: ``n_clusters`` when present, else the ranks in ``df``."""
    if "n_clusters" in r.index and pd.notna(r["n_clusters"]):
        return int(r["n_clusters"])
    ranks = df.loc[df["frame_kind"] == "cluster", "cluster_rank"].to_numpy(dtype=float)
    return int(np.nanmax(ranks)) + 1 if len(ranks) else 0


def _draw_boxes(ax, df: pd.DataFrame, lw: float = 1.4, centroids: bool = True) -> int:
    """Draw every row's box (map-grid px; ``lw`` in points) on ``ax``; returns the number drawn."""
    n = 0
    for (_, r), ok in zip(df.iterrows(), _has_box(df)):
        if not ok:
            continue
        holistic = r["frame_kind"] == "holistic"
        color = HOLISTIC_COLOR if holistic else _rank_color(int(r["cluster_rank"]), _n_ranks(r, df))
        x0, y0, x1, y1 = (float(r[c]) for c in BOX_COLUMNS[:4])
        # holistic: thicker, dashed and underneath, so a cluster box sharing an edge shows
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False,
                               edgecolor=color, linewidth=lw * (1.7 if holistic else 1.0),
                               linestyle="--" if holistic else "-", gid="box",
                               zorder=4 if holistic else 5))
        if centroids and np.isfinite(r["box_cx"]) and np.isfinite(r["box_cy"]):
            ax.plot([r["box_cx"]], [r["box_cy"]], marker="P" if holistic else "X",
                    markersize=7, color=color, markeredgecolor="black", markeredgewidth=0.6,
                    linestyle="none", gid="centroid", zorder=6)
        n += 1
    return n


def _film_axes(ax, shape) -> None:
    """Limits of a film of ``shape`` (H, W[, C]) in its own pixels, y down; small ticks."""
    h, w = shape[:2]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.tick_params(labelsize=7)


def _grey(ax, film: np.ndarray, factor: float = 1.0, **kw) -> None:
    """Show a uint8 film in grey (0..255), its grey levels multiplied by ``factor`` (dimming)."""
    img = film.astype(np.float32) * factor if factor != 1.0 else film
    ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest", **kw)


def _check_film(film, what: str = "film") -> np.ndarray:
    film = require_image(film, what)
    if film.ndim == 3:
        film = film[..., 0] if film.shape[2] in (3, 4) else film
    if film.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8 greyscale, got {film.dtype}")
    return film


def _points_xy(points, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` (original px) of a DataFrame (``x/y`` or ``x_position/y_position``) or an
    object with attributes ``x`` and ``y``."""
    if isinstance(points, pd.DataFrame):
        for xc, yc in (("x", "y"), ("x_position", "y_position")):
            if xc in points.columns and yc in points.columns:
                return points[xc].to_numpy(float), points[yc].to_numpy(float)
        raise ValueError(f"{what} is missing columns ['x', 'y'] (or x_position/y_position); "
                         f"it has {list(points.columns)}")
    if hasattr(points, "x") and hasattr(points, "y"):
        return np.asarray(points.x, float), np.asarray(points.y, float)
    raise ValueError(f"{what} must be a DataFrame with x/y or have attributes x and y, "
                     f"got {type(points).__name__}")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) if text else ""
