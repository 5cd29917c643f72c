"""One sentence window, step by step: samples, clustering map, DBSCAN clusters, holistic frame.

Units: the four films are in **map-grid pixels** (original px × ``clustering.scale``); sample
times are **seconds on the audio clock**; ``darkness`` is the fraction of the film's grey
kept where there is no heat (0..1). The recipe values (scale, threshold, σ factors) come from
the :class:`~gazex_lib.gaze.clusters.WindowClustering` passed in, ``darkness`` from the caller
(``KeyframeConfig.darkness``, i.e. ``gaze.darkness`` in ``configs/*.yaml``).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from gazex_lib.viz.keyframes._common import (
    HOLISTIC_COLOR, NOISE_COLOR, _as_frame_rows, _check_film, _draw_boxes, _film_axes, _grey,
    _points_xy, _wrap, grid_unit, rank_colors,
)
from gazex_lib.viz.style import MAX_WIDTH_IN, TIME_CMAP

_LABELS = ("(a) samples", "(b) clustering map", "(c) DBSCAN clusters", "(d) holistic frame")


def _clustering_param(params: dict, name: str) -> float:
    if name not in params:
        raise ValueError(f"clustering.params lacks {name!r} (cluster_window records it); "
                         f"it has {sorted(params)}")
    return float(params[name])


def _check_inputs(film, window, clustering, holistic, rows_for_sentence, darkness):
    """Validated ``(film, params, holistic, rows)``; computes the holistic heat if ``None``."""
    film = _check_film(film)
    for name in ("x", "y", "t", "sentence_index"):
        if not hasattr(window, name):
            raise ValueError(f"window must be a SentenceWindow (it lacks {name!r})")
    for name in ("cluster_map", "clusters", "scale", "shape"):
        if not hasattr(clustering, name):
            raise ValueError(f"clustering must be a WindowClustering (it lacks {name!r})")
    if isinstance(darkness, bool) or not isinstance(darkness, (int, float, np.number)) \
            or not 0 <= darkness <= 1:
        raise ValueError(f"darkness must be a number in [0, 1], got {darkness!r}")
    shape = film.shape[:2]
    if tuple(clustering.shape) != shape or clustering.cluster_map.shape != shape:
        raise ValueError(f"clustering grid {tuple(clustering.shape)} != film shape {shape}")
    scale = float(clustering.scale)
    params = dict(getattr(clustering, "params", {}) or {})
    params = {name: _clustering_param(params, name)
              for name in ("threshold", "cluster_sigma_factor", "render_sigma_factor")}
    if holistic is None:
        from gazex_lib.gaze.maps import attention_map

        size = (int(round(shape[1] / scale)), int(round(shape[0] / scale)))
        holistic = attention_map(window, size, "paper", scale=scale,
                                 sigma_factor=params["render_sigma_factor"], normalize="none")
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
    return film, params, holistic, rows


def window_steps_figure(film, window, clustering, holistic=None, rows_for_sentence=None,
                        title: str | None = None, *, darkness: float,
                        untrimmed=None) -> Figure:
    """One sentence, step by step, in four panels (all in map-grid pixels).

    Parameters
    ----------
    film : (H, W) uint8 film on the map grid (:func:`gazex_lib.gaze.load_film`).
    window : the sentence's :class:`~gazex_lib.gaze.windows.SentenceWindow` (original px).
    clustering : its :class:`~gazex_lib.gaze.clusters.WindowClustering` (same grid); its
        ``scale`` and its ``params`` ``threshold``, ``cluster_sigma_factor`` and
        ``render_sigma_factor`` (set by ``cluster_window``) are used and required.
    holistic : the **raw** holistic heat on the grid (``attention_map(window, ...,
        sigma_factor=render_sigma_factor, normalize="none")``); ``None`` computes it from the
        window with the clustering's ``render_sigma_factor``.
    rows_for_sentence : the key-frame rows of this sentence (DataFrame or list of dicts from
        :func:`~gazex_lib.gaze.pipeline.reading_keyframes`); ``None`` draws no boxes.
    title : figure title (default: sentence index, status and text).
    darkness : required, the key frames' darkness in [0, 1] (``KeyframeConfig.darkness``):
        the film's grey factor under panel (c) and the blend of panel (d).
    untrimmed : optional, the same window's samples before the percentile trim (a window
        built with ``trim=None`` or a DataFrame with ``x, y`` in original px); drawn faint
        red so the trimmed-out samples show.

    Panels: (a) the samples over the film, coloured by time, with the trim bounds dashed;
    (b) the clustering map (σ × ``cluster_sigma_factor``, max-normalised) with its threshold
    contour; (c) the DBSCAN clusters coloured by time rank, noise grey, each cluster's time in
    the legend, over the film × ``darkness``; (d) the holistic heat frame
    (``blend_frame(film, holistic, darkness)``, the blend of the key frames) with the cluster
    boxes, the dashed holistic box and the centroids.
    """
    from gazex_lib.gaze.keyframes import blend_frame

    film, params, holistic, rows = _check_inputs(film, window, clustering, holistic,
                                                 rows_for_sentence, darkness)
    shape = film.shape[:2]
    scale = float(clustering.scale)
    threshold = params["threshold"]
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
    ax.set_title(f"{_LABELS[0]}\n{len(t)} kept · {n_trim} trimmed · {n_nan} NaN", fontsize=8)

    # (b) clustering map
    ax = axes[1]
    cmap_vals = np.asarray(clustering.cluster_map, float)
    im = ax.imshow(cmap_vals, cmap="inferno", vmin=0, vmax=max(1.0, float(cmap_vals.max())),
                   interpolation="nearest", gid="cluster_map")
    if (cmap_vals > threshold).any() and (cmap_vals <= threshold).any():
        ax.contour(cmap_vals, levels=[threshold], colors=["#4dd9ff"], linewidths=1.0)
    cbar(im, 1, "clustering map (max = 1)")
    n_above = int((cmap_vals > threshold).sum())
    ax.set_title(f"{_LABELS[1]}\nσ × {params['cluster_sigma_factor']:g}, max = 1; "
                 f"{n_above} px > {threshold:g}", fontsize=8)

    # (c) clusters
    ax = axes[2]
    _grey(ax, film, darkness)
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
    ax.set_title(f"{_LABELS[2]}\n{n_cl} cluster{'s' if n_cl != 1 else ''} · {status}",
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
    frame = blend_frame(film, holistic, darkness, channels=1)
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
    ax.set_title(f"{_LABELS[3]}\nσ × {params['render_sigma_factor']:g}, "
                 f"{n_boxes} box{'es' if n_boxes != 1 else ''}", fontsize=8)

    for i, ax in enumerate(axes):
        ax.set_gid(f"panel_{'abcd'[i]}")
        _film_axes(ax, shape)
        if i:
            ax.tick_params(labelleft=False)
    axes[0].set_ylabel(f"y ({grid_unit(scale)})", fontsize=8)
    fig.suptitle(title, fontsize=9.5, y=1 - 0.06 / fig_h, va="top")
    return fig
