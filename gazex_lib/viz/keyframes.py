"""Gaze key frames, step by step: windows, clustering, frames, boxes, recipes, statistics.

Figures for :mod:`gazex_lib.gaze` (the official GazeX key-frame recipe).

Units: everything drawn on a film is in **¼-scale grid pixels** (the map grid of the paper
recipe, ``original px × scale``; origin top-left, y down), the same grid as the key-frame
table's ``box_*`` columns. Times are **seconds on the audio clock**. Box extents are
inclusive pixel indices, so a box is drawn from ``x_min - 0.5`` to ``x_max + 0.5``.

Colours: gaze samples by time (:data:`~gazex_lib.viz.style.TIME_CMAP`); clusters by
time rank (:func:`rank_colors`, bright enough to read on the darkened frames); the
holistic box is dashed (:data:`HOLISTIC_COLOR`); DBSCAN noise is grey.

gids (for tests and callers): ``"samples"``, ``"trimmed_samples"``, ``"trim_bounds"``,
``"cluster_map"``, ``"cluster_pixels"``, ``"heat_frame"``, ``"box"`` (every box rectangle,
cluster and holistic), ``"centroid"``; axes ``"panel_a"`` .. ``"panel_d"`` (window steps),
``"frame"`` (strip), ``"paper"`` / ``"reflacx"`` (recipes); stats bars
``"clusters_per_sentence"`` and ``"status_counts"``, histograms ``"frames_per_reading"``,
``"box_area_cluster"``, ``"box_area_holistic"``.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from gazex_lib.viz.style import (
    MAX_WIDTH_IN, PALETTE, TIME_CMAP, figure_size, require_columns,
    require_image, style_axes,
)

__all__ = ["window_steps_figure", "frames_strip", "attention_video_plotly",
           "recipe_comparison_figure", "keyframe_stats_figure", "rank_colors",
           "frame_caption", "BOX_COLUMNS", "SENTENCE_STATUSES", "HOLISTIC_COLOR"]

#: Grid-space box columns of the key-frame table (¼-scale px, inclusive extents).
BOX_COLUMNS = ("box_x_min", "box_y_min", "box_x_max", "box_y_max", "box_cx", "box_cy")
#: Columns a row (of ``reading_keyframes`` / the key-frame table) needs to draw its box.
ROW_BOX_REQUIRED = ("frame_kind", "cluster_rank", "has_box", *BOX_COLUMNS)
#: Sentence outcomes, in the order the stats figure shows them (``clusters.CLUSTER_STATUSES``).
SENTENCE_STATUSES = ("ok", "single_cluster", "all_noise", "offimage", "no_gaze", "trimmed_empty")
STATS_REQUIRED = ("reading_id", "sentence_index", "frame_kind", "n_clusters", "status",
                  "has_box", "box_x_min", "box_y_min", "box_x_max", "box_y_max")
#: The holistic box (dashed) and its centroid.
HOLISTIC_COLOR = "#00e5ff"
NOISE_COLOR = "#9e9e9e"
RANK_CMAP = "plasma"
#: Darkness of the film under panels that show heat or clusters (the frames' 0.15).
_DARK = 0.15


# ------------------------------------------------------------------ helpers ---------

def rank_colors(n: int) -> list[tuple]:
    """``n`` RGBA colours for cluster time ranks 0..n-1 (plasma 0.4 -> 0.95: early = pink,
    late = yellow), all readable on a dark frame."""
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
    """Draw every row's box (grid px) on ``ax``; returns the number drawn."""
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


def _film_axes(ax, shape, *, xlabel: bool = True) -> None:
    h, w = shape[:2]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.tick_params(labelsize=7)
    if xlabel:
        ax.set_xlabel("x (¼-scale px)", fontsize=8)


def _grey(ax, film: np.ndarray, factor: float = 1.0, **kw) -> None:
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


# ------------------------------------------------------------------ 1. one window ---

