"""Scanpaths: fixations drawn on the film they were made on.

Units: fixation and ellipse coordinates are **original-image pixels** (REFLACX
``x_position``/``y_position``, origin top-left, y down); times are **seconds on the
audio clock** (negative before dictation starts); durations are shown in **ms**.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle

from gazex_lib.viz.style import (
    PALETTE, TIME_CMAP, TIME_COLORSCALE, ellipse_label_columns, ellipse_labels,
    figure_size, fixation_durations_s, label_color, require_columns, require_image,
)

FIXATION_REQUIRED = ("timestamp_start_fixation", "timestamp_end_fixation", "x_position", "y_position")
BOX_REQUIRED = ("xmin", "ymin", "xmax", "ymax")

#: gid of the fixation scatter (one marker per fixation), for tests and callers.
FIXATIONS_GID = "fixations"


def _check_fixations(fixations: pd.DataFrame, max_fixations: int | None) -> pd.DataFrame:
    require_columns(fixations, FIXATION_REQUIRED, "fixations")
    if max_fixations is not None:
        if max_fixations < 1:
            raise ValueError(f"max_fixations must be >= 1, got {max_fixations}")
        fixations = fixations.iloc[:max_fixations]
    return fixations


def marker_area_pt2(duration_s: np.ndarray) -> np.ndarray:
    """Matplotlib marker area (points²) proportional to duration: 100 ms -> 24, 1 s -> 240.

    Clipped to [8, 600] so very short/long fixations stay visible/bounded.
    """
    return np.clip(np.nan_to_num(duration_s, nan=0.0) * 240.0, 8.0, 600.0)


def _imshow(ax, image: np.ndarray) -> None:
    kw = {"vmin": 0, "vmax": 255} if image.dtype == np.uint8 else {}
    ax.imshow(image, cmap="gray", interpolation="antialiased", **kw)


def _draw_ellipses(ax, ellipses: pd.DataFrame) -> None:
    require_columns(ellipses, BOX_REQUIRED, "ellipses")
    cols = ellipse_label_columns(ellipses)
    for _, row in ellipses.iterrows():
        names = ellipse_labels(row, cols)
        color = label_color(names[0]) if names else PALETTE["accent"]
        cx, cy = (row["xmin"] + row["xmax"]) / 2, (row["ymin"] + row["ymax"]) / 2
        w, h = row["xmax"] - row["xmin"], row["ymax"] - row["ymin"]
        ax.add_patch(Ellipse((cx, cy), w, h, fill=False, edgecolor=color, linewidth=2.0,
                             gid="ellipse"))
        text = ", ".join(names) if names else "(no label)"
        if "certainty" in row.index and pd.notna(row["certainty"]):
            text += f" (c={int(row['certainty'])})"
        ax.annotate(text, (cx, row["ymin"]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7, color="white",
                    bbox={"boxstyle": "round,pad=0.2", "fc": color, "ec": "none", "alpha": 0.85},
                    annotation_clip=False)


def scanpath_figure(image: np.ndarray, fixations: pd.DataFrame, ellipses: pd.DataFrame | None = None,
                    chest_box: pd.DataFrame | None = None, title: str | None = None, ax=None,
                    max_fixations: int | None = None) -> Figure:
    """The film in grey with the reading's scanpath on top.

    Parameters
    ----------
    image : (H, W) uint8 greyscale film in original pixels.
    fixations : REFLACX fixations (``timestamp_start_fixation``, ``timestamp_end_fixation``
        in s; ``x_position``, ``y_position`` in px; optional ``duration_s``).
    ellipses : optional REFLACX ellipses (``xmin..ymax`` px, ``certainty``, bool labels),
        drawn as ellipses inscribed in their rectangle, coloured and named by label.
    chest_box : optional one-row ``xmin, ymin, xmax, ymax`` (px), drawn dashed.
    title : axes title.
    ax : draw into this axes (its figure is returned); otherwise a new Figure.
    max_fixations : draw only the first N fixations.

    Returns
    -------
    matplotlib Figure. Fixations are one scatter (gid ``"fixations"``) whose marker area is
    proportional to duration and colour to start time (colorbar in s); thin lines join
    consecutive fixations (saccades); the first and last fixations are numbered.
    """
    image = require_image(image)
    fixations = _check_fixations(fixations, max_fixations)
    h, w = image.shape[:2]
    if ax is None:
        fig = Figure(figsize=figure_size(5.5 * w / h + 1.3, 5.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    _imshow(ax, image)
    x = fixations["x_position"].to_numpy(dtype=float)
    y = fixations["y_position"].to_numpy(dtype=float)
    t = fixations["timestamp_start_fixation"].to_numpy(dtype=float)
    dur = fixation_durations_s(fixations)
    ax.plot(x, y, color=PALETTE["saccade"], linewidth=0.6, alpha=0.7, zorder=2, gid="saccades")
    sc = ax.scatter(x, y, s=marker_area_pt2(dur), c=t, cmap=TIME_CMAP, alpha=0.85,
                    edgecolors="white", linewidths=0.4, zorder=3, gid=FIXATIONS_GID)
    if len(x):
        cb = fig.colorbar(sc, ax=ax, shrink=0.8, pad=0.02)
        cb.set_label("fixation start (s; 0 = dictation start)", fontsize=8)
        cb.ax.tick_params(labelsize=7)
        marks = [(0, "1")] + ([(len(x) - 1, str(len(x)))] if len(x) > 1 else [])
        for i, s in marks:
            ax.annotate(s, (x[i], y[i]), xytext=(6, 6), textcoords="offset points", fontsize=8,
                        fontweight="bold", color="black",
                        bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "black", "lw": 0.6},
                        zorder=5)
    if chest_box is not None:
        require_columns(chest_box, BOX_REQUIRED, "chest_box")
        if len(chest_box):
            b = chest_box.iloc[0]
            ax.add_patch(Rectangle((b["xmin"], b["ymin"]), b["xmax"] - b["xmin"], b["ymax"] - b["ymin"],
                                   fill=False, edgecolor=PALETTE["chest_box"], linestyle="--",
                                   linewidth=1.3, gid="chest_box"))
    if ellipses is not None:
        _draw_ellipses(ax, ellipses)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xlabel("x (px)", fontsize=8)
    ax.set_ylabel("y (px)", fontsize=8)
    ax.tick_params(labelsize=7)
    n_txt = f"{len(x)} fixations"
    ax.set_title(f"{title}\n{n_txt}" if title else n_txt, fontsize=10)
    return fig


# ---------------------------------------------------------------- plotly -----------

def downsample_image(image: np.ndarray, longest: int) -> np.ndarray:
    """Area-average ``image`` so its longer side is at most ``longest`` px (uint8 out)."""
    from PIL import Image

    image = require_image(image)
    if longest < 1:
        raise ValueError(f"downsample_to must be >= 1, got {longest}")
    h, w = image.shape[:2]
    arr = image
    if arr.dtype != np.uint8:
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        arr = np.zeros(arr.shape, np.uint8) if hi <= lo else \
            np.round((arr.astype(float) - lo) / (hi - lo) * 255).astype(np.uint8)
    scale = longest / max(h, w)
    if scale >= 1:
        return arr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BOX))


def png_data_uri(image: np.ndarray) -> str:
    """A deterministic ``data:image/png;base64,...`` URI of a uint8 image (no metadata)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def marker_size_px(duration_s: np.ndarray) -> np.ndarray:
    """Plotly marker diameter (px) growing with duration: 100 ms -> 7, 1 s -> 22, max 30."""
    return np.clip(5.0 + 17.0 * np.sqrt(np.nan_to_num(duration_s, nan=0.0)), 4.0, 30.0)


