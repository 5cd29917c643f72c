"""Shared look for every figure: one palette, one set of sizes, and input checks.

Nothing here touches global matplotlib state (no ``plt.style.use``, no ``rcParams``
edits): each figure function sets what it needs on its own axes, so importing
:mod:`gazex_lib.viz` never changes another notebook's plots.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from gazex_lib.data.labels import CHEXBERT_LABELS, LABEL_MAP

#: One colour per CheXbert label (tab20-like, colour-blind-friendly-ish, fixed order).
LABEL_COLORS: dict[str, str] = dict(zip(CHEXBERT_LABELS, (
    "#1f77b4",  # Enlarged Cardiomediastinum
    "#d62728",  # Cardiomegaly
    "#ff7f0e",  # Lung Opacity
    "#9467bd",  # Lung Lesion
    "#17becf",  # Edema
    "#e377c2",  # Consolidation
    "#8c564b",  # Pneumonia
    "#bcbd22",  # Atelectasis
    "#2ca02c",  # Pneumothorax
    "#1a55a0",  # Pleural Effusion
    "#7f7f7f",  # Pleural Other
    "#aa3377",  # Fracture
    "#44aa99",  # Support Devices
    "#555555",  # No Finding
)))

#: Colour for REFLACX labels that map to no CheXbert label (e.g. "Enlarged hilum").
UNMAPPED_LABEL_COLOR = "#e69f00"

#: Named colours used across figures.
PALETTE: dict[str, str] = {
    "positive": "#1f5fa8",
    "negative": "#c9d6e6",
    "unknown": "#bdbdbd",
    "accent": "#d62728",
    "saccade": "#f2f2f2",
    "chest_box": "#ffd166",
    "sentence": "#1f5fa8",
    "lead_window": "#9ecae1",
    "word": "#333333",
    "no_ellipse": "#bdbdbd",
    "bar": "#1f5fa8",
    "grid": "#e5e5e5",
}

#: Sequential colour map for time (fixation start, seconds).
TIME_CMAP = "viridis"
#: Sequential colour map for horizontal position (pixels).
POSITION_CMAP = "cividis"
#: Plotly colour scale matching :data:`TIME_CMAP`.
TIME_COLORSCALE = "Viridis"

#: Widest figure we produce (inches).
MAX_WIDTH_IN = 10.0


def label_color(name: str) -> str:
    """Colour for a CheXbert label, or for a REFLACX label via :data:`LABEL_MAP`.

    Unknown or unmapped names get :data:`UNMAPPED_LABEL_COLOR`.
    """
    if name in LABEL_COLORS:
        return LABEL_COLORS[name]
    target = LABEL_MAP.get(name)
    if target is not None:
        return LABEL_COLORS[target]
    return UNMAPPED_LABEL_COLOR


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the first missing column of ``df``.

    ``what`` names the argument in the message (e.g. ``"fixations"``).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(df.columns)}")


def require_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Check a (H, W) greyscale or (H, W, 3|4) image and return it as an array."""
    arr = np.asarray(image)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4)):
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(f"{what} is empty: shape {arr.shape}")
        return arr
    raise ValueError(f"{what} must have shape (H, W) or (H, W, 3|4), got {arr.shape}")


def ellipse_label_columns(ellipses: pd.DataFrame) -> list[str]:
    """The boolean label columns of an ellipse table (everything after the geometry)."""
    skip = {"xmin", "ymin", "xmax", "ymax", "certainty"}
    return [c for c in ellipses.columns if c not in skip]


def ellipse_labels(row: pd.Series, label_columns: list[str]) -> list[str]:
    """Names of the label columns that are true in one ellipse row (in column order)."""
    out = []
    for c in label_columns:
        v = row[c]
        if isinstance(v, str):
            v = v.strip().lower() in ("true", "1", "1.0")
        try:
            if pd.notna(v) and bool(v):
                out.append(c)
        except (TypeError, ValueError):
            continue
    return out


def fixation_durations_s(fixations: pd.DataFrame) -> np.ndarray:
    """Fixation durations in seconds: ``duration_s`` if present, else end - start."""
    if "duration_s" in fixations.columns:
        return fixations["duration_s"].to_numpy(dtype=float)
    return (fixations["timestamp_end_fixation"].to_numpy(dtype=float)
            - fixations["timestamp_start_fixation"].to_numpy(dtype=float))


def figure_size(width_in: float, height_in: float) -> tuple[float, float]:
    """Clamp a figure size so the width is at most :data:`MAX_WIDTH_IN` (keeps the aspect)."""
    if width_in > MAX_WIDTH_IN:
        height_in *= MAX_WIDTH_IN / width_in
        width_in = MAX_WIDTH_IN
    return (float(width_in), float(height_in))


def style_axes(ax, grid_axis: str | None = "x") -> None:
    """Light, uncluttered axes: no top/right spines, faint grid behind the data."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid_axis:
        ax.grid(axis=grid_axis, color=PALETTE["grid"], linewidth=0.8)
        ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)

