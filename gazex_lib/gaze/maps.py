"""Attention maps: sums of 2-D Gaussians, one per gaze sample or fixation, vectorised.

Two recipes, both first class (DESIGN.md, "Data decisions"):

``recipe="paper"`` (official GazeX, ``Generate_Attention_Videos_Phase_*.py``)
    * input: raw gaze samples (one Gaussian each, weight 1 unless ``weights`` is given);
    * grid: ``scale`` (paper: 0.25, config ``gaze.scale``), shape
      ``(floor(H*scale), floor(W*scale))`` = ``(H // 4, W // 4)`` at ¼; positions and σ are
      multiplied by ``scale`` (= divided by 4);
    * σ = ``ppd * scale * sigma_factor`` per axis, ``ppd`` = REFLACX
      ``angular_resolution_*_pixels_per_degree``; ``sigma_factor`` (paper: 1.25 for the
      holistic and cluster frames, config ``gaze.render_sigma_factor``; 1.5 for the map
      DBSCAN runs on, ``gaze.cluster_sigma_factor``);
    * **official integer/box semantics**: the centre is ``int(x * scale)`` (truncation toward
      zero, so ``-0.75`` becomes column 0), a sample whose truncated centre lies outside
      ``[0, W) x [0, H)`` is skipped (counted in :class:`MapInfo` ``n_offimage``), the
      Gaussian ``exp(-((X-cx)^2 / 2σx^2 + (Y-cy)^2 / 2σy^2))`` (peak 1, not a pdf) is
      truncated to the square box ``|X-cx| <= r, |Y-cy| <= r`` with
      ``r = int(3 * max(σx, σy))``, clipped to the grid;
    * plain sum, then ``normalize="max"`` (default) or ``"none"`` (the raw sum, which is what
      :func:`render_frame_heat` and the box centroids need).

``recipe="reflacx"`` (ricbl/eyetracking ``examples_and_paper_numbers/generate_heatmaps.py``)
    * input: fixations; weight = fixation duration (``duration_s`` or end - start, seconds);
    * grid: ``scale`` (ricbl: 1.0, original pixels);
    * σ = 1° of visual angle: ``ppd * scale`` per axis (``sigma_factor=1``, the recipe's
      definition and the default for this recipe only); the Gaussian is the
      normalised bivariate pdf ``exp(...) / (2π σx σy)``, centred at the unrounded position,
      evaluated at integer pixel indices, **not truncated**;
    * it is zero outside the region shown on screen for that fixation
      (``[round(xmin_shown_from_image), round(xmax_shown_from_image))`` × the same for y,
      scaled, clipped to the grid; ``restrict_to_shown=False`` uses the whole image);
    * ``normalize="sum"`` (default): the map sums to 1.

Vectorisation (``shared/research/official_speed.md`` §5.1): a truncated Gaussian is
separable, so a weighted sum over samples is ``Ky.T @ C @ Kx``, where ``Kx`` holds one 1-D
kernel per unique column key ``(cx, σx, r)``, ``Ky`` one per unique row key ``(cy, σy, r)``
and ``C`` (sparse) the summed weights per (row key, column key). There is no per-sample
Python loop. ``exp(-a) * exp(-b)`` replaces the official ``exp(-(a + b))``: the two differ by
a few ulp (the tests check <= 1e-12 against a per-sample loop). The official code accumulates
in float32; we accumulate in float64 and cast to ``dtype`` at the end (the official
float32 order changes values by <= ~1e-5 relative).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "RECIPES", "REFLACX_SIGMA_FACTOR", "DEFAULT_NORMALIZE", "LOG_EPS", "MapInfo",
    "attention_map", "render_frame_heat", "normalize_map", "scaled_shape", "gaze_points",
    "truncated_gaussian_sum", "region_gaussian_sum", "paper_centres",
]

RECIPES = ("paper", "reflacx")
#: The reflacx recipe's σ multiplier: σ = 1° of visual angle (ricbl's definition, not a
#: profile value). The paper recipe's factors (1.25 render, 1.5 clustering) live in
#: ``configs/*.yaml`` (``gaze.render_sigma_factor``, ``gaze.cluster_sigma_factor``).
REFLACX_SIGMA_FACTOR = 1.0
DEFAULT_NORMALIZE = {"paper": "max", "reflacx": "sum"}
NORMALIZE_MODES = ("max", "sum", "none")
#: The ``+1e-6`` of the official ``log1p(h + 1e-6) / max`` frame normalisation.
LOG_EPS = 1e-6

_REFLACX_XY = {"x": "x_position", "y": "y_position",
               "ppd_x": "angular_resolution_x_pixels_per_degree",
               "ppd_y": "angular_resolution_y_pixels_per_degree"}
_SHOWN = ("xmin_shown_from_image", "ymin_shown_from_image",
          "xmax_shown_from_image", "ymax_shown_from_image")


@dataclass(frozen=True)
class MapInfo:
    """What went into a map. Counts are of input rows (samples or fixations)."""
    recipe: str
    scale: float
    sigma_factor: float
    shape: tuple[int, int]      #: (H, W) of the map
    n_points: int               #: rows given
    n_invalid: int              #: rows dropped: NaN/inf position or σ, σ <= 0, NaN weight
    n_offimage: int             #: paper: truncated centre off the grid (skipped);
                                #: reflacx: centre off the grid (still drawn, as ricbl does)
    n_used: int                 #: rows that contributed (non-zero weight, drawn)
    total_weight: float         #: sum of the weights of the used rows
    normalize: str


# --- inputs ----------------------------------------------------------------------------------

def scaled_shape(image_size, scale: float) -> tuple[int, int]:
    """``(H, W)`` of a grid at ``scale`` for ``image_size=(width, height)`` original pixels.

    ``floor(side * scale)`` (tiny epsilon so that 1/3 * 300 is 100), like the official
    ``W // 4, H // 4`` for ``scale=0.25``.
    """
    width, height = (int(v) for v in image_size)
    if width < 1 or height < 1:
        raise ValueError(f"image_size must be positive (width, height), got {image_size!r}")
    if not (isinstance(scale, (int, float, np.floating)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return (max(1, int(math.floor(height * scale + 1e-9))),
            max(1, int(math.floor(width * scale + 1e-9))))


def gaze_points(points) -> dict[str, np.ndarray]:
    """Float64 arrays ``x, y, ppd_x, ppd_y`` (original pixels, px/deg) and, when present,
    ``t``, ``duration`` (s) and the four ``*_shown_from_image`` columns.

    Accepts a DataFrame with REFLACX column names (gaze or fixations) or the short names
    ``x, y, ppd_x, ppd_y``, or any object with those attributes (a
    :class:`~gazex_lib.gaze.windows.SentenceWindow`).
    """
    out: dict[str, np.ndarray] = {}
    if isinstance(points, pd.DataFrame):
        for short, long in _REFLACX_XY.items():
            col = long if long in points.columns else short
            if col not in points.columns:
                raise ValueError(f"points lack column {long!r} (or {short!r}); "
                                 f"columns are {list(points.columns)}")
            out[short] = points[col].to_numpy(dtype=np.float64)
        for name, cands in (("t", ("timestamp_sample", "t")),):
            for c in cands:
                if c in points.columns:
                    out[name] = points[c].to_numpy(dtype=np.float64)
                    break
        if "duration_s" in points.columns:
            out["duration"] = points["duration_s"].to_numpy(dtype=np.float64)
        elif {"timestamp_start_fixation", "timestamp_end_fixation"} <= set(points.columns):
            out["duration"] = (points["timestamp_end_fixation"].to_numpy(dtype=np.float64)
                               - points["timestamp_start_fixation"].to_numpy(dtype=np.float64))
        if set(_SHOWN) <= set(points.columns):
            for c in _SHOWN:
                out[c] = points[c].to_numpy(dtype=np.float64)
        return out
    for short in _REFLACX_XY:
        if not hasattr(points, short):
            raise TypeError(f"points must be a DataFrame or have attributes x, y, ppd_x, ppd_y; "
                            f"{type(points).__name__} lacks {short!r}")
        out[short] = np.asarray(getattr(points, short), dtype=np.float64)
    if getattr(points, "t", None) is not None:
        out["t"] = np.asarray(points.t, dtype=np.float64)
    return out


# --- kernels ---------------------------------------------------------------------------------

def _unique_keys(c: np.ndarray, s: np.ndarray, r: np.ndarray):
    """Unique (int centre, float σ, int radius) keys: representatives and inverse index."""
    s_u, s_inv = np.unique(s, return_inverse=True)
    c0 = c.astype(np.int64) - int(c.min())
    r = r.astype(np.int64)
    key = (c0 * (int(r.max()) + 1) + r) * len(s_u) + s_inv
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return c[first].astype(np.int64), s[first], r[first], inv.ravel()


def _axis_kernel(c: np.ndarray, s: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """(len(c), n): ``exp(-(p - c)^2 / (2 s^2))`` for ``|p - c| <= r``, else 0."""
    d = np.arange(n, dtype=np.int64)[None, :] - c[:, None]
    k = np.exp(-(d.astype(np.float64) ** 2) / (2 * s[:, None] ** 2))
    k[np.abs(d) > r[:, None]] = 0.0
    return k


def truncated_gaussian_sum(cx, cy, sigma_x, sigma_y, radius, shape,
                           weights=None) -> np.ndarray:
    """Float64 ``(H, W)`` = Σ_i w_i · G_i, the official truncated Gaussian (module docstring).

    ``cx, cy``: integer centres already on the grid (grid pixels); ``sigma_*``: σ in grid
    pixels (> 0); ``radius``: integer half-width of the square box; ``weights``: per-sample
    multipliers (default 1; a weight of 2 is the same as the sample given twice).
    """
    H, W = (int(v) for v in shape)
    cx = np.asarray(cx, dtype=np.int64)
    cy = np.asarray(cy, dtype=np.int64)
    sx = np.asarray(sigma_x, dtype=np.float64)
    sy = np.asarray(sigma_y, dtype=np.float64)
    r = np.asarray(radius, dtype=np.int64)
    w = np.ones(len(cx)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (len(cx) == len(cy) == len(sx) == len(sy) == len(r) == len(w)):
        raise ValueError("cx, cy, sigma_x, sigma_y, radius and weights must have one length")
    keep = w != 0
    if not keep.any():
        return np.zeros((H, W))
    if ((cx[keep] < 0) | (cx[keep] >= W) | (cy[keep] < 0) | (cy[keep] >= H)).any():
        raise ValueError("centres must lie on the grid (filter them with paper_centres)")
    cx, cy, sx, sy, r, w = cx[keep], cy[keep], sx[keep], sy[keep], r[keep], w[keep]
    ucx, usx, urx, ci = _unique_keys(cx, sx, r)
    ucy, usy, ury, ri = _unique_keys(cy, sy, r)
    kx = _axis_kernel(ucx, usx, urx, W)
    ky = _axis_kernel(ucy, usy, ury, H)
    counts = sparse.csr_matrix((w, (ri, ci)), shape=(len(ucy), len(ucx)))
    return np.asarray(ky.T @ np.asarray(counts @ kx))


def region_gaussian_sum(x, y, sigma_x, sigma_y, shape, weights=None,
                        regions=None) -> np.ndarray:
    """Float64 ``(H, W)`` = Σ_i w_i · pdf_i, the ricbl/REFLACX Gaussian (module docstring).

    ``x, y``: unrounded centres in grid pixels; ``sigma_*`` in grid pixels; ``regions``:
    ``(n, 4)`` integer ``x0, y0, x1, y1`` half-open support per point (clipped to the grid),
    or ``None`` for the whole grid.
    """
    H, W = (int(v) for v in shape)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    sx, sy = np.asarray(sigma_x, np.float64), np.asarray(sigma_y, np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(x) == 0:
        return np.zeros((H, W))
    px, py = np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64)
    kx = np.exp(-0.5 * ((px[None, :] - x[:, None]) / sx[:, None]) ** 2)
    ky = np.exp(-0.5 * ((py[None, :] - y[:, None]) / sy[:, None]) ** 2)
    if regions is not None:
        reg = np.asarray(regions, dtype=np.int64)
        x0, x1 = np.clip(reg[:, 0], 0, W), np.clip(reg[:, 2], 0, W)
        y0, y1 = np.clip(reg[:, 1], 0, H), np.clip(reg[:, 3], 0, H)
        ipx, ipy = np.arange(W)[None, :], np.arange(H)[None, :]
        kx[(ipx < x0[:, None]) | (ipx >= x1[:, None])] = 0.0
        ky[(ipy < y0[:, None]) | (ipy >= y1[:, None])] = 0.0
    coef = w / (2 * np.pi * sx * sy)
    return ky.T @ (coef[:, None] * kx)


def paper_centres(x, y, ppd_x, ppd_y, *, scale: float, sigma_factor: float, shape):
    """Official centres and σ on a grid: ``(cx, cy, sx, sy, r, on_grid)``.

    ``cx = int(x * scale)`` (truncation toward zero), ``sx = ppd_x * scale * sigma_factor``,
    ``r = int(3 * max(sx, sy))``; ``on_grid`` marks centres inside ``[0, W) x [0, H)``.
    """
    H, W = shape
    cx = np.trunc(np.asarray(x, np.float64) * scale)
    cy = np.trunc(np.asarray(y, np.float64) * scale)
    sx = np.asarray(ppd_x, np.float64) * scale * sigma_factor
    sy = np.asarray(ppd_y, np.float64) * scale * sigma_factor
    r = np.trunc(np.maximum(sx, sy) * 3)
    on = (cx >= 0) & (cx < W) & (cy >= 0) & (cy < H)
    return (cx.astype(np.int64), cy.astype(np.int64), sx, sy, r.astype(np.int64), on)


# --- normalisation ---------------------------------------------------------------------------

def normalize_map(h: np.ndarray, mode: str) -> np.ndarray:
    """``"max"``: h / max (if max > 0); ``"sum"``: h / sum (if sum > 0); ``"none"``: h."""
    if mode not in NORMALIZE_MODES:
        raise ValueError(f"normalize must be one of {NORMALIZE_MODES}, got {mode!r}")
    if mode == "max":
        m = h.max() if h.size else 0
        return h / m if m > 0 else h
    if mode == "sum":
        s = h.sum()
        return h / s if s > 0 else h
    return h


def render_frame_heat(h: np.ndarray, eps: float = LOG_EPS) -> np.ndarray:
    """The official frame/box normalisation of a **raw** (un-normalised) Gaussian sum:
    ``log1p(h + eps) / max(log1p(h + eps))`` when ``max(h) > 0``, else ``h`` unchanged.

    Not scale invariant: pass the raw sum (``attention_map(..., normalize="none")``).
    Every pixel of the result is > 0 (``log1p(eps) ≈ 1e-6`` off the gaze), which matters
    for the holistic box's "non-zero" percentile (:mod:`gazex_lib.gaze.boxes`).
    """
    h = np.asarray(h)
    if h.size == 0 or not h.max() > 0:
        return h
    lg = np.log1p(h + eps)
    return lg / lg.max()


# --- the public map --------------------------------------------------------------------------

def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def attention_map(points, image_size, recipe: str, *, scale: float,
                  sigma_factor: float | None = None, weights=None,
                  normalize: str | None = None, restrict_to_shown: bool = True,
                  dtype=np.float64, return_info: bool = False):
    """An attention map of shape ``(H, W)`` at ``scale`` (module docstring for the recipes).

    Parameters
    ----------
    points : gaze samples (``recipe="paper"``) or fixations (``"reflacx"``): see
        :func:`gaze_points`. Positions in original image pixels, σ from px/deg.
    image_size : ``(width, height)`` of the original image (REFLACX ``image_size_x/y``).
    recipe : ``"paper"`` or ``"reflacx"``.
    scale : grid scale, a fraction of the original pixels (paper: 0.25, config
        ``gaze.scale``; ricbl's reflacx maps: 1.0). Shape: :func:`scaled_shape`.
    sigma_factor : the σ multiplier of ``ppd × scale``. Required for ``"paper"`` (paper: 1.25
        for frames and boxes, ``gaze.render_sigma_factor``; 1.5 for the clustering map,
        ``gaze.cluster_sigma_factor``); ``"reflacx"``: default :data:`REFLACX_SIGMA_FACTOR`
        (1, i.e. σ = 1°).
    weights : per-row multipliers (default: 1 for paper, the duration for reflacx).
        Integer weights reproduce repeated samples (the official cluster double counting).
    normalize : ``"max"`` (paper default), ``"sum"`` (reflacx default) or ``"none"``.
    restrict_to_shown : reflacx only: zero outside each fixation's shown region.
    dtype : output dtype (computed in float64).
    return_info : also return a :class:`MapInfo`.
    """
    _check_choice("recipe", recipe, RECIPES)
    normalize = DEFAULT_NORMALIZE[recipe] if normalize is None else normalize
    _check_choice("normalize", normalize, NORMALIZE_MODES)
    if sigma_factor is None:
        if recipe == "paper":
            raise ValueError("recipe='paper' needs sigma_factor= (paper: 1.25 render, 1.5 "
                             "clustering; configs gaze.render_sigma_factor / "
                             "gaze.cluster_sigma_factor)")
        sigma_factor = REFLACX_SIGMA_FACTOR
    if not (math.isfinite(sigma_factor) and sigma_factor > 0):
        raise ValueError(f"sigma_factor must be a positive finite number, got {sigma_factor!r}")
    shape = scaled_shape(image_size, scale)
    p = gaze_points(points)
    n = len(p["x"])
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights must have one value per point ({n}), got shape {w.shape}")
    elif recipe == "reflacx":
        if "duration" not in p:
            raise ValueError("recipe='reflacx' weights fixations by duration: points need "
                             "'duration_s' or timestamp_start/end_fixation (or pass weights)")
        w = p["duration"]
    else:
        w = np.ones(n)
    with np.errstate(invalid="ignore"):
        valid = (np.isfinite(p["x"]) & np.isfinite(p["y"]) & np.isfinite(w)
                 & np.isfinite(p["ppd_x"]) & np.isfinite(p["ppd_y"])
                 & (p["ppd_x"] > 0) & (p["ppd_y"] > 0))
    rect = None
    if recipe == "reflacx" and restrict_to_shown:
        if not all(c in p for c in _SHOWN):
            raise ValueError(f"restrict_to_shown=True needs the columns {list(_SHOWN)} "
                             "(or pass restrict_to_shown=False)")
        rect = np.column_stack([p[c] for c in _SHOWN])
        valid &= np.isfinite(rect).all(axis=1)
    n_invalid = int((~valid).sum())
    if recipe == "paper":
        cx, cy, sx, sy, r, on = paper_centres(
            np.where(valid, p["x"], 0), np.where(valid, p["y"], 0),
            np.where(valid, p["ppd_x"], 1), np.where(valid, p["ppd_y"], 1),
            scale=scale, sigma_factor=sigma_factor, shape=shape)
        n_off = int((valid & ~on).sum())
        use = valid & on & (w != 0)
        h = truncated_gaussian_sum(cx[use], cy[use], sx[use], sy[use], r[use], shape, w[use])
    else:
        H, W = shape
        xs, ys = p["x"] * scale, p["y"] * scale
        with np.errstate(invalid="ignore"):
            n_off = int((valid & ((xs < 0) | (xs >= W) | (ys < 0) | (ys >= H))).sum())
        use = valid & (w != 0)
        regions = None if rect is None else np.round(np.round(rect[use]) * scale).astype(np.int64)
        h = region_gaussian_sum(xs[use], ys[use], p["ppd_x"][use] * scale * sigma_factor,
                                p["ppd_y"][use] * scale * sigma_factor, shape, w[use], regions)
    h = normalize_map(h, normalize).astype(dtype, copy=False)
    if not return_info:
        return h
    info = MapInfo(recipe=recipe, scale=float(scale), sigma_factor=float(sigma_factor),
                   shape=shape, n_points=n, n_invalid=n_invalid, n_offimage=n_off,
                   n_used=int(use.sum()), total_weight=float(w[use].sum()), normalize=normalize)
    return h, info
