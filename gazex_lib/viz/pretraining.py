"""Figures of the pretraining chapter: a task record as the model sees it, loss curves per task,
the held-out comparison, and predicted vs true gaze on a film.

Every function returns a matplotlib ``Figure`` and changes no global state.
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gazex_lib.viz.style import figure_size, style_axes

__all__ = ["record_figure", "loss_curves_figure", "loss_curves_plotly", "heldout_figure", "fvp_prediction_figure",
           "path_prediction_figure"]

TASK_COLORS = {"fvp": "#1f5fa8", "gtm": "#2ca02c", "gtm_image": "#98df8a", "gtm_clip": "#17becf",
               "gtm_path": "#d62728", "sda_global": "#ff7f0e", "sda_finding": "#9467bd"}
SOURCE_COLORS = {"trained": "#1f5fa8", "untrained": "#bbbbbb", "trivial": "#e69f00",
                 "input_ignoring": "#d55e00", "text_only": "#009e73", "image_blind": "#cc79a7"}


def _grey(ax, img) -> None:
    img = np.asarray(img)
    ax.imshow(img if img.ndim == 3 else img, cmap=None if img.ndim == 3 else "gray",
              vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def record_figure(record: dict, *, max_frames: int = 8, wrap: int = 125) -> Figure:
    """One resolved record (arrays, not references): its image(s) and video frames (in the order
    shown) in a row, then the prompt and the target text underneath (wrapped at ``wrap``
    characters)."""
    from gazex_lib.tasks import record_prompt, record_target

    images = list(record.get("images") or [])
    frames = [f for v in (record.get("videos") or []) for f in v][:max_frames]
    panels = images + frames
    if not panels:
        raise ValueError(f"record {record.get('id')!r} has no image or video to show")
    prompt = textwrap.fill("prompt: " + record_prompt(record), wrap)
    target = textwrap.fill("target: " + record_target(record), wrap)
    n_prompt, n_target = prompt.count("\n") + 1, target.count("\n") + 1
    text_h = 0.15 * (n_prompt + n_target + 1)
    cols = max(len(panels), 7)
    fig = Figure(figsize=figure_size(10.0, 1.9 + text_h + 0.3))
    gs = fig.add_gridspec(2, cols, height_ratios=[1.9, text_h], hspace=0.08, wspace=0.05)
    for i, img in enumerate(panels):
        ax = fig.add_subplot(gs[0, i])
        _grey(ax, img)
        ax.set_title("image" if i < len(images) else f"frame {i - len(images) + 1}", fontsize=7)
    ax = fig.add_subplot(gs[1, :])
    ax.axis("off")
    ax.text(0, 1, prompt, va="top", ha="left", fontsize=7, family="monospace",
            transform=ax.transAxes)
    ax.text(0, 1 - (n_prompt + 0.6) / (n_prompt + n_target + 1), target, va="top", ha="left",
            fontsize=7, family="monospace", color="#1f5fa8", transform=ax.transAxes)
    fig.suptitle(f"{record['task']}  ·  {record['id']}", fontsize=9, x=0.01, ha="left")
    return fig


def loss_curves_figure(log: list[dict], eval_log: list[dict] | None = None,
                       title: str | None = None) -> Figure:
    """Token-weighted training loss per task against the optimiser step (one line per task,
    from ``train_log.jsonl`` entries), with the overall loss in black; eval losses as dots."""
    if not log:
        raise ValueError("empty training log")
    fig = Figure(figsize=figure_size(7.5, 3.6))
    ax = fig.add_subplot(111)
    steps = [e["step"] for e in log]
    ax.plot(steps, [e["loss"] for e in log], color="black", lw=1.8, label="all tasks")
    tasks = sorted({t for e in log for t in e.get("loss_per_task", {})})
    for t in tasks:
        pts = [(e["step"], e["loss_per_task"][t]) for e in log if t in e.get("loss_per_task", {})]
        ax.plot(*zip(*pts), color=TASK_COLORS.get(t), lw=1.1, label=t)
    for e in eval_log or []:
        for t, v in e.get("eval_loss_per_task", {}).items():
            ax.plot(e["step"], v, "o", color=TASK_COLORS.get(t), ms=4)
    ax.set_yscale("log")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("loss per label token (nats)")
    style_axes(ax, "y")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.set_title(title or "Training loss per task", fontsize=10)
    fig.tight_layout()
    return fig


def loss_curves_plotly(log: list[dict], title: str | None = None):
    """:func:`loss_curves_figure` as an interactive plotly figure (hover: step, task, loss;
    click a legend entry to hide a task). Embed it with :func:`gazex_lib.viz.plotly_html`."""
    import plotly.graph_objects as go

    if not log:
        raise ValueError("empty training log")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[e["step"] for e in log], y=[e["loss"] for e in log],
                             name="all tasks", mode="lines", line=dict(color="black", width=2.5)))
    for t in sorted({t for e in log for t in e.get("loss_per_task", {})}):
        pts = [(e["step"], e["loss_per_task"][t]) for e in log if t in e.get("loss_per_task", {})]
        fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], name=t,
                                 mode="lines+markers", marker=dict(size=4),
                                 line=dict(color=TASK_COLORS.get(t), width=1.5)))
    fig.update_layout(title=title or "Training loss per task (nats per label token)",
                      xaxis_title="optimiser step", yaxis_title="loss", yaxis_type="log",
                      template="plotly_white", height=380, margin=dict(l=60, r=20, t=50, b=50),
                      hovermode="x unified")
    return fig


def heldout_figure(heldout: dict, title: str | None = None) -> Figure:
    """Three panels (FVP IoU, GTM centroid error, SDA order accuracy), one bar per source
    (``heldout = {"trained": {...}, "untrained": {...}, "trivial": {...}, ...}``; any of
    :data:`SOURCE_COLORS`)."""
    from gazex_lib.eval import PROBE_METRICS

    sources = [s for s in SOURCE_COLORS if s in heldout]
    fig = Figure(figsize=figure_size(8.0, 2.8))
    axes = fig.subplots(1, len(PROBE_METRICS))
    for ax, (metric, higher) in zip(axes, PROBE_METRICS.items()):
        vals = [heldout[s][metric] for s in sources]
        bars = ax.bar(sources, vals, color=[SOURCE_COLORS[s] for s in sources])
        for b, v in zip(bars, vals):
            ax.annotate(f"{v:.3g}", (b.get_x() + b.get_width() / 2, b.get_height()),
                        ha="center", va="bottom", fontsize=7)
        ax.set_title(f"{metric}\n({'higher' if higher else 'lower'} is better)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.tick_params(axis="x", labelrotation=30)
        style_axes(ax, "y")
    fig.suptitle(title or "Held-out readings", fontsize=10)
    fig.tight_layout()
    return fig


def fvp_prediction_figure(film, record: dict, answers: dict) -> Figure:
    """An FVP record's film with the true observation box (white) and each answer's box
    (``answers = {"trained": text, ...}``), on the film grid."""
    from gazex_lib.tasks import fvp_to_grid, parse_fvp

    fig = Figure(figsize=figure_size(3.8, 4.4))
    ax = fig.add_subplot(111)
    _grey(ax, film)
    meta = record["meta"]
    boxes = [("truth", meta["observation_grid"], "white")]
    for name, text in answers.items():
        obs = parse_fvp(text or "")["observation"]
        if obs is not None:
            boxes.append((name, fvp_to_grid(obs, meta["coords"], meta["film_size"]),
                          SOURCE_COLORS.get(name, "red")))
    for name, b, color in boxes:
        x0, y0, x1, y1 = b[:4]
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.6, color=color,
                               ls="-" if name == "truth" else "--", label=name))
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(textwrap.fill(meta["sentence"], 48), fontsize=8)
    return fig


def path_prediction_figure(film, record: dict, answers: dict) -> Figure:
    """A ``gtm_path`` record's film with the true per-sentence gaze centroids (white, numbered)
    and each answer's points, joined in sentence order."""
    from gazex_lib.tasks import parse_path

    fig = Figure(figsize=figure_size(3.8, 4.4))
    ax = fig.add_subplot(111)
    _grey(ax, film)
    h, w = np.asarray(film).shape[:2]
    meta = record["meta"]
    truth = np.asarray(meta["points_grid"])
    ax.plot(truth[:, 0], truth[:, 1], "-o", color="white", ms=5, lw=1.2, label="truth")
    for i, (x, y) in enumerate(truth, 1):
        ax.annotate(str(i), (x, y), color="white", fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    for name, text in answers.items():
        pts = np.asarray(parse_path(text or ""), dtype=float).reshape(-1, 2)
        if len(pts):
            pts = np.clip(pts, 0, 1000) / 1000 * [w, h]
            ax.plot(pts[:, 0], pts[:, 1], "--s", ms=4, lw=1.0,
                    color=SOURCE_COLORS.get(name, "red"), label=name)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"gaze path, {len(truth)} sentences", fontsize=8)
    return fig


