"""Clustering one sentence window into time-ordered gaze clusters (official GazeX recipe).

Steps (``Generate_Attention_Videos_Phase_*.py``, ``perform_dbscan_clustering`` and
``process_clusters_optimized``). The paper's values are given in words below; the code takes
them as required arguments, from a profile's ``gaze`` section (:func:`cluster_params`).

1. **Clustering map**: the paper attention map with σ × ``cluster_sigma_factor`` (paper 1.5)
   at ``scale`` (paper ¼), max-normalised.
2. **DBSCAN on pixels**: :func:`gazex_lib.gaze.dbscan.cluster_pixels` on the pixels with
   value > ``threshold`` (paper 0.1), features ``[z(col), z(row), intensity_weight * value]``
   (paper weight 0.1), ``eps`` (paper 0.3), ``min_samples`` (paper 10); noise (-1) dropped.
   ``method="grid"`` (exact, fast; the profiles' choice) or ``"sklearn"`` (the official
   estimator).
3. **Time order**: for every pixel of a cluster the nearest gaze sample (``scipy`` cKDTree on
   the ¼-scale sample positions ``(x * scale, y * scale)``, unrounded, file order, queried
   with the integer pixel ``(col, row)``, as the official code does); the cluster time is
   the mean timestamp of those nearest samples; clusters are sorted by it (stable sort,
   ties keep the DBSCAN label order, as the official ``set`` of small labels iterates).
4. **Cluster heat**: the raw sum of σ × ``render_sigma_factor`` (paper 1.25) Gaussians
   centred at the nearest samples, one per cluster *pixel*: a sample nearest to k pixels
   counts k times (**official double counting**, reproduced with ``weights =
   bincount(nearest)``; ``cluster_weighting="unique"`` counts each nearest sample once
   instead). Samples whose truncated centre is off the grid are skipped, as everywhere in
   the paper recipe.

The official code renders cluster heat only when there are >= 2 clusters; we compute it for
every cluster (cheap) and leave the ">= 2 clusters" rule to the key frames.

Outcomes (:attr:`WindowClustering.status`): ``"ok"`` (>= 2 clusters), ``"single_cluster"``,
``"all_noise"`` (pixels above threshold but DBSCAN labels all of them noise),
``"offimage"`` (samples exist but every Gaussian centre is off the image, so the map is
empty), ``"no_gaze"`` / ``"trimmed_empty"`` (from the window).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from gazex_lib.gaze import maps
from gazex_lib.gaze.dbscan import dbscan_params
from gazex_lib.gaze.windows import SentenceWindow

__all__ = ["Cluster", "WindowClustering", "cluster_window", "cluster_params", "nearest_samples",
           "CLUSTER_STATUSES", "DBSCAN_METHODS", "CLUSTER_WEIGHTINGS"]

CLUSTER_STATUSES = ("ok", "single_cluster", "all_noise", "offimage", "no_gaze", "trimmed_empty")
DBSCAN_METHODS = ("grid", "sklearn")
#: ``"official"``: a sample counts once per cluster pixel it is nearest to; ``"unique"``: once.
CLUSTER_WEIGHTINGS = ("official", "unique")


@dataclass
class Cluster:
    """One DBSCAN cluster of a window, in time order (``rank`` 0 = earliest)."""
    rank: int
    label: int                  #: DBSCAN label (sklearn numbering)
    time_s: float               #: mean timestamp of the nearest samples (s)
    rows: np.ndarray = field(repr=False)      #: pixel rows (grid pixels)
    cols: np.ndarray = field(repr=False)      #: pixel columns
    nearest: np.ndarray = field(repr=False)   #: per pixel, index of the nearest window sample
    heat: np.ndarray | None = field(default=None, repr=False)  #: raw σ×1.25 sum (H, W)

    @property
    def n_pixels(self) -> int:
        return len(self.rows)

    @property
    def n_nearest_samples(self) -> int:
        """Distinct samples that are nearest to at least one pixel."""
        return len(np.unique(self.nearest))


@dataclass
class WindowClustering:
    """The clustering of one window at grid ``shape`` (H, W)."""
    window: SentenceWindow = field(repr=False)
    shape: tuple[int, int]
    scale: float
    cluster_map: np.ndarray = field(repr=False)    #: σ×1.5, max-normalised
    clusters: list[Cluster]
    n_pixels: int                #: pixels above the threshold
    n_noise: int                 #: of those, labelled noise
    n_offimage: int              #: window samples whose Gaussian centre is off the grid
    params: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return len(self.clusters)

    @property
    def status(self) -> str:
        if self.window.status != "ok":
            return self.window.status
        if self.n_pixels == 0:
            return "offimage"
        if self.n_clusters == 0:
            return "all_noise"
        return "single_cluster" if self.n_clusters == 1 else "ok"


def nearest_samples(window: SentenceWindow, cols: np.ndarray, rows: np.ndarray,
                    scale: float, tree: cKDTree | None = None) -> np.ndarray:
    """Index of the nearest window sample (cKDTree, Euclidean on the grid) for each pixel.

    ``scale``: the grid's scale (paper: 0.25); ``tree``: a prebuilt ``cKDTree`` of
    ``(x * scale, y * scale)`` (built if omitted)."""
    if tree is None:
        tree = cKDTree(np.column_stack([window.x * scale, window.y * scale]))
    _, idx = tree.query(np.column_stack([cols, rows]).astype(np.float64))
    return np.asarray(idx, dtype=np.int64)


def cluster_window(window: SentenceWindow, image_size, *, scale: float, threshold: float,
                   eps: float, min_samples: int, intensity_weight: float, method: str,
                   cluster_sigma_factor: float, render_sigma_factor: float,
                   cluster_weighting: str, render_heat: bool = True,
                   min_clusters_to_order: int = 1) -> WindowClustering:
    """Cluster one window (module docstring). ``image_size = (width, height)`` original px.

    The recipe's arguments are required; :func:`cluster_params` reads them from a profile's
    ``gaze`` section. Paper values: ``scale`` 0.25 (¼ of the original pixels),
    ``threshold`` 0.1 (of the max-normalised clustering map), ``eps`` 0.3 and
    ``min_samples`` 10 (pixels) with ``intensity_weight`` 0.1, ``cluster_sigma_factor`` 1.5
    for the clustering map and ``render_sigma_factor`` 1.25 for the cluster heat (× px/deg ×
    scale), ``cluster_weighting="official"`` (double counting); ``method``: ``"grid"`` or
    ``"sklearn"`` (same labels). ``render_heat=False`` skips the cluster heat maps.
    With fewer than ``min_clusters_to_order`` clusters the nearest-sample search, the cluster
    time and the cluster heat are skipped (``time_s`` NaN, ``nearest`` empty, ``heat`` None):
    the key frames need them only from 2 clusters on (the official rule), and they are the
    most expensive step of a window.
    """
    if method not in DBSCAN_METHODS:
        raise ValueError(f"method must be one of {DBSCAN_METHODS}, got {method!r}")
    if cluster_weighting not in CLUSTER_WEIGHTINGS:
        raise ValueError(f"cluster_weighting must be one of {CLUSTER_WEIGHTINGS}, "
                         f"got {cluster_weighting!r}")
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
    if int(min_samples) != min_samples or min_samples < 1 or not eps > 0:
        raise ValueError(f"need eps > 0 and an integer min_samples >= 1, got eps={eps!r}, "
                         f"min_samples={min_samples!r}")
    params = dict(scale=scale, threshold=threshold, eps=eps, min_samples=int(min_samples),
                  intensity_weight=intensity_weight, method=method,
                  cluster_sigma_factor=cluster_sigma_factor,
                  render_sigma_factor=render_sigma_factor, cluster_weighting=cluster_weighting)
    shape = maps.scaled_shape(image_size, scale)
    cmap, info = maps.attention_map(window, image_size, "paper", scale=scale,
                                    sigma_factor=cluster_sigma_factor, normalize="max",
                                    return_info=True)
    empty = WindowClustering(window=window, shape=shape, scale=scale, cluster_map=cmap,
                             clusters=[], n_pixels=0, n_noise=0, n_offimage=info.n_offimage,
                             params=params)
    if window.n_samples == 0 or not (cmap > threshold).any():
        return empty
    from gazex_lib.gaze.dbscan import cluster_pixels

    pc = cluster_pixels(cmap, threshold=threshold, eps=eps, min_samples=int(min_samples),
                        intensity_weight=intensity_weight, method=method)
    labels = np.asarray(pc.labels)
    rows, cols = np.asarray(pc.rows), np.asarray(pc.cols)
    empty.n_pixels = int(len(labels))
    empty.n_noise = int((labels < 0).sum())
    found = []
    cluster_labels = np.unique(labels[labels >= 0])
    if len(cluster_labels) < min_clusters_to_order:
        empty.clusters = [Cluster(rank=rank, label=int(lab), time_s=float("nan"),
                                  rows=rows[labels == lab], cols=cols[labels == lab],
                                  nearest=np.zeros(0, np.int64))
                          for rank, lab in enumerate(cluster_labels)]
        return empty
    tree = cKDTree(np.column_stack([window.x * scale, window.y * scale]))
    for lab in cluster_labels:
        sel = labels == lab
        near = nearest_samples(window, cols[sel], rows[sel], scale, tree)
        found.append(Cluster(rank=-1, label=int(lab), time_s=float(np.mean(window.t[near])),
                             rows=rows[sel], cols=cols[sel], nearest=near))
    found.sort(key=lambda c: c.time_s)   # stable: equal times keep label order
    n = window.n_samples
    for rank, c in enumerate(found):
        c.rank = rank
        if render_heat:
            w = np.bincount(c.nearest, minlength=n).astype(np.float64)
            if cluster_weighting == "unique":
                w = (w > 0).astype(np.float64)
            c.heat = maps.attention_map(window, image_size, "paper", scale=scale,
                                        sigma_factor=render_sigma_factor, weights=w,
                                        normalize="none")
    empty.clusters = found
    return empty


def cluster_params(gaze) -> dict:
    """The recipe keywords of :func:`cluster_window` (``scale, threshold, eps, min_samples,
    intensity_weight, method, cluster_sigma_factor, render_sigma_factor,
    cluster_weighting``) from a profile's gaze settings: ``config.gaze``
    (:class:`~gazex_lib.sections.GazeSection`) or a
    :class:`~gazex_lib.gaze.pipeline.KeyframeConfig`."""
    return dict(scale=gaze.scale, **dbscan_params(gaze),
                cluster_sigma_factor=gaze.cluster_sigma_factor,
                render_sigma_factor=gaze.render_sigma_factor,
                cluster_weighting=gaze.cluster_weighting)
