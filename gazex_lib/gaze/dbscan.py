"""DBSCAN on the pixels of a gaze heatmap (official GazeX step), exactly and fast.

The official ``perform_dbscan_clustering`` (``Generate_Attention_Videos_Phase_*.py``) clusters
every pixel of the max-normalised clustering heatmap whose value is ``> 0.1``:

* **point order**: ``np.where(heatmap > threshold)``, i.e. row-major (row, then column);
* **features**: ``StandardScaler().fit_transform(column_stack([col, row]))`` (x first, then
  y; integer pixel indices) next to ``intensity_weight * value`` (0.1 × the heatmap value,
  multiplied in the heatmap's own dtype, as the official float32 map is);
* **clustering**: ``sklearn.cluster.DBSCAN(eps=0.3, min_samples=10).fit_predict``.

These paper values are config keys (``gaze.threshold``, ``gaze.intensity_weight``,
``gaze.eps``, ``gaze.min_samples``, ``gaze.dbscan_method``): the functions here take them as
required arguments, and :func:`dbscan_params` reads them from a profile's ``gaze`` section.

:func:`cluster_pixels` returns the same labels two ways:

``method="sklearn"``
    The reference: exactly the official estimator call. It stores every eps-neighbourhood
    (~2,600 pixels per pixel on the paper's ¼-scale grid), so ~2 GB and seconds at 100k pixels.
``method="grid"`` (the profiles' choice)
    An exact reimplementation that uses the pixel grid (see :mod:`._dbscan_grid`): the same
    labels, the same cluster numbering and the same noise set as ``"sklearn"`` on every input
    (ties at exactly ``eps`` included), in tens of milliseconds and a few MB.

:func:`fixation_dbscan` is a separate, fixation-level DBSCAN in degrees of visual angle.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PixelClusters", "cluster_pixels", "pixel_features", "dbscan_params",
           "fixation_dbscan", "METHODS"]

#: Accepted values of ``cluster_pixels(method=...)``.
METHODS = ("grid", "sklearn")

_FIXATION_COLUMNS = (
    "x_position",
    "y_position",
    "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree",
)


@dataclass(frozen=True, eq=False)
class PixelClusters:
    """DBSCAN result on the thresholded pixels of one heatmap.

    All arrays have one entry per pixel above the threshold, in the official point order
    (row-major, as ``np.where(heatmap > threshold)`` returns them).
    """

    rows: np.ndarray  #: (n,) int64 row (y) index of each pixel
    cols: np.ndarray  #: (n,) int64 column (x) index
    values: np.ndarray  #: (n,) heatmap value at the pixel (the heatmap's dtype)
    labels: np.ndarray  #: (n,) intp; -1 = noise, clusters 0..k-1 numbered as sklearn does

    @property
    def n_clusters(self) -> int:
        """Number of clusters (noise excluded)."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    def mask(self, label: int, shape) -> np.ndarray:
        """Boolean ``(H, W)`` image of the pixels with ``label`` (-1 gives the noise pixels)."""
        label = _as_int(label, "label")
        if label < -1 or label >= self.n_clusters:
            raise ValueError(f"label must be -1 or in [0, {self.n_clusters}), got {label}")
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise ValueError(f"shape must be (H, W), got {shape}")
        if self.rows.size and (self.rows.max() >= shape[0] or self.cols.max() >= shape[1]):
            raise ValueError(f"shape {shape} is too small for these pixels")
        out = np.zeros(shape, dtype=bool)
        sel = self.labels == label
        out[self.rows[sel], self.cols[sel]] = True
        return out