def interval_figure(table, title: str | None = None) -> Figure:
    """The paired differences ``trained - baseline`` of an image-bootstrap table
    (:func:`gazex_lib.analysis.image_bootstrap`), one panel per probe metric: each difference
    with its interval over images, and zero. Right of zero is better for IoU and accuracy,
    left of zero for the error."""
    from gazex_lib.eval import PROBE_METRICS

    diffs = table[table["kind"] == "diff"]
    fig = Figure(figsize=figure_size(8.0, 2.4))
    axes = fig.subplots(1, len(PROBE_METRICS))
    for ax, (metric, higher) in zip(axes, PROBE_METRICS.items()):
        d = diffs[diffs["metric"] == metric].reset_index(drop=True)
        y = np.arange(len(d))
        ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                    fmt="o", color=SOURCE_COLORS["trained"], ms=4, capsize=3)
        ax.axvline(0.0, color="#555555", lw=0.8, ls="--")
        ax.set_yticks(y, [f"− {r}" for r in d["reference"]], fontsize=7)
        n = int(d["n_images"].max()) if len(d) else 0
        ax.set_title(f"{metric}: trained − baseline\n({'right' if higher else 'left'} of 0 is better, "
                     f"{n} images)", fontsize=8)
        ax.tick_params(labelsize=7)
        style_axes(ax, "x")
    level = table.attrs.get("ci")
    fig.suptitle(title or ("Differences with " + (f"{level:.0%} " if level else "")
                           + "intervals over images (test split)"), fontsize=10)
    fig.tight_layout()
    return fig


