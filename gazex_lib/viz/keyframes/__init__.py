"""Gaze key frames, step by step: windows, clustering, frames, boxes, recipes, statistics.

Figures for :mod:`gazex_lib.gaze` (the official GazeX key-frame recipe), one module each:
:mod:`.window_steps` (:func:`window_steps_figure`), :mod:`.strip` (:func:`frames_strip`),
:mod:`.attention_video` (:func:`attention_video_plotly`), :mod:`.recipe_comparison`
(:func:`recipe_comparison_figure`), :mod:`.keyframe_stats` (:func:`keyframe_stats_figure`);
shared constants, colours and drawing helpers in :mod:`._common`.

Units: everything drawn on a film is in **map-grid pixels** (the grid of the paper recipe,
``original px × scale``; origin top-left, y down), the same grid as the key-frame table's
``box_*`` columns. Times are **seconds on the audio clock**. Box extents are inclusive pixel
indices, so a box is drawn from ``x_min - 0.5`` to ``x_max + 0.5``. The recipe's values
(scale, σ factors, threshold, darkness) live only in ``configs/*.yaml``: the figures take
them from their arguments (e.g. ``darkness=``, ``clustering.scale``, ``clustering.params``).

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

from gazex_lib.viz.keyframes._common import (  # noqa: F401  (all importable as before)
    BOX_COLUMNS, HOLISTIC_COLOR, NOISE_COLOR, RANK_CMAP, ROW_BOX_REQUIRED, SENTENCE_STATUSES,
    STATS_REQUIRED, frame_caption, grid_unit, rank_colors,
)
from gazex_lib.viz.keyframes.attention_video import attention_video_plotly
from gazex_lib.viz.keyframes.keyframe_stats import keyframe_stats_figure
from gazex_lib.viz.keyframes.recipe_comparison import recipe_comparison_figure
from gazex_lib.viz.keyframes.strip import frames_strip
from gazex_lib.viz.keyframes.window_steps import window_steps_figure

__all__ = ["window_steps_figure", "frames_strip", "attention_video_plotly",
           "recipe_comparison_figure", "keyframe_stats_figure", "rank_colors",
           "frame_caption", "BOX_COLUMNS", "SENTENCE_STATUSES", "HOLISTIC_COLOR"]
