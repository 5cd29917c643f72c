"""A straightforward reference of the official GazeX key-frame algorithm, for benchmarks only.

Written from the description of ``Generate_Attention_Videos_Phase_*.py`` and
``Bounding_Box_Centroid_Phase_*.py`` (KennyLee123/GazeX; see the research dossier, §1.3–1.4),
not copied. It keeps the official *structure* — one Gaussian per sample in a Python loop,
sklearn DBSCAN on every thresholded pixel, one Gaussian per cluster *pixel* for the cluster
maps — so that the benchmark times what the official scripts spend their time on. Arrays are
float64 (the official code accumulates in float32), so the comparison with ``gazex_lib.gaze``
is exact up to summation order.

The recipe's values come from ``config``: a :class:`~gazex_lib.gaze.pipeline.KeyframeConfig`
(``KeyframeConfig.from_config(load_config(profile))``); the paper's are named in brackets.
Per sentence window (samples multiplied by ``scale`` [¼], ``trim`` percentiles [P5–P95]):

1. clustering map: Σ Gaussians σ = ``cluster_sigma_factor`` [1.5]·σ_sample, box radius
   int(3·max σ), centres int()-truncated, centres outside the film skipped; divided by its max;
2. DBSCAN(``eps`` [0.3], ``min_samples`` [10]) on the pixels > ``threshold`` [0.1] with
   features [StandardScaler(x, y), ``intensity_weight`` [0.1]·intensity]; noise dropped;
3. if ≥ ``min_clusters_for_frames`` [2] clusters: for every cluster pixel, the nearest sample
   (cKDTree); the cluster's time is the mean of those samples' timestamps; its map is
   Σ Gaussians (σ = ``render_sigma_factor`` [1.25]·σ) centred on those nearest samples, one
   per pixel (duplicates counted again); clusters sorted by time;
4. holistic map: Σ Gaussians σ = ``render_sigma_factor`` [1.25]·σ over all samples.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.preprocessing import StandardScaler


def window_samples(gaze: pd.DataFrame, t_start: float, t_end: float, config) -> pd.DataFrame:
    """The official window: NaN rows dropped, [start − ``window_lead_s`` (paper 2 s), end],
    at ``scale`` (paper ¼), ``trim`` of x and y (paper P5–P95; None: no trim)."""
    s = config.scale
    g = gaze.dropna(subset=["timestamp_sample", "x_position", "y_position",
                            "angular_resolution_x_pixels_per_degree",
                            "angular_resolution_y_pixels_per_degree"])
    g = g[(g["timestamp_sample"] >= t_start - config.window_lead_s)
          & (g["timestamp_sample"] <= t_end)]
    patch = pd.DataFrame({"t": g["timestamp_sample"].to_numpy(),
                          "x": g["x_position"].to_numpy() * s, "y": g["y_position"].to_numpy() * s,
                          "sx": g["angular_resolution_x_pixels_per_degree"].to_numpy() * s,
                          "sy": g["angular_resolution_y_pixels_per_degree"].to_numpy() * s})
    if patch.empty or config.trim is None:
        return patch
    x_lo, x_hi = np.percentile(patch["x"], config.trim)
    y_lo, y_hi = np.percentile(patch["y"], config.trim)
    keep = (patch["x"] >= x_lo) & (patch["x"] <= x_hi) & (patch["y"] >= y_lo) & (patch["y"] <= y_hi)
    return patch[keep].reset_index(drop=True)


def _add_gaussian(heat: np.ndarray, xf: float, yf: float, sx: float, sy: float) -> None:
    h, w = heat.shape
    x, y = int(xf), int(yf)
    if not (0 <= x < w and 0 <= y < h):
        return
    r = int(max(sx, sy) * 3)
    x1, x2 = max(x - r, 0), min(x + r + 1, w)
    y1, y2 = max(y - r, 0), min(y + r + 1, h)
    xx, yy = np.meshgrid(np.arange(x1, x2), np.arange(y1, y2))
    heat[y1:y2, x1:x2] += np.exp(-((xx - x) ** 2 / (2 * sx ** 2) + (yy - y) ** 2 / (2 * sy ** 2)))


def gaussian_sum(patch: pd.DataFrame, shape: tuple[int, int], mult: float) -> np.ndarray:
    """Σ of per-sample Gaussians, one Python iteration per sample (the official loop)."""
    heat = np.zeros(shape, dtype=np.float64)
    for x, y, sx, sy in patch[["x", "y", "sx", "sy"]].itertuples(index=False):
        _add_gaussian(heat, x, y, sx * mult, sy * mult)
    return heat


def sentence(patch: pd.DataFrame, shape: tuple[int, int], config) -> dict:
    """Everything the official script computes for one sentence window (module docstring)."""
    render = config.render_sigma_factor
    cmap = gaussian_sum(patch, shape, config.cluster_sigma_factor)
    if cmap.max() > 0:
        cmap = cmap / cmap.max()
    ys, xs = np.where(cmap > config.threshold)
    out = {"cluster_map": cmap, "rows": ys, "cols": xs, "labels": np.full(len(xs), -1), "clusters": []}
    if len(xs):
        feats = StandardScaler().fit_transform(np.column_stack([xs, ys]))
        feats = np.column_stack([feats, config.intensity_weight * cmap[ys, xs]])
        out["labels"] = DBSCAN(eps=config.eps, min_samples=config.min_samples).fit_predict(feats)
    ids = sorted(set(out["labels"].tolist()) - {-1})
    if len(ids) >= config.min_clusters_for_frames:
        tree = cKDTree(patch[["x", "y"]].to_numpy())
        clusters = []
        for cid in ids:
            m = out["labels"] == cid
            _, nearest = tree.query(np.column_stack([xs[m], ys[m]]))
            heat = np.zeros(shape, dtype=np.float64)
            for i in nearest:  # one Gaussian per cluster pixel, at its nearest sample
                _add_gaussian(heat, patch.at[i, "x"], patch.at[i, "y"],
                              patch.at[i, "sx"] * render, patch.at[i, "sy"] * render)
            clusters.append({"label": cid, "time_s": float(patch["t"].to_numpy()[nearest].mean()),
                             "heat": heat})
        out["clusters"] = sorted(clusters, key=lambda c: c["time_s"])
    out["holistic"] = gaussian_sum(patch, shape, render)
    return out
