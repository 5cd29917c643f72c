"""Side-by-side films with captions and an attribution footer (e.g. the NIH examples)."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gazex_lib.viz.style import MAX_WIDTH_IN, require_image


def film_panel(images: list[np.ndarray], captions: list[str], attribution: str,
               title: str | None = None, height_in: float = 4.0) -> Figure:
    """Films side by side, each with its caption below, and an attribution footer.

    Parameters
    ----------
    images : (H, W) greyscale (uint8 shown on 0..255) or (H, W, 3) arrays, any pixel size;
        each keeps its own aspect ratio.
    captions : one caption per image.
    attribution : footer text (licence / source), required and non-empty.
    title : optional figure title.
    height_in : panel height (inches); the width follows the aspect ratios, capped at
        10 in (the height shrinks to fit).
    """
    if not images:
        raise ValueError("images is empty")
    if len(captions) != len(images):
        raise ValueError(f"need one caption per image: {len(images)} images, {len(captions)} captions")
    if not isinstance(attribution, str) or not attribution.strip():
        raise ValueError("attribution must be a non-empty string")
    arrays = [require_image(im, f"images[{i}]") for i, im in enumerate(images)]
    aspects = [a.shape[1] / a.shape[0] for a in arrays]
    width = height_in * sum(aspects) + 0.15 * len(arrays)
    if width > MAX_WIDTH_IN:
        height_in *= MAX_WIDTH_IN / width
        width = MAX_WIDTH_IN
    fig = Figure(figsize=(width, height_in + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(arrays), width_ratios=aspects, squeeze=False)).ravel()
    for ax, arr, cap in zip(axes, arrays, captions):
        kw = {"vmin": 0, "vmax": 255} if arr.dtype == np.uint8 else {}
        ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None, interpolation="antialiased", **kw)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(f"{cap}\n{arr.shape[1]} × {arr.shape[0]} px", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    # supxlabel takes part in constrained layout, so the footer never overlaps captions
    fig.supxlabel(attribution, fontsize=6.5, color="#555555", gid="attribution")
    return fig
