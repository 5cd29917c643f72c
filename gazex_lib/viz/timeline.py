"""Dictation timeline: where the eyes were while each word and sentence was spoken.

Units: all times are **seconds on the REFLACX audio clock** (0 = start of the audio
recording, which is when dictation may begin; fixations before it are negative).
Positions are original-image pixels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gazex_lib.viz.scanpath import BOX_REQUIRED, FIXATION_REQUIRED
from gazex_lib.viz.style import (
    PALETTE, POSITION_CMAP, ellipse_label_columns, ellipse_labels, label_color,
    require_columns, style_axes,
)

WORD_REQUIRED = ("word", "timestamp_start_word", "timestamp_end_word")
SENTENCE_REQUIRED = ("sentence_index", "timestamp_start_s", "timestamp_end_s", "window_start_s", "window_end_s")

#: Lane centres (y) and height, top to bottom.
LANES = {"fixations": 2.0, "words": 1.0, "sentences": 0.0}
LANE_HEIGHT = 0.7

#: gids of the collections, for tests and callers.
GIDS = {"fixations": "fixation_bars", "sentences": "sentence_bars", "windows": "lead_windows"}


def fixation_ellipse_index(fixations: pd.DataFrame, ellipses: pd.DataFrame) -> np.ndarray:
    """Index (row position) of the first ellipse containing each fixation, -1 if none.

    An ellipse is the one inscribed in its ``xmin..ymax`` rectangle (px);
    a point is inside when ``((x-cx)/a)² + ((y-cy)/b)² <= 1``.
    """
    require_columns(ellipses, BOX_REQUIRED, "ellipses")
    x = fixations["x_position"].to_numpy(dtype=float)
    y = fixations["y_position"].to_numpy(dtype=float)
    out = np.full(len(x), -1, dtype=int)
    for k, (_, r) in enumerate(ellipses.iterrows()):
        a, b = (r["xmax"] - r["xmin"]) / 2, (r["ymax"] - r["ymin"]) / 2
        if a <= 0 or b <= 0:
            continue
        cx, cy = r["xmin"] + a, r["ymin"] + b
        inside = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0
        out[(out < 0) & inside] = k
    return out


def _fixation_colors(fixations, ellipses, image_width):
    """Per-fixation face colours and legend handles (or a colorbar mappable)."""
    if ellipses is not None and len(ellipses):
        idx = fixation_ellipse_index(fixations, ellipses)
        cols = ellipse_label_columns(ellipses)
        names = [", ".join(ellipse_labels(r, cols)) or f"ellipse {k + 1}"
                 for k, (_, r) in enumerate(ellipses.iterrows())]
        colors = [label_color(ellipse_labels(r, cols)[0]) if ellipse_labels(r, cols) else PALETTE["accent"]
                  for _, r in ellipses.iterrows()]
        face = [colors[i] if i >= 0 else PALETTE["no_ellipse"] for i in idx]
        handles = [Patch(color=colors[k], label=names[k]) for k in sorted(set(idx) - {-1})]
        handles.append(Patch(color=PALETTE["no_ellipse"], label="outside ellipses"))
        return face, handles, None
    x = fixations["x_position"].to_numpy(dtype=float)
    hi = float(image_width) if image_width else (float(np.nanmax(x)) if len(x) else 1.0)
    norm = Normalize(0.0, max(hi, 1.0))
    cmap = colormaps[POSITION_CMAP]
    face = [cmap(norm(v)) for v in x]
    from matplotlib.cm import ScalarMappable
    return face, None, ScalarMappable(norm=norm, cmap=cmap)


def dictation_timeline(fixations: pd.DataFrame, words: pd.DataFrame, sentences: pd.DataFrame,
                       ellipses: pd.DataFrame | None = None, ax=None, image_width: float | None = None,
                       xlim: tuple[float, float] | None = None, title: str | None = None) -> Figure:
    """Three lanes on one time axis (s): fixations, spoken words, sentences.

    Parameters
    ----------
    fixations : REFLACX fixations (start/end in s; ``x_position`` px).
    words : ``word, timestamp_start_word, timestamp_end_word`` (s); punctuation tokens
        are drawn as ticks without text.
    sentences : ``sentence_index, timestamp_start_s, timestamp_end_s, window_start_s,
        window_end_s`` (s), optionally ``text``. The lead window (gaze attributed to the
        sentence, e.g. 2 s before it starts) is drawn hatched behind the sentence span.
    ellipses : if given, fixation bars are coloured by the first ellipse that contains
        them (label colour; grey outside); otherwise by ``x_position`` (colorbar, px).
    ax : draw into this axes; otherwise a new 10 × 3.6 in Figure.
    image_width : colour scale upper bound (px) for x colouring; default max x.
    xlim : optional time window (s) to zoom into.
    title : axes title.

    Returns
    -------
    matplotlib Figure. One bar per fixation (collection gid ``"fixation_bars"``), one span
    per sentence (``"sentence_bars"``) and per lead window (``"lead_windows"``); a dashed
    vertical line marks t = 0 (start of dictation).
    """
    require_columns(fixations, FIXATION_REQUIRED, "fixations")
    require_columns(words, WORD_REQUIRED, "words")
    require_columns(sentences, SENTENCE_REQUIRED, "sentences")
    if ax is None:
        fig = Figure(figsize=(10.0, 3.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    half = LANE_HEIGHT / 2

    # --- fixations lane
    start = fixations["timestamp_start_fixation"].to_numpy(dtype=float)
    width = fixations["timestamp_end_fixation"].to_numpy(dtype=float) - start
    face, handles, mappable = _fixation_colors(fixations, ellipses, image_width)
    yf = LANES["fixations"]
    ax.broken_barh(list(zip(start, width)), (yf - half, LANE_HEIGHT), facecolors=face,
                   edgecolors="none", gid=GIDS["fixations"])

    # --- words lane
    yw = LANES["words"]
    ws = words["timestamp_start_word"].to_numpy(dtype=float)
    we = words["timestamp_end_word"].to_numpy(dtype=float)
    ax.hlines(yw - half, np.nanmin(ws) if len(ws) else 0, np.nanmax(we) if len(we) else 0,
              color=PALETTE["grid"], linewidth=0.8)
    lo, hi = xlim if xlim is not None else (-np.inf, np.inf)
    for w, s, e in zip(words["word"].astype(str), ws, we):
        ax.vlines(s, yw - half, yw - half + 0.12, color=PALETTE["word"], linewidth=0.6)
        if w in (".", ",") or not (lo <= s <= hi):
            continue
        ax.text(s, yw - half + 0.15, w, rotation=60, fontsize=6.5, ha="left", va="bottom",
                color=PALETTE["word"], rotation_mode="anchor", clip_on=True)

    # --- sentences lane
    ys = LANES["sentences"]
    s0 = sentences["timestamp_start_s"].to_numpy(dtype=float)
    s1 = sentences["timestamp_end_s"].to_numpy(dtype=float)
    w0 = sentences["window_start_s"].to_numpy(dtype=float)
    w1 = sentences["window_end_s"].to_numpy(dtype=float)
    # alternate sentences between two sub-rows so overlapping lead windows stay readable
    row = np.where(np.arange(len(s0)) % 2 == 0, ys + 0.19, ys - 0.19)
    sub = 0.34

    def spans(a, b, half_h):
        return [[(lo, r - half_h), (lo, r + half_h), (hi, r + half_h), (hi, r - half_h)]
                for lo, hi, r in zip(a, b, row)]

    ax.add_collection(PolyCollection(spans(w0, w1, sub / 2), facecolors=PALETTE["lead_window"],
                                     edgecolors=PALETTE["sentence"], linewidths=0.5, hatch="////",
                                     alpha=0.6, gid=GIDS["windows"], zorder=1), autolim=False)
    ax.add_collection(PolyCollection(spans(s0, s1, sub * 0.35), facecolors=PALETTE["sentence"],
                                     edgecolors="white", linewidths=0.8, gid=GIDS["sentences"],
                                     zorder=2), autolim=False)
    for idx, a, b, r in zip(sentences["sentence_index"], s0, s1, row):
        ax.text((a + b) / 2, r, f"S{idx}", ha="center", va="center", fontsize=6.5, color="white",
                fontweight="bold", zorder=3, clip_on=True)

    # --- axes
    ax.axvline(0.0, color=PALETTE["accent"], linestyle="--", linewidth=1.0, zorder=4)
    ax.annotate("dictation start", (0.0, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                textcoords="offset points", fontsize=7, color=PALETTE["accent"], va="top")
    ax.set_yticks([LANES["fixations"], LANES["words"], LANES["sentences"]],
                  ["fixations", "words", "sentences"])
    ax.set_ylim(-0.6, 2.6)
    ax.set_xlabel("time (s, audio clock)", fontsize=9)
    style_axes(ax, grid_axis="x")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if xlim is not None:
        ax.set_xlim(*xlim)
    else:
        ends = np.concatenate([start, start + width, w0, s1, ws, we, [0.0]])
        ends = ends[np.isfinite(ends)]
        pad = 0.01 * (ends.max() - ends.min() or 1.0)
        ax.set_xlim(ends.min() - pad, ends.max() + pad)
    legend = [Patch(facecolor=PALETTE["sentence"], label="sentence"),
              Patch(facecolor=PALETTE["lead_window"], edgecolor=PALETTE["sentence"], hatch="////",
                    label="gaze window (incl. lead)")]
    if handles:
        legend = handles + legend
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    if mappable is not None:
        cb = fig.colorbar(mappable, ax=ax, location="bottom", shrink=0.35, aspect=40, pad=0.02, anchor=(1.0, 0))
        cb.set_label("fixation x (px)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def dictation_timeline_plotly(fixations: pd.DataFrame, words: pd.DataFrame, sentences: pd.DataFrame,
                              title: str | None = None):
    """Interactive version of :func:`dictation_timeline` (times in s).

    Fixation bars hover with index, start (s), duration (ms) and x/y (px); words hover
    with their text and time; sentences with their text and lead window.
    """
    import plotly.graph_objects as go

    require_columns(fixations, FIXATION_REQUIRED, "fixations")
    require_columns(words, WORD_REQUIRED, "words")
    require_columns(sentences, SENTENCE_REQUIRED, "sentences")
    fs = fixations["timestamp_start_fixation"].to_numpy(dtype=float)
    fd = fixations["timestamp_end_fixation"].to_numpy(dtype=float) - fs
    fx = fixations["x_position"].to_numpy(dtype=float)
    fy = fixations["y_position"].to_numpy(dtype=float)
    ftext = [f"fixation #{i + 1}<br>t = {s:.3f} s<br>duration = {d * 1000:.0f} ms<br>x = {x:.0f} px, y = {y:.0f} px"
             for i, (s, d, x, y) in enumerate(zip(fs, fd, fx, fy))]
    fig = go.Figure()
    fig.add_trace(go.Bar(base=fs, x=fd, y=["fixations"] * len(fs), orientation="h", name="fixations",
                         marker=dict(color=fx, colorscale="Cividis", colorbar=dict(title=dict(text="x (px)"), thickness=10)),
                         text=ftext, textposition="none", hovertemplate="%{text}<extra></extra>"))
    ws = words["timestamp_start_word"].to_numpy(dtype=float)
    wd = words["timestamp_end_word"].to_numpy(dtype=float) - ws
    wtext = [f"{w}<br>{s:.3f} s" for w, s in zip(words["word"].astype(str), ws)]
    fig.add_trace(go.Bar(base=ws, x=wd, y=["words"] * len(ws), orientation="h", name="words",
                         marker=dict(color=PALETTE["word"]), text=wtext, textposition="none",
                         hovertemplate="%{text}<extra></extra>"))
    w0 = sentences["window_start_s"].to_numpy(dtype=float)
    w1 = sentences["window_end_s"].to_numpy(dtype=float)
    s0 = sentences["timestamp_start_s"].to_numpy(dtype=float)
    s1 = sentences["timestamp_end_s"].to_numpy(dtype=float)
    texts = sentences["text"].astype(str).tolist() if "text" in sentences.columns else [""] * len(s0)
    stext = [f"S{i}: {t}<br>{a:.2f}–{b:.2f} s (window {c:.2f}–{d:.2f} s)"
             for i, t, a, b, c, d in zip(sentences["sentence_index"], texts, s0, s1, w0, w1)]
    fig.add_trace(go.Bar(base=w0, x=w1 - w0, y=["sentences"] * len(w0), orientation="h", name="gaze window",
                         marker=dict(color=PALETTE["lead_window"], pattern=dict(shape="/")), text=stext,
                         textposition="none", hovertemplate="%{text}<extra></extra>", width=0.8))
    fig.add_trace(go.Bar(base=s0, x=s1 - s0, y=["sentences"] * len(s0), orientation="h", name="sentence",
                         marker=dict(color=PALETTE["sentence"]), text=stext, textposition="none",
                         hovertemplate="%{text}<extra></extra>", width=0.45))
    fig.add_vline(x=0.0, line=dict(color=PALETTE["accent"], dash="dash", width=1))
    fig.update_layout(barmode="overlay", template="simple_white", height=320,
                      title=dict(text=title or "Dictation timeline", font=dict(size=14)),
                      xaxis=dict(title="time (s, audio clock)"), bargap=0.2,
                      yaxis=dict(categoryorder="array", categoryarray=["sentences", "words", "fixations"]),
                      margin=dict(l=80, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.25))
    return fig
