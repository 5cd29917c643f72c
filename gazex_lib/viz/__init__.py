"""Figures: functions that return matplotlib or plotly figures, never plt.show().

No function here changes global plotting state; each builds its own ``Figure``.
"""
from gazex_lib.viz.agreement import agreement_scatter, bland_altman_figure
from gazex_lib.viz.films import film_panel
from gazex_lib.viz.plotly_embed import plotly_html, plotly_html_string, reset_plotly_embed
from gazex_lib.viz.scanpath import scanpath_figure, scanpath_plotly
from gazex_lib.viz.style import LABEL_COLORS, PALETTE, label_color
from gazex_lib.viz.summary import (
    counts_bar, distribution_grid, label_prevalence, label_values_bar, quality_bar,
)
from gazex_lib.viz.timeline import dictation_timeline, dictation_timeline_plotly, fixation_ellipse_index

__all__ = [
    "agreement_scatter", "bland_altman_figure", "LABEL_COLORS", "PALETTE", "counts_bar", "dictation_timeline", "dictation_timeline_plotly",
    "distribution_grid", "film_panel", "fixation_ellipse_index", "label_color", "label_prevalence",
    "label_values_bar",
    "plotly_html", "plotly_html_string", "quality_bar",
    "reset_plotly_embed", "scanpath_figure", "scanpath_plotly",
]

from gazex_lib.viz.keyframes import (  # noqa: E402
    attention_video_plotly, frames_strip, keyframe_stats_figure, recipe_comparison_figure,
    window_steps_figure,
)

__all__ += [
    "attention_video_plotly", "frames_strip", "keyframe_stats_figure",
    "recipe_comparison_figure", "window_steps_figure",
]
