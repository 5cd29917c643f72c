"""The key frames of one reading as a captioned strip, with their boxes.

Units: each frame is drawn in its own pixels (the map grid, padded as the pipeline fits it);
boxes are the table's ``box_*`` columns in map-grid px; grey levels uint8 (0..255).
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from gazex_lib.viz.keyframes._common import _as_frame_rows, _draw_boxes, frame_caption
from gazex_lib.viz.style import MAX_WIDTH_IN, figure_size, require_columns, require_image


def frames_strip(frames, rows=None, max_frames: int = 12, title: str | None = None,
                 ncols: int | None = None) -> Figure:
    """The key frames of one reading in video order, each captioned
    ``"#index · sentence s · cluster k"`` (or ``"· holistic"``).

    ``frames``: :class:`~gazex_lib.gaze.keyframes.Frame` objects. ``rows``: the reading's
    key-frame rows (DataFrame or list of dicts, matched on ``frame_index``); when given,
    each frame shows its box (cluster: solid, holistic: dashed) and centroid, in map-grid px.
    Only the first ``max_frames`` are shown (the title says how many there are). ``ncols``
    defaults to ``min(n, 6)``; panels are at most 2.2 in wide, the figure at most 10 in.
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
