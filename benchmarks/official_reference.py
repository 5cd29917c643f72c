"""A straightforward reference of the official GazeX key-frame algorithm, for benchmarks only.

Written from the description of ``Generate_Attention_Videos_Phase_*.py`` and
``Bounding_Box_Centroid_Phase_*.py`` (KennyLee123/GazeX; see the research dossier, §1.3–1.4),
not copied. It keeps the official *structure* — one Gaussian per sample in a Python loop,
sklearn DBSCAN on every thresholded pixel, one Gaussian per cluster *pixel* for the cluster
maps — so that the benchmark times what the official scripts spend their time on. Arrays are
float64 (the official code accumulates in float32), so the comparison with ``gazex_lib.gaze``
is exact up to summation order.

Per sentence window (samples already divided by 4, P5–P95 trimmed):

1. clustering map: Σ Gaussians σ = 1.5·σ_sample, box radius int(3·max σ), centres int()-truncated,
   centres outside the film skipped; divided by its max;
2. DBSCAN(eps=0.3, min_samples=10) on the pixels > 0.1 with features
   [StandardScaler(x, y), 0.1·intensity]; noise dropped;
3. if ≥ 2 clusters: for every cluster pixel, the nearest sample (cKDTree); the cluster's time
   is the mean of those samples' timestamps; its map is Σ Gaussians (σ = 1.25·σ) centred on those
   nearest samples, one per pixel (duplicates counted again); clusters sorted by time;
4. holistic map: Σ Gaussians σ = 1.25·σ over all samples.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.preprocessing import StandardScaler


def window_samples(gaze: pd.DataFrame, t_start: float, t_end: float, lead_s: float = 2.0) -> pd.DataFrame:
    """The official window: NaN rows dropped, [start − lead, end], ¼ scale, P5–P95 trim of x and y."""
    g = gaze.dropna(subset=["timestamp_sample", "x_position", "y_position",
                            "angular_resolution_x_pixels_per_degree",
                            "angular_resolution_y_pixels_per_degree"])
    g = g[(g["timestamp_sample"] >= t_start - lead_s) & (g["timestamp_sample"] <= t_end)]
    patch = pd.DataFrame({"t": g["timestamp_sample"].to_numpy(),
                          "x": g["x_position"].to_numpy() / 4, "y": g["y_position"].to_numpy() / 4,
                          "sx": g["angular_resolution_x_pixels_per_degree"].to_numpy() / 4,
                          "sy": g["angular_resolution_y_pixels_per_degree"].to_numpy() / 4})
    if patch.empty:
        return patch
    x_lo, x_hi = np.percentile(patch["x"], [5, 95])
    y_lo, y_hi = np.percentile(patch["y"], [5, 95])
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


def sentence(patch: pd.DataFrame, shape: tuple[int, int], eps: float = 0.3, min_samples: int = 10,
             threshold: float = 0.1) -> dict:
    """Everything the official script computes for one sentence window."""
    cmap = gaussian_sum(patch, shape, 1.5)
    if cmap.max() > 0:
        cmap = cmap / cmap.max()
    ys, xs = np.where(cmap > threshold)
    out = {"cluster_map": cmap, "rows": ys, "cols": xs, "labels": np.full(len(xs), -1), "clusters": []}
    if len(xs):
        feats = StandardScaler().fit_transform(np.column_stack([xs, ys]))
        feats = np.column_stack([feats, 0.1 * cmap[ys, xs]])
        out["labels"] = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(feats)
    ids = sorted(set(out["labels"].tolist()) - {-1})
    if len(ids) > 1:
        tree = cKDTree(patch[["x", "y"]].to_numpy())
        clusters = []
        for cid in ids:
            m = out["labels"] == cid
            _, nearest = tree.query(np.column_stack([xs[m], ys[m]]))
            heat = np.zeros(shape, dtype=np.float64)
            for i in nearest:  # one Gaussian per cluster pixel, at its nearest sample
                _add_gaussian(heat, patch.at[i, "x"], patch.at[i, "y"],
                              patch.at[i, "sx"] * 1.25, patch.at[i, "sy"] * 1.25)
            clusters.append({"label": cid, "time_s": float(patch["t"].to_numpy()[nearest].mean()),
                             "heat": heat})
        out["clusters"] = sorted(clusters, key=lambda c: c["time_s"])
    out["holistic"] = gaussian_sum(patch, shape, 1.25)
    return out