def validation_curve_figure(selection: dict, baselines: dict | None = None,
                            title: str | None = None) -> Figure:
    """The validation score of every kept checkpoint (``selection``: a checkpoint-selection
    stage's payload, :func:`gazex_lib.pipelines.read_selection`), one panel per probe metric,
    with the chosen step marked and each baseline's validation score as a dashed line
    (``baselines = {name: {metric: value}}``)."""
    from gazex_lib.eval import PROBE_METRICS

    steps = sorted(selection["validation"])
    chosen = selection["chosen_step"]
    fig = Figure(figsize=figure_size(8.0, 2.6))
    axes = fig.subplots(1, len(PROBE_METRICS))
    for ax, (metric, higher) in zip(axes, PROBE_METRICS.items()):
        vals = [selection["validation"][s][metric] for s in steps]
        ax.plot(steps, vals, "o-", color=SOURCE_COLORS["trained"], ms=3, lw=1.2, label="trained")
        ax.plot([chosen], [selection["validation"][chosen][metric]], "o", ms=8, mfc="none",
                mec="black", label=f"chosen (step {chosen})")
        for name, summary in (baselines or {}).items():
            ax.axhline(summary[metric], ls="--", lw=1, color=SOURCE_COLORS.get(name, "#777777"),
                       label=name)
        ax.set_xlabel("optimiser step", fontsize=7)
        ax.set_title(f"{metric}\n({'higher' if higher else 'lower'} is better)", fontsize=8)
        ax.tick_params(labelsize=7)
        style_axes(ax, "y")
    axes[-1].legend(fontsize=6, loc="best")
    fig.suptitle(title or "Validation split: every kept checkpoint", fontsize=10)
    fig.tight_layout()
    return fig