# ----------------------------------------------------------------------------- validation
def _as_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _as_real(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _check_heatmap(heatmap) -> np.ndarray:
    hm = np.asarray(heatmap)
    if hm.ndim != 2:
        raise ValueError(f"heatmap must be a 2-D array, got shape {hm.shape}")
    if hm.dtype.kind in "biu":
        hm = hm.astype(np.float64)
    elif hm.dtype.kind != "f":
        raise ValueError(f"heatmap must be a real (float) array, got dtype {hm.dtype}")
    if not np.isfinite(hm).all():
        raise ValueError("heatmap contains NaN or infinite values")
    return hm


def _check_params(eps, min_samples, method) -> tuple[float, int]:
    eps = _as_real(eps, "eps")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    min_samples = _as_int(min_samples, "min_samples")
    if min_samples < 1:
        raise ValueError(f"min_samples must be >= 1, got {min_samples}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return eps, min_samples


# ----------------------------------------------------------------------------- features
def _features(hm: np.ndarray, threshold: float, intensity_weight: float):
    """rows, cols, values, features and the StandardScaler ``scale_`` (x, y) of ``hm``."""
    from sklearn.preprocessing import StandardScaler

    rows, cols = np.where(hm > threshold)
    values = hm[rows, cols]
    if rows.size == 0:
        return rows, cols, values, np.empty((0, 3), dtype=np.float64), np.ones(2)
    scaled_intensity = values * intensity_weight  # in the heatmap's dtype, as the official code
    scaler = StandardScaler()
    xy_scaled = scaler.fit_transform(np.column_stack([cols, rows]))
    features = np.column_stack([xy_scaled, scaled_intensity])
    return rows, cols, values, features, np.asarray(scaler.scale_, dtype=np.float64)


def pixel_features(heatmap, *, threshold, intensity_weight):
    """The official DBSCAN input of ``heatmap``: ``(rows, cols, values, features)``.

    ``threshold``: pixels strictly above it are clustered (paper: 0.1 of the max-normalised
    map); ``intensity_weight``: the weight of the map value next to the standardised
    coordinates (paper: 0.1).

    ``rows, cols`` = ``np.where(heatmap > threshold)`` (row-major); ``values`` the heatmap
    values there; ``features`` the ``(n, 3)`` float64 array ``[z(col), z(row),
    intensity_weight * value]`` with ``z`` one ``StandardScaler`` fitted on ``(col, row)``.
    ``threshold`` and ``intensity_weight`` are applied as Python floats, so the comparison
    and the product happen in the heatmap's dtype (float32 for the official map).
    No pixel above the threshold gives empty arrays (features of shape ``(0, 3)``).
    """
    hm = _check_heatmap(heatmap)
    threshold = _as_real(threshold, "threshold")
    intensity_weight = _as_real(intensity_weight, "intensity_weight")
    rows, cols, values, features, _ = _features(hm, threshold, intensity_weight)
    return rows, cols, values, features


def _sklearn_labels(features: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(features)


def cluster_pixels(heatmap, *, threshold, eps, min_samples, intensity_weight,
                   method) -> PixelClusters:
    """DBSCAN of the heatmap pixels ``> threshold`` (official GazeX features).

    Paper values: ``threshold`` 0.1 (of the max-normalised map), ``eps`` 0.3 (in
    standardised-feature units), ``min_samples`` 10 (pixels, the point itself included),
    ``intensity_weight`` 0.1; :func:`dbscan_params` gives them from a profile's ``gaze``
    section. ``method="sklearn"`` runs ``sklearn.cluster.DBSCAN(eps, min_samples).fit_predict`` on
    :func:`pixel_features`; ``method="grid"`` returns identical labels (same clusters, same
    numbering, same noise) with far less time and memory. A heatmap with no pixel above the
    threshold gives an empty result (``n_clusters == 0``).
    """
    hm = _check_heatmap(heatmap)
    eps, min_samples = _check_params(eps, min_samples, method)
    threshold = _as_real(threshold, "threshold")
    intensity_weight = _as_real(intensity_weight, "intensity_weight")
    rows, cols, values, features, scale = _features(hm, threshold, intensity_weight)
    if rows.size == 0:
        labels = np.empty(0, dtype=np.intp)
    elif method == "sklearn":
        labels = _sklearn_labels(features, eps, min_samples)
    else:
        from ._dbscan_grid import grid_dbscan

        labels = grid_dbscan(rows, cols, features, scale, eps, min_samples)
    return PixelClusters(rows=rows, cols=cols, values=values, labels=np.asarray(labels, np.intp))


def dbscan_params(gaze) -> dict:
    """The keyword arguments of :func:`cluster_pixels` (``threshold, eps, min_samples,
    intensity_weight, method``) from a profile's gaze settings: ``config.gaze``
    (:class:`~gazex_lib.sections.GazeSection`) or a
    :class:`~gazex_lib.gaze.pipeline.KeyframeConfig`."""
    return dict(threshold=gaze.threshold, eps=gaze.eps, min_samples=gaze.min_samples,
                intensity_weight=gaze.intensity_weight, method=gaze.dbscan_method)


# ----------------------------------------------------------------------------- fixations
def fixation_dbscan(fixations: pd.DataFrame, eps_deg=1.0, min_samples=2) -> np.ndarray:
    """DBSCAN of fixations in degrees of visual angle; labels aligned with the input rows.

    Each fixation is placed at ``(x_position / angular_resolution_x_pixels_per_degree,
    y_position / angular_resolution_y_pixels_per_degree)`` degrees (its own pixels-per-degree,
    as REFLACX ``fixations.csv`` gives them) and ``sklearn.cluster.DBSCAN(eps=eps_deg,
    min_samples)`` runs on those points. Rows whose position or resolution is missing
    (NaN/inf) get label ``-1`` and take no part in the clustering (they neither count as
    neighbours nor link clusters). Returns an ``intp`` array of ``len(fixations)`` labels.
    """
    if not isinstance(fixations, pd.DataFrame):
        raise ValueError(f"fixations must be a pandas DataFrame, got {type(fixations).__name__}")
    missing = [c for c in _FIXATION_COLUMNS if c not in fixations.columns]
    if missing:
        raise ValueError(f"fixations lacks columns {missing}")
    eps_deg, min_samples = _check_params(eps_deg, min_samples, "sklearn")
    try:
        cols = {c: pd.to_numeric(fixations[c], errors="raise").to_numpy(np.float64)
                for c in _FIXATION_COLUMNS}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fixation columns must be numeric: {exc}") from None
    ppd_x = cols["angular_resolution_x_pixels_per_degree"]
    ppd_y = cols["angular_resolution_y_pixels_per_degree"]
    bad_ppd = (np.isfinite(ppd_x) & (ppd_x <= 0)) | (np.isfinite(ppd_y) & (ppd_y <= 0))
    if bad_ppd.any():
        raise ValueError("angular resolutions must be > 0 pixels per degree")
    with np.errstate(invalid="ignore", divide="ignore"):
        deg = np.column_stack([cols["x_position"] / ppd_x, cols["y_position"] / ppd_y])
    valid = np.isfinite(deg).all(axis=1)
    labels = np.full(len(fixations), -1, dtype=np.intp)
    if valid.any():
        labels[valid] = _sklearn_labels(deg[valid], eps_deg, min_samples)
    return labels
