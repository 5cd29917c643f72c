"""Dataset summary figures: counts, label prevalence, distributions, data quality.

Every function returns a new matplotlib Figure (never shows it) and validates its
input, raising ``ValueError`` that names a missing column.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gazex_lib.data.labels import prevalence_table
from gazex_lib.viz.style import PALETTE, figure_size, require_columns, style_axes

#: gids of the label-prevalence bar containers, for tests and callers.
PREVALENCE_GIDS = {"positive": "positive", "unknown": "unknown"}


def _hue_colors(n: int) -> list:
    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def counts_bar(df: pd.DataFrame, by: str, hue: str | None = None, title: str | None = None,
               ylabel: str = "readings") -> Figure:
    """Bar chart of row counts per ``by`` category, grouped side by side by ``hue``.

    E.g. ``counts_bar(metadata, "phase", hue="split")`` (readings per phase × split).
    Categories are sorted; each bar is labelled with its count.
    """
    require_columns(df, [by] + ([hue] if hue else []), "df")
    if hue:
        table = df.groupby([by, hue], dropna=False).size().unstack(hue, fill_value=0).sort_index()
        table = table[sorted(table.columns, key=str)]
    else:
        table = df.groupby(by, dropna=False).size().sort_index().to_frame("count")
    cats = [str(c) for c in table.index]
    n_cat, n_hue = len(cats), table.shape[1]
    fig = Figure(figsize=figure_size(max(4.0, 1.0 + 0.45 * n_cat * max(1, n_hue) + 0.8), 3.4),
                 layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / n_hue
    colors = _hue_colors(n_hue) if hue else [PALETTE["bar"]]
    pos = np.arange(n_cat)
    for j, col in enumerate(table.columns):
        bars = ax.bar(pos - 0.4 + width * (j + 0.5), table[col].to_numpy(), width * 0.95,
                      color=colors[j], label=str(col) if hue else None)
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(pos, cats, rotation=45 if n_cat > 6 else 0, ha="right" if n_cat > 6 else "center")
    ax.set_xlabel(by, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.margins(y=0.12)
    style_axes(ax, grid_axis="y")
    if hue:
        ax.legend(title=hue, fontsize=8, title_fontsize=8, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title or (f"{ylabel.capitalize()} per {by}" + (f" × {hue}" if hue else "")), fontsize=10)
    return fig


def label_prevalence(labels_df: pd.DataFrame, title: str | None = None) -> Figure:
    """Horizontal bars of the fraction positive per label (1/0/NaN matrix, e.g. CheXbert).

    Left panel: ``fraction_positive`` (NaN excluded from the denominator, see
    :func:`gazex_lib.data.labels.prevalence_table`), annotated ``pos/known``. Right panel, grey hatched:
    the share of readings where the label is unknown (NaN). Labels run top to bottom in
    column order.
    """
    table = prevalence_table(labels_df)
    n = len(table)
    fig = Figure(figsize=figure_size(8.0, 1.0 + 0.3 * n), layout="constrained")
    ax, ax_u = fig.subplots(1, 2, sharey=True, width_ratios=[3, 1])
    y = np.arange(n)
    frac = table["fraction_positive"].to_numpy()
    known = (table["n_positive"] + table["n_negative"]).to_numpy()
    track = [PALETTE["negative"] if k else PALETTE["unknown"] for k in known]
    ax.barh(y, np.ones(n), color=track, hatch=None, height=0.7, label="negative")
    ax.barh(y, np.nan_to_num(frac), color=PALETTE["positive"], height=0.7, label="positive",
            gid=PREVALENCE_GIDS["positive"])
    for yi, (f, p, k) in enumerate(zip(frac, table["n_positive"], known)):
        txt = "all unknown" if k == 0 else f"{f:.0%}  ({p}/{k})"
        inside = k > 0 and f > 0.75
        ax.text(f - 0.01 if inside else (0.01 if k == 0 else f + 0.01), yi, txt, va="center", fontsize=7,
                ha="right" if inside else "left", color="white" if inside else "#333333")
    ax.set_xlim(0, 1.0)
    ax.set_yticks(y, [str(c) for c in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("fraction positive (of readings where known)", fontsize=8)
    style_axes(ax, grid_axis="x")
    ax.legend(handles=[Patch(color=PALETTE["positive"], label="positive"),
                       Patch(color=PALETTE["negative"], label="negative"),
                       Patch(facecolor=PALETTE["unknown"], hatch="///", edgecolor="white",
                             label="unknown (NaN)")],
              loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False, ncols=3)
    fu = table["fraction_unknown"].to_numpy()
    ax_u.barh(y, fu, color=PALETTE["unknown"], hatch="///", edgecolor="white", height=0.7,
              gid=PREVALENCE_GIDS["unknown"])
    for yi, f in enumerate(fu):
        if f > 0:
            inside = f > 0.6
            ax_u.text(f - 0.02 if inside else f + 0.02, yi, f"{f:.0%}", va="center", fontsize=7,
                      ha="right" if inside else "left", color="#333333")
    ax_u.set_xlim(0, 1.0)
    ax_u.set_xticks([0, 0.5, 1.0], ["0", "0.5", "1"])
    ax_u.set_xlabel("unknown (NaN)\nshare of readings", fontsize=8)
    style_axes(ax_u, grid_axis="x")
    ax_u.tick_params(axis="y", length=0)
    fig.suptitle(title or f"Label prevalence ({len(labels_df)} readings)", fontsize=10)
    return fig


def distribution_grid(series_dict: Mapping[str, pd.Series | np.ndarray], units: Mapping[str, str],
                      bins: int = 30, ncols: int = 3, title: str | None = None) -> Figure:
    """Small-multiple histograms, one per named series, with its median marked.

    ``units`` maps every series name to its unit string (e.g. ``"s"``, ``"ms"``,
    ``"px/deg"``, ``"count"``); it is shown on the x label. NaN/inf values are dropped
    and counted in the panel title.
    """
    if not series_dict:
        raise ValueError("series_dict is empty")
    missing = [k for k in series_dict if k not in units]
    if missing:
        raise ValueError(f"units is missing an entry for {missing}")
    names = list(series_dict)
    ncols = max(1, min(ncols, len(names)))
    nrows = int(np.ceil(len(names) / ncols))
    fig = Figure(figsize=figure_size(3.2 * ncols, 2.4 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, names):
        v = np.asarray(pd.to_numeric(pd.Series(np.asarray(series_dict[name]).ravel()), errors="coerce"),
                       dtype=float)
        ok = v[np.isfinite(v)]
        dropped = len(v) - len(ok)
        if len(ok):
            ax.hist(ok, bins=bins, color=PALETTE["bar"], alpha=0.85, edgecolor="white", linewidth=0.4)
            med = float(np.median(ok))
            ax.axvline(med, color=PALETTE["accent"], linewidth=1.0, linestyle="--")
            ax.text(0.98, 0.95, f"median {med:.3g} {units[name]}\nn = {len(ok)}", transform=ax.transAxes,
                    ha="right", va="top", fontsize=7,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1})
        else:
            ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center", fontsize=8)
        ax.set_title(name + (f" ({dropped} non-finite dropped)" if dropped else ""), fontsize=9)
        ax.set_xlabel(units[name], fontsize=8)
        ax.set_ylabel("count", fontsize=8)
        style_axes(ax, grid_axis="y")
    for ax in axes[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


QUALITY_COLUMNS = ("reason", "readings_affected", "count", "fraction")


def quality_bar(summary_df: pd.DataFrame, title: str | None = None) -> Figure:
    """Horizontal bars of ``fraction`` per data-quality ``reason``.

    Each bar is annotated with ``readings_affected`` and ``count`` (the number of
    events of that kind, e.g. fixations off the film). Reasons are sorted by fraction.
    """
    require_columns(summary_df, QUALITY_COLUMNS, "summary_df")
    df = summary_df.sort_values(["fraction", "reason"], ascending=[False, True], kind="stable")
    n = len(df)
    fig = Figure(figsize=figure_size(8.0, 1.0 + 0.35 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)
    frac = df["fraction"].to_numpy(dtype=float)
    ax.barh(y, frac, color=PALETTE["accent"], alpha=0.8, height=0.65)
    hi = float(np.nanmax(frac)) if n and np.isfinite(frac).any() else 1.0
    for yi, (f, r, t) in enumerate(zip(frac, df["readings_affected"], df["count"])):
        ax.text((f if np.isfinite(f) else 0) + hi * 0.01, yi, f"{f:.1%}  ({r} readings, {t} total)",
                va="center", fontsize=7, color="#333333")
    ax.set_yticks(y, df["reason"].astype(str).tolist(), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(hi, 1e-9) * 1.45)
    ax.set_xlabel("fraction affected", fontsize=8)
    style_axes(ax, grid_axis="x")
    ax.set_title(title or "Data-quality summary", fontsize=10)
    return fig


#: Colours of the four label values of a report labeller (positive, uncertain, negative, blank).
LABEL_VALUE_COLORS = {"positive": PALETTE["positive"], "uncertain": "#f4a259",
                      "negative": PALETTE["negative"], "blank": PALETTE["unknown"]}


def label_values_bar(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Stacked horizontal bars of the share of reports per label value (the columns
    ``positive, uncertain, negative, blank`` of
    :func:`gazex_lib.data.explore_downstream.label_value_table`), one bar per label."""
    require_columns(table, list(LABEL_VALUE_COLORS), "label_values_bar")
    n = len(table)
    fig = Figure(figsize=figure_size(8.0, 1.0 + 0.3 * n), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    left = np.zeros(n)
    for name, color in LABEL_VALUE_COLORS.items():
        vals = table[name].to_numpy(dtype=float)
        ax.barh(y, vals, left=left, color=color, height=0.7, label=name)
        left += vals
    ax.set_xlim(0, 1.0)
    ax.set_yticks(y, [str(c) for c in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of reports", fontsize=8)
    style_axes(ax, grid_axis="x")
    ax.legend(loc="lower right", fontsize=7, ncols=4, bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=10, loc="left", pad=18)
    return fig
