"""Boxes and centroids of gaze heat maps: the FVP targets (``Bounding_Box_Centroid_Phase_*.py``).

* **Cluster box** (:func:`cluster_box`): the extent of the pixels where the log-normalised
  cluster heat (:func:`~gazex_lib.gaze.maps.render_frame_heat` of the raw sum) is
  ``> threshold`` (paper: 0.1; config ``gaze.cluster_box_threshold``).
* **Holistic box** (:func:`holistic_box`): the extent of the pixels where the log-normalised
  holistic heat is ``> P(100 - top_percent)`` of its values that are ``> 0`` (paper:
  ``top_percent`` = 20 %, so the 80th percentile, ``numpy.percentile`` linear; config
  ``gaze.holistic_top_percent``). Because ``log1p(h + 1e-6)`` is ≈1e-6 > 0 off the gaze,
  "non-zero" means *every pixel of the grid* in the official code; ``nonzero_floor=True``
  reproduces that exactly (the profiles' ``gaze.holistic_nonzero_floor``).
  ``nonzero_floor=False`` takes the percentile over the pixels whose raw heat is > 0 (the
  evident intent).
* **Centroid** (:func:`weighted_centroid`): intensity-weighted mean pixel of the **raw**
  heat inside the box (inclusive), or the box centre if that sum is 0 (official).

A :class:`Box` holds inclusive pixel indices ``x_min, y_min, x_max, y_max`` and the float
centroid ``cx, cy`` on the map's grid (¼-scale pixels for the paper recipe).

**Shrink** (:func:`shrink_box`; official ``narrow_bbox_by_percentage`` in
``Create_Training_Data.py``): each side moves in by ``width * f / 2`` (``height * f / 2``);
the centroid is unchanged. Modes (config ``gaze.shrink``):

* ``"none"`` (the profiles' choice): no shrink.
* ``"official_percent"``: the official call passes 0.35 (cluster) / 0.15 (holistic) to an
  argument that is a *percent*, so ``f = 0.0035`` / ``0.0015`` (a negligible shrink). This
  is the official bug, reproduced.
* ``"fraction"``: the evident intent, ``f = 0.35`` / ``0.15``.

The official prompt builder then truncates every coordinate with ``int()``
(``truncate=True``).

**Coordinates** (:func:`box_coordinates`):

* ``"grid"``: the map's pixels (¼ scale).
* ``"original"``: grid / scale (× 4), the convention of the official full-resolution
  ``all_bboxes_and_centroids.csv`` (whose analysis divides by 4 to return).
* ``"qwen1000"``: Qwen2-VL's 0-1000 grid, ``q = floor(v / size * 1000 + 0.5)``
  (round half up), clipped to [0, 1000]; ``size`` = the film's width (x) or height (y) on
  the same grid. :func:`from_qwen1000` inverts it to within ``size / 2000`` pixels.
"""
from __future__ import annotations

import math
from dataclasses import astuple, dataclass, replace

import numpy as np

from gazex_lib.gaze.maps import LOG_EPS, render_frame_heat

__all__ = ["Box", "SHRINK_MODES", "threshold_box", "top_percent_box",
           "cluster_box", "holistic_box", "weighted_centroid", "shrink_box", "to_qwen1000",
           "from_qwen1000", "to_grid", "from_grid", "box_coordinates"]

SHRINK_MODES = ("none", "official_percent", "fraction")


@dataclass(frozen=True)
class Box:
    """Inclusive pixel extent and centroid on one grid."""
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    cx: float
    cy: float

    def as_tuple(self) -> tuple:
        return astuple(self)

    @property
    def width(self) -> float:
        """``x_max - x_min`` (official ``width``; the pixel count is one more)."""
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min


def weighted_centroid(raw: np.ndarray, x_min: int, y_min: int, x_max: int,
                      y_max: int) -> tuple[float, float]:
    """Intensity-weighted centroid of ``raw[y_min:y_max+1, x_min:x_max+1]`` (grid pixels);
    the box centre when the weights sum to 0."""
    sub = np.asarray(raw, dtype=np.float64)[y_min:y_max + 1, x_min:x_max + 1]
    total = sub.sum()
    if total > 0:
        ys, xs = np.indices(sub.shape)
        return float(x_min + (xs * sub).sum() / total), float(y_min + (ys * sub).sum() / total)
    return (x_min + x_max) / 2, (y_min + y_max) / 2


def _box_of(mask: np.ndarray, raw: np.ndarray) -> Box | None:
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    cx, cy = weighted_centroid(raw, x0, y0, x1, y1)
    return Box(x0, y0, x1, y1, cx, cy)


def threshold_box(norm: np.ndarray, raw: np.ndarray, threshold: float) -> Box | None:
    """Extent of ``norm > threshold``, centroid on ``raw``; None when no pixel passes
    (paper threshold for cluster boxes: 0.1 of the log-normalised heat)."""
    return _box_of(np.asarray(norm) > threshold, raw)