def window_steps_figure(film, window, clustering, holistic=None, rows_for_sentence=None,
                        title: str | None = None, *, untrimmed=None) -> Figure:
    """One sentence, step by step, in four panels (all in ¼-scale grid pixels).

    Parameters
    ----------
    film : (H, W) uint8 film on the map grid (:func:`gazex_lib.gaze.load_film`).
    window : the sentence's :class:`~gazex_lib.gaze.windows.SentenceWindow` (original px).
    clustering : its :class:`~gazex_lib.gaze.clusters.WindowClustering` (same grid).
    holistic : the **raw** holistic heat on the grid (``attention_map(window, ...,
        sigma_factor=1.25, normalize="none")``); ``None`` computes it from the window with
        the clustering's ``render_sigma_factor``.
    rows_for_sentence : the key-frame rows of this sentence (DataFrame or list of dicts from
        :func:`~gazex_lib.gaze.pipeline.reading_keyframes`); ``None`` draws no boxes.
    title : figure title (default: sentence index, status and text).
    untrimmed : optional, the same window's samples before the percentile trim (a window
        built with ``trim=None`` or a DataFrame with ``x, y`` in original px); drawn faint
        grey so the trimmed-out samples show.

    Panels: (a) the samples over the film, coloured by time, with the trim bounds dashed;
    (b) the clustering map (σ × 1.5, max-normalised) with its threshold contour; (c) the
    DBSCAN clusters coloured by time rank, noise grey, each cluster's time in the legend;
    (d) the holistic heat frame (the blend of the key frames) with the cluster boxes, the
    dashed holistic box and the centroids.
    """
    from gazex_lib.gaze.keyframes import blend_frame

    film = _check_film(film)
    for name in ("x", "y", "t", "sentence_index"):
        if not hasattr(window, name):
            raise ValueError(f"window must be a SentenceWindow (it lacks {name!r})")
    for name in ("cluster_map", "clusters", "scale", "shape"):
        if not hasattr(clustering, name):
            raise ValueError(f"clustering must be a WindowClustering (it lacks {name!r})")
    shape = film.shape[:2]
    if tuple(clustering.shape) != shape or clustering.cluster_map.shape != shape:
        raise ValueError(f"clustering grid {tuple(clustering.shape)} != film shape {shape}")
    scale = float(clustering.scale)
    params = dict(getattr(clustering, "params", {}) or {})
    threshold = float(params.get("threshold", 0.1))
    if holistic is None:
        from gazex_lib.gaze.maps import attention_map

        size = (int(round(shape[1] / scale)), int(round(shape[0] / scale)))
        holistic = attention_map(window, size, "paper", scale=scale,
                                 sigma_factor=float(params.get("render_sigma_factor", 1.25)),
                                 normalize="none")
    holistic = np.asarray(holistic, dtype=float)
    if holistic.shape != shape:
        raise ValueError(f"holistic heat shape {holistic.shape} != film shape {shape}")
    rows = None
    if rows_for_sentence is not None:
        rows = _as_frame_rows(rows_for_sentence, "rows_for_sentence")
        if "sentence_index" in rows.columns and len(rows):
            other = set(rows["sentence_index"].astype(int)) - {int(window.sentence_index)}
            if other:
                raise ValueError(f"rows_for_sentence hold sentence(s) {sorted(other)}, "
                                 f"not only the window's sentence {window.sentence_index}")

    h, w = shape
    status = getattr(clustering, "status", "")
    if title is None:
        text = _wrap(f"“{window.text}”", 110) if getattr(window, "text", "") else ""
        title = f"Sentence {window.sentence_index} ({status})" + (f"\n{text}" if text else "")
    # Fixed layout (inches) so the four films line up and the colourbars / legends below
    # them do not shrink any panel.
    left, right, gap = 0.55, 0.1, 0.14
    panel_w = (MAX_WIDTH_IN - left - right - 3 * gap) / 4
    panel_h = min(panel_w * h / w, 4.0)
    panel_w = panel_h * w / h
    top = 0.2 * (title.count("\n") + 1) + 0.5
    bottom = 1.25
    fig_h = top + panel_h + bottom
    fig = Figure(figsize=(MAX_WIDTH_IN, fig_h))
    axes = []
    for i in range(4):
        x = left + i * (panel_w + gap)
        axes.append(fig.add_axes((x / MAX_WIDTH_IN, bottom / fig_h, panel_w / MAX_WIDTH_IN,
                                  panel_h / fig_h), sharex=axes[0] if axes else None,
                                 sharey=axes[0] if axes else None))

    def cbar(mappable, i, label):
        x = left + i * (panel_w + gap) + 0.1 * panel_w
        cax = fig.add_axes((x / MAX_WIDTH_IN, (bottom - 0.55) / fig_h, 0.8 * panel_w / MAX_WIDTH_IN,
                            0.09 / fig_h))
        cb = fig.colorbar(mappable, cax=cax, orientation="horizontal")
        cb.set_label(label, fontsize=7, labelpad=1)
        cb.ax.tick_params(labelsize=6.5, length=2, pad=1)
        return cb

    legend_at = dict(loc="upper center", bbox_to_anchor=(0.5, -0.3 / panel_h * 1.0),
                     fontsize=6.5, frameon=False, ncols=1)
    labels = ("(a) samples", "(b) clustering map", "(c) DBSCAN clusters", "(d) holistic frame")

    # (a) samples
    ax = axes[0]
    _grey(ax, film)
    if untrimmed is not None:
        ux, uy = _points_xy(untrimmed, "untrimmed")
        ax.scatter(ux * scale, uy * scale, s=2, color="#ff6b6b", alpha=0.35, linewidths=0,
                   gid="trimmed_samples", zorder=2, rasterized=True)
    t = np.asarray(window.t, float)
    if len(t):
        sc = ax.scatter(np.asarray(window.x) * scale, np.asarray(window.y) * scale, s=2, c=t,
                        cmap=TIME_CMAP, linewidths=0, gid="samples", zorder=3, rasterized=True)
        cbar(sc, 0, "sample time (s, audio clock)")
    bounds = getattr(window, "trim_bounds", None)
    if bounds is not None:
        x_lo, x_hi, y_lo, y_hi = (v * scale for v in bounds)
        ax.add_patch(Rectangle((x_lo, y_lo), x_hi - x_lo, y_hi - y_lo, fill=False,
                               edgecolor="white", linestyle="--", linewidth=1.0,
                               gid="trim_bounds", zorder=4))
    n_trim = int(getattr(window, "n_trimmed", 0))
    n_nan = int(getattr(window, "n_nan", 0))
    ax.set_title(f"{labels[0]}\n{len(t)} kept · {n_trim} trimmed · {n_nan} NaN", fontsize=8)

    # (b) clustering map
    ax = axes[1]
    cmap_vals = np.asarray(clustering.cluster_map, float)
    im = ax.imshow(cmap_vals, cmap="inferno", vmin=0, vmax=max(1.0, float(cmap_vals.max())),
                   interpolation="nearest", gid="cluster_map")
    if (cmap_vals > threshold).any() and (cmap_vals <= threshold).any():
        ax.contour(cmap_vals, levels=[threshold], colors=["#4dd9ff"], linewidths=1.0)
    cbar(im, 1, "clustering map (max = 1)")
    n_above = int((cmap_vals > threshold).sum())
    sf = params.get("cluster_sigma_factor", 1.5)
    ax.set_title(f"{labels[1]}\nσ × {sf:g}, max = 1; {n_above} px > {threshold:g}", fontsize=8)

    # (c) clusters
    ax = axes[2]
    _grey(ax, film, _DARK)
    clusters = list(clustering.clusters)
    n_cl = len(clusters)
    rgba = np.zeros((h, w, 4))
    mask_above = cmap_vals > threshold
    in_cluster = np.zeros(shape, bool)
    handles = []
    colors = rank_colors(n_cl)
    for c in clusters:
        rr, cc = np.asarray(c.rows, int), np.asarray(c.cols, int)
        in_cluster[rr, cc] = True
        rgba[rr, cc] = colors[c.rank]
        ts = "time not computed" if not np.isfinite(c.time_s) else f"t = {c.time_s:.2f} s"
        handles.append(Patch(color=colors[c.rank], label=f"#{c.rank}: {ts}, {c.n_pixels} px"))
    noise = mask_above & ~in_cluster
    if noise.any():
        rgba[noise] = (*[int(NOISE_COLOR[i:i + 2], 16) / 255 for i in (1, 3, 5)], 1.0)
        handles.append(Patch(color=NOISE_COLOR, label=f"noise: {int(noise.sum())} px"))
    ax.imshow(rgba, interpolation="nearest", gid="cluster_pixels")
    ax.set_title(f"{labels[2]}\n{n_cl} cluster{'s' if n_cl != 1 else ''} · {status}",
                 fontsize=8)
    if handles:
        ax.legend(handles=handles[:5] if len(handles) <= 5 else handles[:4] + [
                      Patch(color="none", label=f"… {len(handles) - 4} more")],
                  handlelength=1.0, title="time rank (mean nearest-sample time)",
                  title_fontsize=6.5, **legend_at)
    else:
        ax.text(0.5, 0.5, "no pixel above threshold", transform=ax.transAxes, ha="center",
                va="center", color="white", fontsize=8)

    # (d) holistic frame with boxes
    ax = axes[3]
    frame = blend_frame(film, holistic, _DARK, channels=1)
    ax.imshow(frame, cmap="gray", vmin=0, vmax=255, interpolation="nearest", gid="heat_frame")
    n_boxes = 0
    if rows is not None:
        n_boxes = _draw_boxes(ax, rows)
        leg = [Line2D([], [], color=HOLISTIC_COLOR, linestyle="--", label="holistic box"),
               Line2D([], [], color=rank_colors(1)[0], label="cluster boxes")]
        leg.append(Line2D([], [], color="white", marker="X", linestyle="none",
                          markeredgecolor="black", label="centroids"))
        ax.legend(handles=leg, handlelength=1.6, **legend_at)
    if not holistic.max() > 0:
        ax.text(0.5, 0.5, "no heat", transform=ax.transAxes, ha="center", va="center",
                color="white", fontsize=8)
    ax.set_title(f"{labels[3]}\nσ × {params.get('render_sigma_factor', 1.25):g}, "
                 f"{n_boxes} box{'es' if n_boxes != 1 else ''}", fontsize=8)

    for i, ax in enumerate(axes):
        ax.set_gid(f"panel_{'abcd'[i]}")
        _film_axes(ax, shape, xlabel=False)
        if i:
            ax.tick_params(labelleft=False)
    axes[0].set_ylabel("y (¼-scale px)", fontsize=8)
    fig.suptitle(title, fontsize=9.5, y=1 - 0.06 / fig_h, va="top")
    return fig


