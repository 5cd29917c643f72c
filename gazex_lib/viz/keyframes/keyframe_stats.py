"""Small multiples of a key-frame table: frames per reading, clusters and status per sentence,
box sizes.

Units: counts (readings, sentences, frames); box areas in **map-grid px²** (the table's
``box_*`` columns; the grid's scale is read from the table's ``params`` column when present).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gazex_lib.viz.keyframes._common import (
    SENTENCE_STATUSES, STATS_REQUIRED, _has_box, grid_unit, rank_colors,
)
from gazex_lib.viz.style import MAX_WIDTH_IN, PALETTE, figure_size, require_columns, style_axes


def _area_unit(table: pd.DataFrame) -> str:
    """``"¼-scale px²"`` when every row's ``params`` JSON (``KeyframeConfig.to_json``) has the
    same ``scale``, else ``"grid px²"``."""
    if "params" not in table.columns:
        return "grid px²"
    scales = set()
    for p in table["params"].dropna().unique():
        try:
            scales.add(json.loads(p).get("scale"))
        except (TypeError, ValueError, AttributeError):
            return "grid px²"
    if len(scales) != 1 or not isinstance(next(iter(scales)), (int, float)):
        return "grid px²"
    return f"{grid_unit(scales.pop())}²"


def keyframe_stats_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Small multiples of a key-frame table (``build_keyframe_table(...).table``).

    (a) frames per reading (histogram, one bin per integer); (b) sentences per number of
    clusters (bars for every count from 0 to the maximum); (c) sentences per status
    (:data:`SENTENCE_STATUSES`, zero bars kept); (d) box areas ``width × height``
    (``x_max - x_min`` by ``y_max - y_min``, map-grid px², as the official width) of the
    cluster and holistic boxes. Sentences are unique ``(reading_id, sentence_index)``.
    """
    require_columns(table, STATS_REQUIRED, "table")
    if not len(table):
        raise ValueError("table is empty")
    unknown = sorted(set(table["status"].astype(str)) - set(SENTENCE_STATUSES))
    if unknown:
        raise ValueError(f"table has unknown status value(s) {unknown}; "
                         f"expected {list(SENTENCE_STATUSES)}")
    sentences = table.drop_duplicates(["reading_id", "sentence_index"])
    fig = Figure(figsize=figure_size(MAX_WIDTH_IN, 6.2), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    bar = PALETTE["bar"]

    per_reading = table.groupby("reading_id", sort=True).size().to_numpy()
    lo, hi = int(per_reading.min()), int(per_reading.max())
    a.hist(per_reading, bins=np.arange(lo - 0.5, hi + 1.5, 1.0), color=bar, edgecolor="white",
           gid="frames_per_reading")
    a.set_xlabel("key frames per reading", fontsize=8)
    a.set_ylabel("readings", fontsize=8)
    a.set_title(f"(a) frames per reading ({len(per_reading)} readings, "
                f"median {np.median(per_reading):g})", fontsize=9)
    a.xaxis.get_major_locator().set_params(integer=True)

    ncl = sentences["n_clusters"].astype(int).to_numpy()
    ks = np.arange(0, int(ncl.max()) + 1)
    counts = np.array([(ncl == k).sum() for k in ks])
    bars = b.bar(ks, counts, color=bar, width=0.8, gid="clusters_per_sentence")
    b.bar_label(bars, fontsize=7, padding=1)
    b.set_xticks(ks)
    b.set_xlabel("DBSCAN clusters in the sentence window", fontsize=8)
    b.set_ylabel("sentences", fontsize=8)
    b.set_title(f"(b) clusters per sentence ({len(sentences)} sentences)", fontsize=9)

    st = sentences["status"].astype(str)
    scounts = np.array([(st == s).sum() for s in SENTENCE_STATUSES])
    colors = [bar if s == "ok" else ("#6baed6" if s in ("single_cluster", "all_noise")
                                     else PALETTE["unknown"]) for s in SENTENCE_STATUSES]
    pos = np.arange(len(SENTENCE_STATUSES))
    bars = c.bar(pos, scounts, color=colors, width=0.8, gid="status_counts")
    c.bar_label(bars, fontsize=7, padding=1)
    c.set_xticks(pos, SENTENCE_STATUSES, rotation=20, ha="right")
    c.set_ylabel("sentences", fontsize=8)
    c.set_title("(c) sentence status", fontsize=9)

    boxed = table[_has_box(table)]
    area = ((boxed["box_x_max"] - boxed["box_x_min"]) *
            (boxed["box_y_max"] - boxed["box_y_min"])).to_numpy(float)
    kinds = boxed["frame_kind"].to_numpy()
    if len(area):
        edges = np.histogram_bin_edges(area, bins=20)
        for kind, color, ls in (("cluster", rank_colors(1)[0], "-"),
                                ("holistic", "#0097a7", "--")):
            sel = area[kinds == kind]
            med = float(np.median(sel)) if len(sel) else 0.0
            d.hist(sel, bins=edges, histtype="step", color=color, linewidth=1.6, linestyle=ls,
                   label=f"{kind} ({len(sel)} boxes, median {med:.0f})", gid=f"box_area_{kind}")
        d.legend(fontsize=7, frameon=False)
    else:
        d.text(0.5, 0.5, "no boxes", transform=d.transAxes, ha="center", va="center")
    d.set_xlabel(f"box width × height ({_area_unit(table)})", fontsize=8)
    d.set_ylabel("frames", fontsize=8)
    d.set_title(f"(d) box sizes ({len(area)} of {len(table)} frames have a box)", fontsize=9)

    for ax in (a, b, c, d):
        ax.yaxis.get_major_locator().set_params(integer=True)
        style_axes(ax, grid_axis="y")
        ax.margins(y=0.12)
    fig.suptitle(title or f"Key-frame table: {len(table)} frames", fontsize=10)
    return fig