def top_percent_box(norm: np.ndarray, raw: np.ndarray, top_percent: float,
                    support: np.ndarray | None = None) -> Box | None:
    """Extent of ``norm > percentile(norm[support], 100 - top_percent)``.

    ``top_percent`` in % (paper: 20). ``support`` defaults to ``norm > 0`` (official). None
    when nothing qualifies.
    """
    if not 0 < top_percent <= 100:
        raise ValueError(f"top_percent must be in (0, 100], got {top_percent!r}")
    norm = np.asarray(norm)
    support = norm > 0 if support is None else np.asarray(support, dtype=bool)
    if not support.any():
        return None
    thr = np.percentile(norm[support], 100 - top_percent)
    return _box_of(norm > thr, raw)


def cluster_box(raw: np.ndarray, threshold: float, eps: float = LOG_EPS, *,
                norm: np.ndarray | None = None) -> Box | None:
    """The official cluster box of a **raw** cluster heat (log-normalise, then > threshold).

    ``threshold``: of the log-normalised heat (paper: 0.1, ``gaze.cluster_box_threshold``).
    ``norm``: the precomputed ``render_frame_heat(raw, eps)`` (optional)."""
    return threshold_box(render_frame_heat(raw, eps) if norm is None else norm, raw, threshold)


def holistic_box(raw: np.ndarray, top_percent: float, *, nonzero_floor: bool,
                 eps: float = LOG_EPS, norm: np.ndarray | None = None) -> Box | None:
    """The official holistic box of a **raw** holistic heat (module docstring).

    ``top_percent`` in % (paper: 20, ``gaze.holistic_top_percent``); ``nonzero_floor``
    (official: True, ``gaze.holistic_nonzero_floor``). ``norm``: the precomputed
    ``render_frame_heat(raw, eps)`` (optional)."""
    raw = np.asarray(raw)
    if raw.size == 0 or not raw.max() > 0:
        return None
    norm = render_frame_heat(raw, eps) if norm is None else norm
    return top_percent_box(norm, raw, top_percent, None if nonzero_floor else raw > 0)


def shrink_box(box: Box | None, amount: float, mode: str, *,
               truncate: bool = False) -> Box | None:
    """Move each side in by ``extent * f / 2`` (module docstring for ``mode``; the profiles:
    ``"none"``, ``gaze.shrink``).

    ``amount`` is the official argument (0.35 cluster, 0.15 holistic); ``truncate`` applies
    the official ``int()`` to every coordinate, centroid included.
    """
    if mode not in SHRINK_MODES:
        raise ValueError(f"shrink mode must be one of {SHRINK_MODES}, got {mode!r}")
    if box is None:
        return None
    f = {"none": 0.0, "official_percent": amount / 100, "fraction": amount}[mode]
    if not 0 <= f < 1:
        raise ValueError(f"shrink fraction must be in [0, 1), got {f!r} (mode {mode!r})")
    dw, dh = box.width * f / 2, box.height * f / 2
    out = replace(box, x_min=box.x_min + dw, y_min=box.y_min + dh,
                  x_max=box.x_max - dw, y_max=box.y_max - dh)
    if truncate:
        out = Box(*(int(v) for v in out.as_tuple()))
    return out


def to_grid(v, size, steps: int) -> np.ndarray | int:
    """``floor(v / size * steps + 0.5)`` clipped to [0, steps] (ints; round half up): a
    coordinate on a 0-``steps`` grid over a ``size``-pixel extent."""
    q = np.clip(np.floor(np.asarray(v, dtype=np.float64) / size * steps + 0.5), 0, steps)
    return int(q) if q.ndim == 0 else q.astype(np.int64)


def from_grid(q, size, steps: int) -> np.ndarray | float:
    """``q / steps * size``: 0-``steps`` grid numbers back to pixels."""
    v = np.asarray(q, dtype=np.float64) / steps * size
    return float(v) if v.ndim == 0 else v


def to_qwen1000(v, size) -> np.ndarray | int:
    """``floor(v / size * 1000 + 0.5)`` clipped to [0, 1000] (round half up)."""
    return to_grid(v, size, 1000)


def from_qwen1000(q, size) -> np.ndarray | float:
    """``q / 1000 * size`` (grid pixels)."""
    return from_grid(q, size, 1000)


def box_coordinates(box: Box | None, space: str, *, scale: float,
                    grid_size=None) -> tuple | None:
    """``(x_min, y_min, x_max, y_max, cx, cy)`` of a grid box in ``space``:
    ``"grid"``, ``"original"`` (÷ ``scale``, the grid's scale: paper 0.25) or ``"qwen1000"``
    (needs ``grid_size=(width, height)`` of the film on the grid)."""
    if box is None:
        return None
    x0, y0, x1, y1, cx, cy = box.as_tuple()
    if space == "grid":
        return (x0, y0, x1, y1, cx, cy)
    if space == "original":
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be positive, got {scale!r}")
        return tuple(v / scale for v in (x0, y0, x1, y1, cx, cy))
    if space == "qwen1000":
        if grid_size is None:
            raise ValueError("space='qwen1000' needs grid_size=(width, height)")
        w, h = grid_size
        return tuple(to_qwen1000(v, s) for v, s in ((x0, w), (y0, h), (x1, w), (y1, h),
                                                    (cx, w), (cy, h)))
    raise ValueError(f"space must be 'grid', 'original' or 'qwen1000', got {space!r}")