def fixation_hover_text(fixations: pd.DataFrame) -> list[str]:
    """One hover string per fixation: index, start time (s), duration (ms), x/y (px)."""
    t = fixations["timestamp_start_fixation"].to_numpy(dtype=float)
    d = fixation_durations_s(fixations) * 1000.0
    x = fixations["x_position"].to_numpy(dtype=float)
    y = fixations["y_position"].to_numpy(dtype=float)
    return [f"fixation #{i + 1}<br>t = {ti:.3f} s<br>duration = {di:.0f} ms<br>x = {xi:.0f} px, y = {yi:.0f} px"
            for i, (ti, di, xi, yi) in enumerate(zip(t, d, x, y))]


def _ellipse_shapes(ellipses: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    require_columns(ellipses, BOX_REQUIRED, "ellipses")
    cols = ellipse_label_columns(ellipses)
    shapes, notes = [], []
    for _, row in ellipses.iterrows():
        names = ellipse_labels(row, cols)
        color = label_color(names[0]) if names else PALETTE["accent"]
        shapes.append(dict(type="circle", xref="x", yref="y", x0=float(row["xmin"]), y0=float(row["ymin"]),
                           x1=float(row["xmax"]), y1=float(row["ymax"]), line=dict(color=color, width=2)))
        notes.append(dict(x=float((row["xmin"] + row["xmax"]) / 2), y=float(row["ymin"]), xref="x", yref="y",
                          text=", ".join(names) or "(no label)", showarrow=False, yanchor="bottom",
                          font=dict(color="white", size=11), bgcolor=color, opacity=0.9))
    return shapes, notes


def _marker_traces(x, y, t, size, text, tmin, tmax):
    import plotly.graph_objects as go

    lines = go.Scatter(x=x, y=y, mode="lines", line=dict(color="rgba(240,240,240,0.6)", width=1),
                       hoverinfo="skip", showlegend=False, name="saccades")
    marks = go.Scatter(
        x=x, y=y, mode="markers", name="fixations", showlegend=False, text=text,
        hovertemplate="%{text}<extra></extra>",
        marker=dict(size=size, color=t, colorscale=TIME_COLORSCALE, cmin=tmin, cmax=tmax,
                    opacity=0.85, line=dict(color="white", width=0.5),
                    colorbar=dict(title=dict(text="start (s)"), thickness=12)))
    return lines, marks


def scanpath_plotly(image: np.ndarray, fixations: pd.DataFrame, ellipses: pd.DataFrame | None = None,
                    title: str | None = None, downsample_to: int = 512,
                    animate_every: int | None = None):
    """Interactive scanpath: the film as a downsampled background, fixations on top.

    Parameters
    ----------
    image : (H, W) uint8 film in original pixels. It is area-downsampled so its longer
        side is at most ``downsample_to`` px and embedded as a PNG data URI (keeps the
        figure JSON small); the axes stay in **original pixels** (y reversed).
    fixations : REFLACX fixations (times in s, positions in px).
    ellipses : optional REFLACX ellipses, drawn as ellipse shapes with their label names.
    title : figure title.
    downsample_to : longest side (px) of the embedded background.
    animate_every : if given, add animation frames (with play button and slider) that
        show the cumulative scanpath every ``animate_every`` fixations.

    Returns
    -------
    ``plotly.graph_objects.Figure`` with traces ``[background image, saccades, fixations]``.
    Fixation markers: size grows with duration, colour = start time (s); hover shows
    index, start time (s), duration (ms) and x/y (px).
    """
    import plotly.graph_objects as go

    image = require_image(image)
    fixations = _check_fixations(fixations, None)
    h, w = image.shape[:2]
    small = downsample_image(image, downsample_to)
    sh, sw = small.shape[:2]
    x = fixations["x_position"].to_numpy(dtype=float)
    y = fixations["y_position"].to_numpy(dtype=float)
    t = fixations["timestamp_start_fixation"].to_numpy(dtype=float)
    size = np.round(marker_size_px(fixation_durations_s(fixations)), 1)
    text = fixation_hover_text(fixations)
    tmin, tmax = (float(np.nanmin(t)), float(np.nanmax(t))) if len(t) else (0.0, 1.0)

    bg = go.Image(source=png_data_uri(small), x0=0.5 * w / sw - 0.5, y0=0.5 * h / sh - 0.5,
                  dx=w / sw, dy=h / sh, hoverinfo="skip", name="film")
    lines, marks = _marker_traces(x, y, t, size, text, tmin, tmax)
    fig = go.Figure(data=[bg, lines, marks])
    height = 640
    fig.update_layout(
        title=dict(text=title or f"Scanpath ({len(x)} fixations)", font=dict(size=14)),
        height=height, template="simple_white",
        margin=dict(l=50, r=20, t=50, b=40),
        xaxis=dict(range=[-0.5, w - 0.5], title="x (px)", showgrid=False, constrain="domain"),
        yaxis=dict(range=[h - 0.5, -0.5], autorange=False, title="y (px)", showgrid=False,
                   scaleanchor="x", scaleratio=1, constrain="domain"),
    )
    if ellipses is not None:
        shapes, notes = _ellipse_shapes(ellipses)
        fig.update_layout(shapes=shapes, annotations=notes)
    if animate_every is not None:
        _add_animation(fig, x, y, t, size, text, int(animate_every))
    return fig


def _add_animation(fig, x, y, t, size, text, every: int) -> None:
    import plotly.graph_objects as go

    if every < 1:
        raise ValueError(f"animate_every must be >= 1, got {every}")
    n = len(x)
    ends = list(range(every, n, every)) + [n]
    frames, steps = [], []
    for k in ends:
        lines = go.Scatter(x=x[:k], y=y[:k])
        marks = go.Scatter(x=x[:k], y=y[:k], text=text[:k], marker=dict(size=size[:k], color=t[:k]))
        name = f"n{k}"
        frames.append(go.Frame(data=[lines, marks], traces=[1, 2], name=name))
        label = f"{t[k - 1]:.1f} s" if n else "0"
        steps.append(dict(method="animate", label=label,
                          args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                             transition=dict(duration=0))]))
    fig.frames = frames
    fig.update_layout(
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=-0.08, xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(frame=dict(duration=300, redraw=False),
                                                         fromcurrent=True, transition=dict(duration=0))])])],
        sliders=[dict(active=len(steps) - 1, steps=steps, x=0.12, len=0.88, y=-0.04,
                      currentvalue=dict(prefix="up to fixation start ", font=dict(size=11)))],
    )