# ------------------------------------------------------------------ 2. strip --------

def frames_strip(frames, rows=None, max_frames: int = 12, title: str | None = None,
                 ncols: int | None = None) -> Figure:
    """The key frames of one reading in video order, each captioned
    ``"#index · sentence s · cluster k"`` (or ``"· holistic"``).

    ``frames``: :class:`~gazex_lib.gaze.keyframes.Frame` objects. ``rows``: the reading's
    key-frame rows (DataFrame or list of dicts, matched on ``frame_index``); when given,
    each frame shows its box (cluster: solid, holistic: dashed) and centroid. Only the first
    ``max_frames`` are shown (the title says how many there are). ``ncols`` defaults to
    ``min(n, 6)``.
    """
    frames = list(frames) if frames is not None else []
    if not frames:
        raise ValueError("frames is empty")
    if int(max_frames) != max_frames or max_frames < 1:
        raise ValueError(f"max_frames must be an integer >= 1, got {max_frames!r}")
    for i, f in enumerate(frames):
        for name in ("image", "kind", "sentence_index", "frame_index"):
            if not hasattr(f, name):
                raise ValueError(f"frames[{i}] must be a gaze Frame (it lacks {name!r})")
    by_index = None
    if rows is not None:
        df = _as_frame_rows(rows, "rows")
        require_columns(df, ["frame_index"], "rows")
        if df["frame_index"].duplicated().any():
            raise ValueError("rows repeat a frame_index: pass the rows of one reading")
        by_index = {int(k): g for k, g in df.groupby("frame_index")}
        missing = [f.frame_index for f in frames[:max_frames] if int(f.frame_index) not in by_index]
        if missing:
            raise ValueError(f"rows have no row for frame_index {missing[:5]}")
    shown = frames[:int(max_frames)]
    n = len(shown)
    ncols = int(ncols or min(n, 6))
    nrows = math.ceil(n / ncols)
    img0 = require_image(shown[0].image, "frames[0].image")
    aspect = img0.shape[1] / img0.shape[0]
    panel_w = min(MAX_WIDTH_IN / ncols, 2.2)
    fig = Figure(figsize=figure_size(panel_w * ncols, nrows * (panel_w / aspect + 0.35) + 0.5),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    fontsize = 7.5 if ncols <= 5 else 6.5
    for ax, f in zip(axes, shown):
        im = require_image(f.image, f"frame {f.frame_index} image")
        if im.ndim == 3:
            im = im[..., 0]
        ax.set_gid("frame")
        ax.imshow(im, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if by_index is not None:
            _draw_boxes(ax, by_index[int(f.frame_index)], lw=1.2)
        ax.set_xlim(-0.5, im.shape[1] - 0.5)
        ax.set_ylim(im.shape[0] - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(frame_caption(f.frame_index, f.sentence_index, f.kind, f.cluster_rank),
                     fontsize=fontsize)
    for ax in axes[n:]:
        ax.set_axis_off()
    more = f" (first {n} of {len(frames)})" if len(frames) > n else ""
    fig.suptitle((title or f"{len(frames)} key frames") + more, fontsize=10)
    return fig


# ------------------------------------------------------------------ 3. video --------

def attention_video_plotly(frames, captions, downsample_to: int = 280, title: str | None = None,
                           frame_ms: int = 800):
    """An animated plotly figure of the key frames (play/pause, slider labelled by caption).

    ``frames``: :class:`~gazex_lib.gaze.keyframes.Frame` objects or (H, W[, 3]) uint8
    arrays, all the same shape; ``captions``: one string per frame. Each frame is embedded
    once as a greyscale PNG data URI, area-downsampled so its longer side is at most
    ``downsample_to`` px (about 40 kB per 224 × 280 frame); the axes stay in frame pixels.
    ``frame_ms``: time per frame when playing.
    """
    import plotly.graph_objects as go

    from gazex_lib.viz.scanpath import downsample_image, png_data_uri

    frames = list(frames) if frames is not None else []
    if not frames:
        raise ValueError("frames is empty")
    captions = list(captions)
    if len(captions) != len(frames):
        raise ValueError(f"need one caption per frame: {len(frames)} frames, "
                         f"{len(captions)} captions")
    if int(downsample_to) != downsample_to or downsample_to < 8:
        raise ValueError(f"downsample_to must be an integer >= 8, got {downsample_to!r}")
    images = []
    for i, f in enumerate(frames):
        im = require_image(getattr(f, "image", f), f"frames[{i}]")
        if im.ndim == 3:
            im = im[..., 0]
        if im.dtype != np.uint8:
            raise ValueError(f"frames[{i}] must be uint8, got {im.dtype}")
        images.append(im)
    shape = images[0].shape
    if any(im.shape != shape for im in images):
        raise ValueError("all frames must have the same shape")
    h, w = shape
    uris = [png_data_uri(downsample_image(im, int(downsample_to))) for im in images]
    sh, sw = downsample_image(images[0], int(downsample_to)).shape[:2]
    geo = dict(x0=0.5 * w / sw - 0.5, y0=0.5 * h / sh - 0.5, dx=w / sw, dy=h / sh)

    def image(k):
        return go.Image(source=uris[k], hoverinfo="skip", name="frame", **geo)

    fig = go.Figure(data=[image(0)])
    names = [f"k{k}" for k in range(len(frames))]
    fig.frames = [go.Frame(data=[image(k)], traces=[0], name=names[k]) for k in range(len(frames))]
    anim = dict(mode="immediate", frame=dict(duration=frame_ms, redraw=True),
                transition=dict(duration=0))
    steps = [dict(method="animate", label=str(c), args=[[nm], anim])
             for nm, c in zip(names, captions)]
    height = 560
    fig.update_layout(
        title=dict(text=title or f"Attention video ({len(frames)} key frames)", font=dict(size=14)),
        template="simple_white", height=height, width=int(round((height - 170) * w / h)) + 140,
        margin=dict(l=20, r=20, t=45, b=20),
        xaxis=dict(range=[-0.5, w - 0.5], visible=False, constrain="domain"),
        yaxis=dict(range=[h - 0.5, -0.5], autorange=False, visible=False,
                   scaleanchor="x", scaleratio=1, constrain="domain"),
        updatemenus=[dict(type="buttons", showactive=False, direction="left", x=0.0, y=0.0,
                          xanchor="left", yanchor="top", pad=dict(t=8, r=8),
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(anim, fromcurrent=True)]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate",
                                                           frame=dict(duration=0, redraw=False),
                                                           transition=dict(duration=0))])])],
        sliders=[dict(active=0, steps=steps, x=0.0, len=1.0, y=-0.08, yanchor="top",
                      pad=dict(t=30), currentvalue=dict(prefix="", font=dict(size=12)),
                      font=dict(size=1, color="rgba(0,0,0,0)"))],
    )
    return fig


# ------------------------------------------------------------------ 4. recipes ------

_DEFAULT_TITLES = ("paper: raw samples, σ×1.25, max",
                   "REFLACX: fixations, σ = 1°, duration-weighted, sum 1")


_DEFAULT_UNITS = ("paper map (max = 1)", "REFLACX map (fraction of total per px)")


def recipe_comparison_figure(film, paper_map, reflacx_map, titles=_DEFAULT_TITLES,
                             units=_DEFAULT_UNITS, title: str | None = None) -> Figure:
    """The same reading's two attention maps side by side over the film.

    ``film``: (H, W) uint8 at any scale; ``paper_map`` / ``reflacx_map``: 2-D maps at any
    grid (e.g. ¼ scale and original pixels) of the **same image**, each stretched over the
    film (the aspect ratios must agree within 2 %). Each map is drawn in its own colour
    scale with its own colourbar (``units``) over the dimmed film; the heat's opacity
    grows with its value (transparent at 0). Axes are in film pixels.
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
        _grey(ax, film, 0.55)   # dimmed so the heat reads
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
        _film_axes(ax, film.shape, xlabel=False)
    axes[0].set_ylabel("y (film px)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ------------------------------------------------------------------ 5. stats --------

def keyframe_stats_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Small multiples of a key-frame table (``build_keyframe_table(...).table``).

    (a) frames per reading (histogram, one bin per integer); (b) sentences per number of
    clusters (bars for every count from 0 to the maximum); (c) sentences per status
    (:data:`SENTENCE_STATUSES`, zero bars kept); (d) box areas ``width × height``
    (``x_max - x_min`` by ``y_max - y_min``, ¼-scale px², as the official width) of the
    cluster and holistic boxes. Sentences are unique ``(reading_id, sentence_index)``.
    """
    require_columns(table, STATS_REQUIRED, "table")
    if not len(table):
        raise ValueError("table is empty")
    unknown = sorted(set(table["status"].astype(str)) - set(SENTENCE_STATUSES))
    if unknown:
        raise ValueError(f"table has unknown status value(s) {unknown}; "
                         f"expected {list(SENTENCE_STATUSES)}")
    sentences = table.drop_duplicates(["reading_id", "sentence_index"])
    fig = Figure(figsize=figure_size(MAX_WIDTH_IN, 6.2), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    bar = PALETTE["bar"]

    per_reading = table.groupby("reading_id", sort=True).size().to_numpy()
    lo, hi = int(per_reading.min()), int(per_reading.max())
    a.hist(per_reading, bins=np.arange(lo - 0.5, hi + 1.5, 1.0), color=bar, edgecolor="white",
           gid="frames_per_reading")
    a.set_xlabel("key frames per reading", fontsize=8)
    a.set_ylabel("readings", fontsize=8)
    a.set_title(f"(a) frames per reading ({len(per_reading)} readings, "
                f"median {np.median(per_reading):g})", fontsize=9)
    a.xaxis.get_major_locator().set_params(integer=True)

    ncl = sentences["n_clusters"].astype(int).to_numpy()
    ks = np.arange(0, int(ncl.max()) + 1)
    counts = np.array([(ncl == k).sum() for k in ks])
    bars = b.bar(ks, counts, color=bar, width=0.8, gid="clusters_per_sentence")
    b.bar_label(bars, fontsize=7, padding=1)
    b.set_xticks(ks)
    b.set_xlabel("DBSCAN clusters in the sentence window", fontsize=8)
    b.set_ylabel("sentences", fontsize=8)
    b.set_title(f"(b) clusters per sentence ({len(sentences)} sentences)", fontsize=9)

    st = sentences["status"].astype(str)
    scounts = np.array([(st == s).sum() for s in SENTENCE_STATUSES])
    colors = [bar if s == "ok" else ("#6baed6" if s in ("single_cluster", "all_noise")
                                     else PALETTE["unknown"]) for s in SENTENCE_STATUSES]
    pos = np.arange(len(SENTENCE_STATUSES))
    bars = c.bar(pos, scounts, color=colors, width=0.8, gid="status_counts")
    c.bar_label(bars, fontsize=7, padding=1)
    c.set_xticks(pos, SENTENCE_STATUSES, rotation=20, ha="right")
    c.set_ylabel("sentences", fontsize=8)
    c.set_title("(c) sentence status", fontsize=9)

    boxed = table[_has_box(table)]
    area = ((boxed["box_x_max"] - boxed["box_x_min"]) *
            (boxed["box_y_max"] - boxed["box_y_min"])).to_numpy(float)
    kinds = boxed["frame_kind"].to_numpy()
    if len(area):
        edges = np.histogram_bin_edges(area, bins=20)
        for kind, color, ls in (("cluster", rank_colors(1)[0], "-"),
                                ("holistic", "#0097a7", "--")):
            sel = area[kinds == kind]
            med = float(np.median(sel)) if len(sel) else 0.0
            d.hist(sel, bins=edges, histtype="step", color=color, linewidth=1.6, linestyle=ls,
                   label=f"{kind} ({len(sel)} boxes, median {med:.0f})", gid=f"box_area_{kind}")
        d.legend(fontsize=7, frameon=False)
    else:
        d.text(0.5, 0.5, "no boxes", transform=d.transAxes, ha="center", va="center")
    d.set_xlabel("box width × height (¼-scale px²)", fontsize=8)
    d.set_ylabel("frames", fontsize=8)
    d.set_title(f"(d) box sizes ({len(area)} of {len(table)} frames have a box)", fontsize=9)

    for ax in (a, b, c, d):
        ax.yaxis.get_major_locator().set_params(integer=True)
        style_axes(ax, grid_axis="y")
        ax.margins(y=0.12)
    fig.suptitle(title or f"Key-frame table: {len(table)} frames", fontsize=10)
    return fig
